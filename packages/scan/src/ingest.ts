import type { Clock } from "@musicfs/core";
import { albumKey, EMBEDDED_TAG_COLUMNS, type EmbeddedTagValues, type Library } from "@musicfs/db";
import type { AudioInfo, AudioTags, SanitizeIssue } from "@musicfs/tags";

/** What the database knows about a path, enough to decide whether it changed. */
export interface KnownFile {
  fileId: number;
  size: number;
  mtimeUs: number;
  dev: number;
  ino: number;
}

export interface FileFacts {
  path: Buffer;
  root: string;
  dev: number;
  ino: number;
  size: number;
  mtimeUs: number;
}

export type IngestOp =
  | { op: "insert"; facts: FileFacts; tags: AudioTags; info: AudioInfo; warnings: SanitizeIssue[] }
  | { op: "update"; fileId: number; facts: FileFacts; tags: AudioTags; info: AudioInfo; warnings: SanitizeIssue[] }
  /** A rename detected by inode whose content is unchanged: only the path moves. */
  | { op: "move"; fileId: number; facts: FileFacts }
  | { op: "error"; path: Buffer; root: string; code: string; message: string };

/** Tag fields a re-scan refreshes; an orchestrator override of any of them is kept (see overrides_json). */
const TAG_COLUMNS = EMBEDDED_TAG_COLUMNS;

/** Enrichment columns a provider wrote; cleared when the file's album changes under it. */
const PROVIDER_COLUMNS = ["label", "album_type", "cover_url", "release_date", "total_tracks", "total_discs", "provider_album_id"] as const;

/** The embedded tags read from a file, by file_metadata column. */
export function embeddedTagValues(tags: AudioTags): EmbeddedTagValues {
  return {
    title: tags.title ?? null,
    artist: tags.artist ?? null,
    album: tags.album ?? null,
    albumartist: tags.albumartist ?? null,
    track: tags.track ?? null,
    track_total: tags.trackTotal ?? null,
    disc: tags.disc ?? null,
    disc_total: tags.discTotal ?? null,
    year: tags.year ?? null,
    date: tags.date ?? null,
    compilation: tags.compilation,
    mb_track_id: tags.mbTrackId ?? null,
    mb_album_id: tags.mbAlbumId ?? null,
    mb_releasegroup_id: tags.mbReleaseGroupId ?? null,
    mb_artist_id: tags.mbArtistId ?? null,
    mb_albumartist_id: tags.mbAlbumArtistId ?? null,
    genres: tags.genres,
  };
}

function tagValues(tags: AudioTags): Record<(typeof TAG_COLUMNS)[number], string | number | null> {
  const { genres: _genres, ...values } = embeddedTagValues(tags);
  return { ...values, compilation: values.compilation ? 1 : 0 };
}

interface ExistingMetadata extends Record<string, unknown> {
  enrichment_source: string;
  overrides_json: string | null;
  album_key: string | null;
}

/** Prepared statements for the scan's writes; every batch of ops is applied in one transaction. */
export function createIngester(lib: Library, clock: Clock, scanId: number) {
  const s = lib.sqlite;
  const findByPath = s.prepare<[Buffer], KnownFile>(
    "SELECT file_id AS fileId, size, mtime_us AS mtimeUs, dev, ino FROM files WHERE path = ?",
  );
  const findByInode = s.prepare<[number, number], KnownFile & { path: Buffer }>(
    "SELECT file_id AS fileId, size, mtime_us AS mtimeUs, dev, ino, path FROM files WHERE dev = ? AND ino = ?",
  );
  const insertFile = s.prepare(
    `INSERT INTO files (path, path_text, root, dev, ino, size, mtime_us, format, codec, duration, bitrate, sample_rate, channels,
       bits_per_sample, lossless, has_picture, seen_scan_id, parsed_at)
     VALUES (@path, @path_text, @root, @dev, @ino, @size, @mtime_us, @format, @codec, @duration, @bitrate, @sample_rate, @channels,
       @bits_per_sample, @lossless, @has_picture, @scan_id, @now)`,
  );
  const updateFile = s.prepare(
    `UPDATE files SET path = @path, path_text = @path_text, root = @root, dev = @dev, ino = @ino, size = @size, mtime_us = @mtime_us,
       format = @format, codec = @codec, duration = @duration, bitrate = @bitrate, sample_rate = @sample_rate, channels = @channels,
       bits_per_sample = @bits_per_sample, lossless = @lossless, has_picture = @has_picture, seen_scan_id = @scan_id, parsed_at = @now
     WHERE file_id = @file_id`,
  );
  const moveFile = s.prepare(
    // parsed_at moves too: a running mount refreshes rows by it, and a rename changes the Files/ path.
    "UPDATE files SET path = @path, path_text = @path_text, root = @root, seen_scan_id = @scan_id, parsed_at = @now WHERE file_id = @file_id",
  );
  const insertMetadata = s.prepare(
    `INSERT INTO file_metadata (file_id, ${TAG_COLUMNS.join(", ")}, genre, genres_json, album_key, updated_at)
     VALUES (@file_id, ${TAG_COLUMNS.map((c) => `@${c}`).join(", ")}, @genre, @genres_json, @album_key, @now)`,
  );
  const existingMetadata = s.prepare<[number], ExistingMetadata>(
    "SELECT enrichment_source, overrides_json, album_key FROM file_metadata WHERE file_id = ?",
  );
  const ensureAlbum = s.prepare("INSERT OR IGNORE INTO albums (album_key, artist, album) VALUES (?, ?, ?)");
  const upsertError = s.prepare(
    `INSERT INTO scan_errors (path, path_text, root, severity, code, message, scan_id, seen_at)
     VALUES (@path, @path_text, @root, @severity, @code, @message, @scan_id, @now)
     ON CONFLICT (path, code) DO UPDATE SET severity = excluded.severity, message = excluded.message, root = excluded.root,
       scan_id = excluded.scan_id, seen_at = excluded.seen_at`,
  );
  const clearErrors = s.prepare("DELETE FROM scan_errors WHERE path = ?");
  const updateStatements = new Map<string, ReturnType<typeof s.prepare>>();

  function fileParams(facts: FileFacts, info: AudioInfo, now: number) {
    return {
      path: facts.path,
      path_text: facts.path.toString("utf8"),
      root: facts.root,
      dev: facts.dev,
      ino: facts.ino,
      size: facts.size,
      mtime_us: facts.mtimeUs,
      format: info.format,
      codec: info.codec ?? null,
      duration: info.duration ?? null,
      bitrate: info.bitrate ?? null,
      sample_rate: info.sampleRate ?? null,
      channels: info.channels ?? null,
      bits_per_sample: info.bitsPerSample ?? null,
      lossless: info.lossless === undefined ? null : info.lossless ? 1 : 0,
      has_picture: info.hasPicture ? 1 : 0,
      scan_id: scanId,
      now,
    };
  }

  function recordWarnings(facts: FileFacts, warnings: SanitizeIssue[], now: number): void {
    clearErrors.run(facts.path);
    const byCode = new Map<string, string[]>();
    for (const w of warnings) byCode.set(w.code, [...(byCode.get(w.code) ?? []), w.message]);
    for (const [code, messages] of byCode) {
      upsertError.run({
        path: facts.path,
        path_text: facts.path.toString("utf8"),
        root: facts.root,
        severity: "warning",
        code,
        message: messages.join("; ").slice(0, 500),
        scan_id: scanId,
        now,
      });
    }
  }

  function keyOf(tags: AudioTags): string | null {
    return albumKey({ albumartist: tags.albumartist, artist: tags.artist, album: tags.album, compilation: tags.compilation });
  }

  function registerAlbum(key: string | null, tags: AudioTags): void {
    if (!key) return;
    const artist = tags.albumartist || (tags.compilation ? "Various Artists" : tags.artist) || "";
    ensureAlbum.run(key, artist, tags.album ?? "");
  }

  /**
   * Re-parsed tags meet what is stored: orchestrator overrides stay, a provider enrichment stays
   * while the file is still on the same album and is reset (looked up again) when it moved album.
   */
  function updateMetadata(fileId: number, tags: AudioTags, now: number): void {
    const old = existingMetadata.get(fileId);
    const values = tagValues(tags);
    const key = keyOf(tags);
    const genres = tags.genres;
    if (!old) {
      insertMetadata.run({
        file_id: fileId,
        ...values,
        genre: genres[0] ?? null,
        genres_json: JSON.stringify(genres),
        album_key: key,
        now,
      });
      return;
    }
    let overridden: Set<string> = new Set();
    if (old.enrichment_source === "orchestrator") {
      overridden = new Set(old.overrides_json ? (JSON.parse(old.overrides_json) as string[]) : [...TAG_COLUMNS, "genres"]);
    }
    const sets: string[] = [];
    const params: Record<string, unknown> = { file_id: fileId, now };
    for (const col of TAG_COLUMNS) {
      if (overridden.has(col)) continue;
      sets.push(`${col} = @${col}`);
      params[col] = values[col];
    }
    const albumChanged = key !== old.album_key;
    if (!overridden.has("album") && !overridden.has("artist") && !overridden.has("albumartist")) {
      sets.push("album_key = @album_key");
      params.album_key = key;
    }
    const providerStays = old.enrichment_source === "provider" && !albumChanged;
    if (old.enrichment_source === "embedded" || (old.enrichment_source === "provider" && albumChanged)) {
      sets.push("genre = @genre", "genres_json = @genres_json");
      params.genre = genres[0] ?? null;
      params.genres_json = JSON.stringify(genres);
    }
    if (old.enrichment_source === "provider" && albumChanged) {
      sets.push("enrichment_source = 'embedded'", ...PROVIDER_COLUMNS.map((c) => `${c} = NULL`));
    }
    if (albumChanged && !providerStays && old.enrichment_source !== "orchestrator") {
      sets.push("enriched_at = NULL", "enrichment_attempts = 0", "last_enrichment_error = NULL", "next_attempt_at = NULL");
    }
    sets.push("metadata_version = metadata_version + 1", "updated_at = @now");
    const sql = `UPDATE file_metadata SET ${sets.join(", ")} WHERE file_id = @file_id`;
    let stmt = updateStatements.get(sql);
    if (!stmt) {
      stmt = s.prepare(sql);
      updateStatements.set(sql, stmt);
    }
    stmt.run(params);
  }

  const applyBatch = s.transaction((ops: IngestOp[]) => {
    const now = clock.now();
    for (const op of ops) {
      switch (op.op) {
        case "move":
          moveFile.run({
            path: op.facts.path,
            path_text: op.facts.path.toString("utf8"),
            root: op.facts.root,
            scan_id: scanId,
            file_id: op.fileId,
            now,
          });
          break;
        case "insert": {
          const fileId = Number(insertFile.run(fileParams(op.facts, op.info, now)).lastInsertRowid);
          updateMetadata(fileId, op.tags, now);
          registerAlbum(keyOf(op.tags), op.tags);
          recordWarnings(op.facts, op.warnings, now);
          break;
        }
        case "update":
          updateFile.run({ ...fileParams(op.facts, op.info, now), file_id: op.fileId });
          updateMetadata(op.fileId, op.tags, now);
          registerAlbum(keyOf(op.tags), op.tags);
          recordWarnings(op.facts, op.warnings, now);
          break;
        case "error":
          upsertError.run({
            path: op.path,
            path_text: op.path.toString("utf8"),
            root: op.root,
            severity: "error",
            code: op.code,
            message: op.message.slice(0, 500),
            scan_id: scanId,
            now,
          });
          break;
      }
    }
  });

  return {
    findByPath: (path: Buffer) => findByPath.get(path),
    findByInode: (dev: number, ino: number) => findByInode.all(dev, ino),
    applyBatch: (ops: IngestOp[]) => applyBatch.immediate(ops),
  };
}

export type Ingester = ReturnType<typeof createIngester>;

/** Upper bound of the byte range holding every path under `dir/` (for prefix queries on the path index). */
export function prefixRange(dir: Buffer): [Buffer, Buffer] {
  const base = dir[dir.length - 1] === 0x2f ? dir.subarray(0, -1) : dir;
  return [Buffer.concat([base, Buffer.from("/")]), Buffer.concat([base, Buffer.from("0")])];
}

/** File ids a scan found unchanged: a bit each, so an unchanged re-scan writes nothing to the database. */
export class SeenFiles {
  private bits = new Uint32Array(1024);

  add(fileId: number): void {
    const word = fileId >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[word]! |= 1 << (fileId & 31);
  }

  has(fileId: number): boolean {
    return ((this.bits[fileId >>> 5] ?? 0) & (1 << (fileId & 31))) !== 0;
  }
}

/**
 * After a complete walk of root: drop the files it neither found unchanged (`unchanged`) nor wrote
 * (seen_scan_id = scanId), the errors it did not see again, and albums left without files.
 */
export function removeUnseen(lib: Library, root: Buffer, scanId: number, unchanged: SeenFiles): number {
  const [lo, hi] = prefixRange(root);
  const rows = lib.sqlite
    .prepare("SELECT file_id AS fileId FROM files WHERE path >= ? AND path < ? AND seen_scan_id != ?")
    .all(lo, hi, scanId) as { fileId: number }[];
  const gone = rows.filter((r) => !unchanged.has(r.fileId)).map((r) => r.fileId);
  const remove = lib.sqlite.prepare("DELETE FROM files WHERE file_id = ?");
  return lib.sqlite
    .transaction(() => {
      for (const id of gone) remove.run(id);
      lib.sqlite.prepare("DELETE FROM scan_errors WHERE path >= ? AND path < ? AND scan_id != ?").run(lo, hi, scanId);
      // Also albums a re-parse moved every file away from.
      lib.sqlite.prepare("DELETE FROM albums WHERE NOT EXISTS (SELECT 1 FROM file_metadata m WHERE m.album_key = albums.album_key)").run();
      return gone.length;
    })
    .immediate();
}
