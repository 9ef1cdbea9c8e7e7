import { Code, ConnectError } from "@connectrpc/connect";
import type { OverrideValues } from "@musicfs/db";
import type { UpdateMetadataRequest } from "../gen/musicfs/v1/musicfs_pb.js";

/** Bounds on what a client may store; beyond them a request is INVALID_ARGUMENT. */
export const UPDATE_LIMITS = {
  /** Characters of a text field (title, artist, label, ...). */
  text: 1024,
  /** Characters of cover_url. */
  url: 4096,
  genres: 64,
  /** Requests in one BatchUpdateMetadata. */
  batch: 1000,
  /** Largest track, disc or total. */
  count: 99_999,
} as const;

export function invalidArgument(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/**
 * A text value as stored: "" clears the field (null). Rejects text that is not valid Unicode
 * (lone surrogates, U+FFFD from a bad UTF-8 decode), control characters and oversized values.
 */
export function checkText(field: string, value: string, max: number = UPDATE_LIMITS.text): string | null {
  if (!value.isWellFormed() || value.includes("\uFFFD")) throw invalidArgument(`${field} is not valid UTF-8 text`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) throw invalidArgument(`${field} contains control characters`);
  if (value.length > max) throw invalidArgument(`${field} is ${value.length} characters long; at most ${max} are accepted`);
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function checkCount(field: string, value: number, min = 0, max: number = UPDATE_LIMITS.count): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalidArgument(`${field} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function checkDate(field: string, value: string): string | null {
  const text = checkText(field, value, 10);
  if (text !== null && !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(text))
    throw invalidArgument(`${field} must be YYYY, YYYY-MM or YYYY-MM-DD, got "${text}"`);
  return text;
}

function genresOf(req: UpdateMetadataRequest): string[] | undefined {
  if (req.genres.length > 0) {
    if (req.genres.length > UPDATE_LIMITS.genres)
      throw invalidArgument(`at most ${UPDATE_LIMITS.genres} genres are accepted, got ${req.genres.length}`);
    const out: string[] = [];
    for (const g of req.genres) {
      const name = checkText("genres", g, 256);
      if (name !== null && !out.includes(name)) out.push(name);
    }
    return out;
  }
  // design §4.3.8: a lone `genre` is the whole list; "" clears it.
  if (req.genre !== undefined) {
    const name = checkText("genre", req.genre, 256);
    return name === null ? [] : [name];
  }
  return undefined;
}

/** The values of an UpdateMetadataRequest, checked; INVALID_ARGUMENT when there are none or one is bad. */
export function overrideValuesOf(req: UpdateMetadataRequest): OverrideValues {
  const v: OverrideValues = {};
  const text = (value: string | undefined, field: keyof OverrideValues, max?: number) => {
    if (value !== undefined) (v as Record<string, unknown>)[field] = checkText(field, value, max);
  };
  const count = (value: number | undefined, field: keyof OverrideValues, min?: number, max?: number) => {
    if (value !== undefined) (v as Record<string, unknown>)[field] = checkCount(field, value, min, max);
  };
  text(req.title, "title");
  text(req.artist, "artist");
  text(req.album, "album");
  text(req.albumartist, "albumartist");
  count(req.track, "track");
  count(req.trackTotal, "track_total");
  count(req.disc, "disc");
  count(req.discTotal, "disc_total");
  count(req.year, "year", 0, 9999);
  if (req.date !== undefined) v.date = checkDate("date", req.date);
  text(req.musicbrainzReleaseGroupId, "mb_releasegroup_id", 64);
  const genres = genresOf(req);
  if (genres !== undefined) v.genres = genres;
  text(req.label, "label");
  text(req.albumType, "album_type", 64);
  text(req.coverUrl, "cover_url", UPDATE_LIMITS.url);
  if (req.releaseDate !== undefined) v.release_date = checkDate("release_date", req.releaseDate);
  count(req.totalTracks, "total_tracks");
  count(req.totalDiscs, "total_discs");
  if (Object.keys(v).length === 0)
    throw invalidArgument("the update sets no field: give at least one of title, artist, album, genres, label, ...");
  return v;
}
