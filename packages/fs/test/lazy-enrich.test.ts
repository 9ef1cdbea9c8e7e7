import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { parseConfig, silentLogger, systemClock } from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import { createEnrichmentService, createProvider, type EnrichmentService, type MetadataAgregatorProvider } from "@musicfs/enrich";
import { readTagsIndependently } from "@musicfs/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MountedLibrary, mountLibrary } from "../src/index.js";
import { catBytes, eventually, forceUnmount, insertTrack, listTree, makeAudio, run } from "./fixtures.js";

const credit = (name: string) => ({ id: `a-${name}`, name, joinPhrase: "" });
const CATALOG = [
  {
    id: "rg-the-wall",
    title: "The Wall",
    artists: [credit("Pink Floyd")],
    genres: [
      { id: "g1", name: "Progressive Rock" },
      { id: "g2", name: "Art Rock" },
    ],
    label: "Harvest",
    releaseDate: "1979-11-30",
    albumType: "album",
  },
  {
    id: "rg-wish",
    title: "Wish You Were Here",
    artists: [credit("Pink Floyd")],
    genres: [{ id: "g1", name: "Progressive Rock" }],
    label: "Harvest",
  },
  { id: "rg-abbey", title: "Abbey Road", artists: [credit("The Beatles")], genres: [{ id: "g3", name: "Rock" }], label: "Apple" },
];

let dir: string;
let mnt: string;
let lib: Library;
let server: CatalogServer;
let provider: MetadataAgregatorProvider | undefined;
let service: EnrichmentService | undefined;
let mounted: MountedLibrary | undefined;

const WALL = "Artists/Pink Floyd/1979 - The Wall";
const WISH = "Artists/Pink Floyd/1975 - Wish You Were Here";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-lazy-"));
  mnt = join(dir, "mnt");
  await mkdir(mnt);
  server = await startCatalogServer({ albums: CATALOG });
  const template = join(dir, "template.flac");
  await makeAudio(template, { format: "flac", tags: { title: "x", artist: "Pink Floyd" } });
  lib = openLibrary(join(dir, "library.db"));
  const albums = [
    { artist: "Pink Floyd", album: "The Wall", year: 1979, tracks: 12 },
    { artist: "Pink Floyd", album: "Wish You Were Here", year: 1975, tracks: 5 },
    { artist: "The Beatles", album: "Abbey Road", year: 1969, tracks: 3 },
  ];
  for (const a of albums) {
    for (let n = 1; n <= a.tracks; n++) {
      const path = join(dir, "music", a.album, `${n}.flac`);
      await mkdir(join(dir, "music", a.album), { recursive: true });
      await copyFile(template, path);
      await insertTrack(lib, {
        path,
        root: join(dir, "music"),
        title: `Track ${n}`,
        artist: a.artist,
        album: a.album,
        track: n,
        year: a.year,
      });
    }
  }
  const config = parseConfig({
    mount: { refresh_ms: 100 },
    metadata_provider: { enabled: true, endpoint: server.url, retry_backoff_ms: 10 },
  });
  provider = createProvider(config.metadata_provider);
  const svc = createEnrichmentService({ lib, provider, clock: systemClock, log: silentLogger() }, config.metadata_provider);
  service = svc;
  mounted = await mountLibrary({ lib, config, log: silentLogger(), enricher: { tryPush: (r) => svc.queue.tryPush(r) !== "dropped" } }, mnt);
  svc.events.on("fileModified", () => mounted?.refresh());
  svc.start();
});

afterAll(async () => {
  await mounted?.unmount().catch(() => undefined);
  await forceUnmount(mnt);
  await service?.stop(false);
  provider?.close();
  await server?.close();
  lib?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("lazy enrichment through the mount (design §4.3.6)", () => {
  it("looks up each album once when its tracks are listed, stat'ed and opened, and nothing else", async () => {
    expect(server.callCount()).toBe(0);
    const listing = await run("ls", ["-l", join(mnt, WALL)]);
    expect(listing.stdout.split("\n").filter((l) => l.endsWith(".flac"))).toHaveLength(12);
    await catBytes(join(mnt, WISH, "01 Track 1.flac"));
    await eventually(async () => (await listTree(join(mnt, "Genres"))).includes("Art Rock/Pink Floyd/The Wall/12 Track 12.flac"));
    await eventually(async () => (await listTree(join(mnt, "Labels"))).includes("Harvest/Pink Floyd/Wish You Were Here/05 Track 5.flac"));
    // Listing and reading the enriched albums again asks nothing more.
    await run("ls", ["-l", join(mnt, WALL), join(mnt, WISH)]);
    await catBytes(join(mnt, WALL, "03 Track 3.flac"));
    expect(
      server
        .calls()
        .map((c) => c.query)
        .sort(),
    ).toEqual(["The Wall", "Wish You Were Here"]);
    expect(mounted?.stats().enrichmentRequests).toBe(2);
  });

  it("serves the enriched tags in the file header without a remount", async () => {
    const tags = await readTagsIndependently(join(mnt, WALL, "01 Track 1.flac"));
    expect(tags.common.genre).toEqual(["Progressive Rock", "Art Rock"]);
    const attr = await run("/usr/bin/python3", [
      "-c",
      "import os,sys; print(os.getxattr(sys.argv[1], 'user.musicfs.enrichment_source').decode())",
      join(mnt, WALL, "01 Track 1.flac"),
    ]);
    expect(attr.stdout.trim()).toBe("provider");
  });

  it("never waits on the network: with metadata-agregator hanging, ls -R and reads complete", async () => {
    server.setBehaviour({ hang: true });
    try {
      const before = server.callCount();
      // Abbey Road is not enriched yet: listing and reading it queues a lookup that never answers.
      const tree = await run("ls", ["-R", mnt]);
      expect(tree.stdout).toContain("Abbey Road");
      const abbey = "Artists/The Beatles/1969 - Abbey Road";
      for (const track of ["01 Track 1.flac", "02 Track 2.flac", "03 Track 3.flac"]) {
        expect((await catBytes(join(mnt, abbey, track))).length).toBeGreaterThan(0);
      }
      await eventually(async () => server.callCount() > before);
      expect(server.calls().at(-1)?.query).toBe("Abbey Road");
    } finally {
      server.setBehaviour({ hang: false });
    }
  });
});
