import { readFileSync } from "node:fs";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { MusicfsError } from "@musicfs/core";
import { MetadataService } from "./gen/metadata/v1/metadata_pb.js";
import { MusicfsService } from "./gen/musicfs/v1/musicfs_pb.js";

export interface AgregatorTransportOptions {
  /** http:// (plaintext HTTP/2) or https:// (TLS) base URL of metadata-agregator. */
  endpoint: string;
  /** Deadline applied to every call that does not pass its own timeoutMs. */
  timeoutMs: number;
  /** PEM file of a private CA for https:// endpoints; it replaces the system CAs for this connection. */
  tlsCaFile?: string | undefined;
}

/** A gRPC transport that owns its HTTP/2 connection, so callers can close it on shutdown. */
export interface AgregatorTransport extends Transport {
  /** Closes the HTTP/2 connection and any calls still open on it. */
  close(): void;
}

/** A gRPC (HTTP/2) transport to metadata-agregator, or to any gRPC server such as musicfs's control API. */
export function createAgregatorTransport(opts: AgregatorTransportOptions): AgregatorTransport {
  const url = parseEndpoint(opts.endpoint);
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new MusicfsError("CONFIG_INVALID", `timeout must be a positive number of milliseconds, got ${opts.timeoutMs}`);
  }
  const tls = url.protocol === "https:";
  if (opts.tlsCaFile !== undefined && !tls) {
    // A CA for a plaintext endpoint means the endpoint was meant to be https://; failing beats silently skipping TLS.
    throw new MusicfsError("CONFIG_INVALID", `tls_ca_file is set but endpoint ${opts.endpoint} is not https://`);
  }
  const nodeOptions = opts.tlsCaFile === undefined ? {} : { ca: readCa(opts.tlsCaFile) };
  // Our own session manager (rather than the transport's hidden one) so close() can end the connection.
  const sessionManager = new Http2SessionManager(url, {}, nodeOptions);
  const transport = createGrpcTransport({
    baseUrl: url.toString(),
    sessionManager,
    defaultTimeoutMs: opts.timeoutMs,
  });
  return {
    unary: transport.unary.bind(transport),
    stream: transport.stream.bind(transport),
    close: () => sessionManager.abort(),
  };
}

export function createAgregatorClient(transport: Transport): Client<typeof MetadataService> {
  return createClient(MetadataService, transport);
}

/** A client of musicfs's own control API (proto/musicfs/v1). */
export function createMusicfsClient(transport: Transport): Client<typeof MusicfsService> {
  return createClient(MusicfsService, transport);
}

function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new MusicfsError("CONFIG_INVALID", `endpoint is not a URL: ${endpoint}`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MusicfsError("CONFIG_INVALID", `endpoint must be http:// or https://, got ${endpoint}`);
  }
  return url;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new MusicfsError("CONFIG_INVALID", `cannot read tls_ca_file ${file}`, { cause });
  }
}
