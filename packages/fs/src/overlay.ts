import { read } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { fileMetadata } from "@musicfs/db";
import { buildOverlay, type OverlayFormat, type OverlayLayout, type OverlayTags } from "@musicfs/tags";

/** A file_metadata row: the effective metadata an overlay writes into the header. */
export type FileMetadataRow = typeof fileMetadata.$inferSelect;

/**
 * Builds the layout of one file from its open origin and its metadata, reading only the origin's
 * header (never the whole file). Null: serve the origin unmodified. Throws: serve it unmodified too.
 */
export type OverlayBuilder = (origin: FileHandle, format: OverlayFormat, metadata: FileMetadataRow) => Promise<OverlayLayout | null>;

function parseGenres(json: string | null): string[] | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : null;
  } catch {
    return null;
  }
}

/** The tags an overlay writes for a file_metadata row (enriched genres, label, album type, ...). */
export function overlayTagsOf(row: FileMetadataRow): OverlayTags {
  const genres = parseGenres(row.genresJson);
  return {
    title: row.title,
    artist: row.artist,
    album: row.album,
    albumartist: row.albumartist,
    track: row.track,
    trackTotal: row.trackTotal ?? row.totalTracks,
    disc: row.disc,
    discTotal: row.discTotal ?? row.totalDiscs,
    year: row.year,
    date: row.date,
    genres: genres ?? (row.genre ? [row.genre] : null),
    label: row.label,
    albumType: row.albumType,
    coverUrl: row.coverUrl,
    releaseDate: row.releaseDate,
    mbReleaseGroupId: row.mbReleaseGroupId,
    mbAlbumId: row.mbAlbumId,
  };
}

/** The overlay of @musicfs/tags: FLAC metadata blocks or an ID3v2.4 tag rebuilt with the row's tags. */
export const tagsOverlayBuilder: OverlayBuilder = (origin, format, metadata) => buildOverlay(origin, format, overlayTagsOf(metadata));

/** A bounded least-recently-used map (Map keeps insertion order; a hit re-inserts). */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Reads until `length` bytes or end of file, straight into `buf`; FUSE takes a short read as end of file. */
export async function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await readAt(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
