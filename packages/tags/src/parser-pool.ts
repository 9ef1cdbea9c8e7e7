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
  let nextId = 0;
  const workers = Array.from({ length: threads }, (_, index) => {
    const worker = new Worker(url);
    load.push(0);
    worker.on("message", (msg: ParseResponse) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      load[index]!--;
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new MusicfsError(msg.error.code as ErrorCode, msg.error.message, { details: msg.error.details }));
    });
    worker.on("error", (err) => {
      // A crashed worker fails what it held; the scan records those files and goes on.
      for (const [id, p] of pending) {
        if (p.worker !== index) continue;
        pending.delete(id);
        p.reject(new MusicfsError("TAG_PARSE_FAILED", `parser crashed: ${err.message}`, { details: { reason: "CORRUPT" } }));
      }
    });
    return worker;
  });
  return {
    threads,
    read(path) {
      let index = 0;
      for (let i = 1; i < load.length; i++) if (load[i]! < load[index]!) index = i;
      const id = nextId++;
      load[index]!++;
      return new Promise<ReadResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: index });
        workers[index]!.postMessage({ id, path: new Uint8Array(path) } satisfies ParseRequest);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
