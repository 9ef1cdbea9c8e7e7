#!/usr/bin/env node
import { execFileSync } from "node:child_process";
// Usage: node scripts/make-sample-library.mjs OUT [--albums N] [--catalog FILE]
// Generates the demo library (no genre/label tags) into OUT and the fake metadata-agregator catalog JSON
// into FILE (default: OUT-catalog.json, next to the library so scans do not see it).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { albums: { type: "string" }, catalog: { type: "string" } },
});
if (positionals.length !== 1) {
  console.error("usage: node scripts/make-sample-library.mjs OUT [--albums N] [--catalog FILE]");
  process.exit(2);
}
const albums = values.albums === undefined ? undefined : Number(values.albums);
if (albums !== undefined && !(Number.isInteger(albums) && albums > 0)) {
  console.error(`--albums must be a positive integer, got ${values.albums}`);
  process.exit(2);
}

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(repo, "packages/test-utils/dist/index.js");
if (!existsSync(dist)) execFileSync("npx", ["tsc", "-b", "packages/test-utils"], { cwd: repo, stdio: "inherit" });
const { generateSampleLibrary } = await import(dist);

const out = resolve(positionals[0]);
const catalogFile = resolve(values.catalog ?? `${out.replace(/\/+$/, "")}-catalog.json`);
const started = Date.now();
const lib = await generateSampleLibrary(out, { albums, catalogFile });
const tracks = lib.albums.reduce((n, a) => n + a.tracks.length, 0);
console.log(`sample library: ${lib.root}`);
console.log(`catalog:        ${catalogFile} (${lib.catalog.length} entries)`);
console.log(`${lib.albums.length} albums, ${tracks} tracks (${Date.now() - started} ms)`);
for (const a of lib.albums) {
  console.log(
    `  ${a.catalogId ? "match" : "miss "}  ${a.encoding.padEnd(12)} ${String(a.tracks.length).padStart(2)}  ${a.artist} — ${a.title}`,
  );
}
