import { constants as fsConstants } from "node:fs";
import { type FileHandle, open as openFile } from "node:fs/promises";
import { type Clock, describeError, type Logger, MusicfsError } from "@musicfs/core";
import { fileMetadata, type Library } from "@musicfs/db";
import { type OverlayLayout, readOverlayInto } from "@musicfs/tags";
import { eq, sql } from "drizzle-orm";
import { type Catalog, type CatalogRow, createCatalog, type LibraryFile, originPathOf, sameFile } from "./catalog.js";
import { TreeLayout, VIEWS } from "./layout.js";
import { OriginReadPolicy, readFullySync } from "./origin-fs.js";
import { type FileMetadataRow, LruCache, type OverlayBuilder, readFully } from "./overlay.js";
import { compileTemplate } from "./template.js";
import { type DirNode, isDir, Tree } from "./tree.js";

/** §4.3.6 try_push, as the mount sees the enrichment queue: never blocks, false when the request was dropped. */
export interface LazyEnricher {
  tryPush(request: LazyEnrichRequest): boolean;
}

export interface LazyEnrichRequest {
  fileId: number;
  artist: string;
  album: string;
  albumartist: string | null;
  albumKey: string | null;
}

export interface ViewOptions {
  /** `[mount] path_template`. */
  pathTemplate: string;
  /** `[mount] header_cache_entries`. */
  headerCacheEntries: number;
  /** `[metadata_provider] retry_max`: files that failed this often are not queued again. */
  retryMax: number;
  clock: Clock;
  log: Logger;
  /** Present only when `[metadata_provider] enabled`; absent means no lookups at all (G3). */
  enricher?: LazyEnricher | undefined;
  /** Absent: every file is served unmodified. */
  overlay?: OverlayBuilder | undefined;
  /** "auto" (default): origins on local disks are read synchronously, others asynchronously; "async": always. */
  originReads?: "auto" | "async";
}

/** What getattr answers; times in ms since the epoch. */
export interface Stat {
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
  ctime: number;
  blocks: number;
  blksize: number;
}

export interface ViewStats {
  files: number;
  openHandles: number;
  headerCacheEntries: number;
  loadMs: number;
  refreshes: number;
  lastRefresh: { changed: number; removed: number; ms: number } | null;
  enrichmentRequests: number;
  enrichmentDrops: number;
  overlayBuilds: number;
  overlayFailures: number;
}

interface OpenHandle {
  file: LibraryFile;
  origin: FileHandle;
  /** Pinned at open: the handle serves this version for its whole life even if enrichment lands. */
  layout: OverlayLayout | null;
  /** The origin is on a local disk: read it without a thread-pool round trip (see OriginReadPolicy). */
  syncReads: boolean;
}

interface ServedLayout {
  layout: OverlayLayout | null;
  size: number;
}

/** An origin's real size and mtime when an open found them different from what the scan recorded. */
interface Observed {
  size: number;
  mtimeMs: number;
}

/** Read-only, as far as FUSE callers are concerned. */
export const XATTR_PREFIX = "user.musicfs.";

// Times refreshes look back past the newest timestamp seen: another process's transaction may commit
// rows stamped slightly earlier than rows already read.
const WATERMARK_SLACK_MS = 10_000;

const DIR_MODE = 0o040555;
// Not in Node's fs.constants: the access-mode bits of open(2) flags.
const O_ACCMODE = 3;
const FILE_MODE = 0o100444;

function originOpenFlags(): number {
  return fsConstants.O_RDONLY | fsConstants.O_NOATIME;
}

async function openOrigin(path: Buffer | string): Promise<FileHandle> {
  try {
    return await openFile(path, originOpenFlags());
  } catch (err) {
    // O_NOATIME is refused on files we don't own unless we are root.
    if ((err as NodeJS.ErrnoException).code === "EPERM") return openFile(path, fsConstants.O_RDONLY);
    throw err;
  }
}

/**
 * The mounted library without FUSE: the tree built once from the database and updated from it
 * incrementally, plus open handles and overlay headers. Every method answers from memory except
 * open (which opens the origin) and the first getattr of an overlaid file (which reads its header).
 */
export class LibraryView {
  readonly tree: Tree<LibraryFile>;
  private readonly files = new Map<number, LibraryFile>();
  private readonly catalog: Catalog;
  private readonly layout: TreeLayout<LibraryFile>;
  private readonly layouts: LruCache<string, ServedLayout>;
  /** Sizes outlive the bounded header cache: a `find -ls` over thousands of files builds each header once. */
  private readonly servedSizes = new Map<number, { key: string; size: number }>();
  private readonly building = new Map<string, Promise<ServedLayout>>();
  private readonly observed = new Map<number, Observed>();
  private readonly handles = new Map<number, OpenHandle>();
  private readonly readPolicy = new OriginReadPolicy();
  /** Albums asked for since their files last changed: design §5.3, one lookup per album. */
  private readonly requested = new Set<string>();
  private nextHandle = 1;
  private token = "";
  private watermarkUpdated = 0;
  private watermarkParsed = 0;
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;
  private readonly counters = {
    loadMs: 0,
    refreshes: 0,
    lastRefresh: null as ViewStats["lastRefresh"],
    enrichmentRequests: 0,
    enrichmentDrops: 0,
    overlayBuilds: 0,
    overlayFailures: 0,
  };
  private readonly metadataQuery;

  constructor(
    private readonly lib: Library,
    private readonly opts: ViewOptions,
  ) {
    this.catalog = createCatalog(lib, { lookups: opts.enricher !== undefined });
    this.layouts = new LruCache(opts.headerCacheEntries);
    this.tree = new Tree<LibraryFile>(VIEWS, opts.clock.now());
    this.layout = new TreeLayout(this.tree, compileTemplate(opts.pathTemplate));
    this.metadataQuery = lib.db
      .select()
      .from(fileMetadata)
      .where(eq(fileMetadata.fileId, sql.placeholder("fileId")))
      .prepare();
  }

  /**
   * Builds the whole tree from the database (once, at mount). With `worker`, SQLite reads the rows on a
   * worker thread while this one lays them out (see readCatalogOnWorker); if that fails, they are read
   * here. Nothing else may touch the view until it settles.
   */
  async load(opts: { worker?: boolean } = {}): Promise<void> {
    const started = performance.now();
    this.token = this.catalog.changeToken();
    const now = this.opts.clock.now();
    let loaded = false;
    if (opts.worker && this.lib.path !== ":memory:") {
      try {
        await this.layout.bulk(() =>
          this.catalog.forEachOnWorker((row) => {
            this.apply(row, now);
          }),
        );
        loaded = true;
      } catch (err) {
        // Rows applied so far stay: apply() skips them on the pass below (a bulk load of its own).
        this.opts.log.warn({ err: describeError(err) }, "reading the library on a worker thread failed; reading it here");
      }
    }
    if (!loaded) {
      await this.layout.bulk(() => {
        this.catalog.forEach((row) => {
          this.apply(row, now);
        });
      });
    }
    this.counters.loadMs = performance.now() - started;
  }

  /** Puts a row in the tree, replacing the file's previous version; false when nothing changed. */
  private apply({ file, layout }: CatalogRow, now: number): boolean {
    if (file.updatedAt > this.watermarkUpdated) this.watermarkUpdated = file.updatedAt;
    if (file.parsedAt > this.watermarkParsed) this.watermarkParsed = file.parsedAt;
    const old = this.files.get(file.fileId);
    if (old && sameFile(old, file)) return false;
    if (old) {
      this.tree.remove(old, now);
      if (old.lookupKey) this.requested.delete(old.lookupKey);
    }
    if (file.lookupKey) this.requested.delete(file.lookupKey);
    this.observed.delete(file.fileId);
    this.files.set(file.fileId, file);
    this.layout.place(file, layout, now);
    return true;
  }

  private removeFile(fileId: number, now: number): void {
    const old = this.files.get(fileId);
    if (!old) return;
    this.files.delete(fileId);
    this.tree.remove(old, now);
    this.observed.delete(fileId);
    this.servedSizes.delete(fileId);
  }

  /**
   * Applies what changed in the database since the last call: cheap (one pragma) when nothing did,
   * otherwise only the rows stamped since the last change, plus a deletion check.
   */
  refresh(): { changed: number; removed: number } | null {
    const token = this.catalog.changeToken();
    if (token === this.token) return null;
    this.token = token;
    const started = performance.now();
    const now = this.opts.clock.now();
    let changed = 0;
    const rows = this.catalog.changedSince(this.watermarkUpdated - WATERMARK_SLACK_MS, this.watermarkParsed - WATERMARK_SLACK_MS);
    for (const row of rows) if (this.apply(row, now)) changed++;
    let removed = 0;
    if (this.catalog.count() !== this.files.size) {
      const present = new Set(this.catalog.fileIds());
      for (const fileId of [...this.files.keys()]) {
        if (!present.has(fileId)) {
          this.removeFile(fileId, now);
          removed++;
        }
      }
    }
    this.counters.refreshes++;
    this.counters.lastRefresh = { changed, removed, ms: performance.now() - started };
    if (changed || removed) this.opts.log.debug({ changed, removed }, "library refreshed");
    return { changed, removed };
  }

  /** One file's metadata, re-read from the database (after an enrichment the caller knows of). */
  refreshFile(fileId: number): void {
    const row = this.catalog.one(fileId);
    if (row) this.apply(row, this.opts.clock.now());
    else this.removeFile(fileId, this.opts.clock.now());
  }

  /** Design §4.3.6: queue a lookup for a file not yet enriched, without waiting for it. */
  private maybeEnrich(file: LibraryFile): void {
    const enricher = this.opts.enricher;
    const album = file.lookupKey;
    if (!enricher || !album) return;
    if (file.enrichmentAttempts >= this.opts.retryMax) return;
    if (file.nextAttemptAt !== null && file.nextAttemptAt > this.opts.clock.now()) return;
    if (this.requested.has(album)) return;
    this.requested.add(album);
    let pushed = false;
    try {
      const names = this.catalog.lookupNames(file.fileId);
      if (names) pushed = enricher.tryPush({ fileId: file.fileId, ...names });
    } catch (err) {
      this.opts.log.warn({ fileId: file.fileId, err: describeError(err) }, "enrichment push failed");
    }
    if (pushed) this.counters.enrichmentRequests++;
    else {
      // Dropped (queue full): the next access asks again.
      this.requested.delete(album);
      this.counters.enrichmentDrops++;
    }
  }

  /** The file_id served at a virtual path ("Artists/x/01 y.flac", leading "/" optional), for the control API. */
  fileIdAt(path: string): number | undefined {
    const node = this.tree.lookup(path.startsWith("/") ? path : `/${path}`);
    return node === undefined || isDir(node) ? undefined : node.fileId;
  }

  private lookup(path: string): DirNode<LibraryFile> | LibraryFile {
    const node = this.tree.lookup(path);
    if (node === undefined) throw new MusicfsError("NOT_FOUND", `no such entry: ${path}`);
    return node;
  }

  private dirStat(dir: DirNode<LibraryFile>): Stat {
    return {
      mode: DIR_MODE,
      size: 4096,
      nlink: 2 + dir.dirCount,
      uid: this.uid,
      gid: this.gid,
      mtime: dir.mtimeMs,
      atime: dir.mtimeMs,
      ctime: dir.mtimeMs,
      blocks: 8,
      blksize: 4096,
    };
  }

  private fileStat(file: LibraryFile, size: number): Stat {
    const seen = this.observed.get(file.fileId);
    const originMtime = seen?.mtimeMs ?? file.mtimeMs;
    // An overlaid file changes when its metadata does: players rescan it, the kernel drops its cached pages.
    const mtime = file.overlay ? Math.max(originMtime, file.updatedAt) : originMtime;
    return {
      mode: FILE_MODE,
      size,
      nlink: 1,
      uid: this.uid,
      gid: this.gid,
      mtime,
      atime: mtime,
      ctime: mtime,
      blocks: Math.ceil(size / 512),
      blksize: 65536,
    };
  }

  /**
   * Attributes from memory, synchronously (no promise on the hot path of `find` and `ls -l`); a promise
   * only for an overlaid file whose header size is not known yet.
   */
  getattr(path: string): Stat | Promise<Stat> {
    const node = this.lookup(path);
    if (isDir(node)) return this.dirStat(node);
    this.maybeEnrich(node);
    const size = this.knownServedSize(node);
    if (size !== undefined) return this.fileStat(node, size);
    return this.servedLayout(node, undefined).then((served) => this.fileStat(node, served.size));
  }

  /** Entry names of a directory (with "." and ".."); queues lookups for the files in it. */
  readdir(path: string): string[] {
    const node = this.lookup(path);
    if (!isDir(node)) throw new MusicfsError("INVALID_ARGUMENT", `not a directory: ${path}`, { details: { errno: "ENOTDIR" } });
    if (this.opts.enricher) for (const file of node.files()) this.maybeEnrich(file);
    return [".", "..", ...node.names()];
  }

  private originFacts(file: LibraryFile): Observed {
    return this.observed.get(file.fileId) ?? { size: file.size, mtimeMs: file.mtimeMs };
  }

  private layoutKey(file: LibraryFile): string {
    const o = this.originFacts(file);
    return `${file.fileId}:${file.metadataVersion}:${o.size}:${o.mtimeMs}`;
  }

  /** The bytes an open would serve, when known without reading the origin. */
  private knownServedSize(file: LibraryFile): number | undefined {
    if (!file.overlay || !this.opts.overlay) return this.originFacts(file).size;
    const known = this.servedSizes.get(file.fileId);
    return known?.key === this.layoutKey(file) ? known.size : undefined;
  }

  private servedLayout(file: LibraryFile, origin: FileHandle | undefined): Promise<ServedLayout> {
    const key = this.layoutKey(file);
    const cached = this.layouts.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.buildLayout(file, origin).finally(() => this.building.delete(key));
      this.building.set(key, pending);
      void pending.then((served) => {
        this.layouts.set(key, served);
        this.servedSizes.set(file.fileId, { key, size: served.size });
      });
    }
    return pending;
  }

  private async buildLayout(file: LibraryFile, given: FileHandle | undefined): Promise<ServedLayout> {
    const unmodified = { layout: null, size: this.originFacts(file).size };
    const row: FileMetadataRow | undefined = this.metadataQuery.get({ fileId: file.fileId });
    if (!row || !file.overlay || !this.opts.overlay) return unmodified;
    let origin = given;
    try {
      origin ??= await openOrigin(originPathOf(file));
      const layout = await this.opts.overlay(origin, file.overlay, row);
      this.counters.overlayBuilds++;
      if (!layout) return unmodified;
      return { layout, size: layout.size };
    } catch (err) {
      // A header we cannot rewrite is served as it is; the file stays playable.
      this.counters.overlayFailures++;
      this.opts.log.warn({ fileId: file.fileId, path: file.sortKey, err: describeError(err) }, "overlay not built");
      return unmodified;
    } finally {
      if (!given) await origin?.close().catch(() => {});
    }
  }

  /** Opens the origin and pins the version it serves; returns the handle number FUSE passes back. */
  async open(path: string, flags: number): Promise<number> {
    if ((flags & O_ACCMODE) !== fsConstants.O_RDONLY || flags & fsConstants.O_TRUNC) {
      throw new MusicfsError("INVALID_ARGUMENT", "read-only file system", { details: { errno: "EROFS" } });
    }
    const node = this.lookup(path);
    if (isDir(node)) throw new MusicfsError("INVALID_ARGUMENT", `is a directory: ${path}`, { details: { errno: "EISDIR" } });
    this.maybeEnrich(node);
    let origin: FileHandle;
    try {
      origin = await openOrigin(originPathOf(node));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR";
      this.opts.log.warn({ path, origin: node.sortKey, err: describeError(err) }, "origin file cannot be opened");
      throw new MusicfsError(code, `origin of ${path}: ${describeError(err)}`, { cause: err });
    }
    try {
      const st = await origin.stat();
      const mtimeMs = Math.floor(st.mtimeMs);
      if (st.size !== node.size || mtimeMs !== node.mtimeMs) this.observed.set(node.fileId, { size: st.size, mtimeMs });
      else this.observed.delete(node.fileId);
      const layout = node.overlay && this.opts.overlay ? (await this.servedLayout(node, origin)).layout : null;
      const syncReads = this.opts.originReads !== "async" && (await this.readPolicy.syncReads(st.dev, originPathOf(node)));
      const fh = this.allocateHandle();
      this.handles.set(fh, { file: node, origin, layout, syncReads });
      return fh;
    } catch (err) {
      await origin.close().catch(() => {});
      throw err;
    }
  }

  private allocateHandle(): number {
    // FUSE treats handle 0 as "none"; fuse-native passes handles as uint32.
    for (;;) {
      const fh = this.nextHandle;
      this.nextHandle = this.nextHandle >= 0x7fffffff ? 1 : this.nextHandle + 1;
      if (!this.handles.has(fh)) return fh;
    }
  }

  async read(fh: number, buf: Buffer, length: number, position: number): Promise<number> {
    const h = this.handles.get(fh);
    if (!h) throw new MusicfsError("INVALID_ARGUMENT", `bad file handle ${fh}`, { details: { errno: "EBADF" } });
    if (h.layout) return readOverlayInto(h.layout, h.origin, buf.length === length ? buf : buf.subarray(0, length), position);
    if (h.syncReads) return readFullySync(h.origin.fd, buf, 0, length, position);
    return readFully(h.origin.fd, buf, 0, length, position);
  }

  async release(fh: number): Promise<void> {
    const h = this.handles.get(fh);
    if (!h) return;
    this.handles.delete(fh);
    await h.origin.close();
  }

  /** `user.musicfs.*` attributes of a file; directories have none. */
  xattrs(path: string): Map<string, Buffer> {
    const node = this.lookup(path);
    const out = new Map<string, Buffer>();
    if (isDir(node)) return out;
    out.set(`${XATTR_PREFIX}origin_path`, node.rawPath ?? Buffer.from(node.sortKey));
    out.set(`${XATTR_PREFIX}file_id`, Buffer.from(String(node.fileId)));
    out.set(`${XATTR_PREFIX}enrichment_source`, Buffer.from(node.enrichmentSource));
    out.set(`${XATTR_PREFIX}metadata_version`, Buffer.from(String(node.metadataVersion)));
    return out;
  }

  /** Every path a file is shown at (for tests and diagnostics). */
  pathsOf(fileId: number): string[] {
    const file = this.files.get(fileId);
    return file ? this.tree.pathsOf(file) : [];
  }

  async closeAll(): Promise<void> {
    const open = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(open.map((h) => h.origin.close().catch(() => {})));
  }

  stats(): ViewStats {
    return {
      files: this.files.size,
      openHandles: this.handles.size,
      headerCacheEntries: this.layouts.size,
      loadMs: this.counters.loadMs,
      refreshes: this.counters.refreshes,
      lastRefresh: this.counters.lastRefresh,
      enrichmentRequests: this.counters.enrichmentRequests,
      enrichmentDrops: this.counters.enrichmentDrops,
      overlayBuilds: this.counters.overlayBuilds,
      overlayFailures: this.counters.overlayFailures,
    };
  }
}
