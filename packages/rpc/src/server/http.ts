import { createHash, timingSafeEqual } from "node:crypto";
import type { EventEmitter } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { describeError, type Logger, MusicfsError } from "@musicfs/core";
import { MusicfsService } from "../gen/musicfs/v1/musicfs_pb.js";
import { type ControlDeps, createControlService, toConnectError } from "./service.js";

/** A prom-client Registry, or anything that renders the Prometheus text format the same way. */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  contentType: string;
}

export interface ControlServerDeps extends ControlDeps {
  /** Served as Prometheus text at GET /metrics on the same port. */
  metricsRegistry?: MetricsRegistry | undefined;
}

export interface ControlServerOptions {
  /** host:port; port 0 picks a free one. Default [control] listen is "127.0.0.1:50052". */
  listen: string;
  /** Bearer token every request must carry when set; required when listening off loopback. */
  token?: string | undefined;
}

export interface ControlServer {
  /** e.g. "http://127.0.0.1:50052", for createMusicfsClient's transport. */
  url: string;
  port: number;
  /** 'fileModified' (FileModifiedEvent) for every write made through the control API. */
  events: EventEmitter;
  /** WatchEvents streams open now. */
  watchers(): number;
  /** Ends open streams and connections, and stops listening. */
  close(): Promise<void>;
}

/** Splits "host:port" / "[v6]:port". */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new MusicfsError("CONFIG_INVALID", `control listen address must be host:port (e.g. 127.0.0.1:50052), got "${listen}"`);
  }
  return { host: m[1] ?? m[2] ?? "", port };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares in constant time: a wrong token's length or prefix tells nothing. */
function tokenMatches(header: string | null | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return m?.[1] !== undefined && timingSafeEqual(digest(m[1].trim()), expected);
}

function authInterceptor(expected: Buffer): Interceptor {
  return (next) => async (req) => {
    if (!tokenMatches(req.header.get("authorization"), expected)) {
      throw new ConnectError("missing or wrong bearer token (send `authorization: Bearer <[control] token>`)", Code.Unauthenticated);
    }
    return next(req);
  };
}

/** Maps whatever a handler throws to a Connect error (MusicfsError codes kept), logging internal failures. */
export function errorInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      const e = toConnectError(err);
      if (e.code === Code.Internal) log.error({ procedure: req.method.name, err: describeError(err) }, "control API call failed");
      throw e;
    }
  };
}

/**
 * Connect answers a binary request whose string is not UTF-8 with INTERNAL (its parse error). Decoding
 * those strings leniently instead (U+FFFD) lets the handlers' checks answer INVALID_ARGUMENT, naming the
 * field. Mutates the generated descriptors of the service's request messages, once.
 */
function decodeRequestStringsLeniently(): void {
  const seen = new Set<DescMessage>();
  const visit = (message: DescMessage) => {
    if (seen.has(message)) return;
    seen.add(message);
    for (const field of message.fields) {
      if (field.fieldKind === "scalar" || field.fieldKind === "list") {
        if ("utf8Validation" in field) (field as { utf8Validation: boolean }).utf8Validation = false;
      }
      if (field.fieldKind === "message") visit(field.message);
      if (field.fieldKind === "list" && field.listKind === "message") visit(field.message);
    }
  };
  for (const method of MusicfsService.methods) visit(method.input);
}
decodeRequestStringsLeniently();

/** Registers the control service on a router, with the error mapping (and auth, when a token is given). */
export function controlRoutes(service: ReturnType<typeof createControlService>): (router: ConnectRouter) => void {
  return (router) => router.service(MusicfsService, service.impl);
}

/**
 * Serves the control API (proto/musicfs/v1) with the gRPC, gRPC-Web and Connect protocols on one port.
 * Plaintext HTTP/2 (h2c, which gRPC needs) and HTTP/1.1 (Connect, curl) share it: Node's http2 server
 * takes no HTTP/1.1 without TLS, so each connection is routed by its first bytes (the HTTP/2 preface).
 */
export async function startControlServer(deps: ControlServerDeps, opts: ControlServerOptions): Promise<ControlServer> {
  const { host, port } = parseListen(opts.listen);
  const token = opts.token?.trim() ? opts.token.trim() : undefined;
  if (!token && !isLoopbackHost(host)) {
    throw new MusicfsError(
      "CONFIG_INVALID",
      `control API listen address ${opts.listen} is not loopback: set [control] token (16+ characters) so clients must authenticate, or listen on 127.0.0.1`,
    );
  }
  const expected = token ? digest(token) : undefined;
  const service = createControlService(deps);
  const shutdown = new AbortController();
  const interceptors = [...(expected ? [authInterceptor(expected)] : []), errorInterceptor(deps.log)];
  const rpc = connectNodeAdapter({ routes: controlRoutes(service), interceptors, shutdownSignal: shutdown.signal });

  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics" && req.method === "GET") {
      serveMetrics(req, res);
      return;
    }
    rpc(req, res);
  };

  function serveMetrics(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void {
    const reply = (status: number, type: string, body: string) => {
      (res as http.ServerResponse).writeHead(status, { "content-type": type });
      (res as http.ServerResponse).end(body);
    };
    const registry = deps.metricsRegistry;
    if (expected && !tokenMatches(req.headers.authorization, expected)) {
      reply(401, "text/plain", "missing or wrong bearer token\n");
    } else if (!registry) {
      reply(404, "text/plain", "no metrics in this process\n");
    } else {
      registry.metrics().then(
        (text) => reply(200, registry.contentType, text),
        (err: unknown) => reply(500, "text/plain", `${describeError(err)}\n`),
      );
    }
  }

  const h2 = http2.createServer({}, handler);
  const h1 = http.createServer(handler);
  const sockets = new Set<Socket>();
  const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Peek without switching to flowing mode: http2 takes over the socket's handle and must see the unshifted bytes.
    socket.once("readable", () => {
      const head = (socket.read(PREFACE.length) ?? socket.read()) as Buffer | null;
      if (!head) {
        socket.destroy();
        return;
      }
      socket.unshift(head);
      (head.equals(PREFACE.subarray(0, head.length)) ? h2 : h1).emit("connection", socket);
    });
    socket.on("error", (err) => deps.log.debug({ err: describeError(err) }, "control API connection error"));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new MusicfsError(
          err.code === "EADDRINUSE" ? "ALREADY_RUNNING" : "CONFIG_INVALID",
          err.code === "EADDRINUSE"
            ? `control API address ${opts.listen} is in use (is another musicfs mount, serve or enrich --daemon running?)`
            : `cannot listen on ${opts.listen}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host;
  deps.log.info({ listen: opts.listen, port: bound, auth: expected !== undefined }, "control API listening");
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    events: service.events,
    watchers: service.watchers,
    close() {
      closing ??= new Promise<void>((resolve) => {
        service.close();
        shutdown.abort(new ConnectError("musicfs is shutting down", Code.Unavailable));
        server.close(() => resolve());
        h1.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
