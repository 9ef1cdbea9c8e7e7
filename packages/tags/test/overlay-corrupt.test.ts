import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMusicfsError, seededRandom } from "@musicfs/core";
import { buildOverlay, type OverlayFormat, type OverlayLayout } from "@musicfs/tags";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBareMp3, makeCover, makeFlac, mutagen } from "./overlay-fixtures.js";

let dir: string;
const origins: Record<OverlayFormat, string> = { flac: "", mp3: "" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-overlay-corrupt-"));
  const [cover, bare] = await Promise.all([makeCover(dir), makeBareMp3(dir)]);
  origins.flac = await makeFlac(dir, cover);
  origins.mp3 = join(dir, "origin.mp3");
  await copyFile(bare, origins.mp3);
  await mutagen(dir, "tag_mp3", origins.mp3, "3", cover, "1");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function assemble(layout: OverlayLayout, origin: Buffer): Buffer {
  return Buffer.concat([layout.header, origin.subarray(layout.originAudioOffset, layout.originAudioEnd), layout.trailer]);
}

describe.each(["flac", "mp3"] as const)("%s overlay of a damaged header", (format) => {
  it("either throws TAG_PARSE_FAILED or yields a file whose header parses again", async () => {
    const random = seededRandom(format === "flac" ? 7 : 11);
    const pristine = await readFile(origins[format]);
    const headerEnd = (await buildOverlay(origins[format], format, {}))!.originAudioOffset;
    const path = join(dir, `damaged.${format}`);
    const again = join(dir, `again.${format}`);
    let rejected = 0;
    for (let i = 0; i < 60; i++) {
      const damaged = Buffer.from(pristine);
      // Damage the structural bytes near the start most of the time, anywhere in the header otherwise.
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
        const at = random() < 0.7 ? Math.floor(random() * 64) : Math.floor(random() * headerEnd);
        damaged[at] = Math.floor(random() * 256);
      }
      await writeFile(path, damaged);
      let layout: OverlayLayout | null;
      try {
        layout = await buildOverlay(path, format, { genres: ["Rock"] });
      } catch (err) {
        expect(isMusicfsError(err, "TAG_PARSE_FAILED"), String(err)).toBe(true);
        rejected++;
        continue;
      }
      const served = assemble(layout!, damaged);
      expect(served.length).toBe(layout!.size);
      await writeFile(again, served);
      const reparsed = await buildOverlay(again, format, { genres: ["Rock"] });
      expect(reparsed!.header.equals(layout!.header)).toBe(true);
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
