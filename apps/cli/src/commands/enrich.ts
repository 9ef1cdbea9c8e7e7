import { type MetadataProviderConfig, MusicfsError, systemClock } from "@musicfs/core";
import {
  type AlbumOutcome,
  acquireRunLock,
  type BatchSummary,
  createEnrichmentMetrics,
  createEnrichmentService,
  createEnrichmentStore,
  createProvider,
  enrichLockPath,
  type RunLock,
  serveMetrics,
} from "@musicfs/enrich";
import { registerScanMetrics } from "@musicfs/scan/metrics";
import { Flags } from "@oclif/core";
import { Listr } from "listr2";
import { BaseCommand } from "../base-command.js";
import { EXIT } from "../exit-codes.js";

const HOW_TO_ENABLE = `metadata enrichment is disabled (the default).
To enable it, add to your config file (see \`musicfs config\` or config.example.toml):

  [metadata_provider]
  enabled = true
  endpoint = "http://localhost:50051"   # your metadata-agregator`;

export default class Enrich extends BaseCommand<typeof Enrich> {
  static override summary = "Look albums up in metadata-agregator and add genres, label, album type and cover URL.";
  static override description = `Albums are looked up once each (all their files are written together), and a result is used only
when its title and artist agree with the files; near misses are kept for --review, never applied. Files
are never modified: results go to the library database and appear in the mount.

--once enriches every album that is due (never looked up, or failed and past its backoff) and exits; it
is quiet unless something went wrong, so it suits cron. --daemon keeps running, picks up albums as scans
add them and serves Prometheus metrics. Only one --once/--daemon runs per library at a time.

Exit codes: 0 done, 1 some albums failed, 2 usage or config error (including enrichment disabled),
3 database error, 4 metadata-agregator unreachable, 5 another enrich is running, 130 interrupted.`;
  static override examples = [
    "<%= config.bin %> enrich --once",
    "<%= config.bin %> enrich --once --json --quiet      # cron: JSON summary, nothing else",
    "<%= config.bin %> enrich --dry-run --artist 'Pink Floyd'",
    "<%= config.bin %> enrich --once --retry-failed",
    "<%= config.bin %> enrich --once --refresh 2026-01-01",
    "<%= config.bin %> enrich --review",
    "<%= config.bin %> enrich --daemon",
  ];
  static override flags = {
    once: Flags.boolean({ description: "Enrich every due album, then exit (the default).", exclusive: ["daemon", "review"] }),
    daemon: Flags.boolean({
      description: "Keep running: enrich albums as they become due; serve /metrics.",
      exclusive: ["once", "review"],
    }),
    review: Flags.boolean({
      description: "List doubtful matches (near misses kept for a person to check).",
      exclusive: ["once", "daemon"],
    }),
    "dry-run": Flags.boolean({ description: "Look albums up and show what would be written, with the match reason; write nothing." }),
    limit: Flags.integer({ description: "Enrich at most N albums.", min: 1 }),
    artist: Flags.string({ description: "Only albums whose artist contains this (case and accents ignored)." }),
    album: Flags.string({ description: "Only albums whose title contains this (case and accents ignored)." }),
    "retry-failed": Flags.boolean({ description: "Reset the attempts of albums that failed or had no match, so they are tried again." }),
    refresh: Flags.string({
      description: "Also look up again albums matched before this date (YYYY-MM-DD or ISO time).",
      helpValue: "DATE",
    }),
    endpoint: Flags.string({ description: "metadata-agregator endpoint (overrides [metadata_provider] endpoint)." }),
    concurrency: Flags.integer({ description: "Lookups at once (default [metadata_provider] concurrency).", min: 1, max: 64 }),
    "metrics-listen": Flags.string({ description: "--daemon: host:port for /metrics (default [metadata_provider] metrics_listen)." }),
    "poll-interval": Flags.integer({ description: "--daemon: milliseconds between checks for due albums.", default: 5000, min: 10 }),
    json: Flags.boolean({ description: "Print a JSON summary (or the --review list) on stdout." }),
    quiet: Flags.boolean({ char: "q", description: "No progress and no summary; problems still go to stderr." }),
  };

  public async run(): Promise<void> {
    if (this.flags.review) return this.review();
    const cfg = this.providerConfig();
    if (this.flags.daemon) return this.daemon(cfg);
    return this.once(cfg);
  }

  private providerConfig(): MetadataProviderConfig {
    const cfg = { ...this.musicfsConfig.metadata_provider };
    if (!cfg.enabled) throw new MusicfsError("CONFIG_DISABLED", HOW_TO_ENABLE);
    if (this.flags.endpoint) cfg.endpoint = this.flags.endpoint;
    if (this.flags.concurrency) cfg.concurrency = this.flags.concurrency;
    return cfg;
  }

  private filter() {
    return { artist: this.flags.artist, album: this.flags.album, limit: this.flags.limit };
  }

  private refreshBefore(): number | undefined {
    const value = this.flags.refresh;
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new MusicfsError("USAGE", `--refresh expects a date such as 2026-01-31, got "${value}"`);
    return ms;
  }

  private lock(): RunLock {
    return acquireRunLock(enrichLockPath(this.dbPath), "musicfs enrich --once/--daemon");
  }

  private async once(cfg: MetadataProviderConfig): Promise<void> {
    const dryRun = this.flags["dry-run"];
    const refreshBefore = this.refreshBefore();
    const lib = this.openLibrary();
    // A dry run writes nothing, so it may run beside a real one.
    const lock = dryRun ? undefined : this.lock();
    const provider = createProvider(cfg);
    const service = createEnrichmentService({ lib, provider, clock: systemClock, log: this.logger }, cfg);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let summary: BatchSummary;
    try {
      if (this.flags["retry-failed"] && !dryRun) {
        const reset = service.store.resetFailed(systemClock.now(), this.filter());
        this.logger.info({ albums: reset }, "failed albums reset");
      }
      const options = {
        filter: this.filter(),
        dryRun,
        signal: controller.signal,
        ...(refreshBefore === undefined ? {} : { refreshBefore }),
      };
      const showProgress = !this.flags.quiet && !this.flags.json && process.stderr.isTTY === true;
      summary = showProgress
        ? await this.withProgressBar((onAlbum) => service.runBatch({ ...options, onAlbum }))
        : await service.runBatch(options);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      provider.close();
      lock?.release();
    }

    if (this.flags.json) this.printJson(this.jsonSummary(summary));
    else if (dryRun && !this.flags.quiet) this.printDryRun(summary.outcomes);
    else if (!this.flags.quiet && process.stdout.isTTY) this.printSummary(summary);
    this.reportProblems(summary);

    if (controller.signal.aborted) this.exit(130);
    if (summary.providerUnavailable) {
      const first = summary.outcomes.find((o) => o.error?.kind === "unreachable");
      throw new MusicfsError(
        "PROVIDER_UNAVAILABLE",
        `metadata-agregator at ${cfg.endpoint} is unreachable: ${first?.error?.message ?? ""}`,
      );
    }
    if (summary.errors > 0) this.exit(EXIT.PARTIAL);
  }

  private async withProgressBar(work: (onAlbum: (o: AlbumOutcome, done: number, total: number) => void) => Promise<BatchSummary>) {
    let result: BatchSummary | undefined;
    const counts = { hit: 0, miss: 0, doubtful: 0, error: 0, skipped: 0 };
    await new Listr(
      [
        {
          title: "Enriching albums",
          task: async (_ctx, task) => {
            result = await work((o, done, total) => {
              counts[o.status]++;
              const width = 20;
              const full = total ? Math.round((done / total) * width) : width;
              task.output = `${"█".repeat(full)}${"░".repeat(width - full)} ${done}/${total} albums · hits ${counts.hit} · misses ${counts.miss} · doubtful ${counts.doubtful} · errors ${counts.error} · ${o.artist} – ${o.album}`;
            });
            task.title = "Enriching albums: done";
          },
          rendererOptions: { persistentOutput: false, outputBar: 1 },
        },
      ],
      { exitOnError: true, registerSignalListeners: false },
    ).run();
    return result as BatchSummary;
  }

  private jsonSummary(s: BatchSummary) {
    return {
      albumsLookedUp: s.albums,
      hits: s.hits,
      misses: s.misses,
      doubtful: s.doubtful,
      errors: s.errors,
      skipped: s.skipped,
      cached: s.cached,
      callsMade: s.calls,
      filesUpdated: s.filesUpdated,
      seconds: Math.round(s.seconds * 1000) / 1000,
      dryRun: s.dryRun,
      providerUnavailable: s.providerUnavailable,
      notStarted: s.notStarted,
      ...(s.dryRun ? { albums: s.outcomes.map(outcomeJson) } : {}),
    };
  }

  private printSummary(s: BatchSummary): void {
    const lines = [
      `${s.albums} albums in ${s.seconds.toFixed(1)} s: ${s.hits} enriched (${s.cached} from cache), ${s.misses} no match, ${s.doubtful} doubtful, ${s.errors} errors, ${s.skipped} skipped; ${s.calls} calls, ${s.filesUpdated} files updated`,
    ];
    if (s.doubtful > 0) lines.push("  see `musicfs enrich --review` for the doubtful matches");
    process.stdout.write(`${lines.join("\n")}\n`);
  }

  private printDryRun(outcomes: AlbumOutcome[]): void {
    const lines = [`Dry run: ${outcomes.length} albums (nothing written)`];
    for (const o of outcomes) {
      lines.push(`${o.artist} – ${o.album}: ${o.status}${o.via === "cache" ? " (cached)" : ""}`);
      if (o.metadata) {
        const m = o.metadata;
        lines.push(
          `  would write ${o.filesUpdated} files: genres ${JSON.stringify(m.genres)}, label ${m.label ?? "-"}, type ${m.albumType ?? "-"}, released ${m.releaseDate ?? "-"}, cover ${m.coverUrl ?? "-"} (album ${o.providerAlbumId})`,
        );
      }
      if (o.reason) lines.push(`  reason: ${o.reason}`);
      for (const c of o.candidates) lines.push(`  candidate ${c.artists} – ${c.title} (score ${c.score}): ${c.reason}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }

  private reportProblems(s: BatchSummary): void {
    const failed = s.outcomes.filter((o) => o.status === "error");
    for (const o of failed.slice(0, 10))
      process.stderr.write(`musicfs: enrich ${o.artist} – ${o.album}: ${o.error?.message ?? o.reason}\n`);
    if (failed.length > 10) process.stderr.write(`musicfs: ... and ${failed.length - 10} more albums failed\n`);
    if (s.notStarted > 0 && !s.providerUnavailable) process.stderr.write(`musicfs: ${s.notStarted} albums not started (interrupted)\n`);
  }

  private async daemon(cfg: MetadataProviderConfig): Promise<void> {
    const lib = this.openLibrary();
    const lock = this.lock();
    const metrics = createEnrichmentMetrics();
    const provider = createProvider(cfg);
    const service = createEnrichmentService({ lib, provider, clock: systemClock, log: this.logger, metrics }, cfg);
    let server: Awaited<ReturnType<typeof serveMetrics>> | undefined;
    let control: Awaited<ReturnType<typeof this.startControlApi>>;
    try {
      registerScanMetrics(metrics.registry, lib);
      server = await serveMetrics(metrics.registry, this.flags["metrics-listen"] ?? cfg.metrics_listen);
      control = await this.startControlApi({ lib, enrichment: service, provider: cfg, metricsRegistry: metrics.registry });
      service.events.on("album", (o: AlbumOutcome) =>
        this.logger.info({ albumKey: o.albumKey, status: o.status, via: o.via, files: o.filesUpdated, reason: o.reason }, "album enriched"),
      );
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      service.start({ pollMs: this.flags["poll-interval"] });
      if (!this.flags.quiet) process.stdout.write(`musicfs enrich: running; metrics at ${server.url}\n`);
      if (control) this.logger.info({ url: control.url }, "control API listening");
      const signal = await stopped;
      this.logger.info({ signal }, "stopping: finishing the albums being looked up");
      // SIGTERM drains: albums in flight finish and are written in one transaction each; queued ones wait for next time.
      await service.stop(true);
      if (!this.flags.quiet) {
        const st = service.stats();
        process.stdout.write(
          `musicfs enrich: stopped (${st.lookups} lookups, ${st.hits} hits, ${st.misses} misses, ${st.errors} errors)\n`,
        );
      }
    } finally {
      await service.stop(false);
      await control?.close();
      await server?.close();
      provider.close();
      lock.release();
    }
  }

  private async review(): Promise<void> {
    const candidates = createEnrichmentStore(this.openLibrary()).reviewCandidates();
    if (this.flags.json) return this.printJson(candidates);
    if (candidates.length === 0) {
      process.stdout.write("No doubtful matches to review.\n");
      return;
    }
    const lines = [`${candidates.length} doubtful candidates (never applied automatically):`];
    let album = "";
    for (const c of candidates) {
      if (c.albumKey !== album) {
        album = c.albumKey;
        lines.push("", `${c.fileArtist} – ${c.fileAlbum}`);
      }
      lines.push(`  ${String(c.score).padStart(3)}  ${c.artists} – ${c.title}  [${c.providerAlbumId}]`, `       ${c.reason}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}

function outcomeJson(o: AlbumOutcome) {
  return {
    artist: o.artist,
    album: o.album,
    status: o.status,
    via: o.via,
    reason: o.reason,
    providerAlbumId: o.providerAlbumId,
    files: o.filesUpdated,
    metadata: o.metadata,
    candidates: o.candidates,
  };
}
