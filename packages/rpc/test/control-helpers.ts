import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Library, openLibrary } from "@musicfs/db";
import { scanLibrary } from "@musicfs/scan";
import { encodeAlbum } from "@musicfs/test-utils";

export interface AudioLibrary {
  dir: string;
  root: string;
  dbPath: string;
  lib: Library;
  cleanup(): Promise<void>;
}

/** Real FLAC files (Pink Floyd "The Wall", 2 tracks; Yes "Fragile", 1 track), scanned into a fresh database. */
export async function audioLibrary(): Promise<AudioLibrary> {
  const dir = await mkdtemp(join(tmpdir(), "musicfs-control-"));
  const root = join(dir, "music");
  await mkdir(join(root, "Pink Floyd", "The Wall"), { recursive: true });
  await mkdir(join(root, "Yes", "Fragile"), { recursive: true });
  const wall = { artist: "Pink Floyd", album: "The Wall", date: "1979", genres: ["Rock"], trackTotal: 2 };
  await encodeAlbum(
    [
      {
        file: join(root, "Pink Floyd", "The Wall", "01 In the Flesh.flac"),
        encoding: "flac",
        tags: { ...wall, title: "In the Flesh?", track: 1 },
      },
      {
        file: join(root, "Pink Floyd", "The Wall", "02 The Thin Ice.flac"),
        encoding: "flac",
        tags: { ...wall, title: "The Thin Ice", track: 2 },
      },
    ],
    { frequency: 440, durationSeconds: 1 },
  );
  await encodeAlbum(
    [
      {
        file: join(root, "Yes", "Fragile", "01 Roundabout.flac"),
        encoding: "flac",
        tags: { artist: "Yes", album: "Fragile", title: "Roundabout", track: 1, date: "1971", genres: ["Prog"] },
      },
    ],
    { frequency: 330, durationSeconds: 1 },
  );
  const dbPath = join(dir, "library.db");
  const lib = openLibrary(dbPath);
  await scanLibrary({ lib }, { roots: [root], threads: 0 });
  return {
    dir,
    root,
    dbPath,
    lib,
    cleanup: async () => {
      lib.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function fileIdOf(lib: Library, path: string): number {
  const row = lib.sqlite.prepare("SELECT file_id AS id FROM files WHERE path_text = ?").get(path) as { id: number } | undefined;
  if (!row) throw new Error(`not in the library: ${path}`);
  return row.id;
}

/** Waits (without a deadline on speed) until cond holds; fails after ~5 s so a broken test ends. */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error("condition not reached");
}
