// Letters that Unicode decomposition leaves alone but people type without the diacritic.
const FOLD: Record<string, string> = { æ: "ae", œ: "oe", ø: "o", ß: "ss", ð: "d", þ: "th", ł: "l", đ: "d", ı: "i" };

/** Folds case, diacritics, punctuation and spacing so "Beyoncé" and "beyonce" are the same album artist. */
export function normalizeName(value: string): string {
  return value
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[æœøßðþłđı]/g, (c) => FOLD[c] ?? c)
    .replace(/&/g, " and ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .replace(/\s+/g, " ");
}

/**
 * The key enrichment groups files by: normalised albumartist-or-artist + album.
 * Compilations group under "various artists" so their tracks stay one album.
 */
export function albumKey(tags: {
  albumartist?: string | null;
  artist?: string | null;
  album?: string | null;
  compilation?: boolean | null;
}): string | null {
  const album = tags.album ? normalizeName(tags.album) : "";
  if (!album) return null;
  const who = tags.compilation && !tags.albumartist ? "various artists" : normalizeName(tags.albumartist || tags.artist || "");
  if (!who) return null;
  return `${who}\u001f${album}`;
}
