import { safeName } from "./naming.js";
import { FIELD_FALLBACKS, type PathTemplate, type TemplateValues, type TrackTags, trackFields } from "./template.js";
import type { DirNode, Tree, TreeFile } from "./tree.js";

/** The top-level directories of the mount. */
export const VIEWS = ["Artists", "Genres", "Labels", "Years", "Files"] as const;

/** What the layout needs to know of one file: where it is, and its effective tags. */
export interface LayoutInput extends TrackTags {
  /** The origin path as text (files.path_text: invalid UTF-8 shown as U+FFFD). */
  pathText: string;
  /** The scan root it was found under (files.root). */
  root: string;
  /** Every genre (genres_json), the first being `genre`. */
  genres: readonly string[];
}

/** The lower-case extension of an origin path ("flac"), or "" when it has none. */
export function originExtension(path: string): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot <= slash + 1 || path.length - dot > 16) return "";
  return path.slice(dot + 1).toLowerCase();
}

/** The origin file name without directory and extension. */
export function originStem(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function baseName(path: string): string {
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The directory part of `Files/<root folder name>/<path under the root>`, every component made safe. */
function filesViewDirs(parent: string, root: string): string[] {
  const under = parent === root ? "" : parent.startsWith(`${root}/`) ? parent.slice(root.length + 1) : parent;
  const parts = under.split("/").filter((p) => p !== "");
  return ["Files", safeName(baseName(root) || "root"), ...parts.map((p) => safeName(p))];
}

/** One place a file goes: the directory (safe names from the root) and the file's name in it. */
export interface Placement {
  dirs: string[];
  leaf: string;
}

/** Where Genres/, Labels/ and Years/ file a track: by album artist and album, under each of `facets`. */
interface Facets {
  albumArtist: string;
  album: string;
  /** [view, name, view, name, ...]: one Genres entry per genre, then Labels and Years when known. */
  facets: string[];
}

function facetsOf(file: LayoutInput, values: TemplateValues): Facets {
  const facets: string[] = [];
  const genres = file.genres.length ? file.genres : file.genre ? [file.genre] : [];
  for (let i = 0; i < genres.length; i++) {
    const genre = genres[i]!;
    // A genre listed twice is filed once.
    if (genre.trim() && genres.indexOf(genre) === i) facets.push("Genres", genre);
  }
  if (values.label) facets.push("Labels", values.label);
  if (values.year) facets.push("Years", values.year);
  return { albumArtist: values.albumartist || FIELD_FALLBACKS.albumartist, album: values.album || FIELD_FALLBACKS.album, facets };
}

function sameFacets(a: Facets, b: Facets): boolean {
  if (a.albumArtist !== b.albumArtist || a.album !== b.album || a.facets.length !== b.facets.length) return false;
  for (let i = 0; i < a.facets.length; i++) if (a.facets[i] !== b.facets[i]) return false;
  return true;
}

function facetDirs(f: Facets, i: number): string[] {
  return [f.facets[i]!, safeName(f.facets[i + 1]!), safeName(f.albumArtist), safeName(f.album)];
}

/** The facts about one file that every placement is computed from. */
interface FileFacts {
  values: TemplateValues;
  leaf: string;
  facets: Facets;
  root: string;
  /** The origin's parent directory (text). */
  parent: string;
  filesLeaf: string;
}

function factsOf(file: LayoutInput, template: PathTemplate): FileFacts {
  const values = trackFields(file, originExtension(file.pathText), originStem(file.pathText));
  const slash = file.pathText.lastIndexOf("/");
  return {
    values,
    leaf: template.renderLeaf(values),
    facets: facetsOf(file, values),
    root: file.root,
    parent: file.pathText.slice(0, Math.max(0, slash)),
    filesLeaf: safeName(file.pathText.slice(slash + 1)),
  };
}

/**
 * Every place a file appears: Artists/ by the template, Genres/<genre>/, Labels/<label>/ and Years/<year>/
 * by album artist and album (one per genre), and Files/ mirroring the origin under its root's name.
 */
export function placementsOf(file: LayoutInput, template: PathTemplate): Placement[] {
  const { values, leaf, facets, root, parent, filesLeaf } = factsOf(file, template);
  const out: Placement[] = [{ dirs: ["Artists", ...template.renderDirs(values)], leaf }];
  for (let i = 0; i < facets.facets.length; i += 2) out.push({ dirs: facetDirs(facets, i), leaf });
  out.push({ dirs: filesViewDirs(parent, root), leaf: filesLeaf });
  return out;
}

/** Every path (directories, then file name) a file appears at; see placementsOf. */
export function layoutPaths(file: LayoutInput, template: PathTemplate): string[][] {
  return placementsOf(file, template).map((p) => [...p.dirs, p.leaf]);
}

/** The previous file of a bulk load and the directories it went to. */
interface Previous<T extends TreeFile> {
  facts: FileFacts;
  artistDir: DirNode<T>;
  facetDirs: DirNode<T>[];
  filesDir: DirNode<T>;
}

/** Claims for one directory, gathered while consecutive files go to it: [base, file, base, file, ...]. */
interface Run<T extends TreeFile> {
  dir: DirNode<T>;
  claims: unknown[];
}

/**
 * Places files in a tree. During a bulk load the previous file's directories are remembered: the next
 * track of the same album or folder (the usual order) goes to them without spelling out or walking to
 * its directories again; and the names they claim there are handed over once per run of files, in a
 * list of the right size (a list grown a file at a time has twice the room it needs, all of which the
 * garbage collector copies while the tree is being built).
 */
export class TreeLayout<T extends TreeFile> {
  private bulkLoad = false;
  private previous: Previous<T> | undefined;
  /** During a bulk load, the open run of each of the previous file's places, and the time they were opened. */
  private runs: (Run<T> | undefined)[] = [];
  private runsNow = 0;

  constructor(
    private readonly tree: Tree<T>,
    private readonly template: PathTemplate,
  ) {}

  private sameArtistDir(a: TemplateValues, b: TemplateValues): boolean {
    for (const field of this.template.dirFields) if (a[field] !== b[field]) return false;
    return true;
  }

  place(file: T, input: LayoutInput, now: number): void {
    const facts = factsOf(input, this.template);
    const { values, leaf, facets, root, parent } = facts;
    const prev = this.previous;
    const artistDir =
      prev && this.sameArtistDir(values, prev.facts.values)
        ? prev.artistDir
        : this.tree.ensureDir(["Artists", ...this.template.renderDirs(values)], now);
    let facetDirList: DirNode<T>[];
    if (prev && sameFacets(facets, prev.facts.facets)) facetDirList = prev.facetDirs;
    else {
      facetDirList = [];
      for (let i = 0; i < facets.facets.length; i += 2) facetDirList.push(this.tree.ensureDir(facetDirs(facets, i), now));
    }
    const filesDir =
      prev && prev.facts.root === root && prev.facts.parent === parent
        ? prev.filesDir
        : this.tree.ensureDir(filesViewDirs(parent, root), now);
    // Sized up front: it becomes the file's treeSlots, kept for the life of the mount.
    const at: (DirNode<T> | string)[] = new Array(4 + 2 * facetDirList.length);
    at[0] = artistDir;
    at[1] = leaf;
    for (let i = 0; i < facetDirList.length; i++) {
      at[2 + 2 * i] = facetDirList[i]!;
      at[3 + 2 * i] = leaf;
    }
    at[at.length - 2] = filesDir;
    at[at.length - 1] = facts.filesLeaf;
    // Outside a bulk load a directory may be pruned between two calls: nothing is remembered then.
    if (!this.bulkLoad) {
      this.tree.placeAt(file, at, now);
      return;
    }
    this.previous = { facts, artistDir, facetDirs: facetDirList, filesDir };
    this.runsNow = now;
    this.tree.setSlots(file, at);
    const places = at.length / 2;
    for (let k = 0; k < places; k++) {
      const dir = at[2 * k] as DirNode<T>;
      let run = this.runs[k];
      if (run?.dir !== dir) {
        if (run) this.flush(run, now);
        run = { dir, claims: [] };
        this.runs[k] = run;
      }
      run.claims.push(at[2 * k + 1], file);
    }
    this.flushRuns(places, now);
  }

  private flush(run: Run<T>, now: number): void {
    run.dir.addClaims(run.claims.slice(), now);
  }

  /** Ends the runs from place `from` on. */
  private flushRuns(from: number, now: number): void {
    for (let k = from; k < this.runs.length; k++) {
      const run = this.runs[k];
      if (run) this.flush(run, now);
    }
    if (this.runs.length > from) this.runs.length = from;
  }

  /**
   * Runs a bulk load, remembering directories from one file to the next (none is pruned during one).
   * `load` may be async: nothing may remove files from the tree until it settles.
   */
  async bulk(load: () => void | Promise<void>): Promise<void> {
    this.bulkLoad = true;
    try {
      await load();
    } finally {
      this.flushRuns(0, this.runsNow);
      this.bulkLoad = false;
      this.previous = undefined;
    }
  }
}
