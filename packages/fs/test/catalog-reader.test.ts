import { join } from "node:path";
import { FakeClock, silentLogger } from "@musicfs/core";
import { describe, expect, it } from "vitest";
import { readCatalogOnWorker } from "../src/catalog-reader.js";
import { createCatalog, LibraryView } from "../src/index.js";
import { insertTrack, useTempLibrary } from "./fixtures.js";

const temp = useTempLibrary("musicfs-reader-");

/** A library with what the JSON route must carry exactly: raw bytes, odd tags, rows without metadata. */
async function fill(albums: number): Promise<void> {
  for (let a = 0; a < albums; a++) {
    for (let t = 1; t <= 12; t++) {
      await insertTrack(temp.lib, {
        path: `/music/Artist ${a % 7}/Album ${a}/${String(t).padStart(2, "0")} Song.flac`,
        root: "/music",
        title: t === 3 ? 'Quote " back\\slash \u0007 bell' : `Song ${t}`,
        artist: `Artist ${a % 7}`,
        albumartist: a % 2 ? `Artist ${a % 7}` : null,
        album: `Album ${a}`,
        track: t,
        disc: t > 10 ? 2 : 1,
        discTotal: 2,
        year: 1970 + a,
        genres: a % 3 ? ["Rock", "Jazz"] : [],
        label: a % 4 ? `Label ${a}` : null,
        enrichmentSource: a % 5 === 0 ? "provider" : undefined,
        size: 1000 + t,
        mtimeUs: 1_700_000_000_000_000 + t,
      });
    }
  }
  // Not UTF-8: served by its raw bytes.
  await insertTrack(temp.lib, {
    path: Buffer.from([0x2f, 0x6d, 0x75, 0x73, 0x69, 0x63, 0x2f, 0xe9, 0x2e, 0x6d, 0x70, 0x33]),
    root: "/music",
    size: 5,
    mtimeUs: 1,
  });
  // A file whose metadata row is missing (LEFT JOIN: all NULL).
  const id = await insertTrack(temp.lib, { path: "/music/bare.flac", root: "/music", size: 7, mtimeUs: 2 });
  temp.lib.sqlite.prepare("DELETE FROM file_metadata WHERE file_id = ?").run(id);
  // Malformed genres_json falls back like the main-thread path.
  temp.lib.sqlite.prepare("UPDATE file_metadata SET genres_json = '[oops' WHERE file_id = 1").run();
}

function view(enricher = false): LibraryView {
  return new LibraryView(temp.lib, {
    pathTemplate: "{albumartist}/{year} - {album}/{disc-track} {title}.{ext}",
    headerCacheEntries: 4,
    retryMax: 3,
    clock: new FakeClock(),
    log: silentLogger(),
    enricher: enricher ? { tryPush: () => true } : undefined,
  });
}

/** Every path of every file, with what the view holds about it. */
function snapshot(v: LibraryView): string[] {
  const out: string[] = [];
  const ids = temp.lib.sqlite.prepare("SELECT file_id FROM files ORDER BY file_id").pluck().all() as number[];
  for (const id of ids) {
    for (const path of v.pathsOf(id)) {
      const st = v.getattr(path);
      const xattrs = [...v.xattrs(path)].map(([k, b]) => `${k}=${b.toString("hex")}`);
      out.push(`${path} ${JSON.stringify(st)} ${xattrs.join(" ")}`);
    }
  }
  return out;
}

describe("reading the catalog on a worker thread", () => {
  it("builds the same tree as reading on the main thread, byte for byte", async () => {
    await fill(40);
    for (const lookups of [false, true]) {
      const here = view(lookups);
      await here.load();
      const there = view(lookups);
      await there.load({ worker: true });
      expect(there.stats().files).toBe(40 * 12 + 2);
      expect(snapshot(there)).toEqual(snapshot(here));
    }
  });

  it("delivers every row once, in file_id order, in slices", async () => {
    await fill(50);
    const ids: number[] = [];
    let slices = 0;
    for await (const slice of readCatalogOnWorker(temp.lib.path, createCatalog(temp.lib, { lookups: false }).sliceSql)) {
      slices++;
      for (const row of slice) ids.push(row[0]);
    }
    expect(slices).toBeGreaterThan(1);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(50 * 12 + 2);
  });

  it("reports a worker failure, and the view then reads on the main thread", async () => {
    await fill(2);
    const drain = async () => {
      for await (const _ of readCatalogOnWorker(join(temp.dir, "missing.db"), "SELECT 1")) {
        // never reached
      }
    };
    await expect(drain()).rejects.toThrow(/database/i);
    const v = new LibraryView(
      { ...temp.lib, path: join(temp.dir, "missing.db") },
      {
        pathTemplate: "{artist}/{title}.{ext}",
        headerCacheEntries: 4,
        retryMax: 3,
        clock: new FakeClock(),
        log: silentLogger(),
      },
    );
    await v.load({ worker: true });
    expect(v.stats().files).toBe(2 * 12 + 2);
  });
});
