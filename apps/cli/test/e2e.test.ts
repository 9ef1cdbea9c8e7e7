import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { createControlTransport, createMusicfsClient } from "@musicfs/rpc";
import { generateSampleLibrary, readTagsIndependently, runTool, type SampleLibrary } from "@musicfs/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { musicfs, startMusicfs } from "./cli.js";

// The whole product as a user runs it: scan, enrich against a metadata-agregator, mount, and read the
// files back with an independent reader; then an orchestrator's write shows up through the same mount.
let work: string;
let sample: SampleLibrary;
let catalog: CatalogServer;
let mount: ChildProcess | undefined;
let mnt: string;
let configFile: string;
let controlUrl: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const cli = (args: string[]) => musicfs([...args, "--config", configFile]);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "musicfs-e2e-"));
  sample = await generateSampleLibrary(join(work, "library"), { albums: 6 });
  catalog = await startCatalogServer({ albums: sample.catalog });
  const port = await freePort();
  controlUrl = `http://127.0.0.1:${port}`;
  configFile = join(work, "config.toml");
  await writeFile(
    configFile,
    [
      "[library]",
      `roots = [${JSON.stringify(sample.root)}]`,
      `database = ${JSON.stringify(join(work, "library.db"))}`,
      "[metadata_provider]",
      "enabled = true",
      `endpoint = ${JSON.stringify(catalog.url)}`,
      "[control]",
      `listen = "127.0.0.1:${port}"`,
      "[mount]",
      "refresh_ms = 200",
    ].join("\n"),
  );
  mnt = join(work, "mnt");
  await mkdir(mnt);
}, 120_000);

afterAll(async () => {
  mount?.kill("SIGTERM");
  await runTool("fusermount", ["-uz", mnt], { timeoutMs: 10_000 }).catch(() => {});
  await catalog?.close();
  await rm(work, { recursive: true, force: true });
});

async function startMount(): Promise<void> {
  const running = startMusicfs(["mount", mnt, "--config", configFile]);
  mount = running.child;
  await running.waitFor(/mounted /);
  await running.waitFor(/serving control API at /);
}

describe("scan, enrich, mount", () => {
  it("serves enriched tags that the origin files do not have, with the audio untouched", async () => {
    expect((await cli(["scan", "--quiet"])).code).toBe(0);
    const enrich = await cli(["enrich", "--once", "--json"]);
    expect(enrich.code).toBe(0);
    const summary = JSON.parse(enrich.stdout);
    const correct = sample.albums.filter((a) => a.catalogId).length;
    expect(summary).toMatchObject({ albumsLookedUp: 6, hits: correct, errors: 0 });
    expect(catalog.callCount()).toBe(6); // one call per album, not per track

    await startMount();
    const flacAlbum = sample.albums.find((a) => a.catalogId && a.tracks[0]!.endsWith(".flac"))!;
    const mp3Album = sample.albums.find((a) => a.catalogId && a.tracks[0]!.endsWith(".mp3"))!;
    for (const album of [flacAlbum, mp3Album]) {
      const entry = sample.catalog.find((c) => c.id === album.catalogId)!;
      const origin = join(sample.root, album.tracks[0]!);
      const show = JSON.parse((await cli(["tag", "show", origin, "--json"])).stdout);
      const served = join(mnt, "Files", "library", album.tracks[0]!);
      const tags = await readTagsIndependently(served);
      expect(tags.common.genre).toEqual(entry.genres.map((g) => g.name));
      expect(tags.raw.TPUB ?? tags.raw.LABEL).toEqual([entry.label]);
      expect((await readTagsIndependently(origin)).common.genre).toBeUndefined();
      expect(show).toMatchObject({ enrichmentSource: expect.stringMatching(/provider/i) });
      if (origin.endsWith(".flac")) {
        const check = await runTool("flac", ["-t", "-s", served], { timeoutMs: 20_000 });
        expect(check.code).toBe(0);
      }
    }
  }, 120_000);

  it("serves an orchestrator's UpdateMetadata through the running mount without a remount", async () => {
    const album = sample.albums.find((a) => a.tracks[0]!.endsWith(".flac"))!;
    const origin = join(sample.root, album.tracks[0]!);
    const transport = createControlTransport({ url: controlUrl });
    try {
      const client = createMusicfsClient(transport);
      const res = await client.updateMetadata({
        target: { case: "originPath", value: origin },
        genres: ["Orchestrated"],
        label: "Control Records",
      });
      expect(res.filesUpdated).toBe(1);
    } finally {
      transport.close();
    }
    const served = join(mnt, "Files", "library", album.tracks[0]!);
    let tags = await readTagsIndependently(served);
    for (let i = 0; i < 30 && tags.common.genre?.[0] !== "Orchestrated"; i++) {
      await new Promise((r) => setTimeout(r, 200)); // the kernel may hold the old attributes for up to 1 s
      tags = await readTagsIndependently(served);
    }
    expect(tags.common.genre).toEqual(["Orchestrated"]);
    expect(tags.raw.LABEL).toEqual(["Control Records"]);
    // The origin file is untouched.
    expect((await readFile(origin)).includes(Buffer.from("Orchestrated"))).toBe(false);
  }, 60_000);

  it("serves Prometheus metrics: the design's enrichment metrics, FUSE and scan counters", async () => {
    const text = await (await fetch(`${controlUrl}/metrics`)).text();
    const value = (name: string) =>
      Number(text.match(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+(?:\\.\\d+)?)$`, "m"))?.[1] ?? Number.NaN);
    for (const metric of [
      "enrichment_queue_depth",
      "enrichment_queue_drops_total",
      "enrichment_inflight_albums",
      "enrichment_lookups_total",
      "enrichment_hits_total",
      "enrichment_misses_total",
      "enrichment_errors_total",
      "enrichment_skipped_total",
      "enrichment_latency_ms",
    ]) {
      expect(text).toContain(`# TYPE ${metric} `);
    }
    expect(value('musicfs_fuse_operations_total{op="read"}')).toBeGreaterThan(0);
    expect(value('musicfs_fuse_operations_total{op="getattr"}')).toBeGreaterThan(0);
    expect(value("musicfs_fuse_bytes_served_total")).toBeGreaterThan(0);
    expect(value("musicfs_library_files")).toBe(sample.albums.reduce((n, a) => n + a.tracks.length, 0));
    expect(value('musicfs_last_scan_files{outcome="added"}')).toBe(value("musicfs_library_files"));
  });

  it("unmounts on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => mount?.on("exit", resolve));
    mount?.kill("SIGTERM");
    expect(await exited).toBe(0);
    mount = undefined;
    const mounts = await readFile("/proc/mounts", "utf8");
    expect(mounts.includes(mnt)).toBe(false);
  }, 30_000);
});
