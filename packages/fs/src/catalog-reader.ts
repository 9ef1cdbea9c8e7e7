import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { RawRow } from "./catalog.js";
import { reapplyHeapPolicy } from "./heap-policy.js";

/**
 * Rows per slice: enough that the per-query cost does not matter, few enough that the slice's JSON
 * (~300 bytes a row) stays out of V8's large-object space and dies young.
 */
const SLICE_ROWS = 400;
/** Slices the worker may have sent and the main thread not yet taken: the worker stays just ahead. */
const SLICES_AHEAD = 2;

// The worker, inline (a string rather than a file: it then survives bundling of the mount command).
// One read transaction: every slice comes from the same snapshot even while a scan commits.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const credits = new Int32Array(workerData.credits);
// Waits until the main thread has room for another slice (never blocks it: only this thread waits).
function takeCredit() {
  for (;;) {
    const n = Atomics.load(credits, 0);
    if (n > 0 && Atomics.compareExchange(credits, 0, n, n - 1) === n) return;
    if (n <= 0) Atomics.wait(credits, 0, n, 1000);
  }
}
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 10000");
  // A sequential read: no use for a big page cache in this thread.
  db.pragma("cache_size = -2048");
  const slice = db.prepare(workerData.sql).raw();
  db.exec("BEGIN");
  for (let last = -1; ; ) {
    const [json, max] = slice.get(last, workerData.sliceRows);
    if (max === null) break;
    takeCredit();
    parentPort.postMessage(json);
    last = max;
  }
  db.exec("COMMIT");
} catch (err) {
  // better-sqlite3's SqliteError does not survive the trip to the main thread: send a plain Error.
  throw new Error(\`\${workerData.path}: \${err.message}\${err.code ? \` (\${err.code})\` : ""}\`);
} finally {
  db?.close();
}
parentPort.postMessage(null);
`;

/**
 * Reads the catalog (see createCatalog's sliceSql) on a worker thread, as JSON text built by SQLite, a
 * slice at a time. At 100,000s of files this is what the mount's start-up is made of: handing the rows
 * to JavaScript cell by cell costs ~0.1 us a cell on the main thread, JSON.parse of the same rows about
 * a third of that, and SQLite's share (the join, the JSON) runs on the other core while the main thread
 * lays out the previous slice.
 *
 * Yields slices of rows in file_id order; throws what the worker threw.
 */
export async function* readCatalogOnWorker(path: string, sliceSql: string): AsyncGenerator<RawRow[]> {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  // Flow control: slices queued on this side would outlive young-generation GCs and pile up in the old one.
  const credits = new Int32Array(new SharedArrayBuffer(4));
  credits[0] = SLICES_AHEAD;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, path, sql: sliceSql, sliceRows: SLICE_ROWS, credits: credits.buffer },
  });
  const ready: (string | null)[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  // Starting the worker reset V8's flags to the command line's: the mount's young-generation limit
  // would be lost and the load grow the heap by ~40 MB.
  worker.once("online", reapplyHeapPolicy);
  worker.on("message", (json: string | null) => {
    ready.push(json);
    notify();
  });
  worker.on("error", (err) => {
    failure = err;
    notify();
  });
  worker.on("exit", (code) => {
    failure ??= ready.at(-1) === null ? undefined : new Error(`catalog reader exited with code ${code}`);
    notify();
  });
  try {
    for (;;) {
      while (ready.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const json = ready.shift();
      if (json === null) return;
      if (json === undefined) throw failure;
      const rows = JSON.parse(json) as RawRow[];
      // Room for the next slice, read while this one is laid out.
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      yield rows;
    }
  } finally {
    await worker.terminate();
  }
}
