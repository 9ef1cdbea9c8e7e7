#!/usr/bin/env node
// Enrichment benchmark: `enrich --once`-style batch runs over ALBUMS x TRACKS files against the fake
// metadata-agregator (apps/catalog-server, its own process) answering with a fixed latency. Reports calls
// made (must equal the distinct albums), albums/s at each concurrency and the ratio to the ideal
// albums x latency / concurrency. Needs a build (`npm run build`): it imports the packages' dist/.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { silentLogger, systemClock } from "@musicfs/core";
import { albumKey, openLibrary } from "@musicfs/db";
import { createEnrichmentService, createProvider } from "@musicfs/enrich";

const USAGE = `usage: node bench/enrich/run.mjs [--albums 2000] [--tracks 10] [--latency-ms 20] [--concurrency 1,8] [--out FILE]
  --albums        distinct albums in the library (default 2000)
  --tracks        files per album (default 10)
  --latency-ms    catalog server delay per call (default 20)
  --concurrency   comma-separated worker concurrencies to measure (default 1,8)
  --out           JSON results (default bench/results/enrich-<timestamp>.json)
  --server        catalog server entry point (default apps/catalog-server/dist/main.js)
  --server-node-args  node options for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"`;

const { values } = parseArgs({
  options: {
    albums: { type: "string", default: "2000" },
    tracks: { type: "string", default: "10" },
    "latency-ms": { type: "string", default: "20" },
    concurrency: { type: "string", default: "1,8" },
    out: { type: "string" },
    server: { type: "string" },
    "server-node-args": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name, text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const ALBUMS = int("--albums", values.albums);
const TRACKS = int("--tracks", values.tracks);
const LATENCY = int("--latency-ms", values["latency-ms"]);
const CONCURRENCIES = values.concurrency.split(",").map((c) => int("--concurrency", c));

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVER = resolve(values.server ?? join(repo, "apps/catalog-server/dist/main.js"));
const work = mkdtempSync(join(tmpdir(), "musicfs-bench-enrich-"));

const artistOf = (i) => `Bench Artist ${i % 250}`;
const titleOf = (i) => `Bench Album ${i} ${["Blue", "Red", "Green", "Gold"][i % 4]}`;

function writeCatalog() {
  const albums = [];
  for (let i = 0; i < ALBUMS; i++) {
    albums.push({
      id: `rg-${i}`,
      title: titleOf(i),
      artists: [{ id: `a-${i % 250}`, name: artistOf(i) }],
      genres: [{ id: "g", name: ["Rock", "Jazz", "Pop"][i % 3] }],
      label: `Label ${i % 40}`,
      releaseDate: `${1960 + (i % 60)}`,
      albumType: "album",
      totalTracks: TRACKS,
      totalDiscs: 1,
    });
  }
  const file = join(work, "catalog.json");
  writeFileSync(file, JSON.stringify(albums));
  return file;
}

function makeLibrary(dbPath) {
  const lib = openLibrary(dbPath);
  const file = lib.sqlite.prepare(
    "INSERT INTO files (path, path_text, root, dev, ino, size, mtime_us, format, seen_scan_id, parsed_at) VALUES (?, ?, '/m', 1, ?, 1, 0, 'FLAC', 1, 0)",
  );
  const meta = lib.sqlite.prepare(
    "INSERT INTO file_metadata (file_id, title, artist, album, track, album_key, genre, genres_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'Rock', '[\"Rock\"]', 0)",
  );
  const album = lib.sqlite.prepare("INSERT INTO albums (album_key, artist, album) VALUES (?, ?, ?)");
  lib.sqlite.transaction(() => {
    let ino = 1;
    for (let a = 0; a < ALBUMS; a++) {
      const key = albumKey({ artist: artistOf(a), album: titleOf(a) });
      album.run(key, artistOf(a), titleOf(a));
      for (let t = 1; t <= TRACKS; t++) {
        const path = `/m/${a}/${t}.flac`;
        const id = Number(file.run(Buffer.from(path), path, ino++).lastInsertRowid);
        meta.run(id, `Track ${t}`, artistOf(a), titleOf(a), t, key);
      }
    }
  })();
  return lib;
}

function startServer(catalog, callLog) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(values["server-node-args"] ?? "").split(" ").filter(Boolean),
        SERVER,
        "--catalog",
        catalog,
        "--latency-ms",
        String(LATENCY),
        "--call-log",
        callLog,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolveStart({ url: m[1], stop: () => child.kill("SIGTERM") });
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`catalog server exited (${code}): ${out}`)));
  });
}

const catalog = writeCatalog();
const results = [];
try {
  for (const concurrency of CONCURRENCIES) {
    const callLog = join(work, `calls-${concurrency}.jsonl`);
    writeFileSync(callLog, "");
    const server = await startServer(catalog, callLog);
    const lib = makeLibrary(join(work, `library-${concurrency}.db`));
    const cfg = {
      enabled: true,
      endpoint: server.url,
      timeout_ms: 10000,
      search_limit: 5,
      retry_max: 3,
      retry_backoff_ms: 1000,
      queue_size: 256,
      concurrency,
    };
    const provider = createProvider(cfg);
    const service = createEnrichmentService({ lib, provider, clock: systemClock, log: silentLogger() }, cfg);
    const summary = await service.runBatch();
    provider.close();
    server.stop();
    const calls = readFileSync(callLog, "utf8").split("\n").filter(Boolean).length;
    const enriched = lib.sqlite.prepare("SELECT count(*) AS n FROM file_metadata WHERE enrichment_source = 'provider'").get().n;
    lib.close();
    const idealSeconds = (ALBUMS * LATENCY) / 1000 / concurrency;
    const row = {
      concurrency,
      albums: summary.albums,
      hits: summary.hits,
      callsMade: calls,
      callsEqualAlbums: calls === ALBUMS,
      filesEnriched: enriched,
      seconds: Number(summary.seconds.toFixed(3)),
      albumsPerSecond: Number((summary.albums / summary.seconds).toFixed(1)),
      idealSeconds: Number(idealSeconds.toFixed(3)),
      ratioToIdeal: Number((summary.seconds / idealSeconds).toFixed(3)),
    };
    results.push(row);
    console.log(
      `concurrency ${String(concurrency).padStart(2)}: ${row.albums} albums, ${row.callsMade} calls${row.callsEqualAlbums ? "" : " (NOT one per album)"}, ${row.filesEnriched} files, ${row.seconds} s, ${row.albumsPerSecond} albums/s, ideal ${row.idealSeconds} s, ratio ${row.ratioToIdeal}x`,
    );
  }
} finally {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench run by hand, never a turbo task
  if (!process.env.KEEP_BENCH) rmSync(work, { recursive: true, force: true });
}

const at8 = results.find((r) => r.concurrency === 8);
const ok = results.every((r) => r.callsEqualAlbums && r.hits === ALBUMS) && (!at8 || at8.ratioToIdeal <= 2);
const out = values.out ?? join(repo, "bench", "results", `enrich-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ albums: ALBUMS, tracksPerAlbum: TRACKS, latencyMs: LATENCY, cpus: cpus().length, node: process.version, results, ok }, null, 2)}\n`,
);
console.log(
  `${ok ? "OK" : "FAILED"}: calls = albums${at8 ? `, ${at8.ratioToIdeal}x ideal at concurrency 8 (limit 2x)` : ""}; results in ${out}`,
);
process.exit(ok ? 0 : 1);
