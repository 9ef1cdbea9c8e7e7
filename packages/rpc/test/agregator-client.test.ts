import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { isMusicfsError } from "@musicfs/core";
import {
  type AgregatorTransport,
  Code,
  ConnectError,
  createAgregatorClient,
  createAgregatorTransport,
  createMusicfsClient,
  EnrichmentSource,
  MetadataService,
  MusicfsService,
} from "@musicfs/rpc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// A minimal gRPC server in the test itself: this package must not depend on the catalog-server app.
interface TestServer {
  url: string;
  seenTimeouts: (number | undefined)[];
  close(): Promise<void>;
}

async function startServer(hangOnQuery: string): Promise<TestServer> {
  const seenTimeouts: (number | undefined)[] = [];
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    shutdownSignal: shutdown.signal,
    routes: (router) => {
      router.service(MetadataService, {
        async searchAlbums(req, ctx) {
          seenTimeouts.push(ctx.timeoutMs());
          if (req.query === hangOnQuery) {
            await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          }
          return { albums: [{ id: `id-${req.query}`, title: req.query, artists: [{ name: req.artist }], score: 100 }] };
        },
      });
      router.service(MusicfsService, {
        getMetadata(req) {
          if (req.selector.case !== "fileId") throw new ConnectError("only file ids here", Code.InvalidArgument);
          return { metadata: { fileId: req.selector.value, title: "Roundabout", enrichmentSource: EnrichmentSource.PROVIDER } };
        },
      });
    },
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seenTimeouts,
    close: () =>
      new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      }),
  };
}

describe("createAgregatorTransport", () => {
  let server: TestServer;
  const transports: AgregatorTransport[] = [];
  const transport = (opts: Parameters<typeof createAgregatorTransport>[0]): AgregatorTransport => {
    const t = createAgregatorTransport(opts);
    transports.push(t);
    return t;
  };

  beforeAll(async () => {
    server = await startServer("hang");
  });
  afterEach(() => {
    for (const t of transports.splice(0)) t.close();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("calls SearchAlbums over plaintext HTTP/2 gRPC", async () => {
    const client = createAgregatorClient(transport({ endpoint: server.url, timeoutMs: 5000 }));
    const res = await client.searchAlbums({ query: "Fragile", artist: "Yes", limit: 1 });
    expect(res.albums).toHaveLength(1);
    expect(res.albums[0]).toMatchObject({ id: "id-Fragile", title: "Fragile", score: 100 });
    expect(res.albums[0]?.artists[0]?.name).toBe("Yes");
  });

  it("sends timeoutMs as the default deadline of every call", async () => {
    const client = createAgregatorClient(transport({ endpoint: server.url, timeoutMs: 4000 }));
    const before = server.seenTimeouts.length;
    await client.searchAlbums({ query: "Relayer", artist: "Yes" });
    const seen = server.seenTimeouts[before];
    expect(seen).toBeDefined();
    expect(seen).toBeGreaterThan(3000);
    expect(seen).toBeLessThanOrEqual(4000);
  });

  it("fails a call the server never answers with DEADLINE_EXCEEDED once timeoutMs passes", async () => {
    const client = createAgregatorClient(transport({ endpoint: server.url, timeoutMs: 200 }));
    const err = await client.searchAlbums({ query: "hang", artist: "" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("lets a per-call timeoutMs override the default deadline", async () => {
    const client = createAgregatorClient(transport({ endpoint: server.url, timeoutMs: 60000 }));
    const err = await client.searchAlbums({ query: "hang" }, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("reports UNAVAILABLE when nothing listens at the endpoint", async () => {
    const closed = await startServer("");
    const url = closed.url;
    await closed.close();
    const client = createAgregatorClient(transport({ endpoint: url, timeoutMs: 2000 }));
    const err = await client.searchAlbums({ query: "Fragile" }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
  });

  it("serves the musicfs control API through the same kind of transport", async () => {
    const client = createMusicfsClient(transport({ endpoint: server.url, timeoutMs: 5000 }));
    const res = await client.getMetadata({ selector: { case: "fileId", value: 42n } });
    expect(res.metadata?.fileId).toBe(42n);
    expect(res.metadata?.title).toBe("Roundabout");
    expect(res.metadata?.enrichmentSource).toBe(EnrichmentSource.PROVIDER);
  });

  it("closes its connection on close(), and a later call reconnects", async () => {
    const t = transport({ endpoint: server.url, timeoutMs: 5000 });
    const client = createAgregatorClient(t);
    await client.searchAlbums({ query: "Drama" });
    t.close();
    const res = await client.searchAlbums({ query: "Tormato" });
    expect(res.albums[0]?.title).toBe("Tormato");
  });

  it.each([
    ["a string that is not a URL", { endpoint: "127.0.0.1:50051", timeoutMs: 1000 }, /not a URL/],
    ["a non-http scheme", { endpoint: "ftp://localhost:50051", timeoutMs: 1000 }, /http:\/\/ or https:\/\//],
    ["a zero timeout", { endpoint: "http://localhost:50051", timeoutMs: 0 }, /timeout/],
    [
      "a CA file for a plaintext endpoint",
      { endpoint: "http://localhost:50051", timeoutMs: 1000, tlsCaFile: "/etc/hostname" },
      /not https/,
    ],
    [
      "a CA file that does not exist",
      { endpoint: "https://localhost:50051", timeoutMs: 1000, tlsCaFile: "/nonexistent/ca.pem" },
      /cannot read/,
    ],
  ])("rejects %s as CONFIG_INVALID", (_name, opts, message) => {
    let thrown: unknown;
    try {
      transport(opts);
    } catch (err) {
      thrown = err;
    }
    expect(isMusicfsError(thrown, "CONFIG_INVALID")).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});
