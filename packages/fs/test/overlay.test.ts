import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, silentLogger } from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import { readTagsIndependently } from "@musicfs/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MountedLibrary, mountLibrary } from "../src/index.js";
import { catBytes, eventually, forceUnmount, insertTrack, makeAudio, python, run } from "./fixtures.js";

let dir: string;
let music: string;
let mnt: string;
let lib: Library;
let mounted: MountedLibrary | undefined;
const ids: Record<string, number> = {};

const ENRICHED = { genres: ["Progressive Rock", "Art Rock"], label: "Harvest", enrichmentSource: "provider" as const };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-overlay-"));
  music = join(dir, "music");
  mnt = join(dir, "mnt");
  await mkdir(mnt);
  const tags = { title: "Hey You", artist: "Pink Floyd", album: "The Wall", track: "1", comment: "keep me", genre: "Rock" };
  await makeAudio(join(music, "wall/hey.flac"), { format: "flac", tags, picture: true, seconds: 2 });
  await makeAudio(join(music, "wall/hey.mp3"), { format: "mp3", tags, picture: true, seconds: 2 });
  await makeAudio(join(music, "wall/later.flac"), { format: "flac", tags: { ...tags, title: "Later" }, picture: true });
  lib = openLibrary(join(dir, "library.db"));
  const common = { root: music, artist: "Pink Floyd", album: "The Wall", track: 1, year: 1979 };
  ids.flac = await insertTrack(lib, { ...common, ...ENRICHED, path: join(music, "wall/hey.flac"), title: "Hey You" });
  ids.mp3 = await insertTrack(lib, { ...common, ...ENRICHED, path: join(music, "wall/hey.mp3"), title: "Hey You (mp3)" });
  ids.later = await insertTrack(lib, { ...common, path: join(music, "wall/later.flac"), title: "Later", track: 2 });
  mounted = await mountLibrary({ lib, config: parseConfig({ mount: { refresh_ms: 100 } }), log: silentLogger() }, mnt);
});

afterAll(async () => {
  await mounted?.unmount().catch(() => undefined);
  await forceUnmount(mnt);
  lib?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Decoded audio hashed by ffmpeg: equal when the audio frames are. */
async function audioMd5(path: string): Promise<string> {
  const r = await run("ffmpeg", ["-loglevel", "error", "-i", path, "-map", "0:a", "-f", "md5", "-"]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

const RANDOM_READS = `
import os, sys, random, hashlib
p = sys.argv[1]
with open(p, "rb") as f:
  whole = f.read()
size = os.stat(p).st_size
fd = os.open(p, os.O_RDONLY)
rng = random.Random(42)
bad = 0
for _ in range(300):
  off = rng.randrange(0, size)
  n = rng.choice([1, 7, 4096, 65536, 200000])
  got = os.pread(fd, n, off)
  if got != whole[off:off + n]:
    bad += 1
os.close(fd)
print(len(whole), size, bad)
`;

describe.each([
  ["flac", "Artists/Pink Floyd/1979 - The Wall/01 Hey You.flac", "wall/hey.flac"],
  ["mp3", "Artists/Pink Floyd/1979 - The Wall/01 Hey You (mp3).mp3", "wall/hey.mp3"],
])("overlay for %s", (format, served, origin) => {
  it("serves the enriched tags while keeping the original tags and pictures", async () => {
    const before = await readTagsIndependently(join(music, origin));
    const after = await readTagsIndependently(join(mnt, served));
    expect(after.type).toBe(before.type);
    expect(after.common.genre).toEqual(["Progressive Rock", "Art Rock"]);
    expect(after.common.title).toEqual([format === "flac" ? "Hey You" : "Hey You (mp3)"]);
    expect(after.common.artist).toEqual(["Pink Floyd"]);
    expect(JSON.stringify(after.raw)).toContain("Harvest");
    expect(JSON.stringify(after.raw)).toContain("keep me");
    expect(after.pictureCount).toBe(1);
    expect(before.pictureCount).toBe(1);
    expect(before.common.genre).toEqual(["Rock"]);
  });

  it("serves the origin's audio unchanged", async () => {
    expect(await audioMd5(join(mnt, served))).toBe(await audioMd5(join(music, origin)));
  });

  it("reports a stat size equal to the bytes read, and random reads equal a sequential read", async () => {
    const r = await python(RANDOM_READS, [join(mnt, served)]);
    const [read, size, bad] = r.stdout.trim().split(" ").map(Number);
    expect(read).toBe(size);
    expect(bad).toBe(0);
    expect((await catBytes(join(mnt, served))).length).toBe(size);
  });
});

describe("FLAC overlay checked by the reference tools", () => {
  it("passes flac -t and lists the enriched genres in metaflac", async () => {
    const served = join(mnt, "Artists/Pink Floyd/1979 - The Wall/01 Hey You.flac");
    const test = await run("flac", ["-t", "--silent", served]);
    expect(test.code).toBe(0);
    const list = await run("metaflac", ["--list", "--block-type=VORBIS_COMMENT,PICTURE", served]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("GENRE=Progressive Rock");
    expect(list.stdout).toContain("GENRE=Art Rock");
    expect(list.stdout).toContain("type: 6 (PICTURE)");
  });
});

describe("consistency while enrichment lands", () => {
  const served = () => join(mnt, "Artists/Pink Floyd/1979 - The Wall/02 Later.flac");

  it("keeps an open handle on its version; the next open sees the new tags, a new mtime and an exact size", async () => {
    const before = await run("stat", ["-c", "%s %Y", served()]);
    const mtimeBefore = Number(before.stdout.trim().split(" ")[1]);
    // A reader that opens now, reads the first 4 KiB, waits for a line on stdin, then reads the rest.
    const reader = spawn("/usr/bin/python3", [
      "-c",
      `import sys, hashlib
f = open(sys.argv[1], "rb")
head = f.read(4096)
print("opened", flush=True)
sys.stdin.readline()
data = head + f.read()
print(len(data), hashlib.sha256(data).hexdigest(), flush=True)`,
      served(),
    ]);
    const out: string[] = [];
    reader.stdout.on("data", (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | null>((r) => reader.on("close", r));
    try {
      await eventually(async () => out.join("").includes("opened"));
      const oldBytes = await catBytes(served());

      const writer = openLibrary(lib.path);
      try {
        writer.sqlite
          .prepare(
            `UPDATE file_metadata SET genres_json = ?, genre = ?, label = ?, enrichment_source = 'provider', enriched_at = ?,
               metadata_version = metadata_version + 1, updated_at = ? WHERE file_id = ?`,
          )
          .run(JSON.stringify(["Art Rock"]), "Art Rock", "Harvest", Date.now(), Date.now() + 5000, ids.later);
      } finally {
        writer.close();
      }
      const after = await eventually(async () => {
        const st = (await run("stat", ["-c", "%s %Y", served()])).stdout.trim().split(" ").map(Number);
        return st[1]! > mtimeBefore ? st : undefined;
      });
      // FLAC keeps its padding budget, so the size may stay; what matters is that it is exact.
      expect(after[0]).toBe((await catBytes(served())).length);
      expect((await readTagsIndependently(served())).common.genre).toEqual(["Art Rock"]);

      reader.stdin.end("go\n");
      expect(await exited).toBe(0);
      const [length, hash] = out.join("").trim().split("\n").at(-1)!.split(" ");
      expect(Number(length)).toBe(oldBytes.length);
      const { createHash } = await import("node:crypto");
      expect(hash).toBe(createHash("sha256").update(oldBytes).digest("hex"));
    } finally {
      reader.kill();
    }
  });
});
