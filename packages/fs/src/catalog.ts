import { dataVersion, type EnrichmentSource, type Library } from "@musicfs/db";
import type { OverlayFormat } from "@musicfs/tags";
import { readCatalogOnWorker } from "./catalog-reader.js";
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
// several times faster than objects, which matters for the 100,000 rows read at mount. Every cell costs
// ~0.1 us to hand to JavaScript, and every string cell makes a string: the query asks only for what the
// tree needs, lets SQLite answer NULL for the usual case (a file served as it is, named in UTF-8), and
// leaves out the lookup columns unless lazy enrichment is on.
const columns = (rawPath: string) => `
  f.file_id, f.path_text, ${rawPath}, f.root, f.size, f.mtime_us,
  f.parsed_at, CASE WHEN m.enrichment_source <> 'embedded' THEN m.enrichment_source END,
  CASE WHEN m.enrichment_source <> 'embedded' THEN f.format END, m.title, m.artist, m.album, m.albumartist, m.track,
  m.track_total, m.disc, m.disc_total, m.year, CASE WHEN m.genres_json <> '[]' THEN m.genres_json END,
  CASE WHEN m.genres_json IS NULL OR m.genres_json = '[]' THEN m.genre END, m.label, m.compilation, m.metadata_version,
  m.updated_at`;
// The raw path bytes only when path_text does not spell them; in hex where the row travels as JSON.
const RAW_PATH = "CASE WHEN CAST(f.path_text AS BLOB) = f.path THEN NULL ELSE f.path END";
const RAW_PATH_HEX = "CASE WHEN CAST(f.path_text AS BLOB) = f.path THEN NULL ELSE hex(f.path) END";
// Appended when lazy enrichment is on: what decides whether and under which album a file is looked up.
const LOOKUP_COLUMNS = `, m.enriched_at IS NULL AND m.enrichment_source = 'embedded', m.enrichment_attempts, m.next_attempt_at, m.album_key`;

/** One row of the catalog query, as better-sqlite3's .raw() or JSON.parse gives it. */
export type RawRow = [
  fileId: number,
  pathText: string,
  /** A Buffer from SQLite, a hex string from JSON. */
  rawPath: Buffer | string | null,
  root: string,
  size: number,
  mtimeUs: number,
  parsedAt: number,
  /** NULL for 'embedded' (and files without metadata). */
  enrichmentSource: EnrichmentSource | null,
  /** files.format, only when the source is not 'embedded' (only then can there be an overlay). */
  overlayFormat: string | null,
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
  metadataVersion: number | null,
  updatedAt: number | null,
  // With lookups only:
  unenriched?: number | null,
  enrichmentAttempts?: number | null,
  nextAttemptAt?: number | null,
  albumKey?: string | null,
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

function parseGenres(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  } catch {
    // A malformed genres_json falls back to the single genre column (selected when genres_json is empty).
  }
  return [];
}

const NO_GENRES: readonly string[] = Object.freeze([]);

/**
 * Turns raw rows into CatalogRows. Rows of one album usually come one after another and repeat its
 * values: those are shared with the previous row rather than kept once per file (the lookup key is held
 * by every unenriched file for the life of the mount) or parsed again (genres).
 */
class RowDecoder {
  private genresJson: string | null = null;
  private genres: readonly string[] = NO_GENRES;
  private lookupKey: string | null = null;

  decode(r: RawRow): CatalogRow {
    const source = r[7] ?? "embedded";
    const json = r[18];
    if (json !== this.genresJson) {
      this.genresJson = json;
      this.genres = json === null ? NO_GENRES : parseGenres(json);
    }
    const genres = this.genres.length ? this.genres : r[19] ? [r[19]] : NO_GENRES;
    let lookupKey: string | null = null;
    if (r[24] && r[10]?.trim() && r[11]?.trim()) {
      lookupKey = r[27] ?? `${r[10]}\u001f${r[11]}`;
      if (lookupKey === this.lookupKey) lookupKey = this.lookupKey;
      else this.lookupKey = lookupKey;
    }
    return {
      file: {
        fileId: r[0],
        sortKey: r[1],
        rawPath: typeof r[2] === "string" ? Buffer.from(r[2], "hex") : r[2],
        size: r[4],
        mtimeMs: Math.floor(r[5] / 1000),
        parsedAt: r[6],
        overlay: r[8] === null ? null : overlayFormatOf(r[8], originExtension(r[1]), source),
        metadataVersion: r[22] ?? 0,
        updatedAt: r[23] ?? 0,
        enrichmentSource: source,
        lookupKey,
        enrichmentAttempts: r[25] ?? 0,
        nextAttemptAt: r[26] ?? null,
        treeSlots: undefined,
      },
      layout: {
        pathText: r[1],
        root: r[3],
        title: r[9],
        artist: r[10],
        album: r[11],
        albumartist: r[12],
        track: r[13],
        trackTotal: r[14],
        disc: r[15],
        discTotal: r[16],
        year: r[17],
        genre: genres[0] ?? null,
        genres,
        label: r[20],
        compilation: r[21] === 1,
      },
    };
  }
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

/**
 * The prepared queries the mount makes; none of them run per getattr. With `lookups` (lazy enrichment
 * on) files carry what decides whether they are looked up; without, their lookupKey is always null.
 */
export function createCatalog(lib: Library, opts: { lookups: boolean } = { lookups: true }) {
  const lookupColumns = opts.lookups ? LOOKUP_COLUMNS : "";
  const cols = columns(RAW_PATH) + lookupColumns;
  const from = "FROM files f LEFT JOIN file_metadata m ON m.file_id = f.file_id";
  const all = lib.sqlite.prepare(`SELECT ${cols} ${from}`).raw();
  const changed = lib.sqlite
    .prepare(
      `SELECT ${cols} ${from} WHERE f.file_id IN (
         SELECT file_id FROM file_metadata WHERE updated_at > ? UNION SELECT file_id FROM files WHERE parsed_at > ?)`,
    )
    .raw();
  const one = lib.sqlite.prepare(`SELECT ${cols} ${from} WHERE f.file_id = ?`).raw();
  const sliceSql = `SELECT json_group_array(json_array(${columns(RAW_PATH_HEX)}${lookupColumns})), max(f.file_id)
    FROM (SELECT * FROM files WHERE file_id > ? ORDER BY file_id LIMIT ?) f LEFT JOIN file_metadata m ON m.file_id = f.file_id`;
  const lookup = lib.sqlite.prepare<[number], { artist: string; album: string; albumartist: string | null; albumKey: string | null }>(
    "SELECT artist, album, albumartist, album_key AS albumKey FROM file_metadata WHERE file_id = ?",
  );
  const count = lib.sqlite.prepare<[], number>("SELECT count(*) FROM files").pluck();
  const ids = lib.sqlite.prepare<[], number>("SELECT file_id FROM files").pluck();
  const totalChanges = lib.sqlite.prepare<[], number>("SELECT total_changes()").pluck();
  return {
    /**
     * The query readCatalogOnWorker runs: up to ?2 rows with file_id above ?1, as one JSON array of
     * rows (RawRow, the raw path in hex), and the last file_id in it.
     */
    sliceSql,
    /** Calls `visit` with every file (a callback rather than a generator: 100,000s of rows at mount). */
    forEach(visit: (row: CatalogRow) => void): void {
      const decoder = new RowDecoder();
      for (const r of all.iterate()) visit(decoder.decode(r as RawRow));
    },
    /** forEach with SQLite reading on a worker thread (see readCatalogOnWorker); rejects if that fails. */
    async forEachOnWorker(visit: (row: CatalogRow) => void): Promise<void> {
      const decoder = new RowDecoder();
      for await (const slice of readCatalogOnWorker(lib.path, sliceSql)) {
        for (const r of slice) visit(decoder.decode(r));
      }
    },
    changedSince(updatedAt: number, parsedAt: number): CatalogRow[] {
      const decoder = new RowDecoder();
      return changed.all(updatedAt, parsedAt).map((r) => decoder.decode(r as RawRow));
    },
    one(fileId: number): CatalogRow | undefined {
      const r = one.get(fileId);
      return r ? new RowDecoder().decode(r as RawRow) : undefined;
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
