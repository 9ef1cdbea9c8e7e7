import { setFlagsFromString } from "node:v8";

let requested = false;

/**
 * The mount process's heap: the tree built at start (kept for the life of the mount) plus short-lived
 * garbage per FUSE request. A young generation that stays at its initial size is enough, and keeps
 * ~30 MB of RSS off a 100,000-file mount (V8 would otherwise grow it to 16 MB x 2 during the load and
 * keep it). For the process that serves the mount: call once at start.
 */
export function keepYoungGenerationSmall(): void {
  requested = true;
  setFlagsFromString("--semi-space-growth-factor=1");
}

/**
 * Starting a worker thread (the catalog reader, pino's pretty-printing transport) puts V8's process-wide
 * flags back to the command line's: call this once a worker is online to restore what was asked for.
 * Does nothing in a process that never asked (tests, other commands).
 */
export function reapplyHeapPolicy(): void {
  if (requested) setFlagsFromString("--semi-space-growth-factor=1");
}
