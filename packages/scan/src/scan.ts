import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { lstat, realpath, stat } from "node:fs/promises";
import { type Clock, DEFAULT_AUDIO_EXTENSIONS, describeError, type Logger, MusicfsError, silentLogger, systemClock } from "@musicfs/core";
import type { Library } from "@musicfs/db";
import { createParserPool, defaultParserThreads, readFailure } from "@musicfs/tags";
import { createIngester, type FileFacts, type IngestOp, prefixRange, removeUnseen, SeenFiles } from "./ingest.js";
import { walkAudioFiles } from "./walk.js";

export interface ScanOptions {
  roots: string[];
  /** Files parsed at once. */
  concurrency?: number;
  /** Parser worker threads; 0 parses on the main thread. Default: one per core, up to 4. */
  threads?: number;
  /** Files per transaction. */
  batchSize?: number;
  followSymlinks?: boolean;
  extensions?: readonly string[];
  /** Report what would change without writing or parsing. */
  dryRun?: boolean;
  /** Stops the walk; what was committed stays and the next scan resumes from it. */
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanProgress {
  seen: number;
  /** Files the library held under these roots before the scan: the ETA's estimate of the total. */
  total?: number;
  parsed: number;
  unchanged: number;
  errors: number;
  currentDir: string;
  elapsedMs: number;
}

export interface ScanSummary {
  scanId: number | null;
  roots: string[];
  dryRun: boolean;
  interrupted: boolean;
  seen: number;
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  removed: number;
  errors: number;
  warnings: number;
  symlinksSkipped: number;
  bytesRead: number;
  seconds: number;
  /** Up to 20 example paths per change, in dry runs. */
  examples?: Record<"added" | "updated" | "moved" | "removed", string[]>;
}

export interface ScanDeps {
  lib: Library;
  log?: Logger;
  clock?: Clock;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One scan at a time per library: a second would see the first's half-walked roots as removals. */
function beginScan(lib: Library, clock: Clock, roots: string[]): number {
  return lib.sqlite
    .transaction(() => {
      const running = lib.sqlite.prepare("SELECT scan_id, pid FROM scans WHERE status = 'running'").all() as {
        scan_id: number;
        pid: number | null;
      }[];
      for (const r of running) {
        if (r.pid && r.pid !== process.pid && isAlive(r.pid)) {
          throw new MusicfsError("ALREADY_RUNNING", `another scan (pid ${r.pid}) is running on this library; wait for it to finish`);
        }
        // A scan that died (SIGKILL, power loss) left its row running: close it, its committed work stays.
        lib.sqlite.prepare("UPDATE scans SET status = 'interrupted' WHERE scan_id = ?").run(r.scan_id);
      }
      return Number(
        lib.sqlite
          .prepare("INSERT INTO scans (started_at, roots_json, status, pid) VALUES (?, ?, 'running', ?)")
          .run(clock.now(), JSON.stringify(roots), process.pid).lastInsertRowid,
      );
    })
    .immediate();
}

/**
 * Reads the library database once, sequentially, so the page cache holds it: a re-scan looks every
 * file up by path, and on a cold cache those random page reads cost more than the walk itself.
 */
function prefetchDatabase(lib: Library): void {
  if (lib.path === ":memory:") return;
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (const file of [lib.path, `${lib.path}-wal`]) {
    let fd: number | undefined;
    try {
      fd = openSync(file, "r");
      if (fstatSync(fd).size > 128 * 1024 * 1024) continue; // a huge library: let SQLite read only what it needs
      while (readSync(fd, chunk, 0, chunk.length, null) > 0);
    } catch {
      // Only an optimisation: a missing WAL file or a read error changes nothing.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

async function resolveRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch (err) {
    throw new MusicfsError(
      "USAGE",
      `cannot scan ${root}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : describeError(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!(await stat(real)).isDirectory()) throw new MusicfsError("USAGE", `cannot scan ${root}: not a directory`);
  return real;
}

/**
 * Brings the library in line with the files under roots: new files parsed and added, changed ones
 * re-parsed (same file_id), renames followed by inode, vanished ones removed. Unchanged files cost
 * one stat. Work is committed in batches, so an interrupted scan resumes where it stopped.
 */
export async function scanLibrary(deps: ScanDeps, opts: ScanOptions): Promise<ScanSummary> {
  const { lib } = deps;
  const log = deps.log ?? silentLogger();
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const dryRun = opts.dryRun ?? false;
  const extensions = new Set<string>(opts.extensions ?? DEFAULT_AUDIO_EXTENSIONS);
  if (opts.roots.length === 0) throw new MusicfsError("USAGE", "nothing to scan: give a PATH or set [library] roots in the config");
  const roots = [];
  for (const r of opts.roots) roots.push(await resolveRoot(r));

  prefetchDatabase(lib);
  const scanId = dryRun ? -1 : beginScan(lib, clock, roots);
  const pool = createParserPool(dryRun ? 0 : (opts.threads ?? defaultParserThreads()));
  const ingest = createIngester(lib, clock, scanId);
  const known = roots.reduce((n, r) => {
    const [lo, hi] = prefixRange(Buffer.from(r));
    return n + (lib.sqlite.prepare("SELECT count(*) AS n FROM files WHERE path >= ? AND path < ?").get(lo, hi) as { n: number }).n;
  }, 0);
  const summary: ScanSummary = {
    scanId: dryRun ? null : scanId,
    roots,
    dryRun,
    interrupted: false,
    seen: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    moved: 0,
    removed: 0,
    errors: 0,
    warnings: 0,
    symlinksSkipped: 0,
    bytesRead: 0,
    seconds: 0,
  };
  const examples = { added: [] as string[], updated: [] as string[], moved: [] as string[], removed: [] as string[] };
  const example = (kind: keyof typeof examples, path: Buffer) => {
    if (dryRun && examples[kind].length < 20) examples[kind].push(path.toString("utf8"));
  };

  const unchanged = new SeenFiles();
  let batch: IngestOp[] = [];
  const flush = () => {
    if (batch.length === 0 || dryRun) {
      batch = [];
      return;
    }
    const ops = batch;
    batch = [];
    try {
      ingest.applyBatch(ops);
    } catch (err) {
      throw new MusicfsError("DB_ERROR", `writing scan results failed: ${describeError(err)}`, { cause: err });
    }
  };
  const push = (op: IngestOp) => {
    batch.push(op);
    if (batch.length >= batchSize) flush();
  };

  let currentDir = "";
  let lastProgress = 0;
  const progress = (force = false) => {
    const now = clock.now();
    if (!opts.onProgress || (!force && now - lastProgress < 100)) return;
    lastProgress = now;
    opts.onProgress({
      seen: summary.seen,
      total: known > summary.seen ? known : undefined,
      parsed: summary.added + summary.updated,
      unchanged: summary.unchanged,
      errors: summary.errors,
      currentDir,
      elapsedMs: now - started,
    });
  };

  // Bounded parse pool: up to `concurrency` files are being read while the walk goes on.
  const inFlight = new Set<Promise<void>>();
  const parse = (facts: FileFacts, fileId: number | undefined) => {
    const task = pool
      .read(facts.path)
      .then((r) => {
        summary.bytesRead += r.bytesRead;
        if (r.warnings.length > 0) summary.warnings++;
        if (fileId === undefined) {
          summary.added++;
          push({ op: "insert", facts, tags: r.tags, info: r.info, warnings: r.warnings });
        } else {
          summary.updated++;
          push({ op: "update", fileId, facts, tags: r.tags, info: r.info, warnings: r.warnings });
        }
      })
      .catch((err: unknown) => {
        summary.errors++;
        const code = readFailure(err) ?? "UNREADABLE";
        log.debug({ path: facts.path.toString("utf8"), code, err: describeError(err) }, "file not added");
        push({ op: "error", path: facts.path, root: facts.root, code, message: describeError(err) });
      })
      .finally(() => {
        inFlight.delete(task);
        progress();
      });
    inFlight.add(task);
  };

  try {
    for (const root of roots) {
      const rootBytes = Buffer.from(root);
      let complete = true;
      for (const entry of walkAudioFiles(rootBytes, { extensions, followSymlinks: opts.followSymlinks ?? false, signal: opts.signal })) {
        if (opts.signal?.aborted) {
          complete = false;
          break;
        }
        switch (entry.kind) {
          case "directory":
            currentDir = entry.path.toString("utf8");
            progress();
            continue;
          case "symlink-skipped":
            summary.symlinksSkipped++;
            continue;
          case "special":
            summary.seen++;
            summary.errors++;
            push({ op: "error", path: entry.path, root, code: "NOT_REGULAR_FILE", message: `${entry.what}: not read` });
            continue;
          case "error":
            summary.seen++;
            summary.errors++;
            push({ op: "error", path: entry.path, root, code: entry.code, message: entry.message });
            continue;
          case "audio":
            break;
        }
        summary.seen++;
        // The walk is synchronous: yield now and then so signals, progress and worker replies get through.
        if (summary.seen % 512 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const st = entry.stat;
        const facts: FileFacts = {
          path: entry.path,
          root,
          dev: st.dev,
          ino: st.ino,
          size: st.size,
          mtimeUs: Math.round(st.mtimeMs * 1000),
        };
        const known = ingest.findByPath(entry.path);
        if (known) {
          if (known.size === facts.size && known.mtimeUs === facts.mtimeUs && known.ino === facts.ino && known.dev === facts.dev) {
            summary.unchanged++;
            unchanged.add(known.fileId);
            continue;
          }
          example("updated", entry.path);
          if (dryRun) summary.updated++;
          else parse(facts, known.fileId);
        } else {
          // A path we don't know with an inode we do, whose old path is gone, and the same size and
          // mtime (a rename keeps both; inode reuse by a new file does not): the file moved.
          const moved = await findMovedFrom(ingest.findByInode(facts.dev, facts.ino), facts);
          if (moved !== undefined) {
            summary.moved++;
            example("moved", entry.path);
            push({ op: "move", fileId: moved, facts });
            continue;
          }
          example("added", entry.path);
          if (dryRun) summary.added++;
          else parse(facts, undefined);
        }
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      flush();
      if (!complete || opts.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      if (dryRun) {
        summary.removed += await countVanished(lib, rootBytes, examples.removed);
      } else {
        summary.removed += removeUnseen(lib, rootBytes, scanId, unchanged);
      }
    }
  } catch (err) {
    await Promise.allSettled(inFlight);
    if (!dryRun) finishScan(lib, clock, scanId, summary, "failed");
    throw err;
  } finally {
    await pool.close();
  }
  summary.seconds = (clock.now() - started) / 1000;
  progress(true);
  if (!dryRun) finishScan(lib, clock, scanId, summary, summary.interrupted ? "interrupted" : "completed");
  if (dryRun) summary.examples = examples;
  return summary;
}

async function findMovedFrom(
  candidates: { fileId: number; size: number; mtimeUs: number; path: Buffer }[],
  facts: FileFacts,
): Promise<number | undefined> {
  for (const c of candidates) {
    if (c.size !== facts.size || c.mtimeUs !== facts.mtimeUs) continue;
    const old = await stat(c.path).catch(() => null);
    if (!old || old.ino !== facts.ino || old.dev !== facts.dev) return c.fileId;
  }
  return undefined;
}

/** Dry run: known files under root that no longer exist (nothing is marked, so ask the file system). */
async function countVanished(lib: Library, root: Buffer, examples: string[]): Promise<number> {
  const [lo, hi] = prefixRange(root);
  const rows = lib.sqlite.prepare("SELECT path FROM files WHERE path >= ? AND path < ?").all(lo, hi) as { path: Buffer }[];
  let gone = 0;
  for (const row of rows) {
    if (
      await lstat(row.path).then(
        () => false,
        () => true,
      )
    ) {
      gone++;
      if (examples.length < 20) examples.push(row.path.toString("utf8"));
    }
  }
  return gone;
}

function finishScan(lib: Library, clock: Clock, scanId: number, s: ScanSummary, status: string): void {
  try {
    lib.sqlite
      .prepare(
        `UPDATE scans SET finished_at = ?, status = ?, added = ?, updated = ?, unchanged = ?, moved = ?, removed = ?, errors = ? WHERE scan_id = ?`,
      )
      .run(clock.now(), status, s.added, s.updated, s.unchanged, s.moved, s.removed, s.errors, scanId);
  } catch {
    // The summary is still printed; a missing scans row is not worth failing a finished scan.
  }
}
