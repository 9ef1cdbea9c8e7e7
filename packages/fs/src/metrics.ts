import { Counter, Gauge, Registry } from "prom-client";
import type { MountStats } from "./mount.js";

/** prom-client's Registry, for a process that loads the metrics stack only when it needs it. */
export { Registry };

/**
 * The mount's counters on /metrics. Values are read from stats() when scraped, so the FUSE callbacks
 * only bump plain integers.
 */
export function registerMountMetrics(registry: Registry, stats: () => MountStats): void {
  new Counter({
    name: "musicfs_fuse_operations_total",
    help: "FUSE operations answered, by operation (write = any refused modification)",
    labelNames: ["op"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [op, n] of Object.entries(stats().fuse.operations)) this.inc({ op }, n);
    },
  });
  new Counter({
    name: "musicfs_fuse_errors_total",
    help: "FUSE operations answered with an error, by operation",
    labelNames: ["op"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [op, n] of Object.entries(stats().fuse.errors)) this.inc({ op }, n);
    },
  });
  new Counter({
    name: "musicfs_fuse_bytes_served_total",
    help: "Bytes returned by FUSE reads (overlay headers and origin audio)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().fuse.bytesServed);
    },
  });
  new Gauge({
    name: "musicfs_mount_files",
    help: "Files in the mounted tree",
    registers: [registry],
    collect() {
      this.set(stats().files);
    },
  });
  new Counter({
    name: "musicfs_overlay_builds_total",
    help: "Overlay headers built (one per file and metadata version while cached)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().overlayBuilds);
    },
  });
}
