import type { Album } from "@musicfs/rpc";

/** Scores below this are not returned, like a search engine dropping noise. */
export const DEFAULT_MIN_SCORE = 15;
/** What SearchAlbums returns when the request's limit is 0 (design proto: "0 means the server default"). */
export const DEFAULT_LIMIT = 5;
export const MAX_LIMIT = 100;

// The title weighs more than the artist: a release-group search matches on the title first.
const TITLE_WEIGHT = 0.6;
const ARTIST_WEIGHT = 0.4;

export interface ScoredAlbum {
  album: Album;
  score: number;
}

/**
 * Ranks the whole catalog against an album title and artist the way a fuzzy search engine does: every album gets a
 * 0-100 score from trigram similarity, so a different album by the same artist or a same-titled album by another
 * artist still scores well above zero and comes back as a (wrong) best guess. Callers must verify what they get.
 */
export function searchCatalog(
  catalog: readonly Album[],
  query: string,
  artist: string,
  limit: number,
  minScore = DEFAULT_MIN_SCORE,
): ScoredAlbum[] {
  const want = limit === 0 ? DEFAULT_LIMIT : Math.min(limit, MAX_LIMIT);
  const q = { title: features(query), artist: features(artist) };
  return catalog
    .map((album) => ({ album, score: scoreFeatures(albumFeatures(album), q) }))
    .filter((s) => s.score >= minScore && s.score > 0)
    .sort((a, b) => b.score - a.score || a.album.title.localeCompare(b.album.title) || a.album.id.localeCompare(b.album.id))
    .slice(0, want);
}

/** 0-100: how well an album matches a title query and an artist name (an empty artist scores on the title alone). */
export function scoreAlbum(album: Album, query: string, artist: string): number {
  return scoreFeatures(albumFeatures(album), { title: features(query), artist: features(artist) });
}

/** Dice coefficient of the two strings' word-padded trigram sets, on normalised text: 1 for equal, 0 for disjoint. */
export function similarity(a: string, b: string): number {
  return dice(features(a), features(b));
}

interface Features {
  normalized: string;
  trigrams: Set<string>;
}

interface AlbumFeatures {
  title: Features;
  credit: Features;
  names: Features[];
}

// Catalog albums are immutable once loaded: their normalised text and trigrams are computed once, not per search
// (recomputing them for every album on every call made a 2,000-album search cost ~45 ms of CPU).
const albumCache = new WeakMap<Album, AlbumFeatures>();

function albumFeatures(album: Album): AlbumFeatures {
  let f = albumCache.get(album);
  if (!f) {
    f = {
      title: features(album.title),
      credit: features(album.artists.map((a) => a.name + a.joinPhrase).join("")),
      names: album.artists.map((a) => features(a.name)),
    };
    albumCache.set(album, f);
  }
  return f;
}

function features(text: string): Features {
  const normalized = normalize(text);
  return { normalized, trigrams: trigrams(normalized) };
}

function dice(a: Features, b: Features): number {
  if (a.normalized === "" || b.normalized === "") return 0;
  if (a.normalized === b.normalized) return 1;
  let shared = 0;
  for (const t of a.trigrams) if (b.trigrams.has(t)) shared++;
  return (2 * shared) / (a.trigrams.size + b.trigrams.size);
}

function scoreFeatures(album: AlbumFeatures, q: { title: Features; artist: Features }): number {
  const titleSim = dice(album.title, q.title);
  if (q.artist.normalized === "") return Math.round(100 * titleSim);
  // A query for one member of a joint credit ("Simon" for "Simon & Garfunkel") should still match well.
  const artistSim = Math.max(dice(album.credit, q.artist), ...album.names.map((n) => dice(n, q.artist)));
  return Math.round(100 * (TITLE_WEIGHT * titleSim + ARTIST_WEIGHT * artistSim));
}

/** Lower case, accents and punctuation removed, whitespace collapsed: "Björk – Post!" -> "bjork post". */
export function normalize(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

function trigrams(normalized: string): Set<string> {
  const out = new Set<string>();
  for (const word of normalized.split(" ")) {
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  }
  return out;
}
