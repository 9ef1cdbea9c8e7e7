import { appendFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { MusicfsError, seededRandom } from "@musicfs/core";
import { type Album, MetadataService, type SearchAlbumsRequest, type SearchAlbumsResponseSchema } from "@musicfs/rpc";
import { type AlbumInit, catalogFromInits, loadCatalogFile } from "./catalog.js";
import { DEFAULT_MIN_SCORE, searchCatalog } from "./search.js";

/** The codes a failing call answers with; "resource_exhausted" plays a rate-limited metadata-agregator. */
export type FailureCode = "unavailable" | "resource_exhausted" | "internal";
export const FAILURE_CODES: readonly FailureCode[] = ["unavailable", "resource_exhausted", "internal"];

/** How the server misbehaves; every field can be changed while it runs with setBehaviour(). */
export interface CatalogBehaviour {
  /** Delay before every answer (failures included). */
  latencyMs: number;
  /** The next N calls fail with failureCode; setting it again restarts the count. */
  failFirst: number;
  /** Probability 0..1 that a call (after the failFirst ones) fails with failureCode, drawn from a seeded RNG. */
  failureRate: number;
  failureCode: FailureCode;
  /** Seed of the failureRate RNG; setting it restarts the sequence. */
  seed: number;
  /** Never answer: calls wait until the client gives up (its deadline) or the server closes. */
  hang: boolean;
  /** Results scoring below this are dropped. */
  minScore: number;
}

export interface CatalogServerOptions extends Partial<CatalogBehaviour> {
  /** The catalog as objects; albums and catalogFile are concatenated when both are given. */
  albums?: readonly AlbumInit[];
  /** A JSON array of metadata.v1.Album in the proto's JSON form. */
  catalogFile?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** PEM certificate chain and key: serve gRPC over TLS instead of plaintext HTTP/2. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Append one JSON line per call (a CallRecord) to this file. */
  callLogFile?: string;
}

export type CallOutcome = "ok" | "failed" | "hung" | "cancelled";

export interface CallRecord {
  /** 1 for the first call the server received. */
  seq: number;
  method: "SearchAlbums";
  query: string;
  artist: string;
  limit: number;
  /** Unix ms when the call arrived. */
  receivedAt: number;
  /** "pending" until the call ends. */
  outcome: CallOutcome | "pending";
  /** The Connect code name of a failed, hung or cancelled call. */
  code?: string;
  resultIds: string[];
  scores: number[];
}

export interface CatalogServer {
  /** Base URL for createAgregatorTransport, e.g. "http://127.0.0.1:40123". */
  url: string;
  port: number;
  /** Every call received so far, in order (ongoing ones with outcome "pending"). */
  calls(): CallRecord[];
  callCount(): number;
  setBehaviour(change: Partial<CatalogBehaviour>): void;
  /** Replaces the catalog. */
  setAlbums(albums: readonly AlbumInit[]): void;
  /** Releases hung calls, closes client connections and stops listening. */
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOUR: CatalogBehaviour = {
  latencyMs: 0,
  failFirst: 0,
  failureRate: 0,
  failureCode: "unavailable",
  seed: 1,
  hang: false,
  minScore: DEFAULT_MIN_SCORE,
};

// Sessions still open this long after close() are destroyed, so close() never hangs on a stuck client.
const CLOSE_GRACE_MS = 2000;

/** Starts a fake metadata-agregator: SearchAlbums answered from a fixed catalog, with injectable latency and failures. */
export async function startCatalogServer(opts: CatalogServerOptions = {}): Promise<CatalogServer> {
  let catalog = [...catalogFromInits(opts.albums ?? []), ...(opts.catalogFile === undefined ? [] : loadCatalogFile(opts.catalogFile))];
  const behaviour: CatalogBehaviour = { ...DEFAULT_BEHAVIOUR };
  let failuresLeft = 0;
  let random = seededRandom(behaviour.seed);
  const setBehaviour = (change: Partial<CatalogBehaviour>): void => {
    validateBehaviour(change);
    Object.assign(behaviour, stripUndefined(change));
    if (change.failFirst !== undefined) failuresLeft = change.failFirst;
    if (change.seed !== undefined) random = seededRandom(change.seed);
  };
  setBehaviour(pickBehaviour(opts));

  const records: CallRecord[] = [];
  const finish = (record: CallRecord, outcome: CallOutcome, code?: Code): void => {
    record.outcome = outcome;
    if (code !== undefined) record.code = codeName(code);
    if (opts.callLogFile !== undefined) appendFileSync(opts.callLogFile, `${JSON.stringify(record)}\n`);
  };

  const searchAlbums = async (
    req: SearchAlbumsRequest,
    ctx: HandlerContext,
  ): Promise<MessageInitShape<typeof SearchAlbumsResponseSchema>> => {
    const record: CallRecord = {
      seq: records.length + 1,
      method: "SearchAlbums",
      query: req.query,
      artist: req.artist,
      limit: req.limit,
      receivedAt: Date.now(),
      outcome: "pending",
      resultIds: [],
      scores: [],
    };
    records.push(record);
    try {
      if (behaviour.hang) {
        await untilAborted(ctx.signal);
      }
      if (behaviour.latencyMs > 0) await sleep(behaviour.latencyMs, undefined, { signal: ctx.signal });
    } catch (err) {
      const ce = ConnectError.from(ctx.signal.reason ?? err);
      finish(record, behaviour.hang ? "hung" : "cancelled", ce.code);
      throw ce;
    }
    if (failuresLeft > 0 || (behaviour.failureRate > 0 && random() < behaviour.failureRate)) {
      if (failuresLeft > 0) failuresLeft--;
      const code = connectCode(behaviour.failureCode);
      finish(record, "failed", code);
      throw new ConnectError(`catalog-server: injected ${behaviour.failureCode} failure`, code);
    }
    if (req.limit < 0) {
      finish(record, "failed", Code.InvalidArgument);
      throw new ConnectError("limit must not be negative", Code.InvalidArgument);
    }
    const found = searchCatalog(catalog, req.query, req.artist, req.limit, behaviour.minScore);
    record.resultIds = found.map((f) => f.album.id);
    record.scores = found.map((f) => f.score);
    finish(record, "ok");
    return { albums: found.map((f): Album => ({ ...f.album, score: f.score })) };
  };

  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    routes: (router) => router.service(MetadataService, { searchAlbums }),
    shutdownSignal: shutdown.signal,
  });
  const server =
    opts.tls === undefined ? http2.createServer(handler) : http2.createSecureServer({ cert: opts.tls.cert, key: opts.tls.key }, handler);
  const sessions = new Set<http2.Http2Session>();
  // Small gRPC frames on loopback: without TCP_NODELAY, Nagle + delayed ACKs stall concurrent calls.
  server.on("connection", (socket: import("node:net").Socket) => socket.setNoDelay(true));
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls === undefined ? "http" : "https"}://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      shutdown.abort(new ConnectError("catalog-server is shutting down", Code.Unavailable));
      const force = setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, CLOSE_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const s of sessions) s.close();
    });
    return closing;
  };

  return {
    url,
    port,
    calls: () => records.map((r) => ({ ...r, resultIds: [...r.resultIds], scores: [...r.scores] })),
    callCount: () => records.length,
    setBehaviour,
    setAlbums: (albums) => {
      catalog = catalogFromInits(albums);
    },
    close,
  };
}

function pickBehaviour(opts: CatalogServerOptions): Partial<CatalogBehaviour> {
  const { latencyMs, failFirst, failureRate, failureCode, seed, hang, minScore } = opts;
  return { latencyMs, failFirst, failureRate, failureCode, seed, hang, minScore };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateBehaviour(b: Partial<CatalogBehaviour>): void {
  const bad = (what: string): never => {
    throw new MusicfsError("INVALID_ARGUMENT", `catalog-server: ${what}`);
  };
  if (b.latencyMs !== undefined && !(b.latencyMs >= 0)) bad(`latencyMs must be >= 0, got ${b.latencyMs}`);
  if (b.failFirst !== undefined && !(Number.isInteger(b.failFirst) && b.failFirst >= 0))
    bad(`failFirst must be an integer >= 0, got ${b.failFirst}`);
  if (b.failureRate !== undefined && !(b.failureRate >= 0 && b.failureRate <= 1))
    bad(`failureRate must be within 0..1, got ${b.failureRate}`);
  if (b.failureCode !== undefined && !FAILURE_CODES.includes(b.failureCode)) bad(`failureCode must be one of ${FAILURE_CODES.join(", ")}`);
  if (b.minScore !== undefined && !(b.minScore >= 0 && b.minScore <= 100)) bad(`minScore must be within 0..100, got ${b.minScore}`);
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function connectCode(code: FailureCode): Code {
  switch (code) {
    case "unavailable":
      return Code.Unavailable;
    case "resource_exhausted":
      return Code.ResourceExhausted;
    case "internal":
      return Code.Internal;
  }
}

/** "DeadlineExceeded" -> "deadline_exceeded", the Connect protocol's spelling. */
function codeName(code: Code): string {
  return (Code[code] ?? String(code)).replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase();
}
