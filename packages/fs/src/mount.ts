import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { type Clock, type Config, describeError, type Logger, MusicfsError, systemClock } from "@musicfs/core";
import type { Library } from "@musicfs/db";
import Fuse, { type FuseOps } from "fuse-native";
import { Errno, toErrno } from "./errno.js";
import { reapplyHeapPolicy } from "./heap-policy.js";
import { listMountpoints, prepareMountpoint } from "./mountpoint.js";
import { type OverlayBuilder, tagsOverlayBuilder } from "./overlay.js";
import { type LazyEnricher, LibraryView, type ViewStats } from "./view.js";

export interface MountDeps {
  lib: Library;
  config: Pick<Config, "mount" | "metadata_provider">;
  log: Logger;
  clock?: Clock;
  /** The enrichment queue; pass it only when `[metadata_provider] enabled` (design G3). */
  enricher?: LazyEnricher;
  /** Builds overlay headers (default: @musicfs/tags' FLAC/MP3 builders); null serves every file unmodified. */
  overlay?: OverlayBuilder | null;
}

export interface MountOptions {
  /** Let other users read the mount (`-o allow_other`; needs user_allow_other in /etc/fuse.conf unless root). */
  allowOther?: boolean;
  /** Unmount a stale or live mount found at the mount point first. */
  force?: boolean;
  /** libfuse debug output on stderr. */
  debug?: boolean;
}

export interface MountStats extends ViewStats {
  mountpoint: string;
  mountMs: number;
  fuse: FuseCounters;
}

export interface MountedLibrary {
  readonly mountpoint: string;
  readonly view: LibraryView;
  /** Unmounts (lazily, so open files don't block it) and closes every origin handle. Idempotent. */
  unmount(): Promise<void>;
  /** Applies database changes now instead of at the next `refresh_ms` tick. */
  refresh(): void;
  stats(): MountStats;
  /** Settles when the mount goes away, by unmount() or by someone else (`fusermount -u`, `musicfs umount`). */
  readonly closed: Promise<void>;
}

// Kernel attribute/entry cache lifetime, seconds: short enough that a refresh shows within about a second.
const ATTR_TIMEOUT_S = 1;
// SQLite page cache of the mount's connection once the tree is built, KiB.
const MOUNT_DB_CACHE_KIB = 4096;
// About this often, check the mount is still there (someone may have run fusermount -u).
const LIVENESS_MS = 1000;

/** fuse-native has no flag for these libfuse options. */
class MusicfsFuse extends Fuse {
  protected override _fuseOptions(): string {
    const base = super._fuseOptions();
    const extra = ["ro", "fsname=musicfs", "subtype=musicfs"].join(",");
    return base ? `${base},${extra}` : `-o${extra}`;
  }
}

/**
 * After an unmount from outside (`fusermount -u`), fuse-native's own unmount fails (nothing left to
 * unmount) and skips releasing the handle that keeps the event loop alive; release it here.
 */
function releaseNativeHandle(fuse: Fuse): void {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("fuse-native"));
  const binding = createRequire(join(dir, "index.js"))("node-gyp-build")(dir) as {
    fuse_native_unmount(mnt: string, thread: unknown): void;
  };
  binding.fuse_native_unmount(fuse.mnt, (fuse as unknown as { _thread: unknown })._thread);
}

/** FUSE operation counters: plain integers on the hot path, read by /metrics at scrape time. */
export interface FuseCounters {
  operations: Record<string, number>;
  errors: Record<string, number>;
  bytesServed: number;
}

function fuseOps(view: LibraryView, log: Logger, counters: FuseCounters): FuseOps {
  const ops = counters.operations;
  const count = (op: string) => {
    ops[op] = (ops[op] ?? 0) + 1;
  };
  const answer = (op: string, path: string, err: unknown): number => {
    counters.errors[op] = (counters.errors[op] ?? 0) + 1;
    const errno = toErrno(err);
    if (errno === Errno.EIO) log.warn({ op, path, err: describeError(err) }, "FUSE operation failed");
    else log.trace({ op, path, errno }, "FUSE operation refused");
    return errno;
  };
  const readOnly = (cb: (code: number) => void) => {
    count("write");
    counters.errors.write = (counters.errors.write ?? 0) + 1;
    cb(Errno.EROFS);
  };
  return {
    getattr(path, cb) {
      count("getattr");
      let st: ReturnType<LibraryView["getattr"]>;
      try {
        st = view.getattr(path);
      } catch (err) {
        return cb(answer("getattr", path, err));
      }
      if (!(st instanceof Promise)) return cb(0, st);
      st.then(
        (value) => cb(0, value),
        (err) => cb(answer("getattr", path, err)),
      );
    },
    readdir(path, cb) {
      count("readdir");
      try {
        cb(0, view.readdir(path));
      } catch (err) {
        cb(answer("readdir", path, err));
      }
    },
    open(path, flags, cb) {
      count("open");
      view.open(path, flags).then(
        (fh) => cb(0, fh),
        (err) => cb(answer("open", path, err)),
      );
    },
    read(path, fh, buf, len, pos, cb) {
      count("read");
      view.read(fh, buf, len, pos).then(
        (n) => {
          counters.bytesServed += n;
          cb(n);
        },
        (err) => cb(answer("read", path, err)),
      );
    },
    release(path, fh, cb) {
      count("release");
      view.release(fh).then(
        () => cb(0),
        (err) => cb(answer("release", path, err)),
      );
    },
    getxattr(path, name, _position, cb) {
      count("getxattr");
      try {
        // null: fuse-native answers ENODATA.
        cb(0, view.xattrs(path).get(name) ?? null);
      } catch (err) {
        cb(answer("getxattr", path, err));
      }
    },
    listxattr(path, cb) {
      count("listxattr");
      try {
        cb(0, [...view.xattrs(path).keys()]);
      } catch (err) {
        cb(answer("listxattr", path, err));
      }
    },
    statfs(_path, cb) {
      count("statfs");
      const files = view.stats().files;
      // ST_RDONLY; no free space: nothing can be written.
      cb(0, { bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files, ffree: 0, favail: 0, fsid: 0, flag: 1, namemax: 255 });
    },
    // Every way of changing the tree answers EROFS (the kernel already does for an "ro" mount; this is the backstop).
    write: (_p, _fh, _buf, _len, _pos, cb) => readOnly(cb),
    create: (_p, _mode, cb) => readOnly(cb),
    truncate: (_p, _size, cb) => readOnly(cb),
    ftruncate: (_p, _fh, _size, cb) => readOnly(cb),
    unlink: (_p, cb) => readOnly(cb),
    rename: (_s, _d, cb) => readOnly(cb),
    link: (_s, _d, cb) => readOnly(cb),
    symlink: (_s, _d, cb) => readOnly(cb),
    mkdir: (_p, _mode, cb) => readOnly(cb),
    rmdir: (_p, cb) => readOnly(cb),
    mknod: (_p, _mode, _dev, cb) => readOnly(cb),
    chmod: (_p, _mode, cb) => readOnly(cb),
    chown: (_p, _uid, _gid, cb) => readOnly(cb),
    utimens: (_p, _a, _m, cb) => readOnly(cb),
    setxattr: (_p, _n, _v, _pos, _flags, cb) => readOnly(cb),
    removexattr: (_p, _n, cb) => readOnly(cb),
  };
}

/**
 * Mounts the library read-only at `mountpoint`: builds the tree from the database, serves it over
 * FUSE, and follows the database (`[mount] refresh_ms`) until unmounted. Resolves once the kernel
 * has the mount (FUSE init done).
 */
export async function mountLibrary(deps: MountDeps, mountpoint: string, opts: MountOptions = {}): Promise<MountedLibrary> {
  const started = performance.now();
  const path = resolve(mountpoint);
  const { log } = deps;
  const cfg = deps.config.mount;
  await prepareMountpoint(path, { force: opts.force });
  const view = new LibraryView(deps.lib, {
    pathTemplate: cfg.path_template,
    headerCacheEntries: cfg.header_cache_entries,
    retryMax: deps.config.metadata_provider.retry_max,
    clock: deps.clock ?? systemClock,
    log,
    enricher: deps.enricher,
    overlay: deps.overlay === null ? undefined : (deps.overlay ?? tagsOverlayBuilder),
  });
  await view.load({ worker: true });
  // Workers started meanwhile (the reader, a pretty-printing logger) reset V8's flags: restore them.
  reapplyHeapPolicy();
  log.info({ files: view.stats().files, ms: Math.round(view.stats().loadMs) }, "tree built");
  // The load read every row once; from now on the mount's queries touch a few pages at a time. Give back
  // the page cache SQLite filled (up to the 32 MB openLibrary allows) and keep it small.
  deps.lib.sqlite.pragma(`cache_size = -${MOUNT_DB_CACHE_KIB}`);
  deps.lib.sqlite.pragma("shrink_memory");

  const fuseCounters: FuseCounters = { operations: {}, errors: {}, bytesServed: 0 };
  const fuse = new MusicfsFuse(path, fuseOps(view, log, fuseCounters), {
    allowOther: opts.allowOther ?? cfg.allow_other,
    autoCache: true,
    attrTimeout: ATTR_TIMEOUT_S,
    entryTimeout: ATTR_TIMEOUT_S,
    debug: opts.debug ?? false,
  });
  await new Promise<void>((done, fail) =>
    fuse.mount((err) => (err ? fail(new MusicfsError("MOUNT_FAILED", `cannot mount ${path}: ${err.message}`, { cause: err })) : done())),
  );
  const mountMs = performance.now() - started;

  let state: "mounted" | "unmounting" | "gone" = "mounted";
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => {
    markClosed = r;
  });
  let ticks = 0;
  const livenessTicks = Math.max(1, Math.round(LIVENESS_MS / cfg.refresh_ms));
  const refresh = () => {
    try {
      view.refresh();
    } catch (err) {
      // A locked or busy database is retried at the next tick; the mount keeps serving what it has.
      log.warn({ err: describeError(err) }, "library refresh failed");
    }
  };
  const timer = setInterval(() => {
    refresh();
    if (++ticks % livenessTicks !== 0) return;
    void listMountpoints().then(async (mounts) => {
      if (state !== "mounted" || mounts.has(path)) return;
      log.warn({ mountpoint: path }, "unmounted from outside");
      state = "gone";
      clearInterval(timer);
      try {
        releaseNativeHandle(fuse);
      } catch (err) {
        log.warn({ err: describeError(err) }, "cannot release the FUSE handle");
      }
      await view.closeAll();
      markClosed();
    });
  }, cfg.refresh_ms);

  const unmount = async () => {
    if (state !== "mounted") return closed;
    state = "unmounting";
    clearInterval(timer);
    try {
      await new Promise<void>((done, fail) => fuse.unmount((err) => (err ? fail(err) : done())));
    } catch (err) {
      // Already gone (unmounted from outside between two liveness checks) is fine; anything else is reported.
      if ((await listMountpoints()).has(path)) {
        state = "mounted";
        throw new MusicfsError("MOUNT_FAILED", `cannot unmount ${path}: ${describeError(err)}`, { cause: err });
      }
    }
    state = "gone";
    await view.closeAll();
    markClosed();
  };

  log.info({ mountpoint: path, ms: Math.round(mountMs) }, "mounted");
  return {
    mountpoint: path,
    view,
    unmount,
    refresh,
    stats: () => ({ ...view.stats(), mountpoint: path, mountMs, fuse: fuseCounters }),
    closed,
  };
}
