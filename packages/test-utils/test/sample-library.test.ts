import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSampleCatalog, generateSampleLibrary } from "@musicfs/test-utils";
import { parseFile } from "music-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "musicfs-sample-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("buildSampleCatalog", () => {
  const { catalog, correctIds } = buildSampleCatalog();

  it("has a correct entry for all but two of the 24 albums", () => {
    expect(correctIds).toHaveLength(24);
    expect(correctIds.filter((id) => id === null)).toHaveLength(2);
    expect(new Set(catalog.map((a) => a.id)).size).toBe(catalog.length);
  });

  it("offers decoys: same title by another artist, another title by the same artist, deluxe editions", () => {
    const byTitle = (title: string) => catalog.filter((a) => a.title === title).map((a) => a.artists[0]?.name);
    expect(byTitle("The Wall")).toEqual(["Pink Floyd", "Northbound Collective"]);
    expect(catalog.map((a) => a.title)).toContain("Northern Lights (Deluxe Edition)");
    const titlesBy = (artist: string) => catalog.filter((a) => a.artists[0]?.name === artist).map((a) => a.title);
    expect(titlesBy("Aurora Lane")).toEqual([
      "Northern Lights",
      "Northern Lights (Deluxe Edition)",
      "Daybreak",
      "Daybreak (Deluxe Edition)",
    ]);
    expect(titlesBy("The Glass Orchard")).toEqual(["Seasons", "Live in Rotterdam 2018"]);
    // The misses: nothing in the catalog has both their title and their artist.
    for (const [title, artist] of [
      ["Tierra Roja", "Los Caminantes"],
      ["Undertow", "Crimson Tides"],
    ]) {
      expect(catalog.filter((a) => a.title === title && a.artists[0]?.name === artist)).toEqual([]);
      expect(catalog.filter((a) => a.title === title).length + catalog.filter((a) => a.artists[0]?.name === artist).length).toBe(2);
    }
  });

  it("fills every field the proto JSON form needs", () => {
    for (const a of catalog) {
      expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(a.coverUrl).toBe(`https://covers.example/${a.id}.jpg`);
      expect(a.genres.length).toBeGreaterThanOrEqual(1);
      expect(a.genres.length).toBeLessThanOrEqual(3);
      expect(a.releaseDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(a.artists).toEqual([{ id: expect.any(String), name: expect.any(String), joinPhrase: "" }]);
      expect(a.label).not.toBe("");
      expect([a.totalDiscs, a.totalTracks >= 8]).toEqual([1, true]);
    }
  });

  it("is the same on every call", () => {
    expect(buildSampleCatalog()).toEqual({ catalog, correctIds });
  });
});

describe("generateSampleLibrary", () => {
  it("writes tagged albums without genre or label, plus the catalog JSON", async () => {
    const catalogFile = join(tmp, "catalog.json");
    const lib = await generateSampleLibrary(join(tmp, "lib"), { albums: 5, catalogFile });
    expect(lib.albums.map((a) => [a.artist, a.title, a.encoding, a.tracks.length, a.catalogId !== null])).toEqual([
      ["Pink Floyd", "The Wall", "flac", 12, true],
      ["Aurora Lane", "Northern Lights", "mp3-id3v2.4", 10, true],
      ["The Glass Orchard", "Seasons", "ogg-vorbis", 8, true],
      ["Los Caminantes", "Tierra Roja", "opus", 9, false],
      ["Neon Harbor", "Midnight Transit", "m4a-aac", 11, true],
    ]);
    expect(JSON.parse(await readFile(catalogFile, "utf8"))).toEqual(lib.catalog);
    for (const album of lib.albums) {
      const last = album.tracks.at(-1) as string;
      const m = await parseFile(join(lib.root, last));
      expect(m.format.duration).toBeCloseTo(1, 0);
      expect({
        artist: m.common.artist,
        albumartist: m.common.albumartist,
        album: m.common.album,
        track: m.common.track,
        year: m.common.year,
        genre: m.common.genre,
        label: m.common.label,
      }).toEqual({
        artist: album.artist,
        albumartist: album.artist,
        album: album.title,
        track: { no: album.tracks.length, of: album.tracks.length },
        year: album.year,
        genre: undefined,
        label: undefined,
      });
    }
  });
});
