import { type LibraryStats, libraryStats } from "@musicfs/db";
import { fetchLiveStatus, type GetStatusResponse } from "@musicfs/rpc";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { bar, formatBytes, formatDuration, formatTime } from "../format.js";

/** The live figures of a running mount / serve / enrich --daemon, as plain JSON. */
interface LiveFigures {
  url: string;
  providerEnabled: boolean;
  providerEndpoint: string;
  queue: { depth: number; capacity: number; inFlight: number };
  counters: { lookups: number; hits: number; misses: number; errors: number; skips: number; drops: number };
  latencyMs: { p50: number; p95: number; p99: number };
  backlog: { files: number; albums: number; etaSeconds: number | null };
}

function liveFigures(url: string, s: GetStatusResponse): LiveFigures {
  const c = s.counters;
  return {
    url,
    providerEnabled: s.providerEnabled,
    providerEndpoint: s.providerEndpoint,
    queue: { depth: s.queue?.depth ?? 0, capacity: s.queue?.capacity ?? 0, inFlight: s.queue?.inFlight ?? 0 },
    counters: {
      lookups: Number(c?.lookups ?? 0),
      hits: Number(c?.hits ?? 0),
      misses: Number(c?.misses ?? 0),
      errors: Number(c?.errors ?? 0),
      skips: Number(c?.skips ?? 0),
      drops: Number(c?.drops ?? 0),
    },
    latencyMs: { p50: s.latency?.p50Ms ?? 0, p95: s.latency?.p95Ms ?? 0, p99: s.latency?.p99Ms ?? 0 },
    backlog: {
      files: Number(s.backlog?.files ?? 0),
      albums: Number(s.backlog?.albums ?? 0),
      etaSeconds: s.backlog?.etaSeconds === undefined ? null : Number(s.backlog.etaSeconds),
    },
  };
}

const SPARK = "▁▂▃▄▅▆▇█";

/** A sparkline of the last values, scaled to their maximum. */
function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 0);
  return values.map((v) => (max === 0 ? SPARK[0] : SPARK[Math.min(SPARK.length - 1, Math.round((v / max) * (SPARK.length - 1)))])).join("");
}

export default class Status extends BaseCommand<typeof Status> {
  static override summary = "Show the library and its enrichment: totals, coverage, backlog, failures, and live figures.";
  static override description = `Reads the library database. When a mount, \`musicfs serve\` or \`enrich --daemon\` listens on
[control] listen, also shows its live figures: queue depth, albums in flight, lookups, hits, misses,
errors, skips and drops since it started, lookup latency percentiles, and the backlog's ETA at the
current rate. Nothing is changed. --watch redraws every --interval seconds until Ctrl-C.`;
  static override examples = [
    "<%= config.bin %> status",
    "<%= config.bin %> status --watch",
    "<%= config.bin %> status --json | jq .live.counters",
    "<%= config.bin %> status --db ./library.db",
  ];
  static override flags = {
    json: Flags.boolean({
      description: "Print a machine-readable JSON document instead of the summary (one line per refresh with --watch).",
    }),
    watch: Flags.boolean({ description: "Refresh until interrupted." }),
    interval: Flags.integer({ description: "--watch: seconds between refreshes.", default: 2, min: 1 }),
  };

  private lookupHistory: number[] = [];
  private lastLookups: number | undefined;

  public async run(): Promise<void> {
    if (!this.flags.watch) return this.show();
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      while (!stopped) {
        if (!this.flags.json) process.stdout.write("\u001b[2J\u001b[H");
        await this.show();
        for (let waited = 0; waited < this.flags.interval * 1000 && !stopped; waited += 100) await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  }

  private async show(): Promise<void> {
    const config = this.musicfsConfig;
    const stats = libraryStats(this.openLibrary(), { retryMax: config.metadata_provider.retry_max });
    let live: LiveFigures | null = null;
    let liveError: string | null = null;
    try {
      const found = await fetchLiveStatus({ listen: config.control.listen, token: config.control.token });
      if (found) live = liveFigures(found.url, found.status);
    } catch (err) {
      liveError = (err as Error).message;
    }
    if (live) {
      if (this.lastLookups !== undefined)
        this.lookupHistory = [...this.lookupHistory, Math.max(0, live.counters.lookups - this.lastLookups)].slice(-30);
      this.lastLookups = live.counters.lookups;
    }
    if (this.flags.json) {
      const doc = { database: this.dbPath, ...stats, live, ...(liveError ? { liveError } : {}) };
      process.stdout.write(this.flags.watch ? `${JSON.stringify(doc)}\n` : `${JSON.stringify(doc, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${this.render(stats, live, liveError).join("\n")}\n`);
  }

  private render(stats: LibraryStats, live: LiveFigures | null, liveError: string | null): string[] {
    const e = stats.enrichment.bySource;
    const enriched = e.provider + e.orchestrator;
    const share = (n: number) => (stats.files ? n / stats.files : 0);
    const lines = [
      `Library   ${this.dbPath}`,
      `Files     ${stats.files}   Albums ${stats.albums}   Artists ${stats.artists}`,
      `Size      ${formatBytes(stats.totalBytes)}   Playing time ${formatDuration(stats.totalDurationSeconds)}`,
      `Formats   ${stats.formats.map((f) => `${f.format} ${f.files}`).join(", ") || "none"}`,
      "",
      `Enriched  ${bar(share(enriched))} ${enriched}/${stats.files} files`,
      `  provider     ${bar(share(e.provider), 10)} ${e.provider}`,
      `  orchestrator ${bar(share(e.orchestrator), 10)} ${e.orchestrator}`,
      `  embedded     ${bar(share(e.embedded), 10)} ${e.embedded}`,
      `          pending ${stats.enrichment.filesPending}, failing ${stats.enrichment.filesFailing}`,
    ];
    const albumStatus = Object.entries(stats.enrichment.albumsByStatus);
    if (albumStatus.length) lines.push(`Albums    ${albumStatus.map(([s, n]) => `${s} ${n}`).join(", ")}`);
    const eta = live?.backlog.etaSeconds;
    lines.push(
      `Backlog   ${stats.enrichment.backlogAlbums} albums (${stats.enrichment.backlogFiles} files)${
        eta !== null && eta !== undefined ? `, ETA ${formatDuration(eta)} at the current rate` : ""
      }`,
    );
    for (const a of stats.enrichment.failingAlbums.slice(0, 5)) {
      lines.push(`  ${a.status.padEnd(8)} ${a.artist} / ${a.album} (${a.attempts} attempts)${a.lastError ? `: ${a.lastError}` : ""}`);
    }
    if (stats.enrichment.doubtfulAlbums.length) lines.push("Doubtful  (see `musicfs enrich --review`)");
    for (const d of stats.enrichment.doubtfulAlbums.slice(0, 5)) {
      lines.push(`  ${d.artist} / ${d.album} ~ ${d.candidate ?? "?"}${d.score !== null ? ` (score ${d.score})` : ""}`);
    }
    lines.push("");
    if (live) {
      const c = live.counters;
      lines.push(
        `Live      ${live.url}${live.providerEnabled ? ` -> ${live.providerEndpoint}` : " (enrichment disabled)"}`,
        `  queue ${live.queue.depth}/${live.queue.capacity}, in flight ${live.queue.inFlight}, dropped ${c.drops}`,
        `  lookups ${c.lookups}: hits ${c.hits}, misses ${c.misses}, errors ${c.errors}, skips ${c.skips}`,
        `  latency p50 ${live.latencyMs.p50.toFixed(0)} ms, p95 ${live.latencyMs.p95.toFixed(0)} ms, p99 ${live.latencyMs.p99.toFixed(0)} ms`,
      );
      if (this.lookupHistory.length > 1) lines.push(`  lookups/refresh ${sparkline(this.lookupHistory)}`);
    } else {
      lines.push(liveError ? `Live      unavailable: ${liveError}` : "Live      no mount or daemon running");
    }
    lines.push("");
    const last = stats.lastScan;
    lines.push(
      last
        ? `Last scan ${formatTime(last.finishedAt ?? last.startedAt)} (${last.status}): +${last.added} ~${last.updated} =${last.unchanged} >${last.moved} -${last.removed}, ${last.errors} errors`
        : "Last scan never: run `musicfs scan PATH`",
    );
    lines.push(`Scan errors ${stats.scanErrors.total} (+${stats.scanErrors.warnings} warnings)`);
    for (const r of stats.scanErrors.topReasons) lines.push(`  ${r.code.padEnd(22)} ${r.count}`);
    return lines;
  }
}
