#!/usr/bin/env node
import { execFileSync } from "node:child_process";
// Usage: node scripts/make-fixtures.mjs [OUT] [--force]
// Generates the scanner fixture library into OUT/library with its manifest in OUT/manifest.json
// (default OUT: .fixtures/library-v<N>, reused when already complete unless --force).
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(repo, "packages/test-utils/dist/index.js");
if (!existsSync(dist)) execFileSync("npx", ["tsc", "-b", "packages/test-utils"], { cwd: repo, stdio: "inherit" });
const { defaultFixtureCacheDir, ensureFixtureLibrary } = await import(dist);

const args = process.argv.slice(2);
const force = args.includes("--force");
const out = resolve(args.find((a) => !a.startsWith("--")) ?? defaultFixtureCacheDir());
if (force) await rm(out, { recursive: true, force: true });

const started = Date.now();
const { root, manifest } = await ensureFixtureLibrary(out);
const good = manifest.files.filter((f) => f.kind === "good");
const bad = manifest.files.filter((f) => f.kind === "bad");
const byFormat = {};
for (const f of good) byFormat[`${f.format} (${f.codec})`] = (byFormat[`${f.format} (${f.codec})`] ?? 0) + 1;

console.log(`fixture library: ${root}`);
console.log(`manifest:        ${join(out, "manifest.json")}`);
console.log(
  `${good.length} good files, ${bad.length} bad entries, ${manifest.ignored.length} ignored, ${manifest.albums.length} albums (${Date.now() - started} ms)`,
);
for (const [format, n] of Object.entries(byFormat)) console.log(`  ${String(n).padStart(3)}  ${format}`);
for (const f of bad) console.log(`  bad  ${f.errorClass?.padEnd(11)} ${f.fileType.padEnd(11)} ${f.path}`);
