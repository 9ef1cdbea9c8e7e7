import { parentPort, workerData } from "node:worker_threads";
import { MusicfsError } from "@musicfs/core";
import { type ReadMode, readAudioFile } from "./read.js";

export interface ParseRequest {
  id: number;
  path: Uint8Array;
}

export type ParseResponse =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof readAudioFile>> }
  | { id: number; ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

const MODE = (workerData as { mode?: ReadMode } | undefined)?.mode ?? "fd";

// Each worker reads several files at once; the pool decides how many are in flight.
parentPort?.on("message", (req: ParseRequest) => {
  const path = Buffer.from(req.path.buffer, req.path.byteOffset, req.path.byteLength);
  readAudioFile(path, { mode: MODE }).then(
    (result) => parentPort?.postMessage({ id: req.id, ok: true, result } satisfies ParseResponse),
    (err: unknown) => {
      const error =
        err instanceof MusicfsError
          ? { code: err.code, message: err.message, details: err.details }
          : { code: "TAG_PARSE_FAILED", message: err instanceof Error ? err.message : String(err), details: { reason: "CORRUPT" } };
      parentPort?.postMessage({ id: req.id, ok: false, error } satisfies ParseResponse);
    },
  );
});
