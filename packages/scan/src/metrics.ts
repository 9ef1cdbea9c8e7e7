import type { Library } from "@musicfs/db";
import { Gauge, type Registry } from "prom-client";

interface LastScan {
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  removed: number;
  errors: number;
  started_at: number;
  finished_at: number | null;
}

/**
 * Library and last-scan figures on /metrics, read from the database when scraped (scans run in
 * their own processes, so the long-running mount or daemon reports what the last one recorded).
 */
export function registerScanMetrics(registry: Registry, lib: Library): void {
  const lastScan = lib.sqlite.prepare(
    "SELECT added, updated, unchanged, moved, removed, errors, started_at, finished_at FROM scans WHERE status = 'completed' ORDER BY scan_id DESC LIMIT 1",
  );
  const counts = lib.sqlite.prepare(
    "SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM scan_errors WHERE severity = 'error') AS errors",
  );
  new Gauge({
    name: "musicfs_library_files",
    help: "Audio files in the library",
    registers: [registry],
    collect() {
      this.set((counts.get() as { files: number }).files);
    },
  });
  new Gauge({
    name: "musicfs_scan_errors",
    help: "Files the scans could not read (scan_errors rows)",
    registers: [registry],
    collect() {
      this.set((counts.get() as { errors: number }).errors);
    },
  });
  new Gauge({
    name: "musicfs_last_scan_files",
    help: "Files by outcome in the last completed scan",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      const row = lastScan.get() as LastScan | undefined;
      if (!row) return;
      for (const outcome of ["added", "updated", "unchanged", "moved", "removed", "errors"] as const) this.set({ outcome }, row[outcome]);
    },
  });
  new Gauge({
    name: "musicfs_last_scan_seconds",
    help: "Duration of the last completed scan",
    registers: [registry],
    collect() {
      const row = lastScan.get() as LastScan | undefined;
      if (row?.finished_at) this.set((row.finished_at - row.started_at) / 1000);
    },
  });
}
