import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Library, normalizeName } from "@musicfs/db";
import type { AlbumSummarySchema } from "../gen/musicfs/v1/musicfs_pb.js";
import { albumStatusToProto } from "./events.js";
import { invalidArgument } from "./validate.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface AlbumPage {
  albums: MessageInitShape<typeof AlbumSummarySchema>[];
  nextPageToken: string;
  totalCount: number;
}

interface AlbumRow {
  albumKey: string;
  artist: string;
  album: string;
  sortArtist: string;
  sortAlbum: string;
  year: number | null;
  trackCount: number;
  genresJson: string | null;
  label: string | null;
  coverUrl: string | null;
  albumType: string | null;
  releaseDate: string | null;
  status: string | null;
  providerAlbumId: string | null;
}

type Cursor = [string, string, string];

function encodeCursor(row: AlbumRow): string {
  return Buffer.from(JSON.stringify([row.sortArtist, row.sortAlbum, row.albumKey])).toString("base64url");
}

function decodeCursor(token: string): Cursor | undefined {
  if (!token) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "string")) return value as Cursor;
  } catch {
    // fall through to the error below
  }
  throw invalidArgument("page_token is not a token this server returned");
}

export function pageSizeOf(requested: number): number {
  if (requested < 0) throw invalidArgument(`page_size must not be negative, got ${requested}`);
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

/** Files whose album matches: by normalised album artist + title (the album key), optionally genre and label too. */
function matchClause(query: string | undefined, genreAndLabel: boolean): { sql: string; params: Record<string, unknown> } {
  if (query === undefined || query.trim() === "") return { sql: "", params: {} };
  const norm = normalizeName(query);
  const like = `%${query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const extra = genreAndLabel ? ` OR genres_json LIKE @like ESCAPE '\\' OR label LIKE @like ESCAPE '\\'` : "";
  return {
    sql: `AND m.album_key IN (SELECT album_key FROM file_metadata WHERE album_key IS NOT NULL AND ((@norm != '' AND instr(album_key, @norm) > 0)${extra}))`,
    params: { norm, like },
  };
}

/** Albums grouped from file_metadata (so overrides show at once), keyset-paged by album artist, title, key. */
export function listAlbumPage(
  lib: Library,
  opts: { query?: string | undefined; genreAndLabel: boolean; pageSize: number; pageToken: string },
): AlbumPage {
  const match = matchClause(opts.query, opts.genreAndLabel);
  const cursor = decodeCursor(opts.pageToken);
  const grouped = `WITH g AS (
      SELECT m.album_key AS albumKey,
        coalesce(max(nullif(m.albumartist, '')), CASE WHEN max(m.compilation) = 1 THEN 'Various Artists' END, max(m.artist), '') AS artist,
        coalesce(max(m.album), '') AS album,
        min(m.year) AS year, count(*) AS trackCount, max(m.genres_json) AS genresJson, max(m.label) AS label,
        max(m.cover_url) AS coverUrl, max(m.album_type) AS albumType, max(m.release_date) AS releaseDate,
        max(a.status) AS status, coalesce(max(m.provider_album_id), max(a.provider_album_id)) AS providerAlbumId
      FROM file_metadata m LEFT JOIN albums a ON a.album_key = m.album_key
      WHERE m.album_key IS NOT NULL ${match.sql}
      GROUP BY m.album_key),
    s AS (SELECT *, lower(artist) AS sortArtist, lower(album) AS sortAlbum FROM g)`;
  const rows = lib.sqlite
    .prepare(
      `${grouped} SELECT * FROM s WHERE @c_artist IS NULL OR (sortArtist, sortAlbum, albumKey) > (@c_artist, @c_album, @c_key)
       ORDER BY sortArtist, sortAlbum, albumKey LIMIT @limit`,
    )
    .all({
      ...match.params,
      c_artist: cursor?.[0] ?? null,
      c_album: cursor?.[1] ?? null,
      c_key: cursor?.[2] ?? null,
      limit: opts.pageSize + 1,
    }) as AlbumRow[];
  const total = lib.sqlite.prepare(`${grouped} SELECT count(*) AS n FROM s`).get(match.params) as { n: number };
  const page = rows.slice(0, opts.pageSize);
  const last = page[page.length - 1];
  return {
    albums: page.map((r) => ({
      albumKey: r.albumKey,
      artist: r.artist,
      album: r.album,
      ...(r.year !== null ? { year: r.year } : {}),
      trackCount: r.trackCount,
      genres: r.genresJson ? (JSON.parse(r.genresJson) as string[]) : [],
      ...(r.label !== null ? { label: r.label } : {}),
      ...(r.coverUrl !== null ? { coverUrl: r.coverUrl } : {}),
      ...(r.albumType !== null ? { albumType: r.albumType } : {}),
      ...(r.releaseDate !== null ? { releaseDate: r.releaseDate } : {}),
      enrichmentStatus: albumStatusToProto(r.status ?? "pending"),
      ...(r.providerAlbumId !== null ? { providerAlbumId: r.providerAlbumId } : {}),
    })),
    nextPageToken: rows.length > opts.pageSize && last ? encodeCursor(last) : "",
    totalCount: total.n,
  };
}
