import { normalizeName } from "@musicfs/db";

/** What the files of one album say about it: the question asked of the search service. */
export interface AlbumQuery {
  /** albumartist, or artist for single-artist albums; "Various Artists" for compilations. */
  artist: string;
  album: string;
  compilation?: boolean;
  /** MusicBrainz release-group id carried by the files, when they have one. */
  mbReleaseGroupId?: string | null;
}

/** The parts of a search result that verification looks at (the generated `Album` message has them all). */
export interface SearchResultAlbum {
  id: string;
  title: string;
  artists: readonly { name: string; joinPhrase: string }[];
  albumType: string;
  score: number;
}

export interface Verdict {
  verified: boolean;
  /** Failed verification but came near enough to show a person (`enrich --review`). */
  close: boolean;
  reason: string;
  /** Orders verified results: higher is a better match. */
  rank: number;
}

export interface MatchChoice<R extends SearchResultAlbum> {
  match: { result: R; reason: string } | undefined;
  /** Near misses, best first; only meaningful when there is no match. */
  candidates: { result: R; score: number; reason: string }[];
}

// "(Deluxe Edition)", "[Remastered]", "(2011 Remaster)", " - 25th Anniversary Edition": packaging, not a different album.
const EDITION_WORDS =
  /\b(deluxe|edition|remaster(ed)?|expanded|anniversary|bonus|special|collector'?s?|limited|reissue|re-?issue|version|mono|stereo|legacy|super|platinum|tour|digital|explicit|clean)\b/i;
const TRAILING_GROUP = /\s*[([{]([^)\]}]*)[)\]}]\s*$/;
const TRAILING_DASH = /(?:\s+[-–—]|:)\s+([^-–—:]+)$/;
const FEATURING = /\s*(?:[([]\s*)?\b(?:feat\.?|ft\.?|featuring)\s.*$/i;
const VARIOUS = new Set(["various artists", "various", "va", "verschiedene interpreten", "artistes divers"]);

// "Sgt. Pepper's" and "Sgt Peppers" are the same title: apostrophes join, other punctuation separates.
const APOSTROPHES = /['\u2018\u2019`\u00b4]/g;

function stripLeadingThe(normalized: string): string {
  return normalized.startsWith("the ") ? normalized.slice(4) : normalized;
}

/** Removes edition suffixes, repeatedly: "Abbey Road (Super Deluxe Edition) [2019 Remaster]" → "Abbey Road". */
export function stripEditionSuffix(title: string): string {
  let current = title.trim();
  for (;;) {
    const group = TRAILING_GROUP.exec(current);
    const dash = group ? null : TRAILING_DASH.exec(current);
    const found = group ?? dash;
    if (!found || !EDITION_WORDS.test(found[1] ?? "")) return current;
    const shorter = current.slice(0, found.index).trim();
    if (!shorter) return current;
    current = shorter;
  }
}

/** Title equality key: case, diacritics, punctuation, leading "The" and edition suffixes folded away. */
export function titleKey(title: string): string {
  return stripLeadingThe(normalizeName(stripEditionSuffix(title).replace(APOSTROPHES, "")));
}

/** Artist equality key: case, diacritics, punctuation and a leading "The" folded away. */
export function artistKey(name: string): string {
  return stripLeadingThe(normalizeName(name.replace(APOSTROPHES, "")));
}

/** "A feat. B" → "A". */
export function primaryArtist(name: string): string {
  const stripped = name.replace(FEATURING, "").trim();
  return stripped || name;
}

export function isVariousArtists(name: string): boolean {
  return VARIOUS.has(normalizeName(name));
}

/** The credit as printed ("A & B feat. C"), from the credit list and its join phrases. */
export function creditText(artists: SearchResultAlbum["artists"]): string {
  return artists.map((a) => a.name + a.joinPhrase).join("");
}

function artistForms(name: string): Set<string> {
  return new Set([artistKey(name), artistKey(primaryArtist(name))].filter(Boolean));
}

function artistMatches(fileArtist: string, result: SearchResultAlbum): boolean {
  const mine = artistForms(fileArtist);
  const credit = creditText(result.artists);
  const theirs = new Set([...artistForms(credit), ...result.artists.map((a) => artistKey(a.name))]);
  for (const form of mine) if (theirs.has(form)) return true;
  return false;
}

/** Dice coefficient over words: 1 for the same words, 0 for none in common. */
function wordSimilarity(a: string, b: string): number {
  const wa = new Set(a.split(" ").filter(Boolean));
  const wb = new Set(b.split(" ").filter(Boolean));
  if (wa.size === 0 || wb.size === 0) return 0;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common++;
  return (2 * common) / (wa.size + wb.size);
}

/**
 * Whether one search result is the album the files describe. The service is a search engine
 * and its best guess can be wrong, so a result is used only when title and artist both agree.
 */
export function verifyResult(query: AlbumQuery, result: SearchResultAlbum): Verdict {
  const mbid = query.mbReleaseGroupId?.trim().toLowerCase();
  if (mbid && result.id.toLowerCase() === mbid) {
    return { verified: true, close: false, reason: "MusicBrainz release-group id of the files", rank: 1000 };
  }
  const wantTitle = titleKey(query.album);
  const gotTitle = titleKey(result.title);
  const titleOk = wantTitle !== "" && wantTitle === gotTitle;
  const exactTitle = normalizeName(query.album.replace(APOSTROPHES, "")) === normalizeName(result.title.replace(APOSTROPHES, ""));
  const credit = creditText(result.artists);
  const compilation = query.compilation === true || isVariousArtists(query.artist);
  const bonus = (exactTitle ? 100 : 0) + result.score;

  if (compilation) {
    const resultIsCompilation = result.albumType.toLowerCase() === "compilation" || isVariousArtists(credit);
    if (titleOk && resultIsCompilation) {
      return {
        verified: true,
        close: false,
        reason: `compilation title match${exactTitle ? "" : " (edition suffix ignored)"}`,
        rank: 200 + bonus,
      };
    }
    if (titleOk) return { verified: false, close: true, reason: `title matches but "${credit}" is not a compilation`, rank: 0 };
  } else {
    const artistOk = artistMatches(query.artist, result);
    if (titleOk && artistOk) {
      const how = [exactTitle ? "title" : "title (edition suffix ignored)", "artist"].join(" and ");
      return { verified: true, close: false, reason: `${how} match`, rank: 200 + bonus };
    }
    if (titleOk)
      return { verified: false, close: true, reason: `title matches but artist differs: "${query.artist}" vs "${credit}"`, rank: 0 };
    if (artistOk && wordSimilarity(wantTitle, gotTitle) >= 0.5) {
      return { verified: false, close: true, reason: `artist matches but title differs: "${query.album}" vs "${result.title}"`, rank: 0 };
    }
  }
  return { verified: false, close: false, reason: `no match: "${credit}" – "${result.title}"`, rank: 0 };
}

/** Picks the best verified result (a release-group id match wins outright); otherwise lists the near misses. */
export function chooseMatch<R extends SearchResultAlbum>(query: AlbumQuery, results: readonly R[]): MatchChoice<R> {
  let best: { result: R; verdict: Verdict } | undefined;
  const candidates: MatchChoice<R>["candidates"] = [];
  for (const result of results) {
    const verdict = verifyResult(query, result);
    if (verdict.verified) {
      if (!best || verdict.rank > best.verdict.rank) best = { result, verdict };
    } else if (verdict.close) {
      candidates.push({ result, score: result.score, reason: verdict.reason });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  return { match: best && { result: best.result, reason: best.verdict.reason }, candidates };
}
