import { safeName } from "./naming.js";
import { displayAlbumArtist, FIELD_FALLBACKS, type PathTemplate, type TrackTags, trackFields } from "./template.js";
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

/** One directory a file goes in: `key` names it (files with equal keys share it), `dirs()` spells it out. */
export interface Placement {
  key: string;
  dirs: () => string[];
  leaf: string;
}

/**
 * Every place a file appears: Artists/ by the template, Genres/<genre>/, Labels/<label>/ and Years/<year>/
 * by album artist and album (one per genre), and Files/ mirroring the origin under its root's name.
 */
export function placementsOf(file: LayoutInput, template: PathTemplate): Placement[] {
  const values = trackFields(file, originExtension(file.pathText), originStem(file.pathText));
  const leaf = template.renderLeaf(values);
  let artistKey = "A";
  for (const field of template.dirFields) artistKey += `\u0000${values[field]}`;
  const out: Placement[] = [{ key: artistKey, dirs: () => ["Artists", ...template.renderDirs(values)], leaf }];
  const albumArtist = displayAlbumArtist(file) || FIELD_FALLBACKS.albumartist;
  const album = values.album || FIELD_FALLBACKS.album;
  const facet = (view: string, name: string) => ({
    key: `${view}\u0000${name}\u0000${albumArtist}\u0000${album}`,
    dirs: () => [view, safeName(name), safeName(albumArtist), safeName(album)],
    leaf,
  });
  const genres = new Set<string>();
  for (const genre of file.genres.length ? file.genres : file.genre ? [file.genre] : []) {
    if (genre.trim()) genres.add(genre);
  }
  for (const genre of genres) out.push(facet("Genres", genre));
  if (values.label) out.push(facet("Labels", values.label));
  if (values.year) out.push(facet("Years", values.year));
  const slash = file.pathText.lastIndexOf("/");
  const parent = file.pathText.slice(0, Math.max(0, slash));
  out.push({
    key: `F\u0000${file.root}\u0000${parent}`,
    dirs: () => filesViewDirs(parent, file.root),
    leaf: safeName(file.pathText.slice(slash + 1)),
  });
  return out;
}

/** Every path (directories, then file name) a file appears at; see placementsOf. */
export function layoutPaths(file: LayoutInput, template: PathTemplate): string[][] {
  return placementsOf(file, template).map((p) => [...p.dirs(), p.leaf]);
}

/**
 * Places files in a tree. While a bulk load is under way directories are remembered by key, so
 * the thousands of files of one album or folder spell out and walk to their directory once.
 */
export class TreeLayout<T extends TreeFile> {
  private dirCache: Map<string, DirNode<T>> | undefined;

  constructor(
    private readonly tree: Tree<T>,
    private readonly template: PathTemplate,
  ) {}

  place(file: T, input: LayoutInput, now: number): void {
    const placements = placementsOf(input, this.template);
    const at: (DirNode<T> | string)[] = new Array(placements.length * 2);
    for (let i = 0; i < placements.length; i++) {
      const p = placements[i]!;
      let dir = this.dirCache?.get(p.key);
      if (!dir) {
        dir = this.tree.ensureDir(p.dirs(), now);
        this.dirCache?.set(p.key, dir);
      }
      at[2 * i] = dir;
      at[2 * i + 1] = p.leaf;
    }
    this.tree.placeAt(file, at, now);
  }

  /** Runs a bulk load with the directory cache on (directories are never pruned during one). */
  bulk(load: () => void): void {
    this.dirCache = new Map();
    try {
      load();
    } finally {
      this.dirCache = undefined;
    }
  }
}
