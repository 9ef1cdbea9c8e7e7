import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { MusicfsError } from "@musicfs/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Design §5.2 metrics, registered in a registry of their own so tests and processes stay isolated. */
export interface EnrichmentMetrics {
  registry: Registry;
  queueDepth: Gauge;
  queueDrops: Counter;
  inflightAlbums: Gauge;
  lookups: Counter;
  hits: Counter;
  misses: Counter;
  /** Labelled by kind: unreachable, deadline, overloaded, bad_response. */
  errors: Counter<"kind">;
  skipped: Counter;
  latencyMs: Histogram;
  /** Not in §5.2: albums served from the provider_albums cache without a call. */
  cacheReuses: Counter;
  /** Not in §5.2: misses with near-miss candidates recorded for review. */
  doubtful: Counter;
}

export function createEnrichmentMetrics(registry: Registry = new Registry()): EnrichmentMetrics {
  const registers = [registry];
  return {
    registry,
    queueDepth: new Gauge({ name: "enrichment_queue_depth", help: "Current queue size", registers }),
    queueDrops: new Counter({ name: "enrichment_queue_drops_total", help: "Requests dropped (queue full)", registers }),
    inflightAlbums: new Gauge({ name: "enrichment_inflight_albums", help: "In-flight (artist, album) dedup set size", registers }),
    lookups: new Counter({ name: "enrichment_lookups_total", help: "Total provider lookups", registers }),
    hits: new Counter({ name: "enrichment_hits_total", help: "Successful matches", registers }),
    misses: new Counter({ name: "enrichment_misses_total", help: "No match found", registers }),
    errors: new Counter({ name: "enrichment_errors_total", help: "Provider errors", labelNames: ["kind"] as const, registers }),
    skipped: new Counter({ name: "enrichment_skipped_total", help: "Skipped (higher-priority source already wrote)", registers }),
    latencyMs: new Histogram({
      name: "enrichment_latency_ms",
      help: "Lookup latency",
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    cacheReuses: new Counter({
      name: "enrichment_cache_reuses_total",
      help: "Albums enriched from the local cache without a call",
      registers,
    }),
    doubtful: new Counter({ name: "enrichment_doubtful_total", help: "Misses with a near-miss candidate kept for review", registers }),
  };
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` in the Prometheus text format on `listen` ("127.0.0.1:9464"; port 0 picks one). */
export async function serveMetrics(registry: Registry, listen: string): Promise<MetricsServer> {
  const sep = listen.lastIndexOf(":");
  const host = listen.slice(0, sep).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(sep + 1));
  if (sep <= 0 || !Number.isInteger(port)) throw new MusicfsError("CONFIG_INVALID", `metrics address must be host:port, got ${listen}`);
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new MusicfsError("CONFIG_INVALID", `cannot serve metrics on ${listen}: ${err.message}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
