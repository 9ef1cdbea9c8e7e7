import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Library, libraryStats } from "@musicfs/db";
import type { GetStatusResponseSchema } from "../gen/musicfs/v1/musicfs_pb.js";
import type { EventSource } from "./events.js";

/** One observation of a prom-client metric (what Histogram.get() returns in `values`). */
export interface MetricSample {
  value: number;
  labels: Partial<Record<string, string | number>>;
  metricName?: string;
}

/**
 * What the control API reads from a running enrichment service (packages/enrich EnrichmentService
 * fits it): live counters, the queue, its events and the lookup latency histogram.
 */
export interface LiveEnrichment {
  stats(): {
    queueDepth: number;
    inFlight: number;
    lookups: number;
    hits: number;
    misses: number;
    errors: number;
    skipped: number;
    drops: number;
  };
  /** 'fileModified' ({ fileId, metadataVersion, source }) and 'album' (AlbumOutcome). */
  events: EventSource;
  queue: { tryPush(req: { artist: string; album: string; albumartist?: string | null; albumKey?: string | null }): string };
  metrics?: { latencyMs: { get(): Promise<{ values: MetricSample[] }> } };
}

/** The [metadata_provider] settings GetStatus reports and uses (capacity, backlog bound). */
export interface ProviderSettings {
  enabled: boolean;
  endpoint: string;
  queue_size: number;
  retry_max: number;
}

/** Quantile of a Prometheus histogram by linear interpolation inside the bucket that holds it. */
export function histogramQuantile(samples: readonly MetricSample[], q: number): number {
  const buckets = samples
    .filter((s) => s.metricName?.endsWith("_bucket") && s.labels.le !== undefined)
    .map((s) => ({ le: s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return 0;
  const target = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= target) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (target - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Albums finished per second over a sliding window, for the backlog's ETA. */
export class RateWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly windowMs = 10 * 60_000,
    private readonly maxSamples = 1000,
  ) {}

  record(now: number): void {
    this.times.push(now);
    if (this.times.length > this.maxSamples) this.times.shift();
  }

  /** Per second; undefined until two albums finished within the window. */
  perSecond(now: number): number | undefined {
    while (this.times.length > 0 && (this.times[0] ?? now) < now - this.windowMs) this.times.shift();
    const first = this.times[0];
    if (this.times.length < 2 || first === undefined) return undefined;
    const span = Math.max(1, now - first) / 1000;
    return this.times.length / span;
  }
}

export async function buildStatus(
  lib: Library,
  live: { enrichment?: LiveEnrichment | undefined; provider?: ProviderSettings | undefined; rate: RateWindow; now: number },
): Promise<MessageInitShape<typeof GetStatusResponseSchema>> {
  const stats = libraryStats(lib, live.provider ? { retryMax: live.provider.retry_max } : {});
  const e = live.enrichment;
  const counters = e?.stats();
  const latency = e?.metrics ? (await e.metrics.latencyMs.get()).values : [];
  const rate = live.rate.perSecond(live.now);
  const backlogAlbums = stats.enrichment.backlogAlbums;
  const last = stats.lastScan;
  const lastScanAt = last ? (last.finishedAt ?? last.startedAt) : undefined;
  return {
    library: {
      files: BigInt(stats.files),
      albums: BigInt(stats.albums),
      artists: BigInt(stats.artists),
      totalBytes: BigInt(stats.totalBytes),
      totalDurationSeconds: stats.totalDurationSeconds,
      scanErrors: BigInt(stats.scanErrors.total + stats.scanErrors.warnings),
      ...(lastScanAt ? { lastScanAt: BigInt(Math.floor(lastScanAt / 1000)) } : {}),
    },
    enrichmentBySource: {
      embedded: BigInt(stats.enrichment.bySource.embedded),
      provider: BigInt(stats.enrichment.bySource.provider),
      orchestrator: BigInt(stats.enrichment.bySource.orchestrator),
    },
    queue: { depth: counters?.queueDepth ?? 0, capacity: e ? (live.provider?.queue_size ?? 0) : 0, inFlight: counters?.inFlight ?? 0 },
    counters: {
      lookups: BigInt(counters?.lookups ?? 0),
      hits: BigInt(counters?.hits ?? 0),
      misses: BigInt(counters?.misses ?? 0),
      errors: BigInt(counters?.errors ?? 0),
      skips: BigInt(counters?.skipped ?? 0),
      drops: BigInt(counters?.drops ?? 0),
    },
    latency: { p50Ms: histogramQuantile(latency, 0.5), p95Ms: histogramQuantile(latency, 0.95), p99Ms: histogramQuantile(latency, 0.99) },
    backlog: {
      files: BigInt(stats.enrichment.backlogFiles),
      albums: BigInt(backlogAlbums),
      ...(rate && e ? { etaSeconds: BigInt(Math.ceil(backlogAlbums / rate)) } : {}),
    },
    providerEnabled: e !== undefined || (live.provider?.enabled ?? false),
    providerEndpoint: live.provider?.endpoint ?? "",
  };
}
