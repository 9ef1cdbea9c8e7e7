import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMusicfsError } from "@musicfs/core";
import { buildOverlay, FLAC_PADDING, type OverlayLayout, type OverlayTags, readOverlayRange } from "@musicfs/tags";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCover, makeFlac, mutagen, run } from "./overlay-fixtures.js";

const ENRICHED: OverlayTags = {
  genres: ["Progressive Rock", "Art Rock"],
  label: "Harvest",
  albumType: "album",
  mbReleaseGroupId: "f5093c06-23e3-404f-aeaa-40f72885ee3a",
  trackTotal: 10,
};

let dir: string;
let origin: string;

async function serve(layout: OverlayLayout, from: string, to: string): Promise<Buffer> {
  const fh = await open(from, "r");
  try {
    const bytes = await readOverlayRange(layout, fh, 0, layout.size);
    await writeFile(to, bytes);
    return bytes;
  } finally {
    await fh.close();
  }
}

/** metaflac --list, one entry per block: its type and its listing without the position-dependent lines. */
async function listBlocks(path: string): Promise<{ type: string; length: number; body: string }[]> {
  const { stdout } = await run("metaflac", ["--list", path]);
  return stdout
    .toString("utf8")
    .split(/^METADATA block #\d+\n/m)
    .filter((s) => s.trim() !== "")
    .map((s) => ({
      type: /type: \d+ \((\w+)\)/.exec(s)?.[1] ?? "?",
      length: Number(/length: (\d+)/.exec(s)?.[1]),
      body: s
        .split("\n")
        .filter((l) => !/^\s+(is last|length):/.test(l))
        .join("\n"),
    }));
}

async function decodePcm(path: string): Promise<Buffer> {
  const { stdout } = await run("flac", ["-d", "-s", "-c", "--force-raw-format", "--endian=little", "--sign=signed", path]);
  return stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-overlay-flac-"));
  origin = await makeFlac(dir, await makeCover(dir));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FLAC overlay", () => {
  it("rebuilds the metadata blocks with merged comments and leaves every other block and the audio untouched", async () => {
    const layout = await buildOverlay(origin, "flac", ENRICHED);
    expect(layout).not.toBeNull();
    const out = join(dir, "served.flac");
    const served = await serve(layout!, origin, out);
    expect((await readFile(out)).length).toBe(layout!.size);

    const before = await listBlocks(origin);
    const after = await listBlocks(out);
    expect(before.map((b) => b.type)).toEqual(["STREAMINFO", "SEEKTABLE", "VORBIS_COMMENT", "PICTURE", "PADDING"]);
    expect(after.map((b) => b.type)).toEqual(["STREAMINFO", "SEEKTABLE", "VORBIS_COMMENT", "PICTURE", "PADDING"]);
    for (const type of ["STREAMINFO", "SEEKTABLE", "PICTURE"]) {
      expect(after.find((b) => b.type === type)?.body).toBe(before.find((b) => b.type === type)?.body);
    }

    await run("flac", ["-t", "-s", out]); // throws on a non-zero exit
    const tags = await mutagen(dir, "flac", out);
    expect(tags.tags.GENRE).toEqual(["Progressive Rock", "Art Rock"]);
    expect(tags.tags.LABEL).toEqual(["Harvest"]);
    expect(tags.tags.RELEASETYPE).toEqual(["album"]);
    expect(tags.tags.MUSICBRAINZ_RELEASEGROUPID).toEqual(["f5093c06-23e3-404f-aeaa-40f72885ee3a"]);
    expect(tags.tags.TRACKTOTAL).toEqual(["10"]);
    expect(tags.tags.TOTALTRACKS).toBeUndefined();
    expect(tags.tags.TITLE).toEqual(["Origin Title"]);
    expect(tags.tags.ARTIST).toEqual(["Origin Artist"]);
    expect(tags.tags.COMMENT).toEqual(["keep me"]);
    expect(tags.pictures).toEqual((await mutagen(dir, "flac", origin)).pictures);

    const originBytes = await readFile(origin);
    expect(served.subarray(layout!.header.length).equals(originBytes.subarray(layout!.originAudioOffset))).toBe(true);
    expect((await decodePcm(out)).equals(await decodePcm(origin))).toBe(true);
  });

  it("keeps the origin's size when the new comment fits in the old comment and padding", async () => {
    const layout = await buildOverlay(origin, "flac", ENRICHED);
    const size = (await readFile(origin)).length;
    expect(layout!.size).toBe(size);
    expect(layout!.header.length).toBe(layout!.originAudioOffset);
  });

  it("falls back to a fixed padding when the new comment outgrows the old comment and padding", async () => {
    const layout = await buildOverlay(origin, "flac", { title: "x".repeat(20_000) });
    const out = join(dir, "big.flac");
    await serve(layout!, origin, out);
    await run("flac", ["-t", "-s", out]);
    const after = await listBlocks(out);
    expect(after.at(-1)?.type).toBe("PADDING");
    expect(after.at(-1)?.length).toBe(FLAC_PADDING);
    expect((await mutagen(dir, "flac", out)).tags.TITLE).toEqual(["x".repeat(20_000)]);
  });

  it("gives the same header when overlaying an already overlaid file", async () => {
    const first = await buildOverlay(origin, "flac", ENRICHED);
    const once = join(dir, "once.flac");
    await serve(first!, origin, once);
    const second = await buildOverlay(once, "flac", ENRICHED);
    expect(second!.header.equals(first!.header)).toBe(true);
    const twice = join(dir, "twice.flac");
    await serve(second!, once, twice);
    expect((await mutagen(dir, "flac", twice)).tags.GENRE).toEqual(["Progressive Rock", "Art Rock"]);
  });

  it("drops an ID3v2 tag prepended to a FLAC and computes the audio offset after it", async () => {
    const id3 = Buffer.concat([Buffer.from("ID3\x03\x00\x00\x00\x00\x00\x20", "latin1"), Buffer.alloc(32)]);
    const originBytes = await readFile(origin);
    const prefixed = join(dir, "id3-prefixed.flac");
    await writeFile(prefixed, Buffer.concat([id3, originBytes]));
    const plain = await buildOverlay(origin, "flac", ENRICHED);
    const layout = await buildOverlay(prefixed, "flac", ENRICHED);
    expect(layout!.originAudioOffset).toBe(plain!.originAudioOffset + id3.length);
    expect(layout!.header.equals(plain!.header)).toBe(true);
    const out = join(dir, "id3-prefixed-served.flac");
    const served = await serve(layout!, prefixed, out);
    expect(served.toString("latin1", 0, 4)).toBe("fLaC");
    await run("flac", ["-t", "-s", out]);
  });

  it("inserts a VORBIS_COMMENT after STREAMINFO when the origin has none", async () => {
    const bare = join(dir, "no-comment.flac");
    await writeFile(bare, await readFile(origin));
    await run("metaflac", ["--remove", "--block-type=VORBIS_COMMENT,PADDING", "--dont-use-padding", bare]);
    expect((await listBlocks(bare)).map((b) => b.type)).toEqual(["STREAMINFO", "SEEKTABLE", "PICTURE"]);
    const layout = await buildOverlay(bare, "flac", { genres: ["Jazz"], title: "T" });
    const out = join(dir, "no-comment-served.flac");
    await serve(layout!, bare, out);
    await run("flac", ["-t", "-s", out]);
    expect((await listBlocks(out)).map((b) => b.type)).toEqual(["STREAMINFO", "VORBIS_COMMENT", "SEEKTABLE", "PICTURE", "PADDING"]);
    const tags = await mutagen(dir, "flac", out);
    expect(tags.tags).toEqual({ TITLE: ["T"], GENRE: ["Jazz"] });
  });

  it("rejects a truncated or foreign header with TAG_PARSE_FAILED", async () => {
    const originBytes = await readFile(origin);
    const truncated = join(dir, "truncated.flac");
    await writeFile(truncated, originBytes.subarray(0, 300)); // ends inside the metadata blocks
    await expect(buildOverlay(truncated, "flac", ENRICHED)).rejects.toSatisfy((e) => isMusicfsError(e, "TAG_PARSE_FAILED"));
    const foreign = join(dir, "foreign.flac");
    await writeFile(foreign, Buffer.concat([Buffer.from("OggS"), originBytes.subarray(4)]));
    await expect(buildOverlay(foreign, "flac", ENRICHED)).rejects.toSatisfy((e) => isMusicfsError(e, "TAG_PARSE_FAILED"));
    const badComment = Buffer.from(originBytes);
    const vcAt = (await buildOverlay(origin, "flac", {}))!.header.indexOf(Buffer.from("reference libFLAC")) - 4;
    badComment.writeUInt32LE(0xffff, vcAt); // vendor length runs past the block
    const corrupt = join(dir, "bad-comment.flac");
    await writeFile(corrupt, badComment);
    await expect(buildOverlay(corrupt, "flac", ENRICHED)).rejects.toSatisfy((e) => isMusicfsError(e, "TAG_PARSE_FAILED"));
  });

  it("returns null for formats it does not rewrite", async () => {
    expect(await buildOverlay(origin, "ogg", ENRICHED)).toBeNull();
    expect(await buildOverlay(origin, "mp4", ENRICHED)).toBeNull();
  });
});
