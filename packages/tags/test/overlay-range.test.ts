import { copyFile, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "@musicfs/core";
import { buildOverlay, type OverlayLayout, readOverlayInto, readOverlayRange } from "@musicfs/tags";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBareMp3, makeCover, mutagen } from "./overlay-fixtures.js";

let dir: string;
let origin: string;
let layout: OverlayLayout;
let assembled: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-overlay-range-"));
  const [cover, bare] = await Promise.all([makeCover(dir), makeBareMp3(dir)]);
  origin = join(dir, "origin.mp3");
  await copyFile(bare, origin);
  await mutagen(dir, "tag_mp3", origin, "3", cover, "1"); // ID3v2 + audio + ID3v1: all three served parts
  layout = (await buildOverlay(origin, "mp3", { genres: ["Ambient"], title: "Range" }))!;
  const bytes = await readFile(origin);
  assembled = Buffer.concat([layout.header, bytes.subarray(layout.originAudioOffset, layout.originAudioEnd), layout.trailer]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readOverlayRange", () => {
  it("has a header, a copied middle and a trailer in the fixture", () => {
    expect(layout.header.length).toBeGreaterThan(0);
    expect(layout.trailer.length).toBe(128);
    expect(assembled.length).toBe(layout.size);
  });

  it("returns the same bytes as slicing the fully assembled file, at random offsets and lengths", async () => {
    const random = seededRandom(20240611);
    const fh = await open(origin, "r");
    try {
      const boundaries = [0, layout.header.length, layout.size - layout.trailer.length, layout.size];
      for (let i = 0; i < 300; i++) {
        // Half the reads start near a boundary between the parts, where off-by-one errors live.
        const near = boundaries[Math.floor(random() * boundaries.length)]!;
        const offset = i % 2 === 0 ? Math.max(0, near + Math.floor(random() * 16) - 8) : Math.floor(random() * (layout.size + 64));
        const length = Math.floor(random() * (random() < 0.2 ? layout.size : 4096));
        const got = await readOverlayRange(layout, fh, offset, length);
        expect(got.equals(assembled.subarray(offset, offset + length)), `offset ${offset} length ${length}`).toBe(true);
      }
    } finally {
      await fh.close();
    }
  });

  it("fills a caller's buffer and reports how many bytes it wrote at the end of the file", async () => {
    const fh = await open(origin, "r");
    try {
      const target = Buffer.alloc(200, 0xaa);
      const n = await readOverlayInto(layout, fh, target, layout.size - 50);
      expect(n).toBe(50);
      expect(target.subarray(0, 50).equals(assembled.subarray(layout.size - 50))).toBe(true);
      expect(target[50]).toBe(0xaa);
      expect(await readOverlayInto(layout, fh, target, layout.size)).toBe(0);
    } finally {
      await fh.close();
    }
  });
});
