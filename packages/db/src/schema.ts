import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Who last wrote a file's metadata; design §4.3.7 orders them orchestrator > provider > embedded. */
export type EnrichmentSource = "embedded" | "provider" | "orchestrator";

/** One row per audio file found by a scan. file_id is stable across re-scans, edits and renames (matched by inode). */
export const files = sqliteTable(
  "files",
  {
    fileId: integer("file_id").primaryKey({ autoIncrement: true }),
    /** Raw path bytes as the OS gave them: file names need not be UTF-8. */
    path: blob("path", { mode: "buffer" }).notNull(),
    /** The path decoded as UTF-8 (invalid bytes as U+FFFD), for display and search. */
    pathText: text("path_text").notNull(),
    /** The scan root the file was found under; `Files/` in the mount mirrors paths relative to it. */
    root: text("root").notNull(),
    dev: integer("dev").notNull(),
    ino: integer("ino").notNull(),
    size: integer("size").notNull(),
    /** Modification time in microseconds since the epoch. */
    mtimeUs: integer("mtime_us").notNull(),
    format: text("format"),
    codec: text("codec"),
    /** Seconds. */
    duration: real("duration"),
    bitrate: integer("bitrate"),
    sampleRate: integer("sample_rate"),
    channels: integer("channels"),
    bitsPerSample: integer("bits_per_sample"),
    lossless: integer("lossless", { mode: "boolean" }),
    hasPicture: integer("has_picture", { mode: "boolean" }).notNull().default(false),
    /** The scan that last wrote the row (added, re-parsed or moved it); unchanged files are tracked in memory. */
    seenScanId: integer("seen_scan_id").notNull(),
    parsedAt: integer("parsed_at").notNull(),
  },
  (t) => [
    uniqueIndex("files_path_uq").on(t.path),
    index("files_inode_idx").on(t.dev, t.ino),
    index("files_root_seen_idx").on(t.root, t.seenScanId),
  ],
);

/**
 * The effective metadata of a file: tags read from it, overlaid with enrichment (design §4.3.4).
 * `genre` is always the first of `genres_json`.
 */
export const fileMetadata = sqliteTable(
  "file_metadata",
  {
    fileId: integer("file_id")
      .primaryKey()
      .references(() => files.fileId, { onDelete: "cascade" }),
    title: text("title"),
    artist: text("artist"),
    album: text("album"),
    albumartist: text("albumartist"),
    track: integer("track"),
    trackTotal: integer("track_total"),
    disc: integer("disc"),
    discTotal: integer("disc_total"),
    year: integer("year"),
    date: text("date"),
    genre: text("genre"),
    genresJson: text("genres_json"),
    compilation: integer("compilation", { mode: "boolean" }).notNull().default(false),
    mbTrackId: text("mb_track_id"),
    mbAlbumId: text("mb_album_id"),
    mbReleaseGroupId: text("mb_releasegroup_id"),
    mbArtistId: text("mb_artist_id"),
    mbAlbumArtistId: text("mb_albumartist_id"),
    /** Normalised albumartist-or-artist + album; NULL when the file has no album. Enrichment works per key. */
    albumKey: text("album_key"),
    // design §4.3.4 enrichment columns
    enrichmentSource: text("enrichment_source").$type<EnrichmentSource>().notNull().default("embedded"),
    enrichedAt: integer("enriched_at"),
    enrichmentAttempts: integer("enrichment_attempts").notNull().default(0),
    lastEnrichmentError: text("last_enrichment_error"),
    /** Unix ms before which a failed lookup is not retried (retry_backoff_ms * 2^attempts). */
    nextAttemptAt: integer("next_attempt_at"),
    label: text("label"),
    albumType: text("album_type"),
    coverUrl: text("cover_url"),
    releaseDate: text("release_date"),
    totalTracks: integer("total_tracks"),
    totalDiscs: integer("total_discs"),
    providerAlbumId: text("provider_album_id"),
    /** JSON array of the field names an orchestrator set; a re-scan leaves those alone. */
    overridesJson: text("overrides_json"),
    /** Bumped on every change; the mount keys its overlay headers and getattr mtime on it. */
    metadataVersion: integer("metadata_version").notNull().default(1),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("file_metadata_album_key_idx").on(t.albumKey),
    index("file_metadata_due_idx").on(t.enrichmentSource, t.enrichedAt, t.nextAttemptAt),
    index("file_metadata_artist_idx").on(t.albumartist, t.artist),
    index("file_metadata_genre_idx").on(t.genre),
    index("file_metadata_label_idx").on(t.label),
    index("file_metadata_year_idx").on(t.year),
    index("file_metadata_updated_idx").on(t.updatedAt),
  ],
);

/** One row per album key; holds the album-level enrichment outcome so a lookup is made once per album. */
export const albums = sqliteTable(
  "albums",
  {
    albumKey: text("album_key").primaryKey(),
    /** Display names as found in the tags of the album's files. */
    artist: text("artist").notNull(),
    album: text("album").notNull(),
    /** 'pending' | 'hit' | 'miss' | 'doubtful' | 'error' | 'skipped' */
    status: text("status").notNull().default("pending"),
    providerAlbumId: text("provider_album_id").references(() => providerAlbums.providerAlbumId, { onDelete: "set null" }),
    matchReason: text("match_reason"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at"),
    lookedUpAt: integer("looked_up_at"),
  },
  (t) => [index("albums_status_idx").on(t.status, t.nextAttemptAt)],
);

/** Results from metadata-agregator, by its album id: the cache that lets tracks added later reuse a lookup. */
export const providerAlbums = sqliteTable("provider_albums", {
  providerAlbumId: text("provider_album_id").primaryKey(),
  title: text("title").notNull(),
  artistsJson: text("artists_json").notNull(),
  genresJson: text("genres_json").notNull(),
  label: text("label"),
  releaseDate: text("release_date"),
  albumType: text("album_type"),
  coverUrl: text("cover_url"),
  totalTracks: integer("total_tracks"),
  totalDiscs: integer("total_discs"),
  fetchedAt: integer("fetched_at").notNull(),
});

/** Near misses: results that came close but failed verification. Listed by `enrich --review`, never applied. */
export const albumCandidates = sqliteTable(
  "album_candidates",
  {
    albumKey: text("album_key")
      .notNull()
      .references(() => albums.albumKey, { onDelete: "cascade" }),
    providerAlbumId: text("provider_album_id").notNull(),
    title: text("title").notNull(),
    artists: text("artists").notNull(),
    score: integer("score").notNull(),
    reason: text("reason").notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.albumKey, t.providerAlbumId] })],
);

/** Files a scan could not read (or read with warnings), one row per path, replaced on each scan. */
export const scanErrors = sqliteTable(
  "scan_errors",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    path: blob("path", { mode: "buffer" }).notNull(),
    pathText: text("path_text").notNull(),
    root: text("root").notNull(),
    /** 'error': the file is not in the library; 'warning': it is, with something cleaned up. */
    severity: text("severity").notNull().default("error"),
    code: text("code").notNull(),
    message: text("message").notNull(),
    scanId: integer("scan_id").notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [uniqueIndex("scan_errors_path_code_uq").on(t.path, t.code), index("scan_errors_code_idx").on(t.code)],
);

/** One row per scan run; a row with no finished_at is a scan that was interrupted. */
export const scans = sqliteTable("scans", {
  scanId: integer("scan_id").primaryKey({ autoIncrement: true }),
  startedAt: integer("started_at").notNull(),
  finishedAt: integer("finished_at"),
  rootsJson: text("roots_json").notNull(),
  /** 'running' | 'completed' | 'interrupted' | 'failed' */
  status: text("status").notNull().default("running"),
  added: integer("added").notNull().default(0),
  updated: integer("updated").notNull().default(0),
  unchanged: integer("unchanged").notNull().default(0),
  moved: integer("moved").notNull().default(0),
  removed: integer("removed").notNull().default(0),
  errors: integer("errors").notNull().default(0),
  pid: integer("pid"),
});
