import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AlbumInit,
  type CallRecord,
  type CatalogServer,
  type CatalogServerOptions,
  startCatalogServer,
} from "@musicfs/catalog-server";
import { type AgregatorTransport, Code, ConnectError, createAgregatorClient, createAgregatorTransport } from "@musicfs/rpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const albums: AlbumInit[] = [
  { id: "rg-fragile", title: "Fragile", artists: [{ name: "Yes" }] },
  { id: "rg-relayer", title: "Relayer", artists: [{ name: "Yes" }] },
];

describe("catalog-server fault injection", () => {
  let dir: string;
  const servers: CatalogServer[] = [];
  const transports: AgregatorTransport[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "musicfs-catalog-"));
  });
  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function start(opts: CatalogServerOptions = {}, timeoutMs = 5000) {
    const server = await startCatalogServer({ albums, ...opts });
    servers.push(server);
    const transport = createAgregatorTransport({ endpoint: server.url, timeoutMs });
    transports.push(transport);
    return { server, client: createAgregatorClient(transport) };
  }

  /** The Connect code of a call's failure, or "ok". */
  async function outcome(call: Promise<unknown>): Promise<Code | "ok"> {
    try {
      await call;
      return "ok";
    } catch (err) {
      if (err instanceof ConnectError) return err.code;
      throw err;
    }
  }

  const fragile = { query: "Fragile", artist: "Yes", limit: 1 };

  it("fails the first N calls with UNAVAILABLE, then answers", async () => {
    const { server, client } = await start({ failFirst: 2 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await outcome(client.searchAlbums(fragile)));
    expect(results).toEqual([Code.Unavailable, Code.Unavailable, "ok", "ok"]);
    expect(server.calls().map((c) => c.outcome)).toEqual(["failed", "failed", "ok", "ok"]);
    expect(server.calls()[0]?.code).toBe("unavailable");
  });

  it("restarts the fail-first count when failFirst is set again", async () => {
    const { server, client } = await start();
    expect(await outcome(client.searchAlbums(fragile))).toBe("ok");
    server.setBehaviour({ failFirst: 1 });
    expect(await outcome(client.searchAlbums(fragile))).toBe(Code.Unavailable);
    expect(await outcome(client.searchAlbums(fragile))).toBe("ok");
  });

  it("answers with RESOURCE_EXHAUSTED when that is the failure code, like a rate-limited agregator", async () => {
    const { client } = await start({ failFirst: 1, failureCode: "resource_exhausted" });
    expect(await outcome(client.searchAlbums(fragile))).toBe(Code.ResourceExhausted);
    expect(await outcome(client.searchAlbums(fragile))).toBe("ok");
  });

  it("fails about failureRate of the calls, the same calls for the same seed", async () => {
    const run = async () => {
      const { client } = await start({ failureRate: 0.5, seed: 7 });
      const results = [];
      for (let i = 0; i < 40; i++) results.push(await outcome(client.searchAlbums(fragile)));
      return results;
    };
    const first = await run();
    const failures = first.filter((r) => r === Code.Unavailable).length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    expect(first.filter((r) => r !== "ok" && r !== Code.Unavailable)).toEqual([]);
    expect(await run()).toEqual(first);
  });

  it("never fails at failureRate 0 and always fails at failureRate 1", async () => {
    const { server, client } = await start({ failureRate: 0 });
    for (let i = 0; i < 5; i++) expect(await outcome(client.searchAlbums(fragile))).toBe("ok");
    server.setBehaviour({ failureRate: 1 });
    for (let i = 0; i < 5; i++) expect(await outcome(client.searchAlbums(fragile))).toBe(Code.Unavailable);
  });

  it("hangs until the client's deadline fires with DEADLINE_EXCEEDED", async () => {
    const { server, client } = await start({ hang: true }, 200);
    expect(await outcome(client.searchAlbums(fragile))).toBe(Code.DeadlineExceeded);
    expect(server.callCount()).toBe(1);
    // The hung handler is released by the deadline too: the server records how the call ended.
    await expect.poll(() => server.calls()[0]?.outcome).toBe("hung");
    server.setBehaviour({ hang: false });
    expect(await outcome(client.searchAlbums(fragile))).toBe("ok");
  });

  it("closes without waiting for hung calls", async () => {
    const { server, client } = await start({ hang: true }, 60000);
    const pending = outcome(client.searchAlbums(fragile));
    await expect.poll(() => server.callCount()).toBe(1);
    await server.close();
    expect(await pending).toBe(Code.Unavailable);
  });

  it("delays each answer by latencyMs and still answers", async () => {
    const { server, client } = await start({ latencyMs: 150 });
    const res = await client.searchAlbums(fragile);
    expect(res.albums.map((a) => a.id)).toEqual(["rg-fragile"]);
    server.setBehaviour({ latencyMs: 1000 });
    expect(await outcome(client.searchAlbums(fragile, { timeoutMs: 200 }))).toBe(Code.DeadlineExceeded);
    await expect.poll(() => server.calls()[1]?.outcome).toBe("cancelled");
  });

  it("records every call in memory and as one JSON line per call in the call log", async () => {
    const callLogFile = join(dir, "calls.jsonl");
    const { server, client } = await start({ callLogFile, failFirst: 1 });
    await outcome(client.searchAlbums({ query: "Fragile", artist: "Yes", limit: 3 }));
    await client.searchAlbums({ query: "Relayer", artist: "Yes", limit: 3 });
    await client.searchAlbums({ query: "Nothing Like It", artist: "Nobody", limit: 0 });

    expect(server.callCount()).toBe(3);
    const lines = (await readFile(callLogFile, "utf8")).trimEnd().split("\n");
    const logged = lines.map((l) => JSON.parse(l) as CallRecord);
    expect(logged).toEqual(server.calls());
    expect(logged.map((c) => [c.seq, c.method, c.query, c.artist, c.limit, c.outcome])).toEqual([
      [1, "SearchAlbums", "Fragile", "Yes", 3, "failed"],
      [2, "SearchAlbums", "Relayer", "Yes", 3, "ok"],
      [3, "SearchAlbums", "Nothing Like It", "Nobody", 0, "ok"],
    ]);
    expect(logged[1]?.resultIds).toEqual(["rg-relayer", "rg-fragile"]);
    expect(logged[1]?.scores).toEqual([100, 40]);
    expect(logged[2]?.resultIds).toEqual([]);
  });

  it("rejects out-of-range behaviour settings", async () => {
    const { server } = await start();
    expect(() => server.setBehaviour({ failureRate: 1.5 })).toThrow(/failureRate/);
    expect(() => server.setBehaviour({ failFirst: -1 })).toThrow(/failFirst/);
  });
});
