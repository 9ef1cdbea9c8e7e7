import { join } from "node:path";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type CatalogServer, startCatalogServer } from "@musicfs/catalog-server";
import { FakeClock, isMusicfsError, type MetadataProviderConfig, parseConfig, silentLogger } from "@musicfs/core";
import { albumKey } from "@musicfs/db";
import { createEnrichmentService, createProvider, type EnrichmentService } from "@musicfs/enrich";
import {
  AlbumEnrichmentStatus,
  Code,
  ConnectError,
  type ControlServer,
  createControlTransport,
  createInProcessClient,
  createMusicfsClient,
  EnrichmentSource,
  EventKind,
  type MusicfsClient,
  startControlServer,
  type WatchEventsResponse,
} from "@musicfs/rpc";
import { rereadFile } from "@musicfs/scan";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CATALOG } from "../../enrich/test/helpers.js";
import { type AudioLibrary, audioLibrary, fileIdOf, until } from "./control-helpers.js";

let catalog: CatalogServer;
let t: AudioLibrary;
let enrichment: EnrichmentService;
let server: ControlServer;
let client: MusicfsClient;
let provider: ReturnType<typeof createProvider>;
const cleanups: (() => unknown)[] = [];

const WALL = { artist: "Pink Floyd", album: "The Wall" };
const wallKey = albumKey({ artist: WALL.artist, album: WALL.album }) as string;

function providerConfig(): MetadataProviderConfig {
  return { ...parseConfig({}).metadata_provider, enabled: true, endpoint: catalog.url, timeout_ms: 3000 };
}

/** A Connect-protocol client over HTTP/1.1, the way a browser or curl talks to the server. */
function connectClient(url: string, headers: Record<string, string> = {}): MusicfsClient {
  return createMusicfsClient(
    createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      interceptors: [
        (next) => (req) => {
          for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
          return next(req);
        },
      ],
    }),
  );
}

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  catalog = await startCatalogServer({ albums: CATALOG });
});
afterAll(async () => {
  await catalog.close();
});
beforeEach(async () => {
  t = await audioLibrary();
  provider = createProvider(providerConfig());
  enrichment = createEnrichmentService({ lib: t.lib, provider, clock: new FakeClock(), log: silentLogger() }, providerConfig());
  server = await startControlServer(
    { lib: t.lib, log: silentLogger(), enrichment, metricsRegistry: enrichment.metrics.registry, provider: providerConfig() },
    { listen: "127.0.0.1:0" },
  );
  client = connectClient(server.url);
}, 60_000);
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.close();
  await enrichment.stop(false);
  provider.close();
  await t.cleanup();
});

describe("GetMetadata", () => {
  it("returns a file's tags, format and enrichment state by file id and by origin path", async () => {
    const path = join(t.root, "Pink Floyd", "The Wall", "01 In the Flesh.flac");
    const id = fileIdOf(t.lib, path);
    const byId = await client.getMetadata({ selector: { case: "fileId", value: BigInt(id) } });
    const byPath = await client.getMetadata({ selector: { case: "originPath", value: path } });
    expect(byPath.metadata).toEqual(byId.metadata);
    expect(byId.metadata).toMatchObject({
      fileId: BigInt(id),
      originPath: path,
      format: "flac",
      title: "In the Flesh?",
      artist: "Pink Floyd",
      album: "The Wall",
      track: 1,
      year: 1979,
      genre: "Rock",
      genres: ["Rock"],
      enrichmentSource: EnrichmentSource.EMBEDDED,
      enrichmentAttempts: 0,
      albumKey: wallKey,
      overriddenFields: [],
    });
    expect(byId.metadata?.enrichedAt).toBeUndefined();
    expect(byId.metadata?.durationSeconds).toBeCloseTo(1, 1);
  });

  it("answers NOT_FOUND for an unknown file and FAILED_PRECONDITION for a virtual path without a mount", async () => {
    expect(await codeOf(client.getMetadata({ selector: { case: "fileId", value: 99999n } }))).toBe(Code.NotFound);
    expect(await codeOf(client.getMetadata({ selector: { case: "originPath", value: "/nowhere.flac" } }))).toBe(Code.NotFound);
    expect(await codeOf(client.getMetadata({ selector: { case: "virtualPath", value: "Artists/Yes/x.flac" } }))).toBe(
      Code.FailedPrecondition,
    );
    expect(await codeOf(client.getMetadata({}))).toBe(Code.InvalidArgument);
  });

  it("resolves a virtual path through the mount's resolver", async () => {
    const id = fileIdOf(t.lib, join(t.root, "Yes", "Fragile", "01 Roundabout.flac"));
    const local = createInProcessClient({
      lib: t.lib,
      log: silentLogger(),
      resolveVirtualPath: (p) => (p === "Artists/Yes/1971 - Fragile/01 Roundabout.flac" ? id : undefined),
    });
    cleanups.push(local.close);
    const res = await local.client.getMetadata({
      selector: { case: "virtualPath", value: "/Artists/Yes/1971 - Fragile/01 Roundabout.flac" },
    });
    expect(res.metadata?.title).toBe("Roundabout");
    expect(await codeOf(local.client.getMetadata({ selector: { case: "virtualPath", value: "Artists/Nope.flac" } }))).toBe(Code.NotFound);
  });
});

describe("priority rules end to end", () => {
  it("keeps an orchestrator's values when a provider enrichment comes after it", async () => {
    const res = await client.updateMetadata({
      target: { case: "albumSelector", value: WALL },
      genres: ["Orchestrated Rock", "Art Rock"],
      label: "Orchestrator Records",
      albumType: "live",
    });
    expect(res.filesUpdated).toBe(2);
    const outcome = await enrichment.processAlbum({ albumKey: wallKey });
    expect(outcome.status).toBe("skipped");
    for (const id of res.fileIds) {
      const { metadata } = await client.getMetadata({ selector: { case: "fileId", value: id } });
      expect(metadata).toMatchObject({
        enrichmentSource: EnrichmentSource.ORCHESTRATOR,
        genres: ["Orchestrated Rock", "Art Rock"],
        genre: "Orchestrated Rock",
        label: "Orchestrator Records",
        albumType: "live",
        metadataVersion: 2n,
        overriddenFields: ["album_type", "genres", "label"],
      });
      expect(metadata?.providerAlbumId).toBeUndefined();
    }
  });

  it("overwrites a provider's values, and ClearOverride lets the provider write again", async () => {
    expect((await enrichment.processAlbum({ albumKey: wallKey })).status).toBe("hit");
    const path = join(t.root, "Pink Floyd", "The Wall", "02 The Thin Ice.flac");
    const id = BigInt(fileIdOf(t.lib, path));
    const enriched = (await client.getMetadata({ selector: { case: "fileId", value: id } })).metadata;
    expect(enriched).toMatchObject({
      enrichmentSource: EnrichmentSource.PROVIDER,
      label: "Harvest",
      genres: ["Progressive Rock", "Art Rock"],
    });

    const updated = await client.updateMetadata({
      target: { case: "originPath", value: path },
      title: "Thin Ice (edit)",
      genre: "Ambient",
    });
    expect(updated.fileIds).toEqual([id]);
    const overridden = (await client.getMetadata({ selector: { case: "fileId", value: id } })).metadata;
    expect(overridden).toMatchObject({
      enrichmentSource: EnrichmentSource.ORCHESTRATOR,
      title: "Thin Ice (edit)",
      genre: "Ambient",
      genres: ["Ambient"],
      overriddenFields: ["genres", "title"],
    });
    expect(overridden?.metadataVersion).toBe((enriched?.metadataVersion ?? 0n) + 1n);

    const cleared = await client.clearOverride({ target: { case: "albumSelector", value: WALL } });
    expect(cleared).toMatchObject({ filesCleared: 1, fileIds: [id] });
    const back = (await client.getMetadata({ selector: { case: "fileId", value: id } })).metadata;
    expect(back).toMatchObject({
      enrichmentSource: EnrichmentSource.EMBEDDED,
      title: "The Thin Ice",
      genres: ["Rock"],
      overriddenFields: [],
      enrichmentAttempts: 0,
    });
    expect(back?.label).toBeUndefined();

    const again = await enrichment.processAlbum({ albumKey: wallKey });
    expect(again).toMatchObject({ status: "hit", filesUpdated: 1 });
    const final = (await client.getMetadata({ selector: { case: "fileId", value: id } })).metadata;
    expect(final).toMatchObject({ enrichmentSource: EnrichmentSource.PROVIDER, label: "Harvest", title: "The Thin Ice" });
  });

  it("records overridden fields as the scanner's column names, so a re-scan keeps them", async () => {
    const id = fileIdOf(t.lib, join(t.root, "Yes", "Fragile", "01 Roundabout.flac"));
    await client.updateMetadata({ target: { case: "fileId", value: BigInt(id) }, title: "Roundabout (2024 mix)", trackTotal: 9 });
    await client.updateMetadata({
      target: { case: "fileId", value: BigInt(id) },
      year: 1972,
      coverUrl: "https://covers.example/fragile.jpg",
    });
    const row = t.lib.sqlite
      .prepare("SELECT overrides_json, title, year, track_total, cover_url FROM file_metadata WHERE file_id = ?")
      .get(id);
    expect(row).toEqual({
      overrides_json: JSON.stringify(["cover_url", "title", "track_total", "year"]),
      title: "Roundabout (2024 mix)",
      year: 1972,
      track_total: 9,
      cover_url: "https://covers.example/fragile.jpg",
    });
    expect(await rereadFile(t.lib, id)).toMatchObject({ title: "Roundabout", year: 1971, genres: ["Prog"] });
  });

  it("moves files to the album they are renamed to, which ListAlbums then shows", async () => {
    const res = await client.updateMetadata({ target: { case: "albumSelector", value: WALL }, album: "The Wall (Remaster)" });
    expect(res.filesUpdated).toBe(2);
    const { albums } = await client.listAlbums({});
    expect(albums.map((a) => `${a.artist} / ${a.album} (${a.trackCount})`)).toEqual([
      "Pink Floyd / The Wall (Remaster) (2)",
      "Yes / Fragile (1)",
    ]);
    expect(await codeOf(client.updateMetadata({ target: { case: "albumSelector", value: WALL }, label: "X" }))).toBe(Code.NotFound);
  });
});

describe("WatchEvents", () => {
  async function collect(kinds: EventKind[], count: number, action: () => Promise<unknown>): Promise<WatchEventsResponse[]> {
    const abort = new AbortController();
    const events: WatchEventsResponse[] = [];
    const stream = (async () => {
      try {
        for await (const e of client.watchEvents({ kinds }, { signal: abort.signal })) {
          events.push(e);
          if (events.length >= count) abort.abort();
        }
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Canceled) throw err;
      }
    })();
    await until(() => server.watchers() > 0);
    await action();
    await stream;
    return events;
  }

  it("streams FileModified after an UpdateMetadata", async () => {
    const id = fileIdOf(t.lib, join(t.root, "Yes", "Fragile", "01 Roundabout.flac"));
    const events = await collect([EventKind.FILE_MODIFIED], 1, () =>
      client.updateMetadata({ target: { case: "fileId", value: BigInt(id) }, label: "Atlantic" }),
    );
    expect(events[0]?.event).toEqual({
      case: "fileModified",
      value: expect.objectContaining({ fileId: BigInt(id), metadataVersion: 2n, source: EnrichmentSource.ORCHESTRATOR }),
    });
    expect(events[0]?.timeUnixMs).toBeGreaterThan(0n);
  });

  it("streams FileModified for each file and EnrichmentFinished after an enrichment", async () => {
    const events = await collect([], 3, () =>
      enrichment.processAlbum({ albumKey: wallKey }).then((o) => enrichment.events.emit("album", o)),
    );
    const modified = events.filter((e) => e.event.case === "fileModified").map((e) => e.event.value);
    expect(modified).toHaveLength(2);
    expect(modified.every((m) => m && "source" in m && m.source === EnrichmentSource.PROVIDER)).toBe(true);
    expect(events[2]?.event).toEqual({
      case: "enrichmentFinished",
      value: expect.objectContaining({
        albumKey: wallKey,
        status: AlbumEnrichmentStatus.HIT,
        filesUpdated: 2,
        providerAlbumId: "rg-the-wall",
      }),
    });
  });

  it("leaves out kinds the client did not ask for", async () => {
    const events = await collect([EventKind.ENRICHMENT_FINISHED], 1, () =>
      enrichment.processAlbum({ albumKey: wallKey }).then((o) => enrichment.events.emit("album", o)),
    );
    expect(events.map((e) => e.event.case)).toEqual(["enrichmentFinished"]);
  });
});

describe("bad requests", () => {
  const id = () => BigInt(fileIdOf(t.lib, join(t.root, "Yes", "Fragile", "01 Roundabout.flac")));

  it("rejects an update that sets nothing, targets nothing or targets an unknown file", async () => {
    expect(await codeOf(client.updateMetadata({ target: { case: "fileId", value: id() } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ title: "x" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ target: { case: "fileId", value: 424242n }, title: "x" }))).toBe(Code.NotFound);
    expect(await codeOf(client.updateMetadata({ target: { case: "albumSelector", value: { artist: "", album: "" } }, title: "x" }))).toBe(
      Code.InvalidArgument,
    );
  });

  it("rejects oversized, out-of-range and malformed values with a message", async () => {
    const target = { case: "fileId" as const, value: id() };
    const err = await client.updateMetadata({ target, title: "x".repeat(5000) }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("title is 5000 characters long");
    expect(await codeOf(client.updateMetadata({ target, track: -1 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ target, year: 123456 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ target, releaseDate: "last tuesday" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ target, genres: Array.from({ length: 100 }, (_, i) => `g${i}`) }))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(client.updateMetadata({ target, title: "bad \ud800 surrogate" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateMetadata({ target, artist: "nul\u0000byte" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.listAlbums({ pageToken: "garbage" }))).toBe(Code.InvalidArgument);
    // Nothing was written by the rejected calls.
    const { metadata } = await client.getMetadata({ selector: { case: "fileId", value: id() } });
    expect(metadata).toMatchObject({ title: "Roundabout", enrichmentSource: EnrichmentSource.EMBEDDED, metadataVersion: 1n });
  });

  it("rejects a binary request whose string is not UTF-8, and a JSON body that is not a request", async () => {
    // UpdateMetadataRequest{file_id: 1, title: 0xFF 0xFE} in the protobuf wire format.
    const body = Buffer.from([0x08, 0x01, 0x1a, 0x02, 0xff, 0xfe]);
    const res = await fetch(`${server.url}/musicfs.v1.MusicfsService/UpdateMetadata`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    const json = await fetch(`${server.url}/musicfs.v1.MusicfsService/UpdateMetadata`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"fileId": "not a number"',
    });
    expect(json.status).toBe(400);
    // The server is still there.
    expect((await client.getStatus({})).library?.files).toBe(3n);
  });

  it("reports each batch item on its own", async () => {
    const res = await client.batchUpdateMetadata({
      requests: [
        { target: { case: "fileId", value: id() }, label: "Atlantic" },
        { target: { case: "fileId", value: 777n }, label: "Nope" },
        { target: { case: "fileId", value: id() } },
      ],
    });
    expect(res.results.map((r) => r.outcome.case)).toEqual(["updated", "error", "error"]);
    expect(res.results[1]?.outcome.value).toMatchObject({ code: "not_found" });
    expect(res.results[2]?.outcome.value).toMatchObject({ code: "invalid_argument" });
  });
});

describe("protocols, metrics, albums and status", () => {
  it("speaks gRPC over plaintext HTTP/2 and Connect JSON over HTTP/1.1 on the same port", async () => {
    const grpc = createControlTransport({ url: server.url, timeoutMs: 5000 });
    cleanups.push(() => grpc.close());
    const viaGrpc = await createMusicfsClient(grpc).listAlbums({});
    expect(viaGrpc.totalCount).toBe(2n);
    const res = await fetch(`${server.url}/musicfs.v1.MusicfsService/Search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "prog" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ albums: [{ artist: "Yes", album: "Fragile", genres: ["Prog"] }] });
  });

  it("serves the registry's Prometheus text at /metrics", async () => {
    await enrichment.processAlbum({ albumKey: wallKey });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("enrichment_hits_total 1");
    expect(text).toContain("enrichment_latency_ms_bucket");
  });

  it("pages albums in artist order and searches by label", async () => {
    const first = await client.listAlbums({ pageSize: 1 });
    expect(first.albums.map((a) => a.album)).toEqual(["The Wall"]);
    expect(first.totalCount).toBe(2n);
    const second = await client.listAlbums({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second.albums.map((a) => a.album)).toEqual(["Fragile"]);
    expect(second.nextPageToken).toBe("");
    expect((await client.listAlbums({ filter: "fragile" })).albums.map((a) => a.album)).toEqual(["Fragile"]);
    await enrichment.processAlbum({ albumKey: wallKey });
    const found = await client.search({ query: "harvest" });
    expect(found.albums).toHaveLength(1);
    expect(found.albums[0]).toMatchObject({
      album: "The Wall",
      label: "Harvest",
      trackCount: 2,
      enrichmentStatus: AlbumEnrichmentStatus.HIT,
      providerAlbumId: "rg-the-wall",
      coverUrl: "https://covers.example/the-wall.jpg",
    });
  });

  it("reports library totals, coverage by source, live counters and the backlog", async () => {
    await client.updateMetadata({ target: { case: "albumSelector", value: { artist: "Yes", album: "Fragile" } }, label: "Atlantic" });
    await enrichment.processAlbum({ albumKey: wallKey });
    const status = await client.getStatus({});
    expect(status.library).toMatchObject({ files: 3n, albums: 2n, artists: 2n, scanErrors: 0n });
    expect(status.library?.lastScanAt).toBeGreaterThan(0n);
    expect(status.enrichmentBySource).toMatchObject({ embedded: 0n, provider: 2n, orchestrator: 1n });
    expect(status.counters).toMatchObject({ lookups: 1n, hits: 1n, misses: 0n, errors: 0n, drops: 0n });
    expect(status.queue).toMatchObject({ depth: 0, capacity: 256, inFlight: 0 });
    expect(status.latency?.p50Ms).toBeGreaterThan(0);
    expect(status.backlog).toMatchObject({ files: 0n, albums: 0n });
    expect(status.providerEnabled).toBe(true);
    expect(status.providerEndpoint).toBe(catalog.url);
  });
});

describe("authentication", () => {
  it("refuses to start off loopback without a token", async () => {
    const err = await startControlServer({ lib: t.lib, log: silentLogger() }, { listen: "0.0.0.0:0" }).catch((e: unknown) => e);
    expect(isMusicfsError(err, "CONFIG_INVALID")).toBe(true);
    expect((err as Error).message).toContain("[control] token");
  });

  it("answers UNAUTHENTICATED without the bearer token or with a wrong one, and serves the right one", async () => {
    const token = "s3cret-token-of-some-length";
    const open = await startControlServer(
      { lib: t.lib, log: silentLogger(), metricsRegistry: enrichment.metrics.registry },
      { listen: "0.0.0.0:0", token },
    );
    cleanups.push(() => open.close());
    expect(open.url).toBe(`http://127.0.0.1:${open.port}`);
    expect(await codeOf(connectClient(open.url).getStatus({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(connectClient(open.url, { authorization: "Bearer wrong-token" }).getStatus({}))).toBe(Code.Unauthenticated);
    const ok = await connectClient(open.url, { authorization: `Bearer ${token}` }).getStatus({});
    expect(ok.library?.files).toBe(3n);
    const grpc = createControlTransport({ url: open.url, token, timeoutMs: 5000 });
    cleanups.push(() => grpc.close());
    expect((await createMusicfsClient(grpc).listAlbums({})).totalCount).toBe(2n);
    expect((await fetch(`${open.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${open.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
