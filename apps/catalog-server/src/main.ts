#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { describeError, MusicfsError } from "@musicfs/core";
import { FAILURE_CODES, type FailureCode, startCatalogServer } from "./server.js";

const USAGE = `Usage: musicfs-catalog-server --catalog FILE [options]

A stand-in for metadata-agregator: answers metadata.v1.MetadataService/SearchAlbums over gRPC (HTTP/2)
from a JSON catalog, with fuzzy scoring that returns wrong best guesses like a real search engine.
Prints "listening on URL" as its first line of output.

Options:
  --catalog FILE         JSON array of metadata.v1.Album (proto JSON form)
  --port N               port to listen on; 0 (default) picks a free one
  --host HOST            address to bind (default 127.0.0.1)
  --tls-cert FILE        PEM certificate chain: serve TLS (needs --tls-key)
  --tls-key FILE         PEM private key
  --latency-ms N         delay every answer by N ms
  --fail-first N         fail the first N calls
  --failure-rate R       fail calls with probability R (0..1)
  --failure-code CODE    ${FAILURE_CODES.join(" | ")} (default unavailable)
  --seed N               seed of the failure-rate RNG (default 1)
  --hang                 never answer; clients hit their deadline
  --min-score N          drop results scoring below N (default 15)
  --call-log FILE        append one JSON line per call
  -h, --help             show this help`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      catalog: { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "latency-ms": { type: "string" },
      "fail-first": { type: "string" },
      "failure-rate": { type: "string" },
      "failure-code": { type: "string" },
      seed: { type: "string" },
      hang: { type: "boolean", default: false },
      "min-score": { type: "string" },
      "call-log": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.catalog === undefined) throw new MusicfsError("USAGE", "--catalog FILE is required");
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new MusicfsError("USAGE", "--tls-cert and --tls-key go together");
  }
  const failureCode = values["failure-code"];
  if (failureCode !== undefined && !FAILURE_CODES.includes(failureCode as FailureCode)) {
    throw new MusicfsError("USAGE", `--failure-code must be one of ${FAILURE_CODES.join(", ")}`);
  }

  const server = await startCatalogServer({
    catalogFile: values.catalog,
    port: numberFlag("port", values.port),
    host: values.host,
    tls:
      values["tls-cert"] === undefined || values["tls-key"] === undefined
        ? undefined
        : { cert: readFileSync(values["tls-cert"]), key: readFileSync(values["tls-key"]) },
    latencyMs: numberFlag("latency-ms", values["latency-ms"]),
    failFirst: numberFlag("fail-first", values["fail-first"]),
    failureRate: numberFlag("failure-rate", values["failure-rate"]),
    failureCode: failureCode as FailureCode | undefined,
    seed: numberFlag("seed", values.seed),
    hang: values.hang,
    minScore: numberFlag("min-score", values["min-score"]),
    callLogFile: values["call-log"],
  });
  // The first line is the contract with a parent process that started us with --port 0.
  process.stdout.write(`listening on ${server.url}\n`);

  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new MusicfsError("USAGE", `--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

main().catch((err: unknown) => {
  // parseArgs reports bad flags as errors with an ERR_PARSE_ARGS_* code: usage errors like ours.
  const usage =
    (err instanceof MusicfsError && err.code === "USAGE") || String((err as { code?: unknown } | null)?.code).startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`musicfs-catalog-server: ${describeError(err)}\n`);
  if (usage) process.stderr.write(`\n${USAGE}\n`);
  process.exit(usage ? 2 : 1);
});
