import { type ScanProgress, type ScanSummary, scanLibrary } from "@musicfs/scan";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { EXIT } from "../exit-codes.js";
import { withProgress } from "../progress.js";

export default class Scan extends BaseCommand<typeof Scan> {
  static override summary = "Read the tags of every audio file under PATH into the library database.";
  static override description = `Incremental: unchanged files are only stat'ed, changed files are re-read keeping their file id,
renamed files are followed by inode, deleted files are removed. Files are never modified.
Work is committed every --batch-size files, so an interrupted scan (Ctrl-C, crash, kill -9) loses
nothing it committed and the next scan carries on. Unreadable or broken files are recorded with a
reason (see \`musicfs status\`) and never stop the scan.

Exit codes: 0 done (even with file errors, unless --strict), 1 file errors with --strict,
2 usage or config error, 3 database error, 5 another scan is running, 130 interrupted.`;
  static override examples = [
    "<%= config.bin %> scan ~/Music",
    "<%= config.bin %> scan                      # the [library] roots of the config",
    "<%= config.bin %> scan ~/Music --dry-run    # what would change",
    "<%= config.bin %> scan ~/Music --json --quiet | jq .added",
  ];
  static override strict = false;
  static override args = { path: Args.string({ description: "Folders to scan (default: [library] roots).", required: false }) };
  static override flags = {
    json: Flags.boolean({ description: "Print a JSON summary on stdout." }),
    quiet: Flags.boolean({ char: "q", description: "No progress and no summary (errors still go to stderr)." }),
    strict: Flags.boolean({ description: "Exit 1 when any file could not be read." }),
    "dry-run": Flags.boolean({ description: "Report what would change; write nothing." }),
    concurrency: Flags.integer({ description: "Files being read at once (default [scan] concurrency).", min: 1, max: 256 }),
    threads: Flags.integer({
      description: "Parser worker threads, 0 = main thread (default [scan] threads, or one per core up to 4).",
      min: 0,
      max: 64,
    }),
    "batch-size": Flags.integer({ description: "Files per database transaction (default [scan] batch_size).", min: 1, max: 10000 }),
    "follow-symlinks": Flags.boolean({
      description: "Follow symbolic links, once each, with loop detection (default: skip them).",
      allowNo: true,
    }),
  };

  public async run(): Promise<void> {
    const cfg = this.musicfsConfig;
    const { argv } = await this.parse(Scan);
    const roots = (argv as string[]).length > 0 ? (argv as string[]) : cfg.library.roots;
    const lib = this.openLibrary();
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let summary: ScanSummary;
    try {
      summary = await withProgress(
        { title: "Scanning", enabled: !this.flags.quiet && !this.flags.json },
        (report: (p: ScanProgress) => void) =>
          scanLibrary(
            { lib, log: this.logger },
            {
              roots,
              concurrency: this.flags.concurrency ?? cfg.scan.concurrency,
              threads: this.flags.threads ?? cfg.scan.threads,
              batchSize: this.flags["batch-size"] ?? cfg.scan.batch_size,
              followSymlinks: this.flags["follow-symlinks"] ?? cfg.scan.follow_symlinks,
              extensions: cfg.scan.extensions,
              dryRun: this.flags["dry-run"],
              signal: controller.signal,
              onProgress: report,
            },
          ),
      );
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (this.flags.json) this.printJson(summary);
    else if (!this.flags.quiet) this.printSummary(summary);
    if (summary.interrupted) this.exit(130);
    if (this.flags.strict && summary.errors > 0) this.exit(EXIT.PARTIAL);
  }

  private printSummary(s: ScanSummary): void {
    const rate = s.seconds > 0 ? Math.round(s.seen / s.seconds) : s.seen;
    const verb = s.dryRun ? "would be" : "";
    const lines = [
      `${s.dryRun ? "Dry run: " : ""}${s.seen} files in ${s.seconds.toFixed(1)} s (${rate} files/s)${s.interrupted ? " — interrupted, run again to finish" : ""}`,
      `  added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, moved ${s.moved}, removed ${s.removed} ${verb}`.trimEnd(),
      `  errors ${s.errors}${s.warnings ? `, cleaned-up tags in ${s.warnings}` : ""}${s.symlinksSkipped ? `, symlinks skipped ${s.symlinksSkipped} (use --follow-symlinks)` : ""}`,
    ];
    if (s.examples) {
      for (const [kind, paths] of Object.entries(s.examples)) for (const p of paths) lines.push(`  ${kind.padEnd(8)} ${p}`);
    }
    if (s.errors > 0 && !s.dryRun) lines.push("  see `musicfs status` for the reasons");
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
