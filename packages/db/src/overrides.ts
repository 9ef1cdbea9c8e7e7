import type Database from "better-sqlite3";
import { albumKey } from "./album-key.js";
import type { Library } from "./open.js";
import type { EnrichmentSource } from "./schema.js";

/**
 * file_metadata columns an orchestrator may set, by the names overrides_json records (the scanner reads
 * the same names: packages/scan/src/ingest.ts). "genres" stands for genres_json and genre together.
 */
export const OVERRIDE_FIELDS = [
  "title",
  "artist",
  "album",
  "albumartist",
  "track",
  "track_total",
  "disc",
  "disc_total",
  "year",
  "date",
  "mb_releasegroup_id",
  "genres",
  "label",
  "album_type",
  "cover_url",
  "release_date",
  "total_tracks",
  "total_discs",
] as const;

export type OverrideField = (typeof OVERRIDE_FIELDS)[number];

/** Values of an orchestrator write; a field left out is left as it is, null clears it. */
export type OverrideValues = { [K in Exclude<OverrideField, "genres">]?: string | number | null } & { genres?: string[] };

/** file_metadata columns that hold a file's embedded tags (besides genres); a scan or ClearOverride rewrites them. */
export const EMBEDDED_TAG_COLUMNS = [
  "title",
  "artist",
  "album",
  "albumartist",
  "track",
  "track_total",
  "disc",
  "disc_total",
  "year",
  "date",
  "compilation",
  "mb_track_id",
  "mb_album_id",
  "mb_releasegroup_id",
  "mb_artist_id",
  "mb_albumartist_id",
] as const;

type NumericTagColumn = "track" | "track_total" | "disc" | "disc_total" | "year";

/** A file's embedded tags by column (what a scan stores, and what ClearOverride restores). */
export type EmbeddedTagValues = {
  [K in (typeof EMBEDDED_TAG_COLUMNS)[number]]: K extends NumericTagColumn
    ? number | null
    : K extends "compilation"
      ? boolean
      : string | null;
} & { genres: string[] };

/** The design's EventBus::FileModified (§4.3.5 step 6). */
export interface FileModifiedEvent {
  fileId: number;
  metadataVersion: number;
  source: EnrichmentSource;
}

export type FileTarget = { fileIds: readonly number[] } | { albumKey: string };

/** One file's effective metadata with the file facts GetMetadata reports. */
export interface FileMetadataRecord {
  fileId: number;
  originPath: string;
  format: string | null;
  duration: number | null;
  title: string | null;
  artist: string | null;
  album: string | null;
  albumartist: string | null;
  track: number | null;
  trackTotal: number | null;
  disc: number | null;
  discTotal: number | null;
  year: number | null;
  date: string | null;
  genre: string | null;
  genres: string[];
  compilation: boolean;
  mbTrackId: string | null;
  mbAlbumId: string | null;
  mbReleaseGroupId: string | null;
  mbArtistId: string | null;
  mbAlbumArtistId: string | null;
  label: string | null;
  albumType: string | null;
  coverUrl: string | null;
  releaseDate: string | null;
  totalTracks: number | null;
  totalDiscs: number | null;
  providerAlbumId: string | null;
  enrichmentSource: EnrichmentSource;
  /** Unix ms. */
  enrichedAt: number | null;
  enrichmentAttempts: number;
  lastEnrichmentError: string | null;
  metadataVersion: number;
  albumKey: string | null;
  overriddenFields: string[];
}

const withAlbumKeyFunction = new WeakSet<Database.Database>();

/** Registers musicfs_album_key() so one UPDATE can recompute a file's album key from the values it sets. */
function registerAlbumKeyFunction(sqlite: Database.Database): void {
  if (withAlbumKeyFunction.has(sqlite)) return;
  sqlite.function(
    "musicfs_album_key",
    { deterministic: true },
    (albumartist: unknown, artist: unknown, album: unknown, compilation: unknown) =>
      albumKey({
        albumartist: typeof albumartist === "string" ? albumartist : null,
        artist: typeof artist === "string" ? artist : null,
        album: typeof album === "string" ? album : null,
        compilation: compilation === 1 || compilation === 1n,
      }),
  );
  withAlbumKeyFunction.add(sqlite);
}

function parseJsonArray(text: string | null): string[] {
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

/** Effective metadata of one file, or undefined when there is no such file. */
export function readFileMetadata(lib: Library, fileId: number): FileMetadataRecord | undefined {
  const row = lib.sqlite
    .prepare(`SELECT m.*, f.path_text, f.format, f.duration FROM file_metadata m JOIN files f ON f.file_id = m.file_id WHERE m.file_id = ?`)
    .get(fileId) as Record<string, string | number | null> | undefined;
  if (!row) return undefined;
  const str = (k: string) => (row[k] === null || row[k] === undefined ? null : String(row[k]));
  const num = (k: string) => (row[k] === null || row[k] === undefined ? null : Number(row[k]));
  return {
    fileId: Number(row.file_id),
    originPath: String(row.path_text),
    format: str("format"),
    duration: num("duration"),
    title: str("title"),
    artist: str("artist"),
    album: str("album"),
    albumartist: str("albumartist"),
    track: num("track"),
    trackTotal: num("track_total"),
    disc: num("disc"),
    discTotal: num("disc_total"),
    year: num("year"),
    date: str("date"),
    genre: str("genre"),
    genres: parseJsonArray(str("genres_json")),
    compilation: row.compilation === 1,
    mbTrackId: str("mb_track_id"),
    mbAlbumId: str("mb_album_id"),
    mbReleaseGroupId: str("mb_releasegroup_id"),
    mbArtistId: str("mb_artist_id"),
    mbAlbumArtistId: str("mb_albumartist_id"),
    label: str("label"),
    albumType: str("album_type"),
    coverUrl: str("cover_url"),
    releaseDate: str("release_date"),
    totalTracks: num("total_tracks"),
    totalDiscs: num("total_discs"),
    providerAlbumId: str("provider_album_id"),
    enrichmentSource: (str("enrichment_source") ?? "embedded") as EnrichmentSource,
    enrichedAt: num("enriched_at"),
    enrichmentAttempts: Number(row.enrichment_attempts ?? 0),
    lastEnrichmentError: str("last_enrichment_error"),
    metadataVersion: Number(row.metadata_version),
    albumKey: str("album_key"),
    overriddenFields: parseJsonArray(str("overrides_json")),
  };
}

/** The file with this origin path (exact bytes first, then the UTF-8 text of the path). */
export function fileIdByPath(lib: Library, path: string): number | undefined {
  const row = (lib.sqlite.prepare("SELECT file_id AS id FROM files WHERE path = ?").get(Buffer.from(path)) ??
    lib.sqlite.prepare("SELECT file_id AS id FROM files WHERE path_text = ? LIMIT 1").get(path)) as { id: number } | undefined;
  return row?.id;
}

/** File ids of an album key, in file id order. */
export function fileIdsOfAlbum(lib: Library, key: string): number[] {
  return (
    lib.sqlite.prepare("SELECT file_id AS id FROM file_metadata WHERE album_key = ? ORDER BY file_id").all(key) as { id: number }[]
  ).map((r) => r.id);
}

function targetWhere(target: FileTarget): { where: string; params: Record<string, unknown> } {
  return "albumKey" in target
    ? { where: "album_key = @target_album_key", params: { target_album_key: target.albumKey } }
    : { where: "file_id IN (SELECT value FROM json_each(@target_file_ids))", params: { target_file_ids: JSON.stringify(target.fileIds) } };
}

const registerAlbums = `INSERT OR IGNORE INTO albums (album_key, artist, album)
  SELECT album_key, coalesce(nullif(max(albumartist), ''), CASE WHEN max(compilation) = 1 THEN 'Various Artists' END, max(artist), ''),
         coalesce(max(album), '')
  FROM file_metadata WHERE file_id IN (SELECT value FROM json_each(?)) AND album_key IS NOT NULL GROUP BY album_key`;

/**
 * An orchestrator push (design §4.3.7): one UPDATE over the target sets the values, source 'orchestrator',
 * the union of old and new overridden field names, and bumps metadata_version. It always wins.
 */
export function applyOrchestratorWrite(lib: Library, target: FileTarget, values: OverrideValues, now: number): FileModifiedEvent[] {
  registerAlbumKeyFunction(lib.sqlite);
  const sets: string[] = [];
  const params: Record<string, unknown> = { now };
  const fields: string[] = [];
  for (const field of OVERRIDE_FIELDS) {
    if (field === "genres") {
      if (values.genres === undefined) continue;
      // design §4.3.4: genre is the first of genres_json.
      sets.push("genres_json = @genres_json", "genre = @genre");
      params.genres_json = JSON.stringify(values.genres);
      params.genre = values.genres[0] ?? null;
    } else {
      const value = values[field];
      if (value === undefined) continue;
      sets.push(`${field} = @${field}`);
      params[field] = value;
    }
    fields.push(field);
  }
  if (fields.length === 0) return [];
  if (fields.some((f) => f === "album" || f === "artist" || f === "albumartist")) {
    // SET expressions see the old row: the new key is computed from the new values where given.
    const arg = (col: string) => (fields.includes(col) ? `@${col}` : col);
    sets.push(`album_key = musicfs_album_key(${arg("albumartist")}, ${arg("artist")}, ${arg("album")}, compilation)`);
  }
  params.fields = JSON.stringify(fields);
  const { where, params: targetParams } = targetWhere(target);
  const sql = `UPDATE file_metadata SET ${sets.join(", ")},
      enrichment_source = 'orchestrator',
      overrides_json = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(coalesce(file_metadata.overrides_json, '[]')) UNION SELECT value FROM json_each(@fields) ORDER BY 1)),
      metadata_version = metadata_version + 1, updated_at = @now
    WHERE ${where}
    RETURNING file_id AS fileId, metadata_version AS metadataVersion`;
  return lib.sqlite
    .transaction(() => {
      const rows = lib.sqlite.prepare(sql).all({ ...params, ...targetParams }) as { fileId: number; metadataVersion: number }[];
      if (rows.length > 0) lib.sqlite.prepare(registerAlbums).run(JSON.stringify(rows.map((r) => r.fileId)));
      return rows
        .sort((a, b) => a.fileId - b.fileId)
        .map((r): FileModifiedEvent => ({ fileId: r.fileId, metadataVersion: r.metadataVersion, source: "orchestrator" }));
    })
    .immediate();
}

/** Files of the target whose metadata an orchestrator wrote. */
export function overriddenFileIds(lib: Library, target: FileTarget): number[] {
  const { where, params } = targetWhere(target);
  return (
    lib.sqlite
      .prepare(`SELECT file_id AS id FROM file_metadata WHERE ${where} AND enrichment_source = 'orchestrator' ORDER BY file_id`)
      .all(params) as { id: number }[]
  ).map((r) => r.id);
}

function embeddedParams(t: EmbeddedTagValues): Record<string, unknown> {
  const { genres, compilation, ...columns } = t;
  return { ...columns, compilation: compilation ? 1 : 0, genre: genres[0] ?? null };
}

/**
 * ClearOverride: the files go back to their embedded tags (or keep their current tags when `tags` has
 * none for a file, e.g. it could not be read) with every enrichment column reset, so the provider may
 * write them again. Only files an orchestrator wrote are touched; their albums are queued afresh.
 */
export function clearOrchestratorOverrides(
  lib: Library,
  fileIds: readonly number[],
  tags: ReadonlyMap<number, EmbeddedTagValues>,
  now: number,
): FileModifiedEvent[] {
  const reset = `enrichment_source = 'embedded', overrides_json = NULL, enriched_at = NULL, enrichment_attempts = 0,
    last_enrichment_error = NULL, next_attempt_at = NULL, label = NULL, album_type = NULL, cover_url = NULL, release_date = NULL,
    total_tracks = NULL, total_discs = NULL, provider_album_id = NULL, metadata_version = metadata_version + 1, updated_at = @now`;
  const withTags = lib.sqlite.prepare(
    `UPDATE file_metadata SET title = @title, artist = @artist, album = @album, albumartist = @albumartist, track = @track,
       track_total = @track_total, disc = @disc, disc_total = @disc_total, year = @year, date = @date, compilation = @compilation,
       mb_track_id = @mb_track_id, mb_album_id = @mb_album_id, mb_releasegroup_id = @mb_releasegroup_id, mb_artist_id = @mb_artist_id,
       mb_albumartist_id = @mb_albumartist_id, genre = @genre, genres_json = @genres_json, album_key = @album_key, ${reset}
     WHERE file_id = @file_id AND enrichment_source = 'orchestrator'
     RETURNING file_id AS fileId, metadata_version AS metadataVersion, album_key AS albumKey`,
  );
  const withoutTags = lib.sqlite.prepare(
    `UPDATE file_metadata SET ${reset} WHERE file_id = @file_id AND enrichment_source = 'orchestrator'
     RETURNING file_id AS fileId, metadata_version AS metadataVersion, album_key AS albumKey`,
  );
  const requeueAlbum = lib.sqlite.prepare(
    "UPDATE albums SET status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = NULL WHERE album_key = ?",
  );
  return lib.sqlite
    .transaction(() => {
      const out: FileModifiedEvent[] = [];
      const keys = new Set<string>();
      for (const fileId of fileIds) {
        const t = tags.get(fileId);
        const row = (
          t
            ? withTags.get({
                ...embeddedParams(t),
                genres_json: JSON.stringify(t.genres),
                album_key: albumKey(t),
                file_id: fileId,
                now,
              })
            : withoutTags.get({ file_id: fileId, now })
        ) as { fileId: number; metadataVersion: number; albumKey: string | null } | undefined;
        if (!row) continue;
        out.push({ fileId: row.fileId, metadataVersion: row.metadataVersion, source: "embedded" });
        if (row.albumKey) keys.add(row.albumKey);
      }
      if (out.length > 0) lib.sqlite.prepare(registerAlbums).run(JSON.stringify(out.map((r) => r.fileId)));
      for (const key of keys) requeueAlbum.run(key);
      return out;
    })
    .immediate();
}
