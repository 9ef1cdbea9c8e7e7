import { CompactMap } from "./compact-map.js";
import { collisionName } from "./naming.js";

/** What the tree needs of a file: an id, and a key that orders files the same way on every mount. */
export interface TreeFile {
  readonly fileId: number;
  /** The origin path (as text); with fileId, decides who keeps a contested name and who gets " (2)". */
  readonly sortKey: string;
  /**
   * Owned by the Tree: where the file is, as [dir, base name, dir, base name, ...]. Kept on the file
   * rather than in a map by id: one object fewer per file at 100,000s of files.
   */
  treeSlots?: unknown[];
}

function compareFiles(a: TreeFile, b: TreeFile): number {
  return a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.fileId - b.fileId;
}

/**
 * A directory of the virtual tree. Files *claim* a base name; the names actually shown are resolved
 * lazily (and again after each change) so that collisions get " (2)", " (3)" in an order that depends
 * only on the claimants, never on the order they were added in.
 */
export class DirNode<T extends TreeFile> {
  // Made on first use: most directories hold only files or only directories.
  private dirMap: CompactMap<DirNode<T>> | undefined;
  /** base name -> the file(s) that want it. A single claimant is stored bare to save memory. */
  private claimMap: CompactMap<T | T[]> | undefined;
  /**
   * Claims not yet indexed in claimMap: [base, file, base, file, ...]. Placing a file only appends
   * here; the index is built when the directory is first looked into, so a mount does not index
   * 100,000s of names before it can answer (a walk then indexes each directory once, when it gets there).
   */
  private pending: unknown[] | undefined;
  /** Names handed out to the claimants that lost their base name; undefined until resolved. */
  private renamed: Map<string, T> | null | undefined;
  private sorted: string[] | undefined;

  constructor(
    readonly name: string,
    readonly parent: DirNode<T> | undefined,
    public mtimeMs: number,
    /** Top-level views stay even when empty. */
    readonly pinned = false,
  ) {}

  get dirs(): CompactMap<DirNode<T>> {
    this.dirMap ??= new CompactMap();
    return this.dirMap;
  }

  get claims(): CompactMap<T | T[]> {
    this.settle();
    this.claimMap ??= new CompactMap();
    return this.claimMap;
  }

  get dirCount(): number {
    return this.dirMap?.size ?? 0;
  }

  get isEmpty(): boolean {
    return !this.dirMap?.size && !this.claimMap?.size && !this.pending;
  }

  /** Records that `file` wants the name `base` here; indexed on the directory's next use (see pending). */
  addClaim(base: string, file: T, now: number): void {
    if (this.pending) this.pending.push(base, file);
    else this.pending = [base, file];
    this.touch(now);
  }

  /** addClaim for many: `claims` is [base, file, base, file, ...], which this directory may keep. */
  addClaims(claims: unknown[], now: number): void {
    this.pending = this.pending ? this.pending.concat(claims) : claims;
    this.touch(now);
  }

  /** Indexes the pending claims. */
  private settle(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    // The usual case, a directory filled in one go with distinct names: the list is the index.
    if (!this.claimMap && CompactMap.fitsFlat(pending)) {
      this.claimMap = CompactMap.fromFlat<T | T[]>(pending.slice());
      return;
    }
    this.claimMap ??= new CompactMap();
    const claims = this.claimMap;
    for (let i = 0; i < pending.length; i += 2) {
      const base = pending[i] as string;
      const file = pending[i + 1] as T;
      const claim = claims.get(base);
      if (claim === undefined) claims.set(base, file);
      else if (Array.isArray(claim)) {
        if (!claim.includes(file)) claim.push(file);
      } else if (claim !== file) claims.set(base, [claim, file]);
    }
  }

  touch(now: number): void {
    this.renamed = undefined;
    this.sorted = undefined;
    this.mtimeMs = Math.max(now, this.mtimeMs);
  }

  /**
   * Decides who keeps a contested name: a directory over any file, then files in sortKey order; the
   * rest get the first free " (k)" name, k from 2. With no contest (the usual case) nothing is built.
   */
  private resolve(): Map<string, T> | null {
    this.settle();
    if (this.renamed !== undefined) return this.renamed;
    const losers: { base: string; file: T }[] = [];
    for (const [base, claim] of this.claimMap ?? []) {
      const shadowed = this.dirMap?.has(base) === true;
      if (!Array.isArray(claim)) {
        if (shadowed) losers.push({ base, file: claim });
        continue;
      }
      claim.sort(compareFiles);
      for (let i = shadowed ? 0 : 1; i < claim.length; i++) losers.push({ base, file: claim[i]! });
    }
    if (losers.length === 0) {
      this.renamed = null;
      return null;
    }
    losers.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : compareFiles(a.file, b.file)));
    const renamed = new Map<string, T>();
    for (const { base, file } of losers) {
      for (let k = 2; ; k++) {
        const name = collisionName(base, k);
        if (!this.dirMap?.has(name) && !this.claimMap?.has(name) && !renamed.has(name)) {
          renamed.set(name, file);
          break;
        }
      }
    }
    this.renamed = renamed;
    return renamed;
  }

  get(name: string): DirNode<T> | T | undefined {
    const renamed = this.resolve();
    const dir = this.dirMap?.get(name);
    if (dir) return dir;
    const claim = this.claimMap?.get(name);
    if (claim !== undefined) return Array.isArray(claim) ? claim[0] : claim;
    return renamed?.get(name);
  }

  /** Entry names, sorted (by UTF-16 code units, which is deterministic). */
  names(): string[] {
    if (!this.sorted) {
      const renamed = this.resolve();
      this.sorted = [...(this.dirMap?.keys() ?? []), ...(this.claimMap?.keys() ?? []), ...(renamed?.keys() ?? [])].sort();
      // A file name shadowed by a directory of the same name is listed once (as the directory).
      this.sorted = this.sorted.filter((name, i, all) => i === 0 || all[i - 1] !== name);
    }
    return this.sorted;
  }

  /** Every file directly in this directory. */
  *files(): IterableIterator<T> {
    this.settle();
    for (const claim of this.claimMap?.values() ?? []) {
      if (Array.isArray(claim)) yield* claim;
      else yield claim;
    }
  }

  /** The path from the root, for logs and tests. */
  get path(): string {
    const parts: string[] = [];
    for (let d: DirNode<T> | undefined = this; d?.parent; d = d.parent) parts.unshift(d.name);
    return `/${parts.join("/")}`;
  }
}

export function isDir<T extends TreeFile>(node: DirNode<T> | T | undefined): node is DirNode<T> {
  return node instanceof DirNode;
}

/** The virtual tree: directories made on demand by the files placed in them, pruned when they empty. */
export class Tree<T extends TreeFile> {
  readonly root: DirNode<T>;

  constructor(topLevel: readonly string[], now: number) {
    this.root = new DirNode<T>("", undefined, now, true);
    for (const name of topLevel) this.root.dirs.set(name, new DirNode<T>(name, this.root, now, true));
  }

  /** The directory at `path` (safe names from the root), made if missing. */
  ensureDir(path: readonly string[], now: number): DirNode<T> {
    let dir = this.root;
    for (const name of path) {
      let next = dir.dirCount ? dir.dirs.get(name) : undefined;
      if (!next) {
        next = new DirNode<T>(name, dir, now);
        dir.dirs.set(name, next);
        dir.touch(now);
      }
      dir = next;
    }
    return dir;
  }

  /**
   * Puts a file (not yet in the tree) in each of `at`: [dir, base name, dir, base name, ...]. A base
   * name another file holds makes one of them " (2)" (see DirNode).
   */
  placeAt(file: T, at: (DirNode<T> | string)[], now: number): void {
    this.setSlots(file, at);
    for (let i = 0; i < at.length; i += 2) (at[i] as DirNode<T>).addClaim(at[i + 1] as string, file, now);
  }

  /**
   * Records where a file goes without claiming its names yet (the caller claims them, in batches: see
   * TreeLayout). The same name in the same directory twice (two genres spelt alike once made safe) is
   * kept once.
   */
  setSlots(file: T, at: (DirNode<T> | string)[]): void {
    let kept = 0;
    for (let i = 0; i < at.length; i += 2) {
      let seen = false;
      for (let j = 0; j < kept && !seen; j += 2) seen = at[j] === at[i] && at[j + 1] === at[i + 1];
      if (seen) continue;
      at[kept++] = at[i]!;
      at[kept++] = at[i + 1]!;
    }
    at.length = kept;
    file.treeSlots = at;
  }

  /**
   * Puts a file (not yet in the tree) at each of `paths` (each a list of safe names: directories, then
   * the file name). The first name of each path must be a top-level view.
   */
  place(file: T, paths: readonly (readonly string[])[], now: number): void {
    this.placeAt(
      file,
      paths.flatMap((path) => [this.ensureDir(path.slice(0, -1), now), path[path.length - 1]!]),
      now,
    );
  }

  /** Takes the file out of every directory it was placed in; directories left empty go too. */
  remove(file: T, now: number): void {
    const list = file.treeSlots;
    if (!list) return;
    file.treeSlots = undefined;
    const { fileId } = file;
    for (let i = 0; i < list.length; i += 2) {
      const dir = list[i] as DirNode<T>;
      const base = list[i + 1] as string;
      const claim = dir.claims.get(base);
      if (Array.isArray(claim)) {
        const rest = claim.filter((f) => f.fileId !== fileId);
        dir.claims.set(base, rest.length === 1 ? rest[0]! : rest);
      } else if (claim?.fileId === fileId) dir.claims.delete(base);
      dir.touch(now);
      this.prune(dir, now);
    }
  }

  private prune(start: DirNode<T>, now: number): void {
    for (let dir = start; !dir.pinned && dir.isEmpty && dir.parent; ) {
      const parent: DirNode<T> = dir.parent;
      if (parent.dirs.get(dir.name) === dir) parent.dirs.delete(dir.name);
      parent.touch(now);
      dir = parent;
    }
  }

  /** Resolves an absolute path as FUSE gives it ("/Artists/X/..."). */
  lookup(path: string): DirNode<T> | T | undefined {
    if (path === "/" || path === "") return this.root;
    let node: DirNode<T> | T | undefined = this.root;
    let start = path.charCodeAt(0) === 47 ? 1 : 0;
    while (start <= path.length) {
      if (!isDir(node)) return undefined;
      let end = path.indexOf("/", start);
      if (end === -1) end = path.length;
      if (end > start) node = node.get(path.slice(start, end));
      start = end + 1;
    }
    return node;
  }

  /** The paths a file is shown at, for tests and `stats`. */
  pathsOf(file: T): string[] {
    const { fileId } = file;
    const out = new Set<string>();
    const list = file.treeSlots ?? [];
    for (let i = 0; i < list.length; i += 2) {
      const dir = list[i] as DirNode<T>;
      for (const name of dir.names()) {
        const node = dir.get(name);
        if (!isDir(node) && node?.fileId === fileId) out.add(`${dir.path === "/" ? "" : dir.path}/${name}`);
      }
    }
    return [...out].sort();
  }
}
