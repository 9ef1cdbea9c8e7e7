import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";

export type WalkEntry =
  | { kind: "audio"; path: Buffer; stat: Stats }
  /** An audio-named entry that is not a regular file (FIFO, socket, device): never opened. */
  | { kind: "special"; path: Buffer; what: string }
  | { kind: "error"; path: Buffer; code: "SYMLINK_LOOP" | "DANGLING_SYMLINK" | "UNREADABLE"; message: string }
  | { kind: "symlink-skipped"; path: Buffer }
  | { kind: "directory"; path: Buffer };

export interface WalkOptions {
  extensions: ReadonlySet<string>;
  followSymlinks: boolean;
  signal?: AbortSignal;
}

const SLASH = Buffer.from("/");
const DOT = ".".charCodeAt(0);

export function joinPath(dir: Buffer, name: Buffer): Buffer {
  return dir.length > 0 && dir[dir.length - 1] === SLASH[0] ? Buffer.concat([dir, name]) : Buffer.concat([dir, SLASH, name]);
}

/** Lower-case extension of a raw file name, without the dot ("" when none). */
export function extensionOf(name: Buffer): string {
  const dot = name.lastIndexOf(DOT);
  if (dot <= 0 || dot === name.length - 1 || name.length - dot > 6) return "";
  return name.toString("latin1", dot + 1).toLowerCase();
}

function describeSpecial(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/**
 * Synchronous on purpose: the scan's main thread only walks and writes (parsing runs on workers),
 * and sync stat calls are 2x (cold cache) to 5x (warm) faster than the thread-pool round trip.
 *
 * Streams the audio files under root, depth first, in name order (deterministic), one directory
 * listing in memory at a time. Symlinks are skipped unless followSymlinks, in which case each
 * directory is entered once (by device + inode), which also breaks loops.
 */
export function* walkAudioFiles(root: Buffer, opts: WalkOptions): Generator<WalkEntry> {
  const visited = new Set<string>();
  if (opts.followSymlinks) {
    const st = statSync(root);
    visited.add(`${st.dev}:${st.ino}`);
  }
  const stack: Buffer[] = [root];
  while (stack.length > 0) {
    if (opts.signal?.aborted) return;
    const dir = stack.pop()!;
    yield { kind: "directory", path: dir };
    let names: { name: Buffer; type: "dir" | "file" | "link" | "other" }[];
    try {
      // Raw names ("buffer"): file names need not be valid UTF-8.
      const entries = readdirSync(dir, { encoding: "buffer", withFileTypes: true }) as Dirent<Buffer>[];
      names = entries.map((d) => ({
        name: d.name,
        type: d.isDirectory() ? "dir" : d.isFile() ? "file" : d.isSymbolicLink() ? "link" : "other",
      }));
    } catch (err) {
      yield { kind: "error", path: dir, code: "UNREADABLE", message: `cannot list directory: ${(err as Error).message}` };
      continue;
    }
    names.sort((a, b) => Buffer.compare(a.name, b.name));
    const subdirs: Buffer[] = [];
    const found: (WalkEntry | null)[] = [];
    for (const { name, type } of names) {
      const path = joinPath(dir, name);
      if (type === "dir") {
        if (opts.followSymlinks) {
          const st = lstatSync(path, { throwIfNoEntry: false });
          if (st) visited.add(`${st.dev}:${st.ino}`);
        }
        subdirs.push(path);
        continue;
      }
      const audio = opts.extensions.has(extensionOf(name));
      if (type === "link") {
        if (!opts.followSymlinks) {
          if (audio) found.push({ kind: "symlink-skipped", path });
          continue;
        }
        const target = followLink(path, audio, visited);
        if (target?.kind === "directory") subdirs.push(path);
        else found.push(target);
        continue;
      }
      if (!audio) continue;
      found.push(classifyFile(path));
    }
    for (const entry of found) if (entry) yield entry;
    // Reverse so the stack pops subdirectories in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}

function classifyFile(path: Buffer): WalkEntry {
  try {
    const st = lstatSync(path);
    if (st.isFile()) return { kind: "audio", path, stat: st };
    return { kind: "special", path, what: describeSpecial(st) };
  } catch (err) {
    return { kind: "error", path, code: "UNREADABLE", message: `cannot stat: ${(err as Error).message}` };
  }
}

function followLink(path: Buffer, audio: boolean, visited: Set<string>): WalkEntry | null {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") return { kind: "error", path, code: "SYMLINK_LOOP", message: "symbolic link loop" };
    if (code === "ENOENT") return audio ? { kind: "error", path, code: "DANGLING_SYMLINK", message: "symbolic link to nothing" } : null;
    return { kind: "error", path, code: "UNREADABLE", message: `cannot stat: ${(err as Error).message}` };
  }
  if (st.isDirectory()) {
    const id = `${st.dev}:${st.ino}`;
    if (visited.has(id))
      return { kind: "error", path, code: "SYMLINK_LOOP", message: "directory already visited (symbolic link loop or duplicate)" };
    visited.add(id);
    return { kind: "directory", path };
  }
  if (!audio) return null;
  if (st.isFile()) return { kind: "audio", path, stat: st };
  return { kind: "special", path, what: describeSpecial(st) };
}
