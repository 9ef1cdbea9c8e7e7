import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ErrorCode, MusicfsError } from "@musicfs/core";
import type { ParseRequest, ParseResponse } from "./parse-worker.js";
import { type ReadResult, readAudioFile } from "./read.js";

export interface ParserPool {
  read(path: Buffer): Promise<ReadResult>;
  close(): Promise<void>;
  readonly threads: number;
}

/** Worker threads used by default: parsing is CPU-bound, the walk and the database need the main thread too. */
export function defaultParserThreads(): number {
  return Math.min(4, availableParallelism());
}

function workerUrl(): string {
  // From dist/ the compiled worker sits beside this file; from src/ (tests) use the built copy.
  const here = fileURLToPath(import.meta.url);
  const js = here.replace(/\.ts$/, ".js").replace(/parser-pool\.js$/, "parse-worker.js");
  if (existsSync(js)) return js;
  return js.replace(/\/src\/parse-worker\.js$/, "/dist/parse-worker.js");
}

/**
 * Parses files on worker threads (threads = 0 parses on the calling thread). music-metadata is
 * CPU-bound per file, so on a multi-core machine this is what lets the scan outrun its I/O floor.
 */
export function createParserPool(threads = defaultParserThreads()): ParserPool {
  if (threads <= 0) return { read: (path) => readAudioFile(path), close: async () => {}, threads: 0 };
  const url = workerUrl();
  if (!existsSync(url)) return { read: (path) => readAudioFile(path), close: async () => {}, threads: 0 };
  const pending = new Map<number, { resolve: (r: ReadResult) => void; reject: (e: unknown) => void; worker: number }>();
  const load: number[] = [];
  const respawns: number[] = [];
  let nextId = 0;

  const spawn = (index: number): Worker | null => {
    // execArgv: [] so the worker loads compiled JS even when the parent runs with test-only flags.
    const worker = new Worker(url, { execArgv: [], workerData: { mode: process.env.MUSICFS_PARSE_MODE ?? "fd" } });
    worker.on("message", (msg: ParseResponse) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      load[index]!--;
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new MusicfsError(msg.error.code as ErrorCode, msg.error.message, { details: msg.error.details }));
    });
    const onDeath = (reason: string) => {
      if (workers[index] !== worker) return;
      // A crashed worker fails what it held (the scan records those files and goes on) and is replaced.
      for (const [id, p] of pending) {
        if (p.worker !== index) continue;
        pending.delete(id);
        p.reject(new MusicfsError("TAG_PARSE_FAILED", `parser crashed: ${reason}`, { details: { reason: "CORRUPT" } }));
      }
      load[index] = 0;
      workers[index] = closing || respawns[index]! >= 3 ? null : spawn(index);
      respawns[index]!++;
    };
    worker.on("error", (err) => onDeath(err.message));
    worker.on("exit", (code) => onDeath(`exited with code ${code}`));
    return worker;
  };
  let closing = false;
  const workers: (Worker | null)[] = [];
  // Started on the first parse: an unchanged re-scan parses nothing and never pays for loading them.
  const startWorkers = () => {
    for (let i = 0; i < threads; i++) {
      load.push(0);
      respawns.push(0);
      workers.push(spawn(i));
    }
  };

  return {
    threads,
    read(path) {
      if (workers.length === 0) startWorkers();
      let index = -1;
      for (let i = 0; i < load.length; i++) if (workers[i] && (index < 0 || load[i]! < load[index]!)) index = i;
      const worker = index >= 0 ? workers[index] : null;
      if (!worker) return readAudioFile(path); // every worker gave up: parse here
      const id = nextId++;
      load[index]!++;
      return new Promise<ReadResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: index });
        worker.postMessage({ id, path: new Uint8Array(path) } satisfies ParseRequest);
      });
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w?.terminate()));
    },
  };
}
