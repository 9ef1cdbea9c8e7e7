import { Writable } from "node:stream";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { FakeClock, isMusicfsError, type MetadataProviderConfig, parseConfig, silentLogger } from "@musicfs/core";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AlbumOutcome,
  createEnrichmentMetrics,
  createEnrichmentService,
  createProvider,
  type EnrichmentService,
  enrichmentFromConfig,
  type FileModified,
  type MetadataAgregatorProvider,
} from "../src/index.js";
import { addAlbum, albumRow, CATALOG, fileRow, type TempLibrary, tempLibrary } from "./helpers.js";

let server: CatalogServer;
let t: TempLibrary;
const cleanups: (() => unknown)[] = [];

function providerConfig(over: Partial<MetadataProviderConfig> = {}): MetadataProviderConfig {
  return { ...parseConfig({}).metadata_provider, enabled: true, endpoint: server.url, timeout_ms: 2000, ...over };
}

function provider(over: Partial<MetadataProviderConfig> = {}): MetadataAgregatorProvider {
  const p = createProvider(providerConfig(over));
  cleanups.push(() => p.close());
  return p;
}

function service(
  opts: { clock?: FakeClock; cfg?: Partial<MetadataProviderConfig>; log?: ReturnType<typeof silentLogger> } = {},
): EnrichmentService {
  const cfg = providerConfig(opts.cfg);
  const svc = createEnrichmentService(
    { lib: t.lib, provider: provider(opts.cfg), clock: opts.clock ?? new FakeClock(), log: opts.log ?? silentLogger() },
    cfg,
  );
  cleanups.push(() => svc.stop(false));
  return svc;
}

function nextOutcome(svc: EnrichmentService): Promise<AlbumOutcome> {
  return new Promise((resolve) => svc.events.once("album", resolve));
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error("condition not reached");
}

beforeAll(async () => {
  server = await startCatalogServer({ albums: CATALOG });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  t = await tempLibrary();
  server.setBehaviour({ latencyMs: 0, failFirst: 0, hang: false, failureCode: "unavailable" });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await t.cleanup();
});

describe("provider", () => {
  it("test_provider_connect: connects to the endpoint over gRPC and reports an unreachable one as PROVIDER_UNAVAILABLE", async () => {
    const before = server.callCount();
    const outcome = await provider().lookup("Pink Floyd", "Wish You Were Here");
    expect(outcome.kind).toBe("hit");
    expect(server.callCount()).toBe(before + 1);
    expect(server.calls().at(-1)).toMatchObject({ query: "Wish You Were Here", artist: "Pink Floyd", limit: 5, outcome: "ok" });

    const err = await provider({ endpoint: "http://127.0.0.1:1" })
      .lookup("Pink Floyd", "The Wall")
      .catch((e: unknown) => e);
    expect(isMusicfsError(err, "PROVIDER_UNAVAILABLE")).toBe(true);
    expect((err as { details: { kind: string } }).details.kind).toBe("unreachable");
  });

  it("test_lookup_match: maps the verified SearchAlbums result to EnrichedMetadata", async () => {
    const outcome = await provider().lookup("Pink Floyd", "The Wall");
    expect(outcome).toMatchObject({
      kind: "hit",
      album: {
        providerAlbumId: "rg-the-wall",
        title: "The Wall",
        artists: ["Pink Floyd"],
        metadata: {
          genres: ["Progressive Rock", "Art Rock"],
          label: "Harvest",
          albumType: "album",
          coverUrl: "https://covers.example/the-wall.jpg",
          releaseDate: "1979-11-30",
          totalTracks: 26,
          totalDiscs: 2,
        },
      },
    });
  });

  it("answers a deadline error when the server hangs past timeout_ms", async () => {
    server.setBehaviour({ hang: true });
    const err = await provider({ timeout_ms: 150 })
      .lookup("Pink Floyd", "The Wall")
      .catch((e: unknown) => e);
    expect((err as { details: { kind: string } }).details.kind).toBe("deadline");
    await until(() => server.calls().at(-1)?.outcome !== "pending");
    expect(server.calls().at(-1)?.outcome).toBe("hung");
  });
});

describe("queue and worker", () => {
  it("test_lookup_no_match: an album the service does not know is a miss: nothing written, one attempt counted", async () => {
    const clock = new FakeClock();
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Unknown Quartet", album: "Basement Tapes Vol 9" });
    const svc = service({ clock, cfg: { retry_backoff_ms: 1000 } });
    const outcome = await svc.processAlbum({ albumKey });
    expect(outcome).toMatchObject({ status: "miss", via: "lookup", attempts: 1, nextAttemptAt: clock.now() + 1000 });
    expect(fileRow(t.lib, fileIds[0]!)).toMatchObject({
      enrichment_source: "embedded",
      enriched_at: null,
      label: null,
      genre: "Rock",
      enrichment_attempts: 1,
      next_attempt_at: clock.now() + 1000,
    });
    expect(String(fileRow(t.lib, fileIds[0]!).last_enrichment_error)).toMatch(/no match/);
    expect(albumRow(t.lib, albumKey)).toMatchObject({ status: "miss", attempts: 1, provider_album_id: null });
  });

  it("test_enrichment_queue_push: queues an album once and reports later pushes for it as duplicates", () => {
    const svc = service();
    const req = { artist: "Pink Floyd", album: "The Wall" };
    expect(svc.queue.tryPush({ ...req, fileId: 1 })).toBe("queued");
    expect(svc.queue.tryPush({ ...req, fileId: 2 })).toBe("duplicate");
    expect(svc.queue.tryPush({ artist: "PINK FLOYD", album: "the wall", fileId: 3 })).toBe("duplicate");
    expect(svc.queue.tryPush({ artist: "Pink Floyd", album: "Wish You Were Here" })).toBe("queued");
    expect(svc.queue.tryPush({ artist: "", album: "No Artist" })).toBe("ineligible");
    expect(svc.queue.depth).toBe(2);
    expect(svc.stats()).toMatchObject({ queueDepth: 2, inFlight: 2 });
  });

  it("test_enrichment_queue_full_drops: a push to a full queue returns at once, logs a warning and counts a drop", async () => {
    const lines: string[] = [];
    const log = pino(
      { level: "warn" },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const metrics = createEnrichmentMetrics();
    const svc = createEnrichmentService(
      { lib: t.lib, provider: provider(), clock: new FakeClock(), log, metrics },
      providerConfig({ queue_size: 2 }),
    );
    expect(svc.queue.tryPush({ artist: "A", album: "One" })).toBe("queued");
    expect(svc.queue.tryPush({ artist: "A", album: "Two" })).toBe("queued");
    expect(svc.queue.tryPush({ artist: "A", album: "Three", fileId: 42 })).toBe("dropped");
    expect(svc.queue.depth).toBe(2);
    expect(svc.stats().drops).toBe(1);
    expect(lines.join("")).toContain("enrichment queue full, dropping request");
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, fileId: 42 });
    expect(await metrics.registry.getSingleMetricAsString("enrichment_queue_drops_total")).toMatch(/enrichment_queue_drops_total 1/);
  });

  it("test_enrichment_worker_writes_db: the worker looks the album up and writes every file of it", async () => {
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 4 });
    const clock = new FakeClock();
    const svc = service({ clock });
    const modified: FileModified[] = [];
    svc.events.on("fileModified", (m: FileModified) => modified.push(m));
    svc.start();
    const done = nextOutcome(svc);
    expect(svc.queue.tryPush({ artist: "Pink Floyd", album: "The Wall", fileId: fileIds[0]! })).toBe("queued");
    expect(await done).toMatchObject({ status: "hit", via: "lookup", filesUpdated: 4, providerAlbumId: "rg-the-wall" });
    for (const id of fileIds) {
      expect(fileRow(t.lib, id)).toMatchObject({
        enrichment_source: "provider",
        enriched_at: clock.now(),
        updated_at: clock.now(),
        metadata_version: 2,
        label: "Harvest",
        album_type: "album",
        cover_url: "https://covers.example/the-wall.jpg",
        release_date: "1979-11-30",
        total_tracks: 26,
        total_discs: 2,
        provider_album_id: "rg-the-wall",
        enrichment_attempts: 0,
        last_enrichment_error: null,
      });
    }
    expect(modified.map((m) => m.fileId).sort()).toEqual(fileIds);
    expect(modified[0]).toMatchObject({ metadataVersion: 2, source: "provider" });
    expect(albumRow(t.lib, albumKey)).toMatchObject({ status: "hit", provider_album_id: "rg-the-wall", attempts: 0 });
    expect(String(albumRow(t.lib, albumKey).match_reason)).toContain("title and artist match");
  });

  it("test_enrichment_atomic_conflict: an orchestrator write landing between dequeue and write is not overwritten", async () => {
    server.setBehaviour({ latencyMs: 300 });
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 2 });
    const svc = service();
    const before = server.callCount();
    const pending = svc.processAlbum({ albumKey });
    await until(() => server.callCount() === before + 1);
    // Both files taken over by the orchestrator while the lookup is in flight.
    t.lib.sqlite
      .prepare(
        "UPDATE file_metadata SET enrichment_source = 'orchestrator', label = 'Orchestrated', genre = 'Jazz', genres_json = '[\"Jazz\"]' WHERE album_key = ?",
      )
      .run(albumKey);
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: "skipped", filesUpdated: 0 });
    for (const id of fileIds) {
      expect(fileRow(t.lib, id)).toMatchObject({
        enrichment_source: "orchestrator",
        label: "Orchestrated",
        genre: "Jazz",
        enriched_at: null,
      });
    }
    expect(svc.stats().skipped).toBe(1);
    expect(await svc.metrics.registry.getSingleMetricAsString("enrichment_skipped_total")).toMatch(/enrichment_skipped_total 1/);
  });

  it("test_enrichment_retry_backoff: each failure counts an attempt and waits retry_backoff_ms * 2^n before the next", async () => {
    server.setBehaviour({ failFirst: 2, failureCode: "resource_exhausted" });
    const clock = new FakeClock();
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "Wish You Were Here" });
    const svc = service({ clock, cfg: { retry_backoff_ms: 1000, retry_max: 5 } });
    svc.start();
    const t0 = clock.now();

    let outcome = nextOutcome(svc);
    svc.queue.tryPush({ artist: "Pink Floyd", album: "Wish You Were Here" });
    expect(await outcome).toMatchObject({ status: "error", attempts: 1, nextAttemptAt: t0 + 1000, error: { kind: "overloaded" } });
    expect(fileRow(t.lib, fileIds[0]!)).toMatchObject({ enrichment_attempts: 1, next_attempt_at: t0 + 1000 });
    expect(svc.store.dueAlbums(clock.now(), 5)).toHaveLength(0);

    // Not due 1 ms early; the worker retries by itself once the backoff has passed.
    const calls = server.callCount();
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.callCount()).toBe(calls);
    outcome = nextOutcome(svc);
    clock.advance(1);
    expect(await outcome).toMatchObject({ status: "error", attempts: 2, nextAttemptAt: t0 + 1000 + 2000 });
    expect(albumRow(t.lib, albumKey)).toMatchObject({ status: "error", attempts: 2, next_attempt_at: t0 + 3000 });

    outcome = nextOutcome(svc);
    clock.advance(2000);
    expect(await outcome).toMatchObject({ status: "hit", attempts: 0 });
    expect(fileRow(t.lib, fileIds[0]!)).toMatchObject({ enrichment_source: "provider", enrichment_attempts: 0, next_attempt_at: null });
  });

  it("test_enrichment_max_attempts_stop: after retry_max failures the album is neither due nor queued again", async () => {
    server.setBehaviour({ failFirst: 100, failureCode: "internal" });
    const clock = new FakeClock();
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall" });
    const svc = service({ clock, cfg: { retry_backoff_ms: 10, retry_max: 2 } });
    expect(await svc.processAlbum({ albumKey })).toMatchObject({ status: "error", attempts: 1, error: { kind: "bad_response" } });
    clock.advance(10);
    expect(svc.store.dueAlbums(clock.now(), 2).map((a) => a.albumKey)).toEqual([albumKey]);
    expect(await svc.processAlbum({ albumKey })).toMatchObject({ status: "error", attempts: 2, nextAttemptAt: null });
    clock.advance(1_000_000);
    expect(svc.store.dueAlbums(clock.now(), 2)).toHaveLength(0);
    const row = fileRow(t.lib, fileIds[0]!);
    expect(row).toMatchObject({ enrichment_attempts: 2, next_attempt_at: null });
    const file = {
      fileId: fileIds[0]!,
      artist: "Pink Floyd",
      album: "The Wall",
      albumKey,
      enrichmentSource: "embedded",
      enrichedAt: null,
      enrichmentAttempts: Number(row.enrichment_attempts),
      nextAttemptAt: null,
    };
    expect(svc.enqueueIfUnenriched(file)).toBe("ineligible");
    expect(svc.queue.depth).toBe(0);
    // --retry-failed gives it a fresh start.
    expect(svc.store.resetFailed(clock.now())).toBe(1);
    expect(svc.enqueueIfUnenriched({ ...file, enrichmentAttempts: 0 })).toBe("queued");
  });

  it("test_config_disabled: enabled = false creates no provider, queue or worker and makes no call", () => {
    const before = server.callCount();
    const cfg = { ...providerConfig(), enabled: false };
    expect(enrichmentFromConfig({ lib: t.lib, clock: new FakeClock(), log: silentLogger() }, cfg)).toBeUndefined();
    expect(() => createProvider(cfg)).toThrow(expect.objectContaining({ code: "CONFIG_DISABLED" }));
    expect(parseConfig({}).metadata_provider.enabled).toBe(false);
    expect(server.callCount()).toBe(before);
    const enabled = enrichmentFromConfig({ lib: t.lib, clock: new FakeClock(), log: silentLogger() }, providerConfig());
    expect(enabled?.queue.depth).toBe(0);
    cleanups.push(async () => {
      await enabled?.stop();
    });
  });

  it("test_album_dedup_simultaneous: twelve tracks opened at once make one API call", async () => {
    server.setBehaviour({ latencyMs: 50 });
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 12 });
    const svc = service({ cfg: { queue_size: 4 } });
    svc.start();
    const before = server.callCount();
    const done = nextOutcome(svc);
    const results = fileIds.map((fileId) =>
      svc.enqueueIfUnenriched({
        fileId,
        artist: "Pink Floyd",
        album: "The Wall",
        albumKey,
        enrichmentSource: "embedded",
        enrichedAt: null,
      }),
    );
    expect(results.filter((r) => r === "queued")).toHaveLength(1);
    expect(results.filter((r) => r === "duplicate")).toHaveLength(11);
    expect(await done).toMatchObject({ status: "hit", filesUpdated: 12 });
    expect(server.callCount()).toBe(before + 1);
    const enriched = t.lib.sqlite.prepare("SELECT count(*) AS n FROM file_metadata WHERE enrichment_source = 'provider'").get() as {
      n: number;
    };
    expect(enriched.n).toBe(12);
  });

  it("test_genre_backward_compat: genres_json holds the whole list and genre its first entry", async () => {
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", genres: ["Rock", "Classic Rock"] });
    await service().processAlbum({ albumKey });
    const row = fileRow(t.lib, fileIds[0]!);
    expect(JSON.parse(String(row.genres_json))).toEqual(["Progressive Rock", "Art Rock"]);
    expect(row.genre).toBe("Progressive Rock");
  });
});

describe("verification, candidates and cache", () => {
  it("rejects a wrong-artist best guess and records it as a doubtful candidate, never applied", async () => {
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Nobody Band", album: "The Wall" });
    const svc = service();
    const outcome = await svc.processAlbum({ albumKey });
    expect(outcome.status).toBe("doubtful");
    expect(outcome.candidates.map((c) => c.providerAlbumId).sort()).toEqual(["rg-the-wall", "rg-wall-cover"]);
    expect(fileRow(t.lib, fileIds[0]!)).toMatchObject({ enrichment_source: "embedded", label: null, enrichment_attempts: 1 });
    expect(albumRow(t.lib, albumKey)).toMatchObject({ status: "doubtful", provider_album_id: null });
    const review = svc.store.reviewCandidates();
    expect(review).toHaveLength(2);
    expect(review[0]).toMatchObject({ albumKey, fileArtist: "Nobody Band", fileAlbum: "The Wall" });
    expect(review[0]?.reason).toContain("artist differs");
    expect(review[0]?.score).toBeGreaterThan(0);
  });

  it("matches edition suffixes, diacritics, a leading The, joint credits and compilations against the real search", async () => {
    const albums = [
      addAlbum(t.lib, { artist: "Beatles", album: "Abbey Road (2019 Remaster)" }),
      addAlbum(t.lib, { artist: "Sigur Ros", album: "Agaetis Byrjun" }),
      addAlbum(t.lib, { artist: "Jay-Z & Kanye West", album: "Watch the Throne" }),
      addAlbum(t.lib, { artist: "Madonna", album: "Now That's What I Call Music!", compilation: true }),
    ];
    const svc = service();
    const ids = [];
    for (const a of albums) ids.push((await svc.processAlbum({ albumKey: a.albumKey })).providerAlbumId);
    expect(ids).toEqual(["rg-abbey-road", "rg-agaetis", "rg-collab", "rg-now-1"]);
  });

  it("lets the files' MusicBrainz release-group id pick the result outright", async () => {
    const { albumKey } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", mbReleaseGroupId: "rg-wall-cover" });
    const outcome = await service().processAlbum({ albumKey });
    expect(outcome).toMatchObject({ status: "hit", providerAlbumId: "rg-wall-cover" });
    expect(outcome.reason).toContain("release-group id");
  });

  it("reuses the cached result for tracks added by a later scan and for another album key of the same release", async () => {
    const clock = new FakeClock();
    const first = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 2 });
    const svc = service({ clock, cfg: { concurrency: 2 } });
    const before = server.callCount();
    expect(await svc.runBatch()).toMatchObject({ albums: 1, hits: 1, calls: 1 });

    // A later scan: one more track of the same album, and the deluxe edition as a second album key.
    const added = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 1 }, 3);
    const deluxe = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall (Deluxe Edition)", tracks: 2 });
    expect(added.albumKey).toBe(first.albumKey);
    const summary = await svc.runBatch();
    expect(summary).toMatchObject({ albums: 2, hits: 2, cached: 2, calls: 0 });
    expect(server.callCount()).toBe(before + 1);
    for (const id of [...added.fileIds, ...deluxe.fileIds])
      expect(fileRow(t.lib, id)).toMatchObject({ provider_album_id: "rg-the-wall", label: "Harvest" });
    expect(await svc.runBatch()).toMatchObject({ albums: 0, calls: 0 });
  });

  it("runs a batch at the configured concurrency with one call per distinct album and stops when the provider is unreachable", async () => {
    for (const album of ["The Wall", "Wish You Were Here"]) addAlbum(t.lib, { artist: "Pink Floyd", album });
    addAlbum(t.lib, { artist: "Beatles", album: "Abbey Road" });
    const before = server.callCount();
    const summary = await service({ cfg: { concurrency: 3 } }).runBatch();
    expect(summary).toMatchObject({ albums: 3, hits: 3, calls: 3, filesUpdated: 9, providerUnavailable: false });
    expect(server.callCount()).toBe(before + 3);

    addAlbum(t.lib, { artist: "Sigur Ros", album: "Agaetis Byrjun" });
    addAlbum(t.lib, { artist: "Nobody", album: "Nothing" });
    const down = await service({ cfg: { endpoint: "http://127.0.0.1:1", concurrency: 1 } }).runBatch();
    expect(down).toMatchObject({ albums: 1, errors: 1, providerUnavailable: true, notStarted: 1 });
  });

  it("shows in a dry run what would be written without writing anything", async () => {
    const { albumKey, fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall" });
    const summary = await service().runBatch({ dryRun: true });
    expect(summary.outcomes[0]).toMatchObject({ albumKey, status: "hit", filesUpdated: 3, dryRun: true, metadata: { label: "Harvest" } });
    expect(fileRow(t.lib, fileIds[0]!)).toMatchObject({ enrichment_source: "embedded", label: null, metadata_version: 1 });
    expect(albumRow(t.lib, albumKey)).toMatchObject({ status: "pending" });
  });

  it("stop(drain) lets the album being looked up finish and write completely", async () => {
    server.setBehaviour({ latencyMs: 200 });
    const { fileIds } = addAlbum(t.lib, { artist: "Pink Floyd", album: "The Wall", tracks: 5 });
    const svc = service();
    svc.start();
    const before = server.callCount();
    svc.queue.tryPush({ artist: "Pink Floyd", album: "The Wall" });
    svc.queue.tryPush({ artist: "Pink Floyd", album: "Wish You Were Here" });
    await until(() => server.callCount() === before + 1);
    await svc.stop(true);
    const sources = fileIds.map((id) => fileRow(t.lib, id).enrichment_source);
    expect(sources).toEqual(Array(5).fill("provider"));
    expect(server.callCount()).toBe(before + 1);
  });
});
