import type { OverlayTags } from "./types.js";

/** OverlayTags reduced to the values that will actually be written: cleaned, defaulted, unset ones dropped. */
export interface OverlayFields {
  title?: string;
  artist?: string;
  album?: string;
  albumartist?: string;
  track?: number;
  trackTotal?: number;
  disc?: number;
  discTotal?: number;
  date?: string;
  genres?: string[];
  label?: string;
  albumType?: string;
  mbReleaseGroupId?: string;
  mbAlbumId?: string;
}

// NUL would split an ID3v2.4 text value in two; other control characters have no place in a tag either.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

function text(value: string | null | undefined): string | undefined {
  if (value == null) return undefined;
  const cleaned = value.replace(CONTROL, "").trim();
  return cleaned === "" ? undefined : cleaned;
}

function count(value: number | null | undefined): number | undefined {
  return value != null && Number.isInteger(value) && value > 0 ? value : undefined;
}

function genreList(genres: readonly string[] | null | undefined): string[] | undefined {
  if (genres == null) return undefined;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const g of genres) {
    const t = text(g);
    if (t === undefined || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out.length > 0 ? out : undefined;
}

export function resolveOverlayFields(tags: OverlayTags): OverlayFields {
  const year = count(tags.year);
  const fields: OverlayFields = {
    title: text(tags.title),
    artist: text(tags.artist),
    album: text(tags.album),
    albumartist: text(tags.albumartist),
    track: count(tags.track),
    trackTotal: count(tags.trackTotal),
    disc: count(tags.disc),
    discTotal: count(tags.discTotal),
    date: text(tags.date) ?? text(tags.releaseDate) ?? (year === undefined ? undefined : String(year)),
    genres: genreList(tags.genres),
    label: text(tags.label),
    albumType: text(tags.albumType),
    mbReleaseGroupId: text(tags.mbReleaseGroupId),
    mbAlbumId: text(tags.mbAlbumId),
  };
  for (const key of Object.keys(fields) as (keyof OverlayFields)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}
