import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, silentLogger } from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MountedLibrary, mountLibrary } from "../src/index.js";
import { catBytes, eventually, forceUnmount, insertTrack, listTree, makeAudio, python, run } from "./fixtures.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let dir: string;
let music: string;
let mnt: string;
let lib: Library;
let mounted: MountedLibrary | undefined;
const ids: Record<string, number> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-mount-"));
  music = join(dir, "music");
  mnt = join(dir, "mnt");
  await mkdir(mnt);
  await makeAudio(join(music, "Pink Floyd/The Wall/01.flac"), { format: "flac", tags: { title: "In the Flesh?", artist: "Pink Floyd" } });
  await makeAudio(join(music, "Pink Floyd/The Wall/02.flac"), { format: "flac", tags: { title: "The Thin Ice" } });
  await makeAudio(join(music, "acdc/back.mp3"), { format: "mp3", tags: { title: "Hells Bells" } });
  // A file name that is not valid UTF-8: the origin must still be opened by its raw bytes.
  const latin1 = Buffer.concat([Buffer.from(`${music}/caf`), Buffer.from([0xe9]), Buffer.from(".flac")]);
  await copyFile(join(music, "Pink Floyd/The Wall/01.flac"), latin1);

  lib = openLibrary(join(dir, "library.db"));
  const root = music;
  ids.flesh = await insertTrack(lib, {
    path: join(music, "Pink Floyd/The Wall/01.flac"),
    root,
    title: "In the Flesh?",
    artist: "Pink Floyd",
    album: "The Wall",
    track: 1,
    year: 1979,
    genres: ["Progressive Rock", "Art Rock"],
    label: "Harvest",
  });
  ids.ice = await insertTrack(lib, {
    path: join(music, "Pink Floyd/The Wall/02.flac"),
    root,
    title: "The Thin Ice",
    artist: "Pink Floyd",
    album: "The Wall",
    track: 2,
    year: 1979,
  });
  ids.bells = await insertTrack(lib, {
    path: join(music, "acdc/back.mp3"),
    root,
    title: "Hells Bells",
    artist: "AC/DC",
    album: "Back in Black",
    track: 1,
    year: 1980,
  });
  ids.cafe = await insertTrack(lib, { path: latin1, root, title: null, artist: null, album: null });
  // Hostile tags, pointing at a real file.
  ids.escape = await insertTrack(lib, {
    path: `${music}/acdc/escape.mp3`,
    root,
    title: "../../etc/passwd",
    artist: "..",
    album: ".",
    track: 3,
    size: 1,
    mtimeUs: 0,
  });
  ids.control = await insertTrack(lib, {
    path: `${music}/acdc/control.mp3`,
    root,
    title: "Bad\u0000Name\u0007\nHere",
    artist: "A\u202eB",
    album: "X",
    size: 1,
    mtimeUs: 0,
  });
  ids.long = await insertTrack(lib, {
    path: `${music}/acdc/long.mp3`,
    root,
    title: "é".repeat(300),
    artist: "L",
    album: "L",
    size: 1,
    mtimeUs: 0,
  });
  ids.dup1 = await insertTrack(lib, {
    path: `${music}/dup/b.mp3`,
    root,
    title: "Same",
    artist: "Dup",
    album: "D",
    track: 1,
    size: 1,
    mtimeUs: 0,
  });
  ids.dup2 = await insertTrack(lib, {
    path: `${music}/dup/a.mp3`,
    root,
    title: "Same",
    artist: "Dup",
    album: "D",
    track: 1,
    size: 1,
    mtimeUs: 0,
  });

  mounted = await mountLibrary({ lib, config: parseConfig({ mount: { refresh_ms: 100 } }), log: silentLogger() }, mnt);
});

afterAll(async () => {
  await mounted?.unmount().catch(() => undefined);
  await forceUnmount(mnt);
  lib?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("musicfs mount", () => {
  it("lays out the library under Artists, Genres, Labels, Years and Files from the database", async () => {
    const tree = await listTree(mnt);
    expect(tree).toEqual(
      expect.arrayContaining([
        "Artists/Pink Floyd/1979 - The Wall/01 In the Flesh?.flac",
        "Artists/Pink Floyd/1979 - The Wall/02 The Thin Ice.flac",
        "Artists/AC_DC/1980 - Back in Black/01 Hells Bells.mp3",
        "Genres/Progressive Rock/Pink Floyd/The Wall/01 In the Flesh?.flac",
        "Genres/Art Rock/Pink Floyd/The Wall/01 In the Flesh?.flac",
        "Labels/Harvest/Pink Floyd/The Wall/01 In the Flesh?.flac",
        "Years/1979/Pink Floyd/The Wall/02 The Thin Ice.flac",
        "Years/1980/AC_DC/Back in Black/01 Hells Bells.mp3",
        "Files/music/Pink Floyd/The Wall/01.flac",
        "Files/music/acdc/back.mp3",
        "Files/music/caf\ufffd.flac",
        "Artists/Unknown Artist/0000 - Unknown Album/00 caf\ufffd.flac",
      ]),
    );
    expect(tree.filter((p) => p.startsWith("Genres/")).length).toBe(8);
  });

  it("keeps hostile tags inside the tree with safe names", async () => {
    const tree = await listTree(mnt);
    expect(tree).toContain("Artists/__/0000 - ./03 .._.._etc_passwd.mp3");
    expect(tree).toContain("Artists/AB/0000 - X/00 Bad_NameHere.mp3");
    const long = tree.find((p) => p.startsWith("Artists/L/0000 - L/"))!;
    const leaf = long.split("/").at(-1)!;
    expect(Buffer.byteLength(leaf)).toBeLessThanOrEqual(255);
    expect(leaf.endsWith(".mp3")).toBe(true);
    expect(leaf).toBe(`00 ${"é".repeat(124)}.mp3`);
    // Same tags twice: the file whose origin path sorts first keeps the plain name.
    expect(tree).toContain("Artists/Dup/0000 - D/01 Same.mp3");
    expect(tree).toContain("Artists/Dup/0000 - D/01 Same (2).mp3");
    const xattr = await python("import os,sys; print(os.getxattr(sys.argv[1], 'user.musicfs.file_id').decode())", [
      join(mnt, "Artists/Dup/0000 - D/01 Same.mp3"),
    ]);
    expect(Number(xattr.stdout.trim())).toBe(ids.dup2);
    expect(tree.every((p) => !p.split("/").includes("..") && !p.split("/").includes("."))).toBe(true);
  });

  it("answers EROFS to every write operation", async () => {
    const file = join(mnt, "Artists/Pink Floyd/1979 - The Wall/01 In the Flesh?.flac");
    const dirPath = join(mnt, "Artists/Pink Floyd");
    const script = `
import os, sys, errno
f, d = sys.argv[1], sys.argv[2]
ops = {
  "open_write": lambda: os.open(f, os.O_WRONLY),
  "open_rdwr": lambda: os.open(f, os.O_RDWR),
  "open_trunc": lambda: os.open(f, os.O_RDONLY | os.O_TRUNC),
  "create": lambda: os.open(os.path.join(d, "new.flac"), os.O_CREAT | os.O_WRONLY, 0o644),
  "unlink": lambda: os.unlink(f),
  "rename": lambda: os.rename(f, os.path.join(d, "moved.flac")),
  "mkdir": lambda: os.mkdir(os.path.join(d, "newdir")),
  "rmdir": lambda: os.rmdir(d),
  "symlink": lambda: os.symlink(f, os.path.join(d, "link")),
  "link": lambda: os.link(f, os.path.join(d, "hard")),
  "mknod": lambda: os.mknod(os.path.join(d, "fifo"), 0o600 | 0o010000),
  "chmod": lambda: os.chmod(f, 0o777),
  "chown": lambda: os.chown(f, 1, 1),
  "utime": lambda: os.utime(f, (0, 0)),
  "truncate": lambda: os.truncate(f, 0),
  "setxattr": lambda: os.setxattr(f, "user.x", b"1"),
  "removexattr": lambda: os.removexattr(f, "user.musicfs.file_id"),
}
for name, op in ops.items():
  try:
    op(); print(name, "OK")
  except OSError as e:
    print(name, errno.errorcode.get(e.errno, e.errno))
`;
    const r = await python(script, [file, dirPath]);
    const results = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")),
    );
    expect(Object.keys(results)).toHaveLength(17);
    for (const [op, result] of Object.entries(results)) expect(`${op}:${result}`).toBe(`${op}:EROFS`);
  });

  it("serves files without an overlay byte for byte, with stat size equal to the bytes read", async () => {
    const served = join(mnt, "Artists/Pink Floyd/1979 - The Wall/01 In the Flesh?.flac");
    const bytes = await catBytes(served);
    const origin = await readFile(join(music, "Pink Floyd/The Wall/01.flac"));
    expect(sha(bytes)).toBe(sha(origin));
    const size = await run("stat", ["-c", "%s", served]);
    expect(Number(size.stdout)).toBe(bytes.length);
    expect(sha(await catBytes(join(mnt, "Files/music/caf\ufffd.flac")))).toBe(sha(origin));
  });

  it("exposes origin path, file id and enrichment source as user.musicfs.* attributes", async () => {
    const r = await python("import os,sys; p=sys.argv[1]; [print(n, os.getxattr(p, n).hex()) for n in sorted(os.listxattr(p))]", [
      join(mnt, "Files/music/caf\ufffd.flac"),
    ]);
    const attrs = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")),
    );
    expect(Buffer.from(attrs["user.musicfs.origin_path"]!, "hex")).toEqual(
      Buffer.concat([Buffer.from(`${music}/caf`), Buffer.from([0xe9]), Buffer.from(".flac")]),
    );
    expect(Buffer.from(attrs["user.musicfs.file_id"]!, "hex").toString()).toBe(String(ids.cafe));
    expect(Buffer.from(attrs["user.musicfs.enrichment_source"]!, "hex").toString()).toBe("embedded");
  });

  it("shows rows another connection adds, changes and removes without remounting", async () => {
    const writer = openLibrary(lib.path);
    try {
      await makeAudio(join(music, "new/one.flac"), { format: "flac" });
      const id = await insertTrack(writer, {
        path: join(music, "new/one.flac"),
        root: music,
        title: "Fresh",
        artist: "Newcomer",
        album: "Debut",
        track: 1,
      });
      await eventually(async () => (await listTree(join(mnt, "Artists"))).includes("Newcomer/0000 - Debut/01 Fresh.flac"));
      writer.sqlite
        .prepare("UPDATE file_metadata SET title = 'Renamed', metadata_version = metadata_version + 1, updated_at = ? WHERE file_id = ?")
        .run(Date.now(), id);
      await eventually(async () => (await listTree(join(mnt, "Artists"))).includes("Newcomer/0000 - Debut/01 Renamed.flac"));
      writer.sqlite.prepare("DELETE FROM files WHERE file_id = ?").run(id);
      await eventually(async () => !(await listTree(join(mnt, "Artists"))).some((p) => p.startsWith("Newcomer")));
    } finally {
      writer.close();
    }
  });

  it("gives an error for a file whose origin was deleted, and keeps serving the rest", async () => {
    const gone = join(music, "gone.flac");
    await copyFile(join(music, "Pink Floyd/The Wall/02.flac"), gone);
    const writer = openLibrary(lib.path);
    try {
      await insertTrack(writer, { path: gone, root: music, title: "Ghost", artist: "Gone", album: "Away" });
    } finally {
      writer.close();
    }
    const served = join(mnt, "Artists/Gone/0000 - Away/00 Ghost.flac");
    await eventually(async () => (await run("test", ["-e", served])).code === 0);
    await unlink(gone);
    const r = await run("cat", [served]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("No such file or directory");
    const ok = await catBytes(join(mnt, "Artists/Pink Floyd/1979 - The Wall/02 The Thin Ice.flac"));
    expect(ok.length).toBeGreaterThan(0);
  });
});
