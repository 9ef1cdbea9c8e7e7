import { connect as netConnect } from "node:net";

// Commands print messages as proto JSON without depending on @bufbuild/protobuf themselves.
export { create, toJson } from "@bufbuild/protobuf";

import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type ErrorCode, MusicfsError } from "@musicfs/core";
import { type GetStatusResponse, MusicfsService } from "../gen/musicfs/v1/musicfs_pb.js";
import { controlRoutes, errorInterceptor, parseListen } from "./http.js";
import { type ControlDeps, createControlService } from "./service.js";

export type MusicfsClient = Client<typeof MusicfsService>;

/** A client of the control API and how it reaches the library. */
export interface ControlConnection {
  client: MusicfsClient;
  /** "daemon": a running mount / serve / enrich --daemon answered; "database": calls run in this process. */
  via: "daemon" | "database";
  /** The daemon's URL when via is "daemon". */
  url: string | undefined;
  close(): void;
}

/** The URL a client uses for a listen address; wildcard addresses are reached on loopback. */
export function controlUrl(listen: string): string {
  const { host, port } = parseListen(listen);
  const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}`;
}

/** A gRPC (HTTP/2) transport to a control server that owns its connection; close() ends it. */
export function createControlTransport(opts: { url: string; token?: string | undefined; timeoutMs?: number }): Transport & {
  close(): void;
} {
  const sessionManager = new Http2SessionManager(opts.url);
  const bearer: Interceptor = (next) => (req) => {
    if (opts.token) req.header.set("authorization", `Bearer ${opts.token}`);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: opts.url,
    sessionManager,
    interceptors: [bearer],
    ...(opts.timeoutMs ? { defaultTimeoutMs: opts.timeoutMs } : {}),
  });
  return { unary: transport.unary.bind(transport), stream: transport.stream.bind(transport), close: () => sessionManager.abort() };
}

/** Whether something accepts connections at the listen address within timeoutMs. */
export function isListening(listen: string, timeoutMs = 300): Promise<boolean> {
  const url = new URL(controlUrl(listen));
  return new Promise((resolve) => {
    const socket = netConnect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The control service run in this process over the library (no server, no network). */
export function createInProcessClient(deps: ControlDeps): { client: MusicfsClient; close(): void } {
  const service = createControlService(deps);
  const transport = createRouterTransport(controlRoutes(service), { router: { interceptors: [errorInterceptor(deps.log)] } });
  return { client: createClient(MusicfsService, transport), close: () => service.close() };
}

/**
 * Goes through the running daemon (mount, serve, enrich --daemon) when one listens at `listen`, so its
 * watchers hear about the change; otherwise runs the same service in-process on the database from `open`.
 */
export async function openControlClient(opts: {
  listen: string;
  token?: string | undefined;
  timeoutMs?: number;
  open: () => ControlDeps;
}): Promise<ControlConnection> {
  if (await isListening(opts.listen, Math.min(opts.timeoutMs ?? 300, 1000))) {
    const url = controlUrl(opts.listen);
    const transport = createControlTransport({ url, token: opts.token, timeoutMs: Math.max(opts.timeoutMs ?? 0, 10_000) });
    return { client: createClient(MusicfsService, transport), via: "daemon", url, close: () => transport.close() };
  }
  const local = createInProcessClient(opts.open());
  return { client: local.client, via: "database", url: undefined, close: local.close };
}

/**
 * GetStatus from the running daemon at `listen`, or undefined when none listens there.
 * A daemon that refuses the call (e.g. a wrong token) is reported as an error, not as "none".
 */
export async function fetchLiveStatus(opts: {
  listen: string;
  token?: string | undefined;
  timeoutMs?: number;
}): Promise<{ url: string; status: GetStatusResponse } | undefined> {
  if (!(await isListening(opts.listen, Math.min(opts.timeoutMs ?? 300, 1000)))) return undefined;
  const url = controlUrl(opts.listen);
  const transport = createControlTransport({ url, token: opts.token, timeoutMs: Math.max(opts.timeoutMs ?? 0, 5000) });
  try {
    return { url, status: await createClient(MusicfsService, transport).getStatus({}) };
  } finally {
    transport.close();
  }
}

/** A failed control call as a MusicfsError, so commands report it (and pick the exit code) like any other. */
export function controlCallError(err: unknown): MusicfsError {
  if (err instanceof MusicfsError) return err;
  const e = ConnectError.from(err);
  const code: ErrorCode =
    e.code === Code.NotFound
      ? "NOT_FOUND"
      : e.code === Code.InvalidArgument
        ? "INVALID_ARGUMENT"
        : e.code === Code.Unauthenticated
          ? "UNAUTHENTICATED"
          : e.code === Code.FailedPrecondition
            ? "USAGE"
            : "INTERNAL";
  const hint = e.code === Code.Unauthenticated ? " (set [control] token to the daemon's token)" : "";
  return new MusicfsError(code, `${e.rawMessage}${hint}`, { cause: err });
}
