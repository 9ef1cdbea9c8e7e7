import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { albumKey, type Library, openLibrary } from "@musicfs/db";
import { afterEach, beforeEach } from "vitest";

/** A fresh library database in a temporary directory for each test of the calling suite. */
export function useTempLibrary(prefix: string): { readonly dir: string; readonly lib: Library } {
  const state = {} as { dir: string; lib: Library };
  beforeEach(async () => {
    state.dir = await mkdtemp(join(tmpdir(), prefix));
    state.lib = openLibrary(join(state.dir, "library.db"));
  });
  afterEach(async () => {
    state.lib.close();
    await rm(state.dir, { recursive: true, force: true });
  });
  return state;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a program in a child process, asynchronously and with a timeout: the only safe way for a test
 * to touch a FUSE mount served by its own event loop.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string; encoding?: "buffer" } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as { killed?: boolean }).killed) return reject(new Error(`${cmd} ${args.join(" ")} timed out: ${stderr}`));
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a Python 3 snippet with the system interpreter (which has mutagen). argv[1..] are `args`. */
export function python(code: string, args: string[] = [], timeoutMs = 20_000): Promise<RunResult> {
  return run("/usr/bin/python3", ["-c", code, ...args], { timeoutMs });
}

/** The bytes of a file read by `cat` in a child process. */
export function catBytes(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile("cat", [path], { encoding: "buffer", timeout: 20_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`cat ${path}: ${stderr.toString()}`)) : resolve(stdout),
    );
  });
}

/** `find` output under a directory, relative and sorted. */
export async function listTree(root: string): Promise<string[]> {
  const r = await run("find", [root, "-mindepth", "1", "-printf", "%P\\n"]);
  if (r.code !== 0) throw new Error(`find failed: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** Polls `check` until it returns a value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface AudioSpec {
  format: "flac" | "mp3";
  tags?: Record<string, string>;
  /** Embed a small PNG cover. */
  picture?: boolean;
  seconds?: number;
}

let coverPath: string | undefined;

async function cover(dir: string): Promise<string> {
  if (coverPath) return coverPath;
  const path = `${dir}/cover.png`;
  const r = await run("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", path]);
  if (r.code !== 0) throw new Error(`ffmpeg cover: ${r.stderr}`);
  coverPath = path;
  return path;
}

/** Makes a short real audio file with the given tags (and optionally a cover) using ffmpeg. */
export async function makeAudio(path: string, spec: AudioSpec): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const meta = Object.entries(spec.tags ?? {}).flatMap(([k, v]) => ["-metadata", `${k}=${v}`]);
  const input = ["-f", "lavfi", "-i", `sine=frequency=440:duration=${spec.seconds ?? 1}`];
  let args: string[];
  if (spec.picture) {
    const png = await cover(dirname(dirname(path)));
    args = [...input, "-i", png, "-map", "0:a", "-map", "1:v", "-c:v", "png", "-disposition:v", "attached_pic"];
  } else args = input;
  const codec = spec.format === "flac" ? ["-c:a", "flac"] : ["-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "3"];
  const r = await run("ffmpeg", ["-loglevel", "error", "-y", ...args, ...codec, ...meta, path]);
  if (r.code !== 0) throw new Error(`ffmpeg ${path}: ${r.stderr}`);
}

export interface TrackRow {
  path: string | Buffer;
  root: string;
  format?: string;
  title?: string | null;
  artist?: string | null;
  album?: string | null;
  albumartist?: string | null;
  track?: number | null;
  disc?: number | null;
  discTotal?: number | null;
  year?: number | null;
  genres?: string[];
  label?: string | null;
  albumKey?: string | null;
  enrichmentSource?: "embedded" | "provider" | "orchestrator";
  enrichmentAttempts?: number;
  /** Skip the stat of the origin (synthetic rows). */
  size?: number;
  mtimeUs?: number;
}

let scanId = 1;

/** Inserts a files + file_metadata pair the way a scan would. Returns the file_id. */
export async function insertTrack(lib: Library, t: TrackRow, now = Date.now()): Promise<number> {
  const path = typeof t.path === "string" ? Buffer.from(t.path) : t.path;
  let size = t.size;
  let mtimeUs = t.mtimeUs;
  if (size === undefined || mtimeUs === undefined) {
    const st = await stat(path);
    size ??= st.size;
    mtimeUs ??= Math.floor(st.mtimeMs * 1000);
  }
  const format = t.format ?? (path.toString().endsWith(".mp3") ? "mp3" : "flac");
  const fileId = Number(
    lib.sqlite
      .prepare(
        `INSERT INTO files (path, path_text, root, dev, ino, size, mtime_us, format, seen_scan_id, parsed_at)
         VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?, ?)`,
      )
      .run(path, path.toString("utf8"), t.root, size, mtimeUs, format, scanId++, now).lastInsertRowid,
  );
  const genres = t.genres ?? [];
  lib.sqlite
    .prepare(
      `INSERT INTO file_metadata (file_id, title, artist, album, albumartist, track, disc, disc_total, year, genre, genres_json, label,
         album_key, enrichment_source, enriched_at, enrichment_attempts, updated_at)
       VALUES (@fileId, @title, @artist, @album, @albumartist, @track, @disc, @discTotal, @year, @genre, @genresJson, @label,
         @albumKey, @source, @enrichedAt, @attempts, @now)`,
    )
    .run({
      fileId,
      title: t.title ?? null,
      artist: t.artist ?? null,
      album: t.album ?? null,
      albumartist: t.albumartist ?? null,
      track: t.track ?? null,
      disc: t.disc ?? null,
      discTotal: t.discTotal ?? null,
      year: t.year ?? null,
      genre: genres[0] ?? null,
      genresJson: JSON.stringify(genres),
      label: t.label ?? null,
      albumKey: t.albumKey ?? albumKey({ albumartist: t.albumartist, artist: t.artist, album: t.album }),
      source: t.enrichmentSource ?? "embedded",
      enrichedAt: t.enrichmentSource && t.enrichmentSource !== "embedded" ? now : null,
      attempts: t.enrichmentAttempts ?? 0,
      now,
    });
  const key = t.albumKey ?? albumKey({ albumartist: t.albumartist, artist: t.artist, album: t.album });
  // As a scan does: one albums row per album key, which enrichment works from.
  if (key)
    lib.sqlite
      .prepare("INSERT OR IGNORE INTO albums (album_key, artist, album) VALUES (?, ?, ?)")
      .run(key, t.albumartist || t.artist, t.album);
  return fileId;
}

/** Unmounts whatever is left at `mountpoint` (after a failed test): never leave a stale mount behind. */
export async function forceUnmount(mountpoint: string): Promise<void> {
  await run("fusermount", ["-uz", mountpoint], { timeoutMs: 10_000 }).catch(() => undefined);
}
