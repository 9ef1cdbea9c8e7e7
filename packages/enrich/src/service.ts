import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import { type Clock, describeError, type Logger, type MetadataProviderConfig, MusicfsError } from "@musicfs/core";
import type { Library } from "@musicfs/db";
import { type AlbumQuery, artistKey, chooseMatch, type SearchResultAlbum, titleKey } from "./match.js";
import { createEnrichmentMetrics, type EnrichmentMetrics } from "./metrics.js";
import type { DoubtfulCandidate, EnrichedMetadata, MetadataProvider, ProviderAlbum, ProviderErrorKind } from "./provider.js";
import { createProvider, providerErrorKind } from "./provider.js";
import { EnrichmentQueue, type PushResult } from "./queue.js";
import {
  type AlbumFilter,
  type AlbumRow,
  type AlbumStatus,
  createEnrichmentStore,
  type EnrichmentStore,
  type FileModified,
  requestAlbumKey,
} from "./store.js";

export interface EnrichmentDeps {
  lib: Library;
  provider: MetadataProvider;
  clock: Clock;
  log: Logger;
  /** Defaults to a fresh registry of the §5.2 metrics. */
  metrics?: EnrichmentMetrics;
}

export type EnrichmentServiceConfig = Pick<MetadataProviderConfig, "retry_max" | "retry_backoff_ms" | "queue_size"> & {
  /** Albums looked up at once; the design's single worker is 1. */
  concurrency?: number;
};

/** What happened to one album. */
export interface AlbumOutcome {
  albumKey: string;
  artist: string;
  album: string;
  status: Exclude<AlbumStatus, "pending">;
  /** 'lookup': a SearchAlbums call was made; 'cache': a cached result was reused; 'none': nothing to look up. */
  via: "lookup" | "cache" | "none";
  reason: string | null;
  providerAlbumId: string | null;
  metadata: EnrichedMetadata | null;
  /** Files written (or, in a dry run, that would be written). */
  filesUpdated: number;
  candidates: DoubtfulCandidate[];
  error: { kind: ProviderErrorKind; message: string } | null;
  /** Failed attempts so far and when the next may be made (null: no retry). */
  attempts: number;
  nextAttemptAt: number | null;
  dryRun: boolean;
}

export interface LookupRequest {
  artist: string;
  album: string;
  albumartist?: string | null;
  albumKey?: string | null;
  fileId?: number;
}

/** A file_metadata row as the mount sees it (camelCase columns); the §4.3.6 guard runs on it. */
export interface UnenrichedFileRow {
  fileId: number;
  artist: string | null;
  album: string | null;
  albumartist?: string | null;
  albumKey?: string | null;
  enrichmentSource?: string | null;
  enrichedAt?: number | null;
  enrichmentAttempts?: number | null;
  nextAttemptAt?: number | null;
}

export interface ProcessOptions {
  dryRun?: boolean;
  /** Look up again even when a cached result exists, and replace earlier provider writes. */
  refresh?: boolean;
  signal?: AbortSignal;
}

export interface BatchOptions {
  filter?: AlbumFilter;
  dryRun?: boolean;
  /** Also re-query albums matched before this time (ms since the epoch). */
  refreshBefore?: number;
  signal?: AbortSignal;
  /** Called after each album, with how many are done out of the total. */
  onAlbum?: (outcome: AlbumOutcome, done: number, total: number) => void;
}

export interface BatchSummary {
  albums: number;
  hits: number;
  misses: number;
  doubtful: number;
  errors: number;
  skipped: number;
  /** Albums enriched from the local cache without a call. */
  cached: number;
  calls: number;
  filesUpdated: number;
  seconds: number;
  dryRun: boolean;
  /** The run stopped early because metadata-agregator could not be reached. */
  providerUnavailable: boolean;
  /** Albums not started (interrupted, or provider unreachable). */
  notStarted: number;
  outcomes: AlbumOutcome[];
}

export interface EnrichmentStats {
  queueDepth: number;
  inFlight: number;
  lookups: number;
  calls: number;
  hits: number;
  misses: number;
  doubtful: number;
  errors: number;
  skipped: number;
  cached: number;
  drops: number;
}

export interface EnrichmentService {
  queue: {
    /** design §4.3.5 try_push: never blocks. */
    tryPush(req: LookupRequest): PushResult;
    readonly depth: number;
  };
  /** design §4.3.6: pushes the file's album when the file is not enriched, below retry_max and past its backoff. */
  enqueueIfUnenriched(file: UnenrichedFileRow): PushResult;
  /** Starts the workers; with pollMs, also queues due albums from the database every pollMs (daemon). */
  start(opts?: { pollMs?: number }): void;
  /** Stops taking work. drain: finish albums being looked up; otherwise abort them (nothing is half-written either way). */
  stop(drain?: boolean): Promise<void>;
  /** Enriches every due album once, `concurrency` at a time (enrich --once). */
  runBatch(opts?: BatchOptions): Promise<BatchSummary>;
  /** Enriches one album now (used by the workers and runBatch). */
  processAlbum(req: { albumKey: string; artist?: string; album?: string }, opts?: ProcessOptions): Promise<AlbumOutcome>;
  /** 'fileModified' (FileModified), 'album' (AlbumOutcome). */
  events: EventEmitter;
  stats(): EnrichmentStats;
  store: EnrichmentStore;
  metrics: EnrichmentMetrics;
}

class Aborted extends Error {}

/** Delay before the next attempt after `attempts` failures: retry_backoff_ms * 2^(attempts-1), i.e. 1x, 2x, 4x... */
export function backoffDelayMs(retryBackoffMs: number, attempts: number): number {
  return retryBackoffMs * 2 ** Math.max(0, attempts - 1);
}

function cachedAsResult(album: ProviderAlbum): SearchResultAlbum {
  return {
    id: album.providerAlbumId,
    title: album.title,
    artists: [{ name: album.credit, joinPhrase: "" }],
    albumType: album.metadata.albumType ?? "",
    score: 100,
  };
}

/**
 * The enrichment queue and worker of design §4.3.5, shared by `musicfs enrich` and the mount.
 * Work is per album: one lookup (or a cached result) serves every file with the album's key.
 */
export function createEnrichmentService(deps: EnrichmentDeps, cfg: EnrichmentServiceConfig): EnrichmentService {
  const { lib, provider, clock, log } = deps;
  const metrics = deps.metrics ?? createEnrichmentMetrics();
  const store = createEnrichmentStore(lib);
  const events = new EventEmitter();
  const concurrency = Math.max(1, cfg.concurrency ?? 1);
  const counts: EnrichmentStats = {
    queueDepth: 0,
    inFlight: 0,
    lookups: 0,
    calls: 0,
    hits: 0,
    misses: 0,
    doubtful: 0,
    errors: 0,
    skipped: 0,
    cached: 0,
    drops: 0,
  };
  const queue = new EnrichmentQueue(cfg.queue_size, () => {
    metrics.queueDepth.set(queue.depth);
    metrics.inflightAlbums.set(queue.inFlightCount);
  });
  // Lookups in progress by (artist, title) key: a second album key for the same release waits and reuses the result.
  const lookupsInProgress = new Map<string, Promise<unknown>>();
  let running = false;
  let abort = new AbortController();
  let workers: Promise<void>[] = [];
  let unreachableUntil = 0;

  function makeOutcome(row: AlbumRow, dryRun: boolean, fields: Partial<AlbumOutcome> & Pick<AlbumOutcome, "status" | "via">): AlbumOutcome {
    return {
      albumKey: row.albumKey,
      artist: row.artist,
      album: row.album,
      reason: null,
      providerAlbumId: null,
      metadata: null,
      filesUpdated: 0,
      candidates: [],
      error: null,
      attempts: row.attempts,
      nextAttemptAt: null,
      dryRun,
      ...fields,
    };
  }

  function applyHit(row: AlbumRow, album: ProviderAlbum, reason: string, via: "lookup" | "cache", opts: ProcessOptions, eligible: number) {
    let filesUpdated = eligible;
    if (!opts.dryRun) {
      const modified: FileModified[] = store.applyHit({
        albumKey: row.albumKey,
        album,
        reason,
        now: clock.now(),
        lookedUp: via === "lookup",
        refresh: opts.refresh === true,
      });
      filesUpdated = modified.length;
      for (const m of modified) events.emit("fileModified", m);
    }
    const status = filesUpdated > 0 ? "hit" : "skipped";
    if (status === "hit") {
      counts.hits++;
      metrics.hits.inc();
    } else {
      counts.skipped++;
      metrics.skipped.inc();
      log.info({ albumKey: row.albumKey }, "enrichment skipped: a higher-priority source wrote every file first");
    }
    if (via === "cache") {
      counts.cached++;
      metrics.cacheReuses.inc();
    }
    return makeOutcome(row, opts.dryRun === true, {
      status,
      via,
      reason,
      providerAlbumId: album.providerAlbumId,
      metadata: album.metadata,
      filesUpdated,
      attempts: 0,
    });
  }

  function fromCache(row: AlbumRow, query: AlbumQuery): { album: ProviderAlbum; reason: string } | undefined {
    if (row.providerAlbumId) {
      const album = store.cachedProviderAlbum(row.providerAlbumId);
      if (album) return { album, reason: "cached result of this album" };
    }
    if (query.mbReleaseGroupId) {
      const album = store.cachedProviderAlbum(query.mbReleaseGroupId);
      if (album) return { album, reason: "cached result: MusicBrainz release-group id of the files" };
    }
    const cached = store.cachedByTitle(query.album);
    if (cached.length === 0) return undefined;
    const choice = chooseMatch(query, cached.map(cachedAsResult));
    const found = choice.match && cached.find((c) => c.providerAlbumId === choice.match?.result.id);
    return found && { album: found, reason: `cached result: ${choice.match?.reason}` };
  }

  function recordFailure(
    row: AlbumRow,
    opts: ProcessOptions,
    failure: { status: "miss" | "doubtful" | "error"; message: string; candidates?: DoubtfulCandidate[]; kind?: ProviderErrorKind },
  ): AlbumOutcome {
    const now = clock.now();
    const attempts = row.attempts + 1;
    // design §4.3.5 step 7: retry with exponential backoff until retry_max attempts.
    const next = attempts < cfg.retry_max ? now + backoffDelayMs(cfg.retry_backoff_ms, attempts) : null;
    if (!opts.dryRun) {
      store.applyFailure({
        albumKey: row.albumKey,
        status: failure.status,
        error: failure.message,
        attempts,
        next,
        now,
        ...(failure.candidates ? { candidates: failure.candidates } : {}),
      });
      if (next !== null) scheduleRetry(row, next - now);
      else log.warn({ albumKey: row.albumKey, attempts, error: failure.message }, "enrichment given up after retry_max attempts");
    }
    return makeOutcome(row, opts.dryRun === true, {
      status: failure.status,
      via: "lookup",
      reason: failure.candidates?.[0]?.reason ?? failure.message,
      candidates: failure.candidates ?? [],
      error: failure.kind ? { kind: failure.kind, message: failure.message } : null,
      attempts,
      nextAttemptAt: next,
    });
  }

  function scheduleRetry(row: AlbumRow, delayMs: number): void {
    if (!running) return;
    // design §4.3.5: re-enqueue after the backoff; the time is also persisted so other processes honour it.
    clock.sleep(delayMs, abort.signal).then(
      () => {
        if (running) tryPush({ albumKey: row.albumKey, artist: row.artist, album: row.album });
      },
      () => {},
    );
  }

  async function lookUp(row: AlbumRow, query: AlbumQuery, opts: ProcessOptions, eligible: number): Promise<AlbumOutcome> {
    counts.lookups++;
    metrics.lookups.inc();
    const started = performance.now();
    try {
      const result = await provider.lookup(query.artist, query.album, {
        compilation: query.compilation ?? false,
        mbReleaseGroupId: query.mbReleaseGroupId ?? null,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      counts.calls++;
      metrics.latencyMs.observe(performance.now() - started);
      if (opts.signal?.aborted) throw new Aborted();
      if (result.kind === "hit") return applyHit(row, result.album, result.reason, "lookup", opts, eligible);
      counts.misses++;
      metrics.misses.inc();
      if (result.candidates.length > 0) {
        counts.doubtful++;
        metrics.doubtful.inc();
      }
      const message =
        result.candidates.length > 0
          ? `no verified match (${result.candidates.length} doubtful candidate${result.candidates.length > 1 ? "s" : ""})`
          : `no match among ${result.resultCount} result${result.resultCount === 1 ? "" : "s"}`;
      log.info({ albumKey: row.albumKey, candidates: result.candidates.length }, message);
      return recordFailure(row, opts, {
        status: result.candidates.length > 0 ? "doubtful" : "miss",
        message,
        candidates: result.candidates,
      });
    } catch (err) {
      if (err instanceof Aborted || opts.signal?.aborted) throw new Aborted();
      counts.calls++;
      const kind = providerErrorKind(err);
      counts.errors++;
      metrics.errors.inc({ kind });
      if (kind === "unreachable") unreachableUntil = clock.now() + cfg.retry_backoff_ms;
      const message = describeError(err);
      if (kind === "bad_response") {
        log.warn(
          { albumKey: row.albumKey, artist: query.artist, album: query.album, err: message, details: (err as MusicfsError).details },
          "metadata-agregator sent a bad response",
        );
      } else {
        log.warn({ albumKey: row.albumKey, kind, err: message }, "metadata-agregator lookup failed");
      }
      return recordFailure(row, opts, { status: "error", message, kind });
    }
  }

  async function processAlbum(
    req: { albumKey: string; artist?: string; album?: string },
    opts: ProcessOptions = {},
  ): Promise<AlbumOutcome> {
    let row = store.album(req.albumKey);
    if (!row) {
      const [artist = "", album = ""] = [req.artist, req.album];
      row = opts.dryRun
        ? {
            albumKey: req.albumKey,
            artist,
            album,
            status: "pending",
            attempts: 0,
            providerAlbumId: null,
            nextAttemptAt: null,
            lookedUpAt: null,
          }
        : store.ensureAlbum(req.albumKey, artist, album);
    }
    const facts = store.facts(row.albumKey, row.artist);
    const dryRun = opts.dryRun === true;
    // design §4.3.5 step 2: nothing left to enrich (every file has a higher-priority source or is enriched).
    if (!opts.refresh && facts.eligible === 0) {
      if (!dryRun) store.markSkipped(row.albumKey);
      counts.skipped++;
      metrics.skipped.inc();
      return makeOutcome(row, dryRun, { status: "skipped", via: "none", reason: "no file left to enrich" });
    }
    const query: AlbumQuery = {
      artist: row.artist,
      album: row.album,
      compilation: facts.compilation,
      mbReleaseGroupId: facts.mbReleaseGroupId,
    };
    if (!opts.refresh) {
      const cached = fromCache(row, query);
      if (cached) return applyHit(row, cached.album, cached.reason, "cache", opts, facts.eligible);
    }
    const sameRelease = `${artistKey(query.artist)}\u001f${titleKey(query.album)}`;
    const earlier = lookupsInProgress.get(sameRelease);
    if (earlier && !opts.refresh) {
      await earlier.catch(() => {});
      const cached = fromCache(row, query);
      if (cached) return applyHit(row, cached.album, cached.reason, "cache", opts, facts.eligible);
    }
    const pending = lookUp(row, query, opts, facts.eligible);
    lookupsInProgress.set(sameRelease, pending);
    try {
      return await pending;
    } finally {
      if (lookupsInProgress.get(sameRelease) === pending) lookupsInProgress.delete(sameRelease);
    }
  }

  function tryPush(req: LookupRequest): PushResult {
    const key = req.artist && req.album ? requestAlbumKey(req) : null;
    if (!key) return "ineligible";
    const result = queue.tryPush({
      albumKey: key,
      artist: req.albumartist || req.artist,
      album: req.album,
      ...(req.fileId === undefined ? {} : { fileId: req.fileId }),
    });
    if (result === "dropped") {
      counts.drops++;
      metrics.queueDrops.inc();
      log.warn({ albumKey: key, fileId: req.fileId, capacity: queue.capacity }, "enrichment queue full, dropping request");
    }
    return result;
  }

  async function workerLoop(): Promise<void> {
    for (;;) {
      const req = await queue.take();
      if (!req) return;
      try {
        const outcome = await processAlbum(req, { signal: abort.signal });
        events.emit("album", outcome);
      } catch (err) {
        if (!(err instanceof Aborted)) log.error({ albumKey: req.albumKey, err: describeError(err) }, "enrichment failed");
      } finally {
        queue.done(req.albumKey);
      }
    }
  }

  async function pollDue(pollMs: number): Promise<void> {
    while (running) {
      const room = queue.capacity - queue.depth;
      if (room > 0 && clock.now() >= unreachableUntil) {
        try {
          for (const row of store.dueAlbums(clock.now(), cfg.retry_max, { limit: room + queue.inFlightCount })) {
            if (!queue.isInFlight(row.albumKey)) queue.tryPush({ albumKey: row.albumKey, artist: row.artist, album: row.album });
          }
        } catch (err) {
          log.error({ err: describeError(err) }, "could not read due albums");
        }
      }
      try {
        await clock.sleep(pollMs, abort.signal);
      } catch {
        return;
      }
    }
  }

  return {
    queue: {
      tryPush,
      get depth() {
        return queue.depth;
      },
    },
    enqueueIfUnenriched(file) {
      if (!file.artist || !file.album) return "ineligible";
      if ((file.enrichmentSource ?? "embedded") !== "embedded" || (file.enrichedAt ?? null) !== null) return "ineligible";
      if ((file.enrichmentAttempts ?? 0) >= cfg.retry_max) return "ineligible";
      if (file.nextAttemptAt != null && file.nextAttemptAt > clock.now()) return "ineligible";
      return tryPush({
        fileId: file.fileId,
        artist: file.artist,
        album: file.album,
        albumartist: file.albumartist ?? null,
        albumKey: file.albumKey ?? null,
      });
    },
    start(opts = {}) {
      if (running) return;
      running = true;
      abort = new AbortController();
      workers = Array.from({ length: concurrency }, () => workerLoop());
      if (opts.pollMs) void pollDue(opts.pollMs);
    },
    async stop(drain = true) {
      running = false;
      queue.close();
      if (!drain) abort.abort(new MusicfsError("INTERNAL", "enrichment stopped"));
      await Promise.all(workers);
      abort.abort(new MusicfsError("INTERNAL", "enrichment stopped"));
      workers = [];
    },
    async runBatch(opts = {}) {
      const started = performance.now();
      const dryRun = opts.dryRun === true;
      if (!dryRun) store.registerMissingAlbums();
      const filter = opts.filter ?? {};
      const due = store.dueAlbums(clock.now(), cfg.retry_max, filter);
      const refresh = new Set<string>();
      if (opts.refreshBefore !== undefined) {
        for (const row of store.refreshableAlbums(opts.refreshBefore, filter)) refresh.add(row.albumKey);
      }
      const keys = [...new Set([...due.map((r) => r.albumKey), ...refresh])].sort();
      const todo = filter.limit !== undefined ? keys.slice(0, filter.limit) : keys;
      const summary: BatchSummary = {
        albums: 0,
        hits: 0,
        misses: 0,
        doubtful: 0,
        errors: 0,
        skipped: 0,
        cached: 0,
        calls: 0,
        filesUpdated: 0,
        seconds: 0,
        dryRun,
        providerUnavailable: false,
        notStarted: 0,
        outcomes: [],
      };
      let next = 0;
      const runner = async () => {
        while (next < todo.length && !opts.signal?.aborted && !summary.providerUnavailable) {
          const albumKey = todo[next++]!;
          let outcome: AlbumOutcome;
          try {
            outcome = await processAlbum(
              { albumKey },
              { dryRun, refresh: refresh.has(albumKey), ...(opts.signal ? { signal: opts.signal } : {}) },
            );
          } catch (err) {
            if (err instanceof Aborted) return;
            throw err;
          }
          summary.albums++;
          summary.outcomes.push(outcome);
          if (outcome.via === "lookup") summary.calls++;
          if (outcome.via === "cache") summary.cached++;
          summary.filesUpdated += outcome.filesUpdated;
          if (outcome.status === "hit") summary.hits++;
          else if (outcome.status === "miss") summary.misses++;
          else if (outcome.status === "doubtful") summary.doubtful++;
          else if (outcome.status === "error") summary.errors++;
          else summary.skipped++;
          // A refused connection will be refused for the next album too: stop instead of failing them all.
          if (outcome.error?.kind === "unreachable") summary.providerUnavailable = true;
          events.emit("album", outcome);
          opts.onAlbum?.(outcome, summary.albums, todo.length);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, runner));
      summary.notStarted = todo.length - summary.albums;
      summary.seconds = (performance.now() - started) / 1000;
      summary.outcomes.sort((a, b) => a.albumKey.localeCompare(b.albumKey));
      return summary;
    },
    processAlbum,
    events,
    stats() {
      return { ...counts, queueDepth: queue.depth, inFlight: queue.inFlightCount };
    },
    store,
    metrics,
  };
}

/** design G3 / test_config_disabled: no provider, queue or worker when `[metadata_provider] enabled = false`. */
export function enrichmentFromConfig(
  deps: Omit<EnrichmentDeps, "provider"> & { provider?: MetadataProvider },
  cfg: MetadataProviderConfig,
): EnrichmentService | undefined {
  if (!cfg.enabled) return undefined;
  const provider = deps.provider ?? createProvider(cfg);
  return createEnrichmentService({ ...deps, provider }, cfg);
}
