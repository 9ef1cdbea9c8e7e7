import { copyFile, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { isMusicfsError } from "@musicfs/core";
import { buildOverlay, type OverlayLayout, type OverlayTags, readOverlayRange } from "@musicfs/tags";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBareMp3, makeCover, mutagen, run } from "./overlay-fixtures.js";

const ENRICHED: OverlayTags = {
  title: "New Title",
  track: 4,
  genres: ["Progressive Rock", "Art Rock"],
  label: "Harvest",
  albumType: "album",
  mbReleaseGroupId: "f5093c06-23e3-404f-aeaa-40f72885ee3a",
};

let dir: string;
let cover: string;
let bare: string;

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

/** Overlays `origin`, writes the served file and checks what every MP3 overlay must hold. */
async function overlayAndCheck(origin: string, name: string, tags: OverlayTags = ENRICHED) {
  const layout = await buildOverlay(origin, "mp3", tags);
  expect(layout).not.toBeNull();
  const out = join(dir, name);
  const served = await serve(layout!, origin, out);
  expect((await readFile(out)).length).toBe(layout!.size);
  const originBytes = await readFile(origin);
  const audio = served.subarray(layout!.header.length, layout!.header.length + (layout!.originAudioEnd - layout!.originAudioOffset));
  expect(audio.equals(originBytes.subarray(layout!.originAudioOffset, layout!.originAudioEnd))).toBe(true);
  const { stderr } = await run("ffmpeg", ["-v", "error", "-i", out, "-map", "0:a", "-f", "null", "-"]);
  expect(stderr).toBe("");
  const id3 = await mutagen(dir, "id3", out);
  expect(id3.version).toEqual([2, 4, 0]);
  return { layout: layout!, out, served, originBytes, frames: id3.frames };
}

/** The hex data of the one PRIV frame (mutagen keys PRIV frames by owner and data). */
function privData(frames: Record<string, unknown>): unknown {
  return Object.entries(frames).find(([key]) => key.startsWith("PRIV:"))?.[1];
}

async function pcmMd5(path: string): Promise<string> {
  const { stdout } = await run("ffmpeg", ["-v", "error", "-i", path, "-map", "0:a", "-f", "md5", "-"]);
  return stdout.toString("utf8").trim();
}

// Hand-built ID3v2 pieces for the layouts mutagen cannot write (unsynchronisation, extended header, footer, v2.2).
function syncsafe(n: number): Buffer {
  return Buffer.of((n >>> 21) & 0x7f, (n >>> 14) & 0x7f, (n >>> 7) & 0x7f, n & 0x7f);
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
function latin1Text(s: string): Buffer {
  return Buffer.from(`\x00${s}`, "latin1");
}
function frame23(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, "latin1"), u32(body.length), Buffer.of(0, 0), body]);
}
function frame24(id: string, data: Buffer, format = 0, plainSize = false): Buffer {
  return Buffer.concat([Buffer.from(id, "latin1"), plainSize ? u32(data.length) : syncsafe(data.length), Buffer.of(0, format), data]);
}
function frame22(id: string, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(id, "latin1"),
    Buffer.of((body.length >>> 16) & 0xff, (body.length >>> 8) & 0xff, body.length & 0xff),
    body,
  ]);
}
function tag(version: number, flags: number, body: Buffer, footer = false): Buffer {
  const head = Buffer.concat([Buffer.from("ID3", "latin1"), Buffer.of(version, 0, flags), syncsafe(body.length)]);
  const foot = footer ? Buffer.concat([Buffer.from("3DI", "latin1"), head.subarray(3)]) : Buffer.alloc(0);
  return Buffer.concat([head, body, foot]);
}
function unsynchronise(b: Buffer): Buffer {
  const out: number[] = [];
  for (const c of b) {
    out.push(c);
    if (c === 0xff) out.push(0);
  }
  return Buffer.from(out);
}

async function withTag(name: string, id3: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([id3, await readFile(bare)]));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-overlay-mp3-"));
  [cover, bare] = await Promise.all([makeCover(dir), makeBareMp3(dir)]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("MP3 overlay", () => {
  it("rebuilds an ID3v2.3 tag as ID3v2.4 with the enriched frames and keeps APIC, COMM, PRIV and the ID3v1 trailer", async () => {
    const origin = join(dir, "v23.mp3");
    await copyFile(bare, origin);
    await mutagen(dir, "tag_mp3", origin, "3", cover, "1");
    const before = await mutagen(dir, "id3", origin);
    expect(before.version).toEqual([2, 3, 0]);

    const { layout, served, originBytes, frames, out } = await overlayAndCheck(origin, "v23-served.mp3");
    expect(frames.TCON).toEqual(["Progressive Rock", "Art Rock"]);
    expect(frames.TPUB).toEqual(["Harvest"]);
    expect(frames["TXXX:MusicBrainz Album Type"]).toEqual(["album"]);
    expect(frames["TXXX:MusicBrainz Release Group Id"]).toEqual(["f5093c06-23e3-404f-aeaa-40f72885ee3a"]);
    expect(frames["TXXX:Custom"]).toEqual(["keep"]);
    expect(frames.TIT2).toEqual(["New Title"]);
    expect(frames.TPE1).toEqual(["Origin Artist"]);
    expect(frames.TRCK).toEqual(["4/12"]); // new track number, origin's total
    // mutagen wrote TYER + TDAT for the v2.3 origin; the overlay turns them back into TDRC.
    expect(frames.TDRC).toEqual(["2001-05-03"]);
    expect(frames.TYER).toBeUndefined();
    expect(frames.TDAT).toBeUndefined();
    expect(frames["APIC:front"]).toEqual(before.frames["APIC:front"]);
    expect(frames["COMM::eng"]).toEqual(["keep this comment"]);
    expect(privData(frames)).toBe(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("hex"));

    // ID3v1: comment and genre kept byte for byte, title updated, track set in the v1.1 slot.
    const v1Before = originBytes.subarray(originBytes.length - 128);
    const v1After = served.subarray(served.length - 128);
    expect(layout.originAudioEnd).toBe(originBytes.length - 128);
    expect(v1After.toString("latin1", 0, 3)).toBe("TAG");
    expect(v1After.toString("latin1", 3, 33).replace(/\0+$/, "")).toBe("New Title");
    expect(v1After.subarray(33, 126).equals(v1Before.subarray(33, 126))).toBe(true);
    expect(v1After[126]).toBe(4);
    expect(v1After[127]).toBe(v1Before[127]);
    expect(await pcmMd5(out)).toBe(await pcmMd5(origin));
  });

  it("rewrites an ID3v2.4 tag in the origin tag's space when the new frames fit", async () => {
    const origin = join(dir, "v24.mp3");
    await copyFile(bare, origin);
    await mutagen(dir, "tag_mp3", origin, "4", cover, "0");
    const { layout, originBytes, frames } = await overlayAndCheck(origin, "v24-served.mp3");
    expect(layout.size).toBe(originBytes.length);
    expect(layout.trailer.length).toBe(0);
    expect(layout.originAudioEnd).toBe(originBytes.length);
    expect(frames.TCON).toEqual(["Progressive Rock", "Art Rock"]);
    expect(frames.TPUB).toEqual(["Harvest"]);
    expect(frames["TXXX:MusicBrainz Album Type"]).toEqual(["album"]);
    expect(frames["APIC:front"]).toMatchObject({ mime: "image/png", desc: "front" });
    expect(frames["COMM::eng"]).toEqual(["keep this comment"]);
    expect(frames.TDRC).toEqual(["2001-05-03"]);
  });

  it("gives a file without any tag a new ID3v2.4 tag", async () => {
    const { layout, frames, out } = await overlayAndCheck(bare, "bare-served.mp3");
    expect(layout.originAudioOffset).toBe(0);
    expect(layout.trailer.length).toBe(0);
    expect(frames).toEqual({
      TIT2: ["New Title"],
      TRCK: ["4"],
      TCON: ["Progressive Rock", "Art Rock"],
      TPUB: ["Harvest"],
      "TXXX:MusicBrainz Album Type": ["album"],
      "TXXX:MusicBrainz Release Group Id": ["f5093c06-23e3-404f-aeaa-40f72885ee3a"],
    });
    expect(await pcmMd5(out)).toBe(await pcmMd5(bare));
  });

  it("gives the same tag when overlaying an already overlaid file", async () => {
    const origin = join(dir, "idem.mp3");
    await copyFile(bare, origin);
    await mutagen(dir, "tag_mp3", origin, "3", cover, "1");
    const first = await buildOverlay(origin, "mp3", ENRICHED);
    const once = join(dir, "idem-once.mp3");
    await serve(first!, origin, once);
    const second = await buildOverlay(once, "mp3", ENRICHED);
    expect(second!.header.equals(first!.header)).toBe(true);
    expect(second!.trailer.equals(first!.trailer)).toBe(true);
    expect(second!.size).toBe(first!.size);
    const count = (b: Buffer, s: string) => b.toString("latin1").split(s).length - 1;
    expect(count(second!.header, "TCON")).toBe(1);
    expect(count(second!.header, "MusicBrainz Album Type")).toBe(1);
  });

  it("reads an unsynchronised ID3v2.3 tag with an extended header and converts TYER/TDAT/TIME to TDRC", async () => {
    const priv = Buffer.from([0xff, 0xe0, 0xff, 0x00, 0x12, 0xff]);
    const frames = Buffer.concat([
      frame23("TIT2", latin1Text("Unsync Title")),
      frame23("PRIV", Buffer.concat([Buffer.from("owner\0", "latin1"), priv])),
      frame23("TYER", latin1Text("1999")),
      frame23("TDAT", latin1Text("2412")),
      frame23("TIME", latin1Text("1830")),
    ]);
    const extended = Buffer.concat([u32(6), Buffer.alloc(6)]);
    const origin = await withTag("unsync23.mp3", tag(3, 0x80 | 0x40, unsynchronise(Buffer.concat([extended, frames, Buffer.alloc(64)]))));
    const { layout, frames: out } = await overlayAndCheck(origin, "unsync23-served.mp3", { label: "L" });
    expect(out.TIT2).toEqual(["Unsync Title"]);
    expect(privData(out)).toBe(priv.toString("hex"));
    expect(out.TDRC).toEqual(["1999-12-24 18:30"]); // mutagen renders the ISO "T" as a space
    expect(layout.header.includes("1999-12-24T18:30")).toBe(true);
    expect(out.TPUB).toEqual(["L"]);
    expect(Object.keys(out).filter((k) => ["TYER", "TDAT", "TIME"].includes(k))).toEqual([]);
  });

  it("reads ID3v2.4 frames with a footer, per-frame unsynchronisation, compression, grouping and data length indicators", async () => {
    const title = Buffer.from("\x00Ti\xfftle", "latin1"); // 0xFF needs unsynchronisation
    const album = Buffer.from("\x03Compressed Album", "latin1");
    const zipped = deflateSync(album);
    const body = Buffer.concat([
      frame24("TIT2", Buffer.concat([syncsafe(title.length), unsynchronise(title)]), 0x02 | 0x01),
      frame24("TALB", Buffer.concat([syncsafe(album.length), zipped]), 0x08 | 0x01),
      frame24("TPE1", Buffer.concat([Buffer.of(7), Buffer.from("\x03Grouped Artist", "latin1")]), 0x40),
    ]);
    const id3 = tag(4, 0x10, body, true);
    const origin = await withTag("v24-footer.mp3", id3);
    const { layout, frames } = await overlayAndCheck(origin, "v24-footer-served.mp3", { label: "L" });
    expect(layout.originAudioOffset).toBe(id3.length);
    expect(frames.TIT2).toEqual(["Ti\u00fftle"]);
    expect(frames.TALB).toEqual(["Compressed Album"]);
    expect(frames.TPE1).toEqual(["Grouped Artist"]);
  });

  it("reads ID3v2.4 frame sizes written as plain integers (iTunes)", async () => {
    const long = "c".repeat(300);
    const body = Buffer.concat([
      frame24("COMM", Buffer.from(`\x00eng\x00${long}`, "latin1"), 0, true),
      frame24("TIT2", latin1Text("After Comment"), 0, true),
      Buffer.alloc(32),
    ]);
    const origin = await withTag("itunes.mp3", tag(4, 0, body));
    const { frames } = await overlayAndCheck(origin, "itunes-served.mp3", { label: "L" });
    expect(frames["COMM::eng"]).toEqual([long]);
    expect(frames.TIT2).toEqual(["After Comment"]);
  });

  it("converts an ID3v2.2 tag, PIC included, to ID3v2.4", async () => {
    const jpeg = await readFile(await makeCover(dir, "jpg"));
    const body = Buffer.concat([
      frame22("TT2", latin1Text("Old Title")),
      frame22("TP1", latin1Text("Old Artist")),
      frame22("COM", Buffer.from("\x00eng\x00old comment", "latin1")),
      frame22("PIC", Buffer.concat([Buffer.from("\x00JPG\x03cover\x00", "latin1"), jpeg])),
      frame22("CRM", Buffer.from("x\0y", "latin1")), // no v2.4 counterpart: dropped
    ]);
    const origin = await withTag("v22.mp3", tag(2, 0, body));
    const { frames } = await overlayAndCheck(origin, "v22-served.mp3", { genres: ["Jazz"] });
    expect(frames.TIT2).toEqual(["Old Title"]);
    expect(frames.TPE1).toEqual(["Old Artist"]);
    expect(frames.TCON).toEqual(["Jazz"]);
    expect(frames["COMM::eng"]).toEqual(["old comment"]);
    expect(frames["APIC:cover"]).toMatchObject({ mime: "image/jpeg", desc: "cover" });
    expect(Object.keys(frames).sort()).toEqual(["APIC:cover", "COMM::eng", "TCON", "TIT2", "TPE1"]);
  });

  it("rejects a tag that claims more bytes than the file or the tag holds with TAG_PARSE_FAILED", async () => {
    const bareBytes = await readFile(bare);
    const huge = join(dir, "huge-tag.mp3");
    await writeFile(huge, Buffer.concat([Buffer.from("ID3\x04\x00\x00", "latin1"), syncsafe(bareBytes.length * 4), bareBytes]));
    await expect(buildOverlay(huge, "mp3", ENRICHED)).rejects.toSatisfy((e) => isMusicfsError(e, "TAG_PARSE_FAILED"));
    const overrun = await withTag(
      "overrun.mp3",
      tag(3, 0, Buffer.concat([Buffer.from("TIT2", "latin1"), u32(5000), Buffer.alloc(2), latin1Text("x")])),
    );
    await expect(buildOverlay(overrun, "mp3", ENRICHED)).rejects.toSatisfy((e) => isMusicfsError(e, "TAG_PARSE_FAILED"));
  });
});
