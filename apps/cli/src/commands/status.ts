import { libraryStats } from "@musicfs/db";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { bar, formatBytes, formatDuration, formatTime } from "../format.js";

export default class Status extends BaseCommand<typeof Status> {
  static override summary = "Show what is in the library: files, albums, formats, enrichment coverage, scan errors.";
  static override description = "Reads the library database. Nothing is changed.";
  static override examples = [
    "<%= config.bin %> status",
    "<%= config.bin %> status --json | jq .enrichment",
    "<%= config.bin %> status --db ./library.db",
  ];
  static override flags = {
    json: Flags.boolean({ description: "Print a machine-readable JSON document instead of the summary." }),
  };

  public async run(): Promise<void> {
    const stats = libraryStats(this.openLibrary());
    if (this.flags.json) return this.printJson({ database: this.dbPath, ...stats });
    const e = stats.enrichment.bySource;
    const enriched = e.provider + e.orchestrator;
    const lines = [
      `Library   ${this.dbPath}`,
      `Files     ${stats.files}   Albums ${stats.albums}   Artists ${stats.artists}`,
      `Size      ${formatBytes(stats.totalBytes)}   Playing time ${formatDuration(stats.totalDurationSeconds)}`,
      `Formats   ${stats.formats.map((f) => `${f.format} ${f.files}`).join(", ") || "none"}`,
      "",
      `Enriched  ${bar(stats.files ? enriched / stats.files : 0)} ${enriched}/${stats.files} files`,
      `          embedded ${e.embedded}, provider ${e.provider}, orchestrator ${e.orchestrator}`,
      `          pending ${stats.enrichment.filesPending}, failing ${stats.enrichment.filesFailing}`,
    ];
    const albumStatus = Object.entries(stats.enrichment.albumsByStatus);
    if (albumStatus.length) lines.push(`Albums    ${albumStatus.map(([s, n]) => `${s} ${n}`).join(", ")}`);
    lines.push("");
    const last = stats.lastScan;
    lines.push(
      last
        ? `Last scan ${formatTime(last.finishedAt ?? last.startedAt)} (${last.status}): +${last.added} ~${last.updated} =${last.unchanged} >${last.moved} -${last.removed}, ${last.errors} errors`
        : "Last scan never: run `musicfs scan PATH`",
    );
    lines.push(`Scan errors ${stats.scanErrors.total} (+${stats.scanErrors.warnings} warnings)`);
    for (const r of stats.scanErrors.topReasons) lines.push(`  ${r.code.padEnd(22)} ${r.count}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
