import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AlbumInit } from "@musicfs/catalog-server";
import { albumKey, type Library, openLibrary } from "@musicfs/db";

export interface TempLibrary {
  lib: Library;
  dir: string;
  dbPath: string;
  cleanup(): Promise<void>;
}

export async function tempLibrary(): Promise<TempLibrary> {
  const dir = await mkdtemp(join(tmpdir(), "musicfs-enrich-"));
  const dbPath = join(dir, "library.db");
  const lib = openLibrary(dbPath);
  return {
    lib,
    dir,
    dbPath,
    cleanup: async () => {
      lib.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface AlbumSpec {
  artist: string;
  album: string;
  albumartist?: string;
  tracks?: number;
  compilation?: boolean;
  mbReleaseGroupId?: string;
  genres?: string[];
}

let nextIno = 1;

/** Inserts files + file_metadata + albums rows the way the scanner does, without audio. */
export function addAlbum(lib: Library, spec: AlbumSpec, firstTrack = 1): { albumKey: string; fileIds: number[] } {
  const key = albumKey({
    albumartist: spec.albumartist ?? null,
    artist: spec.artist,
    album: spec.album,
    compilation: spec.compilation ?? false,
  });
  if (!key) throw new Error("album spec has no key");
  const insertFile = lib.sqlite.prepare(
    `INSERT INTO files (path, path_text, root, dev, ino, size, mtime_us, format, seen_scan_id, parsed_at)
     VALUES (?, ?, '/music', 1, ?, 1000, 0, 'FLAC', 1, 0)`,
  );
  const insertMeta = lib.sqlite.prepare(
    `INSERT INTO file_metadata (file_id, title, artist, album, albumartist, track, compilation, mb_releasegroup_id, genre, genres_json,
       album_key, updated_at)
     VALUES (@fileId, @title, @artist, @album, @albumartist, @track, @compilation, @mb, @genre, @genres, @key, 0)`,
  );
  const fileIds: number[] = [];
  const genres = spec.genres ?? ["Rock"];
  lib.sqlite.transaction(() => {
    for (let t = firstTrack; t < firstTrack + (spec.tracks ?? 3); t++) {
      const path = `/music/${spec.artist}/${spec.album}/${String(t).padStart(2, "0")}-${nextIno}.flac`;
      const fileId = Number(insertFile.run(Buffer.from(path), path, nextIno++).lastInsertRowid);
      insertMeta.run({
        fileId,
        title: `Track ${t}`,
        artist: spec.artist,
        album: spec.album,
        albumartist: spec.albumartist ?? null,
        track: t,
        compilation: spec.compilation ? 1 : 0,
        mb: spec.mbReleaseGroupId ?? null,
        genre: genres[0] ?? null,
        genres: JSON.stringify(genres),
        key,
      });
      fileIds.push(fileId);
    }
    const who = spec.albumartist || (spec.compilation ? "Various Artists" : spec.artist);
    lib.sqlite.prepare("INSERT OR IGNORE INTO albums (album_key, artist, album) VALUES (?, ?, ?)").run(key, who, spec.album);
  })();
  return { albumKey: key, fileIds };
}

export type MetaRow = Record<string, string | number | null>;

export function fileRow(lib: Library, fileId: number): MetaRow {
  return lib.sqlite.prepare("SELECT * FROM file_metadata WHERE file_id = ?").get(fileId) as MetaRow;
}

export function albumRow(lib: Library, key: string): MetaRow {
  return lib.sqlite.prepare("SELECT * FROM albums WHERE album_key = ?").get(key) as MetaRow;
}

const credit = (name: string, id = `artist-${name}`) => ({ id, name, joinPhrase: "" });

/** A small catalog with the shapes verification must handle. */
export const CATALOG: AlbumInit[] = [
  {
    id: "rg-the-wall",
    title: "The Wall",
    artists: [credit("Pink Floyd")],
    genres: [
      { id: "g1", name: "Progressive Rock" },
      { id: "g2", name: "Art Rock" },
    ],
    label: "Harvest",
    releaseDate: "1979-11-30",
    albumType: "album",
    coverUrl: "https://covers.example/the-wall.jpg",
    totalTracks: 26,
    totalDiscs: 2,
  },
  {
    id: "rg-wish",
    title: "Wish You Were Here",
    artists: [credit("Pink Floyd")],
    genres: [{ id: "g1", name: "Progressive Rock" }],
    label: "Harvest",
    releaseDate: "1975-09-12",
    albumType: "album",
    totalTracks: 5,
    totalDiscs: 1,
  },
  {
    id: "rg-abbey-road",
    title: "Abbey Road",
    artists: [credit("The Beatles")],
    genres: [{ id: "g3", name: "Pop Rock" }],
    label: "Apple",
    releaseDate: "1969-09-26",
    albumType: "album",
    totalTracks: 17,
    totalDiscs: 1,
  },
  {
    id: "rg-agaetis",
    title: "Ágætis byrjun",
    artists: [credit("Sigur Rós")],
    genres: [{ id: "g4", name: "Post-Rock" }],
    label: "Smekkleysa",
    releaseDate: "1999-06-12",
    albumType: "album",
  },
  {
    id: "rg-now-1",
    title: "Now That's What I Call Music!",
    artists: [credit("Various Artists")],
    genres: [{ id: "g5", name: "Pop" }],
    label: "EMI",
    albumType: "compilation",
  },
  {
    id: "rg-collab",
    title: "Watch the Throne",
    artists: [
      { id: "a-jay", name: "JAY-Z", joinPhrase: " & " },
      { id: "a-kanye", name: "Kanye West", joinPhrase: "" },
    ],
    genres: [{ id: "g6", name: "Hip Hop" }],
    label: "Roc-A-Fella",
    albumType: "album",
  },
  {
    id: "rg-wall-cover",
    title: "The Wall",
    artists: [credit("The Wall Tribute Band")],
    genres: [{ id: "g7", name: "Tribute" }],
    label: "Cover Records",
    albumType: "album",
  },
];
