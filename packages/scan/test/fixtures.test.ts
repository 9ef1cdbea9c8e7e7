import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Library, openLibrary } from "@musicfs/db";
import { scanLibrary } from "@musicfs/scan";
import { ensureFixtureLibrary, type FixtureManifest } from "@musicfs/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let work: string;
let root: string;
let manifest: FixtureManifest;
let lib: Library;
let summary: Awaited<ReturnType<typeof scanLibrary>>;

interface Row {
  path: Buffer;
  format: string;
  has_picture: number;
  title: string | null;
  artist: string | null;
  album: string | null;
  albumartist: string | null;
  track: number | null;
  track_total: number | null;
  disc: number | null;
  disc_total: number | null;
  year: number | null;
  genres_json: string;
  compilation: number;
  mb_releasegroup_id: string | null;
}

const FORMATS: Record<string, string> = { FLAC: "flac", MPEG: "mp3", Ogg: "ogg", "M4A/isom/iso2": "mp4", WAVE: "wav", AIFF: "aiff" };

beforeAll(async () => {
  ({ root, manifest } = await ensureFixtureLibrary());
  work = await mkdtemp(join(tmpdir(), "musicfs-fixtures-"));
  lib = openLibrary(join(work, "library.db"));
  summary = await scanLibrary({ lib }, { roots: [root], followSymlinks: true });
}, 120_000);
afterAll(async () => {
  lib?.close();
  await rm(work, { recursive: true, force: true });
});

const rowFor = (rel: string, hex?: string): Row | undefined => {
  const path = hex ? Buffer.concat([Buffer.from(`${root}/`), Buffer.from(hex, "hex")]) : Buffer.from(`${root}/${rel}`);
  return lib.sqlite.prepare("SELECT * FROM files f JOIN file_metadata m USING (file_id) WHERE f.path = ?").get(path) as Row | undefined;
};

describe("scanning the fixture library", () => {
  it("completes, with every good file in the library", () => {
    expect(summary.interrupted).toBe(false);
    const good = manifest.files.filter((f) => f.kind === "good");
    const missing = good.filter((f) => !rowFor(f.path, f.pathHex)).map((f) => f.path);
    expect(missing).toEqual([]);
    expect(summary.added).toBe(good.length + (process.getuid?.() === 0 ? 1 : 0)); // root can read unreadable.flac
  });

  it("extracts the tags the files carry", () => {
    for (const f of manifest.files.filter((x) => x.kind === "good" && x.tags)) {
      const row = rowFor(f.path, f.pathHex)!;
      const t = f.tags!;
      const expected = {
        title: t.title && t.title.length <= 1024 ? t.title.replace(/[\u0000-\u001f]/g, "") : row.title,
        artist: t.artist,
        album: t.album,
        albumartist: t.albumartist,
        track: t.track,
        track_total: t.trackTotal,
        disc: t.disc,
        disc_total: t.discTotal,
        year: t.year,
        genres: t.genres,
        compilation: t.compilation ? 1 : 0,
        has_picture: t.hasPicture ? 1 : 0,
        mb_releasegroup_id: t.musicbrainzReleaseGroupId,
        format: FORMATS[f.format ?? ""] ?? row.format,
      };
      const actual = {
        title: row.title,
        artist: row.artist,
        album: row.album,
        albumartist: row.albumartist,
        track: row.track,
        track_total: row.track_total,
        disc: row.disc,
        disc_total: row.disc_total,
        year: row.year,
        genres: JSON.parse(row.genres_json),
        compilation: row.compilation,
        has_picture: row.has_picture,
        mb_releasegroup_id: row.mb_releasegroup_id,
        format: row.format,
      };
      expect({ path: f.path, ...actual }).toEqual({ path: f.path, ...expected });
    }
  });

  it("records every bad file with a reason", () => {
    const errors = new Map(
      (
        lib.sqlite.prepare("SELECT path_text, code FROM scan_errors WHERE severity = 'error'").all() as {
          path_text: string;
          code: string;
        }[]
      ).map((e) => [e.path_text.slice(root.length + 1), e.code]),
    );
    const expectedCodes: Record<string, string[]> = {
      EMPTY: ["EMPTY_FILE"],
      CORRUPT: ["TRUNCATED", "CORRUPT", "UNSUPPORTED_FORMAT"],
      NOT_REGULAR: ["NOT_REGULAR_FILE"],
      SYMLINK: ["SYMLINK_LOOP", "DANGLING_SYMLINK"],
    };
    for (const f of manifest.files.filter((x) => x.kind === "bad" && x.errorClass !== "UNREADABLE")) {
      if (f.path.endsWith("/loop/up")) continue; // a directory link: the loop is recorded on the link itself below
      expect({ path: f.path, code: expectedCodes[f.errorClass!]?.includes(errors.get(f.path) ?? "") ? "ok" : errors.get(f.path) }).toEqual({
        path: f.path,
        code: "ok",
      });
    }
    expect([...errors.entries()].filter(([p]) => p.includes("loop"))).toEqual([["bad/loop/up", "SYMLINK_LOOP"]]);
    expect(summary.errors).toBe(errors.size);
  });

  it("cleans control characters and absurd lengths, and says so", () => {
    const warnings = lib.sqlite.prepare("SELECT path_text, code FROM scan_errors WHERE severity = 'warning' ORDER BY code").all() as {
      path_text: string;
      code: string;
    }[];
    expect(warnings.map((w) => [w.path_text.split("/").pop(), w.code])).toEqual(
      expect.arrayContaining([
        ["control-chars.flac", "TAG_CONTROL_CHARS"],
        ["long-title.flac", "TAG_TOO_LONG"],
      ]),
    );
    expect(rowFor("bad/control-chars.flac")?.title).not.toMatch(/[\u0000-\u001f]/);
    expect(rowFor("bad/long-title.flac")?.title?.length).toBe(1024);
  });

  it("groups tracks into the manifest's albums", () => {
    const keys = lib.sqlite.prepare("SELECT count(DISTINCT album_key) AS n FROM file_metadata WHERE album_key IS NOT NULL").get() as {
      n: number;
    };
    expect(keys.n).toBe(manifest.albums.length);
  });
});
