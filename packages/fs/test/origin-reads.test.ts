import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock, silentLogger } from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LibraryView } from "../src/index.js";
import { OriginReadPolicy } from "../src/origin-fs.js";
import { insertTrack } from "./fixtures.js";

let dir: string;
let lib: Library;
const bytes = randomBytes(3 * 1024 * 1024 + 12345);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-origin-"));
  lib = openLibrary(join(dir, "library.db"));
  // An .ogg: never overlaid, so every byte comes straight from the origin.
  await writeFile(join(dir, "big.ogg"), bytes);
  await insertTrack(lib, { path: join(dir, "big.ogg"), root: dir, title: "Big", artist: "A", album: "B", format: "ogg" });
});
afterAll(async () => {
  lib.close();
  await rm(dir, { recursive: true, force: true });
});

describe("origin reads", () => {
  it("reads local disks synchronously and anything else (here /proc) asynchronously, deciding once per device", async () => {
    const policy = new OriginReadPolicy();
    expect(await policy.syncReads(1, "/dev/shm")).toBe(true); // tmpfs
    expect(await policy.syncReads(2, "/proc/self/status")).toBe(false);
    // Decided by device: the second path is not looked at again.
    expect(await policy.syncReads(2, "/dev/shm")).toBe(false);
    expect(await policy.syncReads(3, join(dir, "does-not-exist"))).toBe(false);
  });

  for (const originReads of ["auto", "async"] as const) {
    it(`serves the origin's exact bytes at any offset (${originReads} reads)`, async () => {
      const view = new LibraryView(lib, {
        pathTemplate: "{albumartist}/{album}/{title}.{ext}",
        headerCacheEntries: 4,
        retryMax: 3,
        clock: new FakeClock(),
        log: silentLogger(),
        originReads,
      });
      await view.load();
      const fh = await view.open("/Artists/A/B/Big.ogg", 0);
      try {
        const chunk = 128 * 1024;
        const whole = Buffer.alloc(bytes.length);
        for (let pos = 0; pos < bytes.length; pos += chunk) {
          const n = await view.read(fh, whole.subarray(pos), Math.min(chunk, bytes.length - pos), pos);
          expect(n).toBe(Math.min(chunk, bytes.length - pos));
        }
        expect(whole.equals(bytes)).toBe(true);
        for (const pos of [0, 1, 4095, 1_000_003, bytes.length - 10]) {
          const buf = Buffer.alloc(4096);
          const n = await view.read(fh, buf, 4096, pos);
          expect(buf.subarray(0, n).equals(bytes.subarray(pos, pos + 4096))).toBe(true);
        }
        // Past the end: a short read (FUSE takes it as end of file).
        expect(await view.read(fh, Buffer.alloc(10), 10, bytes.length)).toBe(0);
      } finally {
        await view.release(fh);
      }
    });
  }
});
