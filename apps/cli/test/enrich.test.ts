import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addAlbum, CATALOG } from "../../../packages/enrich/test/helpers.js";
import { musicfs, startMusicfs } from "./cli.js";

let work: string;
let server: CatalogServer;
let n = 0;

async function config(endpoint: string, extra = ""): Promise<string> {
  const path = join(work, `config-${n++}.toml`);
  // A long backoff: a missed album must not fall due again between two runs of a test on a loaded machine.
  // The control API on port 0, so daemons in parallel test files never compete for 50052.
  await writeFile(
    path,
    `[control]\nlisten = "127.0.0.1:0"\n[metadata_provider]\nenabled = true\nendpoint = "${endpoint}"\nretry_backoff_ms = 600000\ntimeout_ms = 3000\nconcurrency = 2\n${extra}`,
  );
  return path;
}

function makeDb(albums: { artist: string; album: string; tracks?: number }[]): string {
  const db = join(work, `library-${n++}.db`);
  const lib = openLibrary(db);
  for (const a of albums) addAlbum(lib, a);
  lib.close();
  return db;
}

function query<T>(db: string, sql: string): T[] {
  const lib = openLibrary(db);
  try {
    return lib.sqlite.prepare(sql).all() as T[];
  } finally {
    lib.close();
  }
}

const KNOWN = [
  { artist: "Pink Floyd", album: "The Wall" },
  { artist: "Pink Floyd", album: "Wish You Were Here" },
  { artist: "Beatles", album: "Abbey Road (Remastered)" },
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "musicfs-cli-enrich-"));
  server = await startCatalogServer({ albums: CATALOG });
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  server.setBehaviour({ latencyMs: 0, hang: false, failFirst: 0 });
});

describe("musicfs enrich", () => {
  it("explains how to enable enrichment and exits 2 when it is disabled", async () => {
    const path = join(work, "disabled.toml");
    await writeFile(path, "[metadata_provider]\nenabled = false\n");
    const r = await musicfs(["enrich", "--once", "--config", path, "--db", join(work, "disabled.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("enabled = true");
    expect(r.stdout).toBe("");
  });

  it("--once --json enriches every due album, prints a summary and exits 0; a second run has nothing to do", async () => {
    const db = makeDb([...KNOWN, { artist: "Nobody Band", album: "The Wall" }]);
    const cfg = await config(server.url);
    const before = server.callCount();
    const r = await musicfs(["enrich", "--once", "--json", "--config", cfg, "--db", db]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ albumsLookedUp: 4, hits: 3, doubtful: 1, misses: 0, errors: 0, skipped: 0, callsMade: 4 });
    expect(server.callCount()).toBe(before + 4);
    expect(query<{ n: number }>(db, "SELECT count(*) AS n FROM file_metadata WHERE enrichment_source = 'provider'")[0]?.n).toBe(9);

    const again = await musicfs(["enrich", "--once", "--json", "--config", cfg, "--db", db]);
    expect(JSON.parse(again.stdout)).toMatchObject({ albumsLookedUp: 0, callsMade: 0 });

    const review = await musicfs(["enrich", "--review", "--json", "--config", cfg, "--db", db]);
    const candidates = JSON.parse(review.stdout) as { fileArtist: string; providerAlbumId: string; reason: string }[];
    expect(candidates.map((c) => c.providerAlbumId).sort()).toEqual(["rg-the-wall", "rg-wall-cover"]);
    expect(candidates[0]).toMatchObject({ fileArtist: "Nobody Band" });
    const table = await musicfs(["enrich", "--review", "--config", cfg, "--db", db]);
    expect(table.stdout).toContain("Nobody Band – The Wall");
    expect(table.stdout).toContain("artist differs");
  });

  it("--dry-run shows per album what would be written and why, and writes nothing", async () => {
    const db = makeDb([KNOWN[0]!]);
    const r = await musicfs(["enrich", "--dry-run", "--config", await config(server.url), "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Pink Floyd – The Wall: hit");
    expect(r.stdout).toContain("label Harvest");
    expect(r.stdout).toContain("reason: title and artist match");
    expect(query<{ n: number }>(db, "SELECT count(*) AS n FROM file_metadata WHERE enrichment_source = 'provider'")[0]?.n).toBe(0);
  });

  it("exits 4 when metadata-agregator is unreachable", async () => {
    const db = makeDb(KNOWN);
    const r = await musicfs(["enrich", "--once", "--config", await config("http://127.0.0.1:1"), "--db", db]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/unreachable/);
  });

  it("refuses a second --once while one is running on the same library (exit 5)", async () => {
    server.setBehaviour({ latencyMs: 400 });
    const db = makeDb(KNOWN);
    const cfg = await config(server.url, "");
    const before = server.callCount();
    const first = musicfs(["enrich", "--once", "--concurrency", "1", "--config", cfg, "--db", db]);
    for (let i = 0; i < 300 && server.callCount() === before; i++) await new Promise((r) => setTimeout(r, 20));
    const second = await musicfs(["enrich", "--once", "--config", cfg, "--db", db]);
    expect(second.code).toBe(5);
    expect(second.stderr).toContain("already running");
    expect((await first).code).toBe(0);
    expect(server.callCount()).toBe(before + 3);
  });

  it("--daemon picks up albums added by a scan, serves metrics, and drains on SIGTERM", async () => {
    const db = makeDb([]);
    const cfg = await config(server.url);
    const daemon = startMusicfs([
      "enrich",
      "--daemon",
      "--config",
      cfg,
      "--db",
      db,
      "--metrics-listen",
      "127.0.0.1:0",
      "--poll-interval",
      "50",
    ]);
    const { child, exited } = daemon;
    const waitFor = async (cond: () => boolean, what: string) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
      if (!cond()) throw new Error(`timed out waiting for ${what}\n${daemon.output().stderr}`);
    };
    try {
      const url = (await daemon.waitFor(/metrics at (\S+)/))[1]!;

      // A scan adds an album: the daemon enriches it without being asked.
      const lib = openLibrary(db);
      addAlbum(lib, KNOWN[0]!);
      const enriched = () =>
        (lib.sqlite.prepare("SELECT count(*) AS n FROM file_metadata WHERE enrichment_source = 'provider'").get() as { n: number }).n;
      await waitFor(() => enriched() === 3, "the first album");
      const metrics = await (await fetch(url)).text();
      expect(metrics).toMatch(/enrichment_hits_total 1/);
      expect(metrics).toMatch(/enrichment_latency_ms_count 1/);

      // SIGTERM while an album is being looked up: it finishes and is written whole.
      server.setBehaviour({ latencyMs: 500 });
      const before = server.callCount();
      addAlbum(lib, { ...KNOWN[1]!, tracks: 5 });
      await waitFor(() => server.callCount() === before + 1, "the second lookup");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(enriched()).toBe(8);
      lib.close();
      expect(daemon.output().stdout).toContain("stopped");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
