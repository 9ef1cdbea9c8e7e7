import type { Library } from "./open.js";

export interface LibraryStats {
  files: number;
  albums: number;
  artists: number;
  totalDurationSeconds: number;
  totalBytes: number;
  formats: { format: string; files: number }[];
  enrichment: {
    bySource: { embedded: number; provider: number; orchestrator: number };
    /** Albums by lookup outcome: pending, hit, miss, doubtful, error, skipped. */
    albumsByStatus: Record<string, number>;
    /** Files with artist+album, not enriched, below retry_max or due again. */
    filesPending: number;
    filesFailing: number;
    /** Files and albums still waiting for a lookup: not enriched and, when retryMax is given, below it. */
    backlogFiles: number;
    backlogAlbums: number;
    /** Albums whose last lookup failed (error, miss or doubtful), most recent first (at most 10). */
    failingAlbums: { albumKey: string; artist: string; album: string; status: string; attempts: number; lastError: string | null }[];
    /** Doubtful albums with their best near-miss candidate (at most 10). */
    doubtfulAlbums: {
      albumKey: string;
      artist: string;
      album: string;
      candidate: string | null;
      score: number | null;
      reason: string | null;
    }[];
  };
  scanErrors: { total: number; warnings: number; topReasons: { code: string; count: number }[] };
  lastScan: {
    scanId: number;
    startedAt: number;
    finishedAt: number | null;
    status: string;
    added: number;
    updated: number;
    unchanged: number;
    moved: number;
    removed: number;
    errors: number;
  } | null;
}

type Row = Record<string, number | string | null>;

/** Everything `musicfs status` shows from the database, in a handful of indexed queries. */
export function libraryStats(lib: Library, opts: { retryMax?: number } = {}): LibraryStats {
  const q = (sql: string) => lib.sqlite.prepare(sql);
  const totals = q(
    `SELECT count(*) AS files, coalesce(sum(duration), 0) AS duration, coalesce(sum(size), 0) AS bytes FROM files`,
  ).get() as Row;
  const albums = q(`SELECT count(DISTINCT album_key) AS n FROM file_metadata WHERE album_key IS NOT NULL`).get() as Row;
  const artists = q(
    `SELECT count(DISTINCT lower(coalesce(nullif(albumartist, ''), artist))) AS n FROM file_metadata WHERE coalesce(nullif(albumartist, ''), artist) IS NOT NULL`,
  ).get() as Row;
  const formats = q(`SELECT coalesce(format, 'unknown') AS format, count(*) AS files FROM files GROUP BY 1 ORDER BY 2 DESC`).all() as {
    format: string;
    files: number;
  }[];
  const bySource = { embedded: 0, provider: 0, orchestrator: 0 };
  for (const row of q(`SELECT enrichment_source AS source, count(*) AS n FROM file_metadata GROUP BY 1`).all() as Row[]) {
    if (row.source === "embedded" || row.source === "provider" || row.source === "orchestrator") bySource[row.source] = Number(row.n);
  }
  const albumsByStatus: Record<string, number> = {};
  for (const row of q(`SELECT status, count(*) AS n FROM albums GROUP BY 1`).all() as Row[])
    albumsByStatus[String(row.status)] = Number(row.n);
  const pending = q(
    `SELECT
       sum(CASE WHEN enrichment_attempts = 0 THEN 1 ELSE 0 END) AS pending,
       sum(CASE WHEN enrichment_attempts > 0 THEN 1 ELSE 0 END) AS failing
     FROM file_metadata
     WHERE enrichment_source = 'embedded' AND enriched_at IS NULL AND album_key IS NOT NULL`,
  ).get() as Row;
  const backlog = q(
    `SELECT count(*) AS files, count(DISTINCT album_key) AS albums FROM file_metadata
     WHERE enrichment_source = 'embedded' AND enriched_at IS NULL AND album_key IS NOT NULL AND enrichment_attempts < @retry_max`,
  ).get({ retry_max: opts.retryMax ?? Number.MAX_SAFE_INTEGER }) as Row;
  const failingAlbums = q(
    `SELECT album_key AS albumKey, artist, album, status, attempts, last_error AS lastError FROM albums
     WHERE status IN ('error', 'miss', 'doubtful') ORDER BY coalesce(looked_up_at, 0) DESC, album_key LIMIT 10`,
  ).all() as LibraryStats["enrichment"]["failingAlbums"];
  const doubtfulAlbums = q(
    `SELECT a.album_key AS albumKey, a.artist, a.album,
            (SELECT c.title || ' / ' || c.artists FROM album_candidates c WHERE c.album_key = a.album_key ORDER BY c.score DESC LIMIT 1) AS candidate,
            (SELECT max(c.score) FROM album_candidates c WHERE c.album_key = a.album_key) AS score,
            (SELECT c.reason FROM album_candidates c WHERE c.album_key = a.album_key ORDER BY c.score DESC LIMIT 1) AS reason
     FROM albums a WHERE a.status = 'doubtful' ORDER BY a.artist, a.album LIMIT 10`,
  ).all() as LibraryStats["enrichment"]["doubtfulAlbums"];
  const errors = q(
    `SELECT sum(CASE WHEN severity = 'error' THEN 1 ELSE 0 END) AS total, sum(CASE WHEN severity = 'warning' THEN 1 ELSE 0 END) AS warnings FROM scan_errors`,
  ).get() as Row;
  const topReasons = q(`SELECT code, count(*) AS count FROM scan_errors GROUP BY code ORDER BY count DESC, code LIMIT 5`).all() as {
    code: string;
    count: number;
  }[];
  const last = q(
    `SELECT scan_id AS scanId, started_at AS startedAt, finished_at AS finishedAt, status, added, updated, unchanged, moved, removed, errors
     FROM scans ORDER BY scan_id DESC LIMIT 1`,
  ).get() as LibraryStats["lastScan"] | undefined;
  return {
    files: Number(totals.files),
    albums: Number(albums.n),
    artists: Number(artists.n),
    totalDurationSeconds: Math.round(Number(totals.duration)),
    totalBytes: Number(totals.bytes),
    formats,
    enrichment: {
      bySource,
      albumsByStatus,
      filesPending: Number(pending.pending ?? 0),
      filesFailing: Number(pending.failing ?? 0),
      backlogFiles: Number(backlog.files ?? 0),
      backlogAlbums: Number(backlog.albums ?? 0),
      failingAlbums,
      doubtfulAlbums,
    },
    scanErrors: { total: Number(errors.total ?? 0), warnings: Number(errors.warnings ?? 0), topReasons },
    lastScan: last ?? null,
  };
}
