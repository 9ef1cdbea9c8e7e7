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
  // Like a search engine: retrieve albums through the word index, then score them. The narrowest tier comes first
  // (albums sharing a rare word with the query), widening while it finds fewer than `want`: every album sharing
  // any word, then the whole catalog, so misspelt queries still get fuzzy guesses.
  let found: ScoredAlbum[] = [];
  for (const tier of candidateTiers(catalog, q)) {
    found = topScored(tier, q, want, minScore);
    if (found.length >= want) break;
  }
  return found;
}

/** The best `want` albums by score, kept while scanning: sorting every album that passes would cost more than scoring. */
function topScored(albums: Iterable<Album>, q: { title: Features; artist: Features }, want: number, minScore: number): ScoredAlbum[] {
  const best: ScoredAlbum[] = [];
  for (const album of albums) {
    const score = scoreFeatures(albumFeatures(album), q);
    if (score < minScore || score <= 0) continue;
    const candidate = { album, score };
    if (best.length === want && compareScored(candidate, best[want - 1]!) >= 0) continue;
    let i = best.length;
    while (i > 0 && compareScored(candidate, best[i - 1]!) < 0) i--;
    best.splice(i, 0, candidate);
    if (best.length > want) best.pop();
  }
  return best;
}

interface WordIndex {
  albums: Map<string, Album[]>;
  /** Words in more albums than this are "common" (like "the", or "album"): a stop word to a search engine. */
  commonAbove: number;
}

const wordIndexes = new WeakMap<readonly Album[], WordIndex>();

function wordIndex(catalog: readonly Album[]): WordIndex {
  let index = wordIndexes.get(catalog);
  if (!index) {
    const albums = new Map<string, Album[]>();
    for (const album of catalog) {
      const f = albumFeatures(album);
      for (const word of new Set([...f.title.normalized.split(" "), ...f.names.flatMap((n) => n.normalized.split(" "))])) {
        if (word === "") continue;
        const list = albums.get(word);
        if (list) list.push(album);
        else albums.set(word, [album]);
      }
    }
    index = { albums, commonAbove: Math.max(64, Math.ceil(catalog.length / 20)) };
    wordIndexes.set(catalog, index);
  }
  return index;
}

/**
 * The albums to score, narrowest first: those sharing a rare word with the query (skipping words found in more
 * than 5% of the catalog, as a search engine skips stop words: scoring every album containing "album" costs ~3 ms
 * a call on a 2,000-album catalog), those sharing any word, then the whole catalog.
 */
function* candidateTiers(catalog: readonly Album[], q: { title: Features; artist: Features }): Generator<Iterable<Album>> {
  const words = [...q.title.normalized.split(" "), ...q.artist.normalized.split(" ")].filter((w) => w !== "");
  const index = wordIndex(catalog);
  const lists = words.map((word) => index.albums.get(word) ?? []);
  const rare = lists.filter((list) => list.length <= index.commonAbove);
  if (rare.length > 0 && rare.length < lists.length) yield new Set(rare.flat());
  if (lists.length > 0) yield new Set(lists.flat());
  yield catalog;
}

/** Higher score first; ties by title, then id, so results are stable. */
function compareScored(a: ScoredAlbum, b: ScoredAlbum): number {
  return b.score - a.score || a.album.title.localeCompare(b.album.title) || a.album.id.localeCompare(b.album.id);
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
