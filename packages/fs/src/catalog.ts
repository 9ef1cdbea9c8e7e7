import { dataVersion, type EnrichmentSource, type Library } from "@musicfs/db";
import type { OverlayFormat } from "@musicfs/tags";
import type { LayoutInput } from "./layout.js";
import { originExtension } from "./layout.js";
import type { TreeFile } from "./tree.js";

/** One file as the mount holds it in memory: enough to answer getattr/readdir without the database. */
export interface LibraryFile extends TreeFile {
  treeSlots?: unknown[];
  readonly fileId: number;
  /** files.path_text; also the collision order key. */
  readonly sortKey: string;
  /** The raw path bytes when path_text does not spell them (not UTF-8); else the origin is opened by sortKey. */
  readonly rawPath: Buffer | null;
  /** Origin size and mtime as the last scan saw them (an open may find newer ones). */
  readonly size: number;
  readonly mtimeMs: number;
  readonly parsedAt: number;
  /** Set when the file is served with its metadata written into the header. */
  readonly overlay: OverlayFormat | null;
  readonly metadataVersion: number;
  readonly updatedAt: number;
  readonly enrichmentSource: EnrichmentSource;
  /** Design §4.3.6: not enriched, with artist and album; `albumKey` groups the lookups (one per album). */
  readonly lookupKey: string | null;
  readonly enrichmentAttempts: number;
  readonly nextAttemptAt: number | null;
}

/** The origin path to open: raw bytes when the text form would not find the file. */
export function originPathOf(file: LibraryFile): Buffer | string {
  return file.rawPath ?? file.sortKey;
}

// Columns of the catalog query, in order. Rows are read with .raw(): better-sqlite3 builds plain arrays
// several times faster than objects, which matters for the 100,000 rows read at mount.
const COLUMNS = `
  f.file_id, f.path_text, CASE WHEN CAST(f.path_text AS BLOB) = f.path THEN NULL ELSE f.path END, f.root, f.size, f.mtime_us,
  f.format, f.parsed_at, m.title, m.artist, m.album, m.albumartist, m.track, m.track_total, m.disc, m.disc_total, m.year,
  m.genres_json, CASE WHEN m.genres_json IS NULL OR m.genres_json = '[]' THEN m.genre END, m.label, m.compilation,
  m.enrichment_source, m.enriched_at, m.enrichment_attempts, m.next_attempt_at, m.metadata_version, m.updated_at, m.album_key`;

type RawRow = [
  fileId: number,
  pathText: string,
  rawPath: Buffer | null,
  root: string,
  size: number,
  mtimeUs: number,
  format: string | null,
  parsedAt: number,
  title: string | null,
  artist: string | null,
  album: string | null,
  albumartist: string | null,
  track: number | null,
  trackTotal: number | null,
  disc: number | null,
  discTotal: number | null,
  year: number | null,
  genresJson: string | null,
  genre: string | null,
  label: string | null,
  compilation: number | null,
  enrichmentSource: EnrichmentSource | null,
  enrichedAt: number | null,
  enrichmentAttempts: number | null,
  nextAttemptAt: number | null,
  metadataVersion: number | null,
  updatedAt: number | null,
  albumKey: string | null,
];

/** A row of the catalog: what the tree is laid out by plus what the mount keeps per file. */
export interface CatalogRow {
  file: LibraryFile;
  layout: LayoutInput;
}

/** Which overlay, if any, a file gets: only FLAC and MP3 whose metadata is not just their own tags. */
export function overlayFormatOf(format: string | null, ext: string, source: EnrichmentSource | null): OverlayFormat | null {
  if (!source || source === "embedded") return null;
  // files.format holds the scanner's canonical names (see canonicalFormat in @musicfs/tags). A file whose
  // content disagrees with its extension (an MP3 named .flac) is served as it is.
  if (format === "flac" && ext === "flac") return "flac";
  if (format === "mp3" && ext === "mp3") return "mp3";
  return null;
}

function parseGenres(json: string | null): string[] {
  if (!json || json === "[]") return [];
  try {
    const value: unknown = JSON.parse(json);
    if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  } catch {
    // A malformed genres_json falls back to the single genre column (selected when genres_json is empty).
  }
  return [];
}

function toCatalogRow(r: RawRow): CatalogRow {
  const source = r[21] ?? "embedded";
  const unenriched = source === "embedded" && r[22] === null;
  const genres = parseGenres(r[17]);
  return {
    file: {
      fileId: r[0],
      sortKey: r[1],
      rawPath: r[2],
      size: r[4],
      mtimeMs: Math.floor(r[5] / 1000),
      parsedAt: r[7],
      overlay: overlayFormatOf(r[6], originExtension(r[1]), source),
      metadataVersion: r[25] ?? 0,
      updatedAt: r[26] ?? 0,
      enrichmentSource: source,
      lookupKey: unenriched && r[9]?.trim() && r[10]?.trim() ? (r[27] ?? `${r[9]}\u001f${r[10]}`) : null,
      enrichmentAttempts: r[23] ?? 0,
      nextAttemptAt: r[24],
      treeSlots: undefined,
    },
    layout: {
      pathText: r[1],
      root: r[3],
      title: r[8],
      artist: r[9],
      album: r[10],
      albumartist: r[11],
      track: r[12],
      trackTotal: r[13],
      disc: r[14],
      discTotal: r[15],
      year: r[16],
      genre: genres[0] ?? r[18],
      genres: genres.length ? genres : r[18] ? [r[18]] : [],
      label: r[19],
      compilation: r[20] === 1,
    },
  };
}

/** Whether two versions of a file differ in anything the mount shows. */
export function sameFile(a: LibraryFile, b: LibraryFile): boolean {
  return (
    a.metadataVersion === b.metadataVersion &&
    a.updatedAt === b.updatedAt &&
    a.parsedAt === b.parsedAt &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.sortKey === b.sortKey
  );
}

/** The prepared queries the mount makes; none of them run per getattr. */
export function createCatalog(lib: Library) {
  const from = "FROM files f LEFT JOIN file_metadata m ON m.file_id = f.file_id";
  const all = lib.sqlite.prepare(`SELECT ${COLUMNS} ${from}`).raw();
  const changed = lib.sqlite
    .prepare(
      `SELECT ${COLUMNS} ${from} WHERE f.file_id IN (
         SELECT file_id FROM file_metadata WHERE updated_at > ? UNION SELECT file_id FROM files WHERE parsed_at > ?)`,
    )
    .raw();
  const one = lib.sqlite.prepare(`SELECT ${COLUMNS} ${from} WHERE f.file_id = ?`).raw();
  const lookup = lib.sqlite.prepare<[number], { artist: string; album: string; albumartist: string | null; albumKey: string | null }>(
    "SELECT artist, album, albumartist, album_key AS albumKey FROM file_metadata WHERE file_id = ?",
  );
  const count = lib.sqlite.prepare<[], number>("SELECT count(*) FROM files").pluck();
  const ids = lib.sqlite.prepare<[], number>("SELECT file_id FROM files").pluck();
  const totalChanges = lib.sqlite.prepare<[], number>("SELECT total_changes()").pluck();
  return {
    *all(): Generator<CatalogRow> {
      for (const r of all.iterate()) yield toCatalogRow(r as RawRow);
    },
    changedSince: (updatedAt: number, parsedAt: number): CatalogRow[] =>
      changed.all(updatedAt, parsedAt).map((r) => toCatalogRow(r as RawRow)),
    one(fileId: number): CatalogRow | undefined {
      const r = one.get(fileId);
      return r ? toCatalogRow(r as RawRow) : undefined;
    },
    /** The names a lookup request carries, read when one is made (not kept per file in memory). */
    lookupNames: (fileId: number) => lookup.get(fileId),
    count: () => count.get()!,
    fileIds: () => ids.all(),
    /**
     * Moves whenever the database may have changed: data_version for other connections' commits,
     * total_changes() for this connection's own (an enrichment worker in the mount process).
     */
    changeToken: () => `${dataVersion(lib)}:${totalChanges.get()}`,
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
