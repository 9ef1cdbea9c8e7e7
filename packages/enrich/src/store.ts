import { albumKey as computeAlbumKey, type Library, normalizeName } from "@musicfs/db";
import { isVariousArtists, titleKey } from "./match.js";
import type { DoubtfulCandidate, EnrichedMetadata, ProviderAlbum } from "./provider.js";

/** albums.status values (design §4.3.5 outcomes, per album). */
export type AlbumStatus = "pending" | "hit" | "miss" | "doubtful" | "error" | "skipped";

export interface AlbumRow {
  albumKey: string;
  artist: string;
  album: string;
  status: AlbumStatus;
  attempts: number;
  providerAlbumId: string | null;
  nextAttemptAt: number | null;
  lookedUpAt: number | null;
}

/** What the files of an album say, beyond the names. */
export interface AlbumFacts {
  files: number;
  /** Files the provider may still write: source 'embedded' and not enriched. */
  eligible: number;
  compilation: boolean;
  mbReleaseGroupId: string | null;
}

export interface AlbumFilter {
  /** Substring of the normalised artist (albumartist or artist). */
  artist?: string | undefined;
  /** Substring of the normalised album title. */
  album?: string | undefined;
  limit?: number | undefined;
}

export interface FileModified {
  fileId: number;
  metadataVersion: number;
  source: "provider";
}

export interface ReviewCandidate extends DoubtfulCandidate {
  albumKey: string;
  fileArtist: string;
  fileAlbum: string;
  seenAt: number;
}

export interface HitWrite {
  albumKey: string;
  album: ProviderAlbum;
  reason: string;
  now: number;
  /** A fresh lookup (cache the result, stamp looked_up_at) rather than a reuse of the cache. */
  lookedUp: boolean;
  /** --refresh: also replace earlier provider writes. */
  refresh: boolean;
}

export interface FailureWrite {
  albumKey: string;
  status: "miss" | "doubtful" | "error";
  error: string;
  attempts: number;
  next: number | null;
  now: number;
  candidates?: DoubtfulCandidate[];
}

/** Every read and write enrichment makes; see createEnrichmentStore. */
export interface EnrichmentStore {
  /** Albums due a lookup: never tried, failed and past their backoff, or with files not yet given a cached result. */
  dueAlbums(now: number, retryMax: number, filter?: AlbumFilter): AlbumRow[];
  /** Albums matched before `before` (ms), for `--refresh`. */
  refreshableAlbums(before: number, filter?: AlbumFilter): AlbumRow[];
  album(albumKey: string): AlbumRow | undefined;
  /** Creates the albums row of a key when the scanner has not (e.g. a request from a mount of an older database). */
  ensureAlbum(albumKey: string, artist: string, album: string): AlbumRow;
  registerMissingAlbums(): void;
  facts(albumKey: string, displayArtist: string): AlbumFacts;
  albumKeyOfFile(fileId: number): string | null;
  cachedProviderAlbum(providerAlbumId: string): ProviderAlbum | undefined;
  /** Cached provider albums whose title has the same title key. */
  cachedByTitle(title: string): ProviderAlbum[];
  /** Caches the result, runs the conditional UPDATE on the album's files, records the album's status; one transaction. */
  applyHit(args: HitWrite): FileModified[];
  /** Records a miss, doubtful miss or error on the album and its eligible files, with the next attempt time. */
  applyFailure(args: FailureWrite): void;
  markSkipped(albumKey: string): void;
  /** `--retry-failed`: failed albums (and their files) start again from zero attempts; returns the albums reset. */
  resetFailed(now: number, filter?: AlbumFilter): number;
  /** Doubtful albums' near-miss candidates, for `enrich --review`. */
  reviewCandidates(): ReviewCandidate[];
}

const ALBUM_COLUMNS = `a.album_key AS albumKey, a.artist, a.album, a.status, a.attempts, a.provider_album_id AS providerAlbumId,
  a.next_attempt_at AS nextAttemptAt, a.looked_up_at AS lookedUpAt`;

// Unary + keeps SQLite on the album_key index for these per-album probes (the due index would scan every pending file).
const ELIGIBLE = `+m.enrichment_source = 'embedded' AND +m.enriched_at IS NULL`;

const FILTER = `(@artist IS NULL OR instr(substr(a.album_key, 1, instr(a.album_key, char(31)) - 1), @artist) > 0)
  AND (@album IS NULL OR instr(substr(a.album_key, instr(a.album_key, char(31)) + 1), @album) > 0)`;

interface ProviderAlbumRow {
  rowid: number;
  providerAlbumId: string;
  title: string;
  artistsJson: string;
  genresJson: string;
  label: string | null;
  releaseDate: string | null;
  albumType: string | null;
  coverUrl: string | null;
  totalTracks: number | null;
  totalDiscs: number | null;
}

function fromProviderRow(row: ProviderAlbumRow): ProviderAlbum {
  const parsed = JSON.parse(row.artistsJson) as { names?: string[]; credit?: string } | string[];
  const names = Array.isArray(parsed) ? parsed : (parsed.names ?? []);
  const credit = Array.isArray(parsed) ? parsed.join(", ") : (parsed.credit ?? names.join(", "));
  return {
    providerAlbumId: row.providerAlbumId,
    title: row.title,
    artists: names,
    credit,
    metadata: {
      genres: JSON.parse(row.genresJson) as string[],
      label: row.label,
      albumType: row.albumType,
      coverUrl: row.coverUrl,
      releaseDate: row.releaseDate,
      totalTracks: row.totalTracks,
      totalDiscs: row.totalDiscs,
    },
  };
}

/**
 * Every read and write enrichment makes, as prepared statements. All synchronous (better-sqlite3);
 * each write that touches several tables is one transaction so no reader sees half of it.
 */
export function createEnrichmentStore(lib: Library): EnrichmentStore {
  const s = lib.sqlite;
  const due = s.prepare<Record<string, unknown>, AlbumRow>(
    `SELECT ${ALBUM_COLUMNS} FROM albums a
     WHERE EXISTS (SELECT 1 FROM file_metadata m WHERE m.album_key = a.album_key AND ${ELIGIBLE})
       AND (a.status IN ('pending', 'hit', 'skipped')
            OR (a.status IN ('miss', 'doubtful', 'error') AND a.attempts < @retry_max AND coalesce(a.next_attempt_at, 0) <= @now))
       AND ${FILTER}
     ORDER BY a.album_key LIMIT @limit`,
  );
  const refreshable = s.prepare<Record<string, unknown>, AlbumRow>(
    `SELECT ${ALBUM_COLUMNS} FROM albums a
     WHERE a.provider_album_id IS NOT NULL AND coalesce(a.looked_up_at, 0) < @before AND ${FILTER}
       AND EXISTS (SELECT 1 FROM file_metadata m WHERE m.album_key = a.album_key AND +m.enrichment_source IN ('embedded', 'provider'))
     ORDER BY a.album_key LIMIT @limit`,
  );
  const getAlbum = s.prepare<[string], AlbumRow>(`SELECT ${ALBUM_COLUMNS} FROM albums a WHERE a.album_key = ?`);
  const ensureAlbum = s.prepare("INSERT OR IGNORE INTO albums (album_key, artist, album) VALUES (?, ?, ?)");
  const registerMissingAlbums = s.prepare(
    `INSERT OR IGNORE INTO albums (album_key, artist, album)
     SELECT album_key,
            coalesce(nullif(max(albumartist), ''), CASE WHEN max(compilation) = 1 THEN 'Various Artists' END, max(artist), ''),
            coalesce(max(album), '')
     FROM file_metadata WHERE album_key IS NOT NULL GROUP BY album_key`,
  );
  const facts = s.prepare<[string], { files: number; eligible: number | null; compilation: number | null; various: number | null }>(
    `SELECT count(*) AS files, sum(CASE WHEN ${ELIGIBLE} THEN 1 ELSE 0 END) AS eligible, max(m.compilation) AS compilation,
            max(CASE WHEN lower(m.albumartist) IN ('various artists', 'various', 'va') THEN 1 ELSE 0 END) AS various
     FROM file_metadata m WHERE m.album_key = ?`,
  );
  const releaseGroup = s.prepare<[string], { id: string }>(
    `SELECT mb_releasegroup_id AS id FROM file_metadata
     WHERE album_key = ? AND mb_releasegroup_id IS NOT NULL AND mb_releasegroup_id != ''
     GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
  );
  const fileAlbumKey = s.prepare<[number], { albumKey: string | null }>(
    "SELECT album_key AS albumKey FROM file_metadata WHERE file_id = ?",
  );
  const providerAlbum = s.prepare<[string], ProviderAlbumRow>(
    `SELECT rowid, provider_album_id AS providerAlbumId, title, artists_json AS artistsJson, genres_json AS genresJson, label,
            release_date AS releaseDate, album_type AS albumType, cover_url AS coverUrl, total_tracks AS totalTracks, total_discs AS totalDiscs
     FROM provider_albums WHERE provider_album_id = ?`,
  );
  const providerAlbumsSince = s.prepare<[number], { rowid: number; providerAlbumId: string; title: string }>(
    "SELECT rowid, provider_album_id AS providerAlbumId, title FROM provider_albums WHERE rowid > ? ORDER BY rowid",
  );
  const upsertProviderAlbum = s.prepare(
    `INSERT INTO provider_albums (provider_album_id, title, artists_json, genres_json, label, release_date, album_type, cover_url,
       total_tracks, total_discs, fetched_at)
     VALUES (@id, @title, @artists_json, @genres_json, @label, @release_date, @album_type, @cover_url, @total_tracks, @total_discs, @now)
     ON CONFLICT (provider_album_id) DO UPDATE SET title = excluded.title, artists_json = excluded.artists_json,
       genres_json = excluded.genres_json, label = excluded.label, release_date = excluded.release_date, album_type = excluded.album_type,
       cover_url = excluded.cover_url, total_tracks = excluded.total_tracks, total_discs = excluded.total_discs, fetched_at = excluded.fetched_at`,
  );
  // design §4.3.5 step 3: one conditional UPDATE for every file of the album; the WHERE clause is the conflict check.
  const enrichFiles = (sources: string) =>
    s.prepare<Record<string, unknown>, { fileId: number; metadataVersion: number }>(
      `UPDATE file_metadata SET
         genres_json = @genres_json, genre = @genre, label = @label, album_type = @album_type, cover_url = @cover_url,
         release_date = @release_date, total_tracks = @total_tracks, total_discs = @total_discs, provider_album_id = @provider_album_id,
         enrichment_source = 'provider', enriched_at = @now, enrichment_attempts = 0, last_enrichment_error = NULL, next_attempt_at = NULL,
         metadata_version = metadata_version + 1, updated_at = @now
       WHERE album_key = @album_key AND ${sources}
       RETURNING file_id AS fileId, metadata_version AS metadataVersion`,
    );
  const enrichUnenriched = enrichFiles("(enrichment_source IS NULL OR enrichment_source = 'embedded')");
  // --refresh: a provider may replace its own earlier write, still never an orchestrator's.
  const enrichRefresh = enrichFiles("(enrichment_source IS NULL OR enrichment_source IN ('embedded', 'provider'))");
  const albumHit = s.prepare(
    `UPDATE albums SET status = @status, provider_album_id = @provider_album_id, match_reason = @reason, attempts = 0, last_error = NULL,
       next_attempt_at = NULL, looked_up_at = coalesce(@looked_up_at, looked_up_at)
     WHERE album_key = @album_key`,
  );
  const albumFailed = s.prepare(
    `UPDATE albums SET status = @status, match_reason = @reason, attempts = @attempts, last_error = @error, next_attempt_at = @next,
       looked_up_at = @now
     WHERE album_key = @album_key`,
  );
  const filesFailed = s.prepare(
    `UPDATE file_metadata SET enrichment_attempts = @attempts, last_enrichment_error = @error, next_attempt_at = @next,
       metadata_version = metadata_version + 1, updated_at = @now
     WHERE album_key = @album_key AND ${ELIGIBLE.replaceAll("m.", "")}`,
  );
  const albumSkipped = s.prepare("UPDATE albums SET status = 'skipped' WHERE album_key = ? AND status = 'pending'");
  const clearCandidates = s.prepare("DELETE FROM album_candidates WHERE album_key = ?");
  const insertCandidate = s.prepare(
    `INSERT OR REPLACE INTO album_candidates (album_key, provider_album_id, title, artists, score, reason, seen_at)
     VALUES (@album_key, @provider_album_id, @title, @artists, @score, @reason, @now)`,
  );
  const resetFailedAlbums = s.prepare(
    `UPDATE albums AS a SET attempts = 0, next_attempt_at = NULL, last_error = NULL
     WHERE a.status IN ('miss', 'doubtful', 'error') AND ${FILTER}`,
  );
  const resetFailedFiles = s.prepare(
    `UPDATE file_metadata SET enrichment_attempts = 0, next_attempt_at = NULL, last_enrichment_error = NULL,
       metadata_version = metadata_version + 1, updated_at = @now
     WHERE enrichment_attempts > 0 AND enrichment_source = 'embedded' AND enriched_at IS NULL
       AND album_key IN (SELECT a.album_key FROM albums a WHERE ${FILTER})`,
  );
  const review = s.prepare<[], ReviewCandidate>(
    `SELECT c.album_key AS albumKey, a.artist AS fileArtist, a.album AS fileAlbum, c.provider_album_id AS providerAlbumId, c.title,
            c.artists, c.score, c.reason, c.seen_at AS seenAt
     FROM album_candidates c JOIN albums a USING (album_key)
     WHERE a.status = 'doubtful'
     ORDER BY a.artist, a.album, c.score DESC`,
  );

  const filterParams = (f: AlbumFilter) => ({
    artist: f.artist ? normalizeName(f.artist) : null,
    album: f.album ? normalizeName(f.album) : null,
    limit: f.limit ?? -1,
  });

  function enrichedValues(albumKey: string, album: ProviderAlbum, now: number) {
    const m: EnrichedMetadata = album.metadata;
    return {
      album_key: albumKey,
      genres_json: JSON.stringify(m.genres),
      // design §4.3.4 note: the singular genre is the first of genres_json.
      genre: m.genres[0] ?? null,
      label: m.label,
      album_type: m.albumType,
      cover_url: m.coverUrl,
      release_date: m.releaseDate,
      total_tracks: m.totalTracks,
      total_discs: m.totalDiscs,
      provider_album_id: album.providerAlbumId,
      now,
    };
  }

  const applyHit = s.transaction((args: HitWrite) => {
    const { albumKey, album, now } = args;
    const m = album.metadata;
    if (args.lookedUp) {
      upsertProviderAlbum.run({
        id: album.providerAlbumId,
        title: album.title,
        artists_json: JSON.stringify({ names: album.artists, credit: album.credit }),
        genres_json: JSON.stringify(m.genres),
        label: m.label,
        release_date: m.releaseDate,
        album_type: m.albumType,
        cover_url: m.coverUrl,
        total_tracks: m.totalTracks,
        total_discs: m.totalDiscs,
        now,
      });
    }
    const updated = (args.refresh ? enrichRefresh : enrichUnenriched).all(enrichedValues(albumKey, album, now));
    albumHit.run({
      album_key: albumKey,
      // rows_affected = 0: a higher-priority source got there first (design §4.3.5 step 3).
      status: updated.length > 0 ? "hit" : "skipped",
      provider_album_id: album.providerAlbumId,
      reason: args.reason,
      looked_up_at: args.lookedUp ? now : null,
    });
    clearCandidates.run(albumKey);
    return updated.map((u): FileModified => ({ fileId: u.fileId, metadataVersion: u.metadataVersion, source: "provider" }));
  });

  const applyFailure = s.transaction((args: FailureWrite) => {
    const params = { album_key: args.albumKey, attempts: args.attempts, error: args.error, next: args.next, now: args.now };
    albumFailed.run({ ...params, status: args.status, reason: args.candidates?.[0]?.reason ?? null });
    filesFailed.run(params);
    if (args.status !== "error") {
      clearCandidates.run(args.albumKey);
      for (const c of args.candidates ?? []) {
        insertCandidate.run({
          album_key: args.albumKey,
          provider_album_id: c.providerAlbumId,
          title: c.title,
          artists: c.artists,
          score: c.score,
          reason: c.reason,
          now: args.now,
        });
      }
    }
  });

  // Title key → cached provider album ids, loaded incrementally (by rowid) so a second album key that is the same
  // release ("X" and "X (Deluxe Edition)") finds the cached result without a call.
  const byTitle = new Map<string, string[]>();
  let lastRowid = 0;
  function refreshTitleIndex(): void {
    for (const row of providerAlbumsSince.all(lastRowid)) {
      const key = titleKey(row.title);
      const ids = byTitle.get(key) ?? [];
      if (!ids.includes(row.providerAlbumId)) ids.push(row.providerAlbumId);
      byTitle.set(key, ids);
      lastRowid = row.rowid;
    }
  }

  return {
    /** Albums due a lookup (never tried, failed and past backoff, or with files not yet given a cached result). */
    dueAlbums(now: number, retryMax: number, filter: AlbumFilter = {}): AlbumRow[] {
      return due.all({ now, retry_max: retryMax, ...filterParams(filter) });
    },
    /** Albums matched before `before` (ms), for `--refresh`. */
    refreshableAlbums(before: number, filter: AlbumFilter = {}): AlbumRow[] {
      return refreshable.all({ before, ...filterParams(filter) });
    },
    album(albumKey: string): AlbumRow | undefined {
      return getAlbum.get(albumKey);
    },
    /** Creates the albums row of a key when the scanner has not (e.g. a request from a mount of an older database). */
    ensureAlbum(albumKey: string, artist: string, album: string): AlbumRow {
      ensureAlbum.run(albumKey, artist, album);
      return getAlbum.get(albumKey)!;
    },
    registerMissingAlbums(): void {
      registerMissingAlbums.run();
    },
    facts(albumKey: string, displayArtist: string): AlbumFacts {
      const row = facts.get(albumKey);
      return {
        files: row?.files ?? 0,
        eligible: row?.eligible ?? 0,
        compilation: row?.compilation === 1 || row?.various === 1 || isVariousArtists(displayArtist),
        mbReleaseGroupId: releaseGroup.get(albumKey)?.id ?? null,
      };
    },
    albumKeyOfFile(fileId: number): string | null {
      return fileAlbumKey.get(fileId)?.albumKey ?? null;
    },
    cachedProviderAlbum(providerAlbumId: string): ProviderAlbum | undefined {
      const row = providerAlbum.get(providerAlbumId);
      return row && fromProviderRow(row);
    },
    /** Cached provider albums whose title has the same title key. */
    cachedByTitle(title: string): ProviderAlbum[] {
      refreshTitleIndex();
      return (byTitle.get(titleKey(title)) ?? []).flatMap((id) => {
        const row = providerAlbum.get(id);
        return row ? [fromProviderRow(row)] : [];
      });
    },
    applyHit: (args: HitWrite): FileModified[] => applyHit.immediate(args),
    applyFailure: (args: FailureWrite): void => applyFailure.immediate(args),
    markSkipped(albumKey: string): void {
      albumSkipped.run(albumKey);
    },
    /** `--retry-failed`: failed albums (and their files) start again from zero attempts. */
    resetFailed(now: number, filter: AlbumFilter = {}): number {
      return s
        .transaction(() => {
          const params = filterParams(filter);
          const albums = resetFailedAlbums.run({ artist: params.artist, album: params.album }).changes;
          resetFailedFiles.run({ artist: params.artist, album: params.album, now });
          return albums;
        })
        .immediate();
    },
    reviewCandidates(): ReviewCandidate[] {
      return review.all();
    },
  };
}

/** The album key of a request: given, or computed like the scanner does. */
export function requestAlbumKey(req: {
  artist: string;
  album: string;
  albumartist?: string | null;
  albumKey?: string | null;
}): string | null {
  return req.albumKey ?? computeAlbumKey({ albumartist: req.albumartist ?? null, artist: req.artist, album: req.album });
}
