#!/usr/bin/env node
// `npm run demo`: from a fresh clone to a mounted, enriched sample library in one command.
// Installs what is missing, builds, generates a sample library, starts a metadata-agregator
// stand-in (apps/catalog-server), then runs scan, enrich and mount, reads a few files through the
// mount with an independent reader (mutagen), prints `musicfs status`, and cleans everything up —
// also on Ctrl-C. Safe to run again.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const demo = join(repo, ".demo");
const cli = join(repo, "apps/cli/bin/run.js");
const children = new Set();
let mountpoint;

const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

function sh(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: "inherit", cwd: repo, ...opts });
}

function musicfs(args, opts = {}) {
  return execFileSync(process.execPath, [cli, ...args, "--config", join(demo, "config.toml")], {
    cwd: repo,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    ...opts,
  });
}

/** Starts a long-running child and resolves once a line on its stdout matches `ready`. */
function startUntil(cmd, args, ready, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
    children.add(child);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")}: not ready after ${timeoutMs} ms\n${out}`)), timeoutMs);
    child.stdout.on("data", (d) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.on("exit", (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code} before it was ready\n${out}`));
    });
  });
}

function unmount() {
  if (mountpoint && existsSync(mountpoint)) {
    try {
      execFileSync("fusermount", ["-uz", mountpoint], { stdio: "ignore" });
    } catch {
      // not mounted
    }
  }
}

async function cleanup() {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  for (const child of children) child.kill("SIGKILL");
  unmount();
}

process.on("SIGINT", () => {
  process.stdout.write("\ninterrupted: cleaning up\n");
  cleanup().finally(() => process.exit(130));
});

async function main() {
  say("1/8 system packages (fuse, libfuse2, ffmpeg, flac, python3-mutagen)");
  sh("bash", ["scripts/install-system-deps.sh"]);

  say("2/8 npm dependencies and build");
  if (!existsSync(join(repo, "node_modules/.package-lock.json"))) sh("npm", ["ci", "--no-fund", "--no-audit"]);
  sh("npm", ["run", "build", "--silent"]);

  say("3/8 sample library (24 albums, FLAC/MP3/Ogg/Opus/M4A, no genre or label tags)");
  mkdirSync(demo, { recursive: true });
  const libraryDir = join(demo, "library");
  const catalogFile = join(demo, "catalog.json");
  if (!existsSync(catalogFile)) {
    rmSync(libraryDir, { recursive: true, force: true });
    sh(process.execPath, ["scripts/make-sample-library.mjs", libraryDir, "--catalog", catalogFile]);
  } else {
    console.log(`reusing ${libraryDir}`);
  }

  say("4/8 metadata-agregator stand-in (apps/catalog-server) on a free port");
  const { match } = await startUntil(
    process.execPath,
    ["apps/catalog-server/dist/main.js", "--catalog", catalogFile, "--port", "0"],
    /listening on (http:\/\/\S+)/,
  );
  const endpoint = match[1];
  console.log(`catalog server at ${endpoint}`);

  const db = join(demo, "library.db");
  rmSync(db, { force: true });
  rmSync(`${db}-wal`, { force: true });
  rmSync(`${db}-shm`, { force: true });
  writeFileSync(
    join(demo, "config.toml"),
    `[library]\nroots = [${JSON.stringify(libraryDir)}]\ndatabase = ${JSON.stringify(db)}\n\n[metadata_provider]\nenabled = true\nendpoint = ${JSON.stringify(endpoint)}\n`,
  );

  say("5/8 musicfs scan");
  process.stdout.write(musicfs(["scan"]));

  say("6/8 musicfs enrich --once");
  const e = JSON.parse(musicfs(["enrich", "--once", "--json"]));
  console.log(
    `${e.albumsLookedUp} albums looked up in ${e.seconds.toFixed(1)} s with ${e.callsMade} calls: ${e.hits} matched, ${e.misses} no match, ${e.doubtful} doubtful, ${e.errors} errors`,
  );
  const review = musicfs(["enrich", "--review"]);
  if (review.trim()) process.stdout.write(`doubtful matches kept for review (never applied):\n${review}`);

  say("7/8 musicfs mount");
  mountpoint = join(demo, "mnt");
  unmount();
  mkdirSync(mountpoint, { recursive: true });
  await startUntil(process.execPath, [cli, "mount", mountpoint, "--config", join(demo, "config.toml"), "--force"], /mounted/);
  const reader = await import(join(repo, "packages/test-utils/dist/index.js"));
  const { readdir } = await import("node:fs/promises");
  const artists = (await readdir(join(mountpoint, "Artists"))).sort();
  console.log(`${mountpoint}/: ${(await readdir(mountpoint)).join("  ")}`);
  console.log(`Artists/: ${artists.slice(0, 6).join(", ")}${artists.length > 6 ? ", ..." : ""}`);
  let shown = 0;
  for (const artist of artists) {
    if (shown >= 3) break;
    const albums = await readdir(join(mountpoint, "Artists", artist));
    const tracks = (await readdir(join(mountpoint, "Artists", artist, albums[0]))).filter((t) => /\.(flac|mp3)$/.test(t));
    if (tracks.length === 0) continue;
    const served = join(mountpoint, "Artists", artist, albums[0], tracks[0]);
    const tags = await reader.readTagsIndependently(served);
    // The origin's path comes from the mount's extended attribute (read by python: getfattr is often absent).
    const origin = execFileSync("/usr/bin/python3", [
      "-c",
      "import os,sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], 'user.musicfs.origin_path'))",
      served,
    ]);
    const originTags = await reader.readTagsIndependently(origin);
    const label = (t) => (t.raw.TPUB ?? t.raw.LABEL ?? []).join(", ") || "none";
    const genres = (t) => (t.common.genre ?? []).join(", ") || "none";
    console.log(`\n${served.slice(mountpoint.length + 1)}  (read by mutagen through the mount)`);
    console.log(
      `  title  ${tags.common.title?.[0] ?? ""}   artist ${tags.common.artist?.[0] ?? ""}   album ${tags.common.album?.[0] ?? ""}`,
    );
    console.log(`  genres ${genres(tags)}   (in the origin file: ${genres(originTags)})`);
    console.log(`  label  ${label(tags)}   (in the origin file: ${label(originTags)})`);
    shown++;
  }

  say("8/8 musicfs status");
  process.stdout.write(musicfs(["status"]));
}

main()
  .then(async () => {
    await cleanup();
    say("done: unmounted, servers stopped. Run it again any time; files are in .demo/");
  })
  .catch(async (err) => {
    console.error(`\ndemo failed: ${err.message}`);
    await cleanup();
    process.exit(1);
  });
