import {
  close as closeCb,
  closeSync,
  constants,
  fstat as fstatCb,
  fstatSync,
  open as openCb,
  openSync,
  read as readCb,
  readSync,
  type Stats,
} from "node:fs";
import { open } from "node:fs/promises";
import { promisify } from "node:util";
import { describeError, MusicfsError } from "@musicfs/core";
import type { IAudioMetadata } from "music-metadata";
import { BlockCacheTokenizer, type FileSource } from "./block-tokenizer.js";
import { detectEmbeddedPicture } from "./picture.js";
import { type SanitizeIssue, sanitizeTagValue } from "./sanitize.js";

/** How much of a file is read up front; enough for the tags of nearly every file (larger ones read on). */
export const HEAD_BYTES = 128 * 1024;

export interface AudioTags {
  title?: string;
  artist?: string;
  album?: string;
  albumartist?: string;
  track?: number;
  trackTotal?: number;
  disc?: number;
  discTotal?: number;
  year?: number;
  date?: string;
  genres: string[];
  compilation: boolean;
  mbTrackId?: string;
  mbAlbumId?: string;
  mbReleaseGroupId?: string;
  mbArtistId?: string;
  mbAlbumArtistId?: string;
}

/** Canonical container names stored in files.format (the mount picks overlay writers by it). */
export type AudioFormat =
  | "flac"
  | "mp3"
  | "mpeg"
  | "mp4"
  | "ogg"
  | "wav"
  | "aiff"
  | "wavpack"
  | "ape"
  | "asf"
  | "mpc"
  | "dsf"
  | "dff"
  | "matroska"
  | "aac"
  | "other";

/** Maps music-metadata's container strings ("FLAC", "MPEG", "Ogg/Opus", "M4A/isom/iso2", "WAVE", "AIFF-C") to AudioFormat. */
export function canonicalFormat(container: string | undefined, codec: string | undefined): AudioFormat {
  const c = (container ?? "").toLowerCase();
  if (c === "flac") return "flac";
  if (c === "mpeg") return /layer 3/i.test(codec ?? "") ? "mp3" : "mpeg";
  if (c.startsWith("ogg")) return "ogg";
  if (
    c.startsWith("m4a") ||
    c.startsWith("mp4") ||
    c.includes("isom") ||
    c.startsWith("m4b") ||
    c.startsWith("3gp") ||
    c.startsWith("mp42") ||
    c.startsWith("qt")
  )
    return "mp4";
  if (c === "wave" || c === "wav" || c === "rf64") return "wav";
  if (c.startsWith("aiff")) return "aiff";
  if (c === "wavpack") return "wavpack";
  if (c === "monkey's audio") return "ape";
  if (c === "asf/audio" || c.startsWith("asf")) return "asf";
  if (c.startsWith("musepack")) return "mpc";
  if (c === "dsf") return "dsf";
  if (c === "dsdiff") return "dff";
  if (c === "ebml/webm" || c.includes("matroska") || c.includes("webm")) return "matroska";
  if (c === "adts") return "aac";
  return "other";
}

export interface AudioInfo {
  /** Canonical container, see canonicalFormat. */
  format: AudioFormat;
  /** The container exactly as music-metadata reported it. */
  container: string;
  codec?: string;
  /** Seconds. */
  duration?: number;
  bitrate?: number;
  sampleRate?: number;
  channels?: number;
  bitsPerSample?: number;
  lossless?: boolean;
  hasPicture: boolean;
}

export interface ReadResult {
  tags: AudioTags;
  info: AudioInfo;
  /** Values that were cleaned up (control characters, absurd lengths): the file is usable. */
  warnings: SanitizeIssue[];
  bytesRead: number;
}

/** Why a file could not be read; the scan records it in scan_errors.code. */
export type ReadFailure = "EMPTY_FILE" | "UNREADABLE" | "NOT_REGULAR_FILE" | "UNSUPPORTED_FORMAT" | "CORRUPT" | "TRUNCATED" | "NO_AUDIO";

export function readFailure(err: unknown): ReadFailure | undefined {
  return err instanceof MusicfsError ? (err.details?.reason as ReadFailure | undefined) : undefined;
}

function fail(reason: ReadFailure, message: string, cause?: unknown): MusicfsError {
  const code = reason === "UNREADABLE" ? "IO_ERROR" : reason === "UNSUPPORTED_FORMAT" ? "UNSUPPORTED_FORMAT" : "TAG_PARSE_FAILED";
  return new MusicfsError(code, message, { cause, details: { reason } });
}

// O_NONBLOCK: a FIFO that slipped past the walk's stat can't hang the scan. O_NOATIME: don't dirty inodes.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** An open file with the three operations a read needs, blocking (worker threads) or not (main thread). */
interface OpenFile {
  source: FileSource;
  stat(): Promise<Stats> | Stats;
  read(target: Buffer, length: number): Promise<number> | number;
  close(): Promise<void> | void;
}

const openFd = promisify(openCb);
const fstatFd = promisify(fstatCb);
const closeFd = promisify(closeCb);
const readFd = (fd: number, target: Buffer, length: number) =>
  new Promise<number>((resolve, reject) => readCb(fd, target, 0, length, 0, (err, n) => (err ? reject(err) : resolve(n))));

/**
 * How a file is read. "blocking": sync calls (a worker with one file at a time). "fd": the thread
 * pool through plain callbacks, so a worker overlaps one file's I/O with another's parsing; later
 * reads past the head (rare) are sync. "handle": FileHandle, for the main thread.
 */
export type ReadMode = "blocking" | "fd" | "handle";

async function openFile(path: Buffer | string, mode: ReadMode): Promise<OpenFile> {
  const withFallback = <T>(fn: (flags: number) => T): T => {
    try {
      return fn(OPEN_FLAGS | constants.O_NOATIME);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EPERM") return fn(OPEN_FLAGS);
      throw err;
    }
  };
  if (mode === "blocking") {
    const fd = withFallback((flags) => openSync(path, flags));
    return { source: fd, stat: () => fstatSync(fd), read: (t, n) => readSync(fd, t, 0, n, 0), close: () => closeSync(fd) };
  }
  if (mode === "fd") {
    const fd = await openFd(path, OPEN_FLAGS | constants.O_NOATIME).catch((err: NodeJS.ErrnoException) =>
      err.code === "EPERM" ? openFd(path, OPEN_FLAGS) : Promise.reject(err),
    );
    return { source: fd, stat: () => fstatFd(fd), read: (t, n) => readFd(fd, t, n), close: () => closeFd(fd) };
  }
  const handle = await open(path, OPEN_FLAGS | constants.O_NOATIME).catch((err: NodeJS.ErrnoException) =>
    err.code === "EPERM" ? open(path, OPEN_FLAGS) : Promise.reject(err),
  );
  return {
    source: handle,
    stat: () => handle.stat(),
    read: (t, n) => handle.read(t, 0, n, 0).then((r) => r.bytesRead),
    close: () => handle.close(),
  };
}

/**
 * Reads the tags and stream properties of one audio file. The format is detected from the content
 * (a mislabelled file is read as what it is), falling back to the extension. Covers are not decoded.
 * `mode` picks how the file is read (see ReadMode).
 */
export async function readAudioFile(path: Buffer | string, opts: { headBytes?: number; mode?: ReadMode } = {}): Promise<ReadResult> {
  let file: OpenFile;
  try {
    file = await openFile(path, opts.mode ?? "handle");
  } catch (err) {
    throw fail("UNREADABLE", `cannot open: ${describeError(err)}`, err);
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw fail("NOT_REGULAR_FILE", "not a regular file");
    if (stat.size === 0) throw fail("EMPTY_FILE", "file is empty (0 bytes)");
    const headLength = Math.min(stat.size, opts.headBytes ?? HEAD_BYTES);
    const head = Buffer.allocUnsafe(headLength);
    let got: number;
    try {
      got = await file.read(head, headLength);
    } catch (err) {
      throw fail("UNREADABLE", `read failed: ${describeError(err)}`, err);
    }
    const tokenizer = new BlockCacheTokenizer(file.source, stat.size, head.subarray(0, got));
    const metadata = await parseWithFallback(tokenizer, path);
    const warnings: SanitizeIssue[] = [];
    const info = audioInfo(metadata, head.subarray(0, got));
    if (info.format === "flac") checkFlacComplete(head.subarray(0, got), stat.size);
    if (tokenizer.ranPastEnd) throw fail("TRUNCATED", `file is truncated: its headers describe more than its ${stat.size} bytes`);
    return { tags: commonTags(metadata, warnings), info, warnings, bytesRead: got + tokenizer.bytesRead };
  } finally {
    try {
      await file.close();
    } catch {
      // Closing a read-only descriptor cannot lose data; nothing to report.
    }
  }
}

const PARSE_OPTIONS = { skipCovers: true, duration: false } as const;

// music-metadata (and file-type under it) is many modules: loaded on the first parse, so processes that
// never parse on this thread (the scan's main thread, status, mount) don't read them from disk at start-up.
let musicMetadata: Promise<typeof import("music-metadata")> | undefined;
const loadMusicMetadata = () => {
  musicMetadata ??= import("music-metadata");
  return musicMetadata;
};

async function parseWithFallback(tokenizer: BlockCacheTokenizer, path: Buffer | string): Promise<IAudioMetadata> {
  const mm = await loadMusicMetadata();
  const { parseFromTokenizer, CouldNotDetermineFileTypeError, UnsupportedFileTypeError } = mm;
  const classifyParseError = (err: unknown) => classifyError(err, mm);
  try {
    return await parseFromTokenizer(tokenizer, PARSE_OPTIONS);
  } catch (err) {
    if (err instanceof CouldNotDetermineFileTypeError || err instanceof UnsupportedFileTypeError) {
      // Content sniffing failed: some streams (raw AAC, headerless MP3) are only known by their extension.
      const name = typeof path === "string" ? path : path.toString("latin1");
      tokenizer.fileInfo = { ...tokenizer.fileInfo, path: name };
      tokenizer.setPosition(0);
      try {
        return await parseFromTokenizer(tokenizer, PARSE_OPTIONS);
      } catch (retryErr) {
        throw classifyParseError(retryErr);
      }
    }
    throw classifyParseError(err);
  }
}

function classifyError(err: unknown, mm: typeof import("music-metadata")): MusicfsError {
  if (err instanceof MusicfsError) return err;
  const message = describeError(err);
  if (err instanceof mm.CouldNotDetermineFileTypeError || err instanceof mm.UnsupportedFileTypeError) {
    return fail("UNSUPPORTED_FORMAT", `not a recognised audio format (${message})`, err);
  }
  if ((err as Error)?.name === "EndOfStreamError" || /end.of.stream|unexpected end/i.test(message)) {
    return fail("TRUNCATED", `file ends before its headers do (${message})`, err);
  }
  if ((err as NodeJS.ErrnoException)?.code && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code ?? "")) {
    return fail("UNREADABLE", message, err);
  }
  return fail("CORRUPT", `cannot parse: ${message}`, err);
}

/** A FLAC whose metadata blocks run past its end, or that ends right after them, was cut short. */
function checkFlacComplete(head: Buffer, size: number): void {
  let pos = head.indexOf("fLaC", 0, "latin1");
  if (pos < 0) return;
  pos += 4;
  let sawLast = false;
  while (!sawLast && pos + 4 <= head.length) {
    sawLast = (head[pos]! & 0x80) !== 0;
    pos += 4 + head.readUIntBE(pos + 1, 3);
  }
  // Either the blocks claim more bytes than the file has, or nothing follows the last block.
  if (pos > size || (sawLast && pos >= size)) {
    throw fail("TRUNCATED", `file is truncated: no audio after ${Math.min(pos, size)} bytes of FLAC metadata`);
  }
}

function audioInfo(m: IAudioMetadata, head: Buffer): AudioInfo {
  const f = m.format;
  if (!f.container && !f.codec) throw fail("UNSUPPORTED_FORMAT", "not a recognised audio format");
  if (f.hasAudio === false) throw fail("NO_AUDIO", "container holds no audio stream");
  const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined);
  return {
    format: canonicalFormat(f.container, f.codec),
    container: f.container ?? "unknown",
    codec: f.codec,
    duration: finite(f.duration),
    bitrate: finite(f.bitrate) === undefined ? undefined : Math.round(f.bitrate!),
    sampleRate: finite(f.sampleRate),
    channels: finite(f.numberOfChannels),
    bitsPerSample: finite(f.bitsPerSample),
    lossless: f.lossless,
    hasPicture: detectEmbeddedPicture(f.container ?? "", head),
  };
}

function positive(n: number | null | undefined): number | undefined {
  return n !== null && n !== undefined && Number.isInteger(n) && n > 0 && n < 100000 ? n : undefined;
}

function commonTags(m: IAudioMetadata, warnings: SanitizeIssue[]): AudioTags {
  const c = m.common;
  const text = (field: string, v: string | undefined) => (v === undefined ? undefined : sanitizeTagValue(field, String(v), warnings));
  const genres: string[] = [];
  for (const g of c.genre ?? []) {
    // Some taggers pack several genres in one value ("Rock; Pop", "Rock/Pop" in ID3v2.3 TCON).
    for (const part of String(g).split(/\s*;\s*|\u0000/)) {
      const clean = sanitizeTagValue("genre", part, warnings);
      if (clean && !genres.some((x) => x.toLowerCase() === clean.toLowerCase())) genres.push(clean);
    }
  }
  const year = positive(c.year);
  return {
    title: text("title", c.title),
    artist: text("artist", c.artist),
    album: text("album", c.album),
    albumartist: text("albumartist", c.albumartist),
    track: positive(c.track?.no),
    trackTotal: positive(c.track?.of),
    disc: positive(c.disk?.no),
    discTotal: positive(c.disk?.of),
    year: year !== undefined && year >= 1000 && year <= 9999 ? year : undefined,
    date: text("date", c.date ?? c.releasedate),
    genres,
    compilation: c.compilation === true,
    mbTrackId: text("musicbrainz_recordingid", c.musicbrainz_recordingid),
    mbAlbumId: text("musicbrainz_albumid", c.musicbrainz_albumid),
    mbReleaseGroupId: text("musicbrainz_releasegroupid", c.musicbrainz_releasegroupid),
    mbArtistId: text("musicbrainz_artistid", c.musicbrainz_artistid?.[0]),
    mbAlbumArtistId: text("musicbrainz_albumartistid", c.musicbrainz_albumartistid?.[0]),
  };
}
