#!/usr/bin/env node
// Mount benchmark: `musicfs mount` against bindfs (a C FUSE pass-through) and direct access, in one run:
// mount time, find+stat of a 20,000-file library, sequential reads (cold and warm), random 4 KiB reads,
// an overlaid (enriched) FLAC read, RSS after a full walk, and mount time + RSS at 100,000 files.
//
// How the libraries are made (cached under --dir, rebuilt when missing):
// - tree-20000/: 20,000 real 1-byte files in 200 artists x 10 albums x 10 tracks. bindfs mirrors this folder;
//   musicfs serves the same files from a database whose rows point at them (Files/ mirrors it, Artists/ lays it
//   out by tags), so both walks stat 20,000 files.
// - big/: a 256 MiB file of random bytes (served unmodified: embedded tags) for sequential and random reads,
//   and a 2-minute white-noise FLAC with provider metadata, served with an overlay header.
// - the 100,000-file database: synthetic rows (10 tracks per album) whose paths do not exist, with what a
//   scan of a tagged collection leaves (real timestamps and sizes, album artists, labels). getattr and
//   readdir never touch the origin, so mount time, walk and RSS are measured honestly; reading those files
//   would fail, and is not done.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `usage: node bench/mount/run.mjs [--dir DIR] [--out FILE] [--big-mib N] [--large 100000]
  --dir       cache of generated libraries (default $MUSICFS_BENCH_DIR/mount or /tmp/musicfs-bench/mount)
  --out       JSON results (default bench/results/mount-<timestamp>.json)
  --big-mib   size of the sequential-read file in MiB (default 256)
  --large     files in the large synthetic library (default 100000)`;

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    out: { type: "string" },
    "big-mib": { type: "string", default: "256" },
    large: { type: "string", default: "100000" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const BIG_MIB = Number(values["big-mib"]);
const LARGE = Number(values.large);
const SMALL = 20_000;
const COLD_ROUNDS = 5;
// Mounts of the large library whose median start-up is reported.
const MOUNT_ROUNDS = 5;

/** The middle value (the upper one of the two middle values for an even count). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the bench is run with node, not as a turbo task
const benchDir = resolve(values.dir ?? join(process.env.MUSICFS_BENCH_DIR ?? "/tmp/musicfs-bench", "mount"));
const outFile = resolve(values.out ?? join(repo, "bench/results", `mount-${new Date().toISOString().replace(/[:.]/g, "-")}.json`));
const cli = join(repo, "apps/cli/bin/run.js");
const PYTHON = "/usr/bin/python3";
const log = (msg) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

if (!existsSync(join(repo, "apps/cli/dist/commands/mount.js"))) {
  console.error("apps/cli is not built: run `npx tsc -b apps/cli` first");
  process.exit(2);
}
const { openLibrary } = await import(join(repo, "packages/db/dist/index.js"));

// ---- helpers -----------------------------------------------------------------------------------------
function dropCaches() {
  try {
    execFileSync("sync");
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    return true;
  } catch {
    return false;
  }
}

function runAsync(cmd, args, opts = {}) {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0 && !opts.allowFail) fail(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr}`));
      else done({ stdout, stderr, code });
    });
  });
}

async function timed(cmd, args) {
  const t = performance.now();
  const r = await runAsync(cmd, args);
  return { seconds: (performance.now() - t) / 1000, ...r };
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const mounts = [];
const children = [];
async function cleanup() {
  for (const m of mounts.splice(0)) await runAsync("fusermount", ["-uz", m], { allowFail: true });
  for (const c of children.splice(0)) c.kill("SIGKILL");
}
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));

/** `musicfs mount` in a child; resolves when it printed "mounted", with the wall time and its tree-build log. */
async function startMusicfs(db, mnt) {
  mkdirSync(mnt, { recursive: true });
  const started = performance.now();
  const child = spawn(process.execPath, [cli, "mount", mnt, "--db", db, "--log-level", "info", "--force"], {
    env: { PATH: process.env.PATH, HOME: benchDir, XDG_CONFIG_HOME: join(benchDir, "no-config") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  mounts.push(mnt);
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  await new Promise((done, fail) => {
    child.stdout.on("data", (d) => d.toString().includes("mounted") && done());
    child.on("close", (code) => fail(new Error(`musicfs mount exited ${code}: ${stderr}`)));
  });
  const wallMs = performance.now() - started;
  const lines = stderr
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return {
    child,
    wallMs,
    treeMs: lines.find((l) => l.msg === "tree built")?.ms,
    mountMs: lines.find((l) => l.msg === "mounted")?.ms,
    async stop() {
      const exited = new Promise((r) => child.on("close", r));
      child.kill("SIGTERM");
      await exited;
      mounts.splice(mounts.indexOf(mnt), 1);
    },
  };
}

async function startBindfs(src, mnt) {
  mkdirSync(mnt, { recursive: true });
  await runAsync("bindfs", ["-r", "--no-allow-other", src, mnt]);
  mounts.push(mnt);
  return {
    async stop() {
      await runAsync("fusermount", ["-u", mnt]);
      mounts.splice(mounts.indexOf(mnt), 1);
    },
  };
}

/** find + stat of every file under dir: files per second. */
async function findStat(dir) {
  const r = await timed("find", [dir, "-type", "f", "-printf", "%s %T@\n"]);
  const files = r.stdout.split("\n").filter(Boolean).length;
  return { files, seconds: r.seconds, filesPerSecond: files / r.seconds };
}

async function sequentialRead(file, cold) {
  if (cold && !dropCaches()) return null;
  const r = await timed("dd", [`if=${file}`, "of=/dev/null", "bs=1M"]);
  const bytes = Number(/^(\d+) bytes/m.exec(r.stderr)?.[1] ?? 0);
  return { bytes, seconds: r.seconds, mibPerSecond: bytes / 1048576 / r.seconds };
}

const RANDOM_READS = `
import os, sys, random, time
p, n = sys.argv[1], int(sys.argv[2])
fd = os.open(p, os.O_RDONLY)
size = os.fstat(fd).st_size
rng = random.Random(7)
offsets = [rng.randrange(0, size // 4096) * 4096 for _ in range(n)]
t = time.perf_counter()
for off in offsets:
  os.pread(fd, 4096, off)
print(n / (time.perf_counter() - t))
`;
async function randomReads(file, n = 5000) {
  return Number((await runAsync(PYTHON, ["-c", RANDOM_READS, file, String(n)])).stdout.trim());
}

// ---- fixtures ----------------------------------------------------------------------------------------
function insertRows(lib, rows) {
  const insF = lib.sqlite.prepare(
    `INSERT INTO files (path, path_text, root, dev, ino, size, mtime_us, format, seen_scan_id, parsed_at)
     VALUES (?, ?, ?, 0, ?, ?, ?, ?, 1, ?)`,
  );
  const insM = lib.sqlite.prepare(
    `INSERT INTO file_metadata (file_id, title, artist, album, albumartist, track, track_total, year, genre, genres_json, label,
       album_key, enrichment_source, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 10, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Timestamps as a real scan leaves them (microseconds / milliseconds since the epoch, not small integers).
  const scannedAt = Date.parse("2026-06-01T12:00:00Z");
  lib.sqlite.transaction(() => {
    for (const r of rows) {
      const mtimeUs = (Date.parse("2024-01-01T00:00:00Z") + r.ino * 1000) * 1000 + 123;
      const id = insF.run(Buffer.from(r.path), r.path, r.root, r.ino, r.size, mtimeUs, r.format, scannedAt + r.ino).lastInsertRowid;
      insM.run(
        id,
        r.title,
        r.artist,
        r.album,
        r.albumartist ?? null,
        r.track,
        r.year,
        r.genre,
        JSON.stringify([r.genre]),
        r.label ?? null,
        `${r.artist}\u001f${r.album}`.toLowerCase(),
        r.source ?? "embedded",
        scannedAt + r.ino,
      );
    }
  })();
}

/**
 * A library as a scan of a tagged collection leaves it: 10-track albums by 1,000 artists, each album with
 * a year and a genre; half the artists with an album artist tag, half the albums with a label.
 * `realSizes`: sizes of typical FLAC files (for a database whose files do not exist) instead of 1 byte.
 */
function libraryRows(root, count, realSizes = false) {
  const genres = ["Rock", "Jazz", "Electronic", "Folk", "Classical"];
  const rows = [];
  for (let i = 0; i < count; i++) {
    const a = Math.floor(i / 100);
    const b = Math.floor(i / 10);
    const artist = `Artist ${String(a).padStart(4, "0")}`;
    const album = `Album ${String(b).padStart(5, "0")}`;
    const track = (i % 10) + 1;
    rows.push({
      path: `${root}/${artist}/${album}/${String(track).padStart(2, "0")} Track ${i}.flac`,
      root,
      ino: i + 1,
      size: realSizes ? 20_000_000 + ((i * 7_919) % 15_000_000) : 1,
      format: "flac",
      title: `Track ${i}`,
      artist,
      albumartist: a % 2 === 0 ? artist : null,
      album,
      track,
      year: 1960 + (b % 60),
      genre: genres[a % genres.length],
      label: b % 2 === 0 ? `Label ${String(b % 200).padStart(3, "0")}` : null,
    });
  }
  return rows;
}

async function prepare() {
  mkdirSync(benchDir, { recursive: true });
  const tree = join(benchDir, `tree-${SMALL}`);
  const rows = libraryRows(tree, SMALL);
  if (!existsSync(join(tree, ".done"))) {
    log(`making ${SMALL} files in ${tree}`);
    rmSync(tree, { recursive: true, force: true });
    for (const r of rows) {
      mkdirSync(dirname(r.path), { recursive: true });
      writeFileSync(r.path, "x");
    }
    writeFileSync(join(tree, ".done"), "");
  }
  const big = join(benchDir, "big");
  const bigFile = join(big, `random-${BIG_MIB}.flac`);
  const noise = join(big, "noise.flac");
  mkdirSync(big, { recursive: true });
  if (!existsSync(bigFile)) {
    log(`making a ${BIG_MIB} MiB file`);
    await runAsync("dd", ["if=/dev/urandom", `of=${bigFile}`, "bs=1M", `count=${BIG_MIB}`]);
  }
  if (!existsSync(noise)) {
    log("encoding a 2-minute FLAC");
    await runAsync("ffmpeg", [
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "anoisesrc=d=120:c=white:a=0.3",
      "-ac",
      "2",
      "-ar",
      "44100",
      noise,
    ]);
  }
  // -v2: realistic timestamps, sizes, labels and album artists (v1 databases are not reused).
  const smallDb = join(benchDir, `library-${SMALL}-v2.db`);
  if (!existsSync(smallDb)) {
    const lib = openLibrary(smallDb);
    insertRows(lib, rows);
    const bigSize = Number(execFileSync("stat", ["-c", "%s", bigFile]).toString());
    const noiseSize = Number(execFileSync("stat", ["-c", "%s", noise]).toString());
    const common = { root: big, format: "flac", artist: "Bench", album: "Big", year: 2000, genre: "Noise" };
    insertRows(lib, [
      { ...common, path: bigFile, ino: 1e7, size: bigSize, title: "Random", track: 1 },
      { ...common, path: noise, ino: 1e7 + 1, size: noiseSize, title: "Noise", track: 2, label: "Bench Records", source: "provider" },
    ]);
    lib.close();
  }
  const largeDb = join(benchDir, `library-${LARGE}-v2.db`);
  if (!existsSync(largeDb)) {
    log(`making a ${LARGE}-row database`);
    const lib = openLibrary(largeDb);
    insertRows(lib, libraryRows("/nonexistent/music", LARGE, true));
    lib.close();
  }
  return { tree, bigFile, noise, smallDb, largeDb };
}

// ---- run ---------------------------------------------------------------------------------------------
const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), loadavg: loadavg() },
  node: process.version,
};
try {
  const f = await prepare();
  const canDrop = dropCaches();
  if (!canDrop) log("WARNING: cannot drop the page cache: cold reads are skipped");
  results.coldReads = canDrop;

  log("musicfs: mount 20,000 files");
  const mfsMnt = join(benchDir, "mnt-musicfs");
  let mfs = await startMusicfs(f.smallDb, mfsMnt);
  results.mount20k = { wallMs: mfs.wallMs, treeMs: mfs.treeMs, mountMs: mfs.mountMs, rssMiBAtReady: rssMiB(mfs.child.pid) };
  log("bindfs: mount");
  const bindMnt = join(benchDir, "mnt-bindfs");
  const bindStart = performance.now();
  const bind = await startBindfs(benchDir, bindMnt);
  results.bindfsMountMs = performance.now() - bindStart;

  log("find + stat");
  results.findStat = {
    direct: await findStat(f.tree),
    bindfs: await findStat(join(bindMnt, `tree-${SMALL}`)),
    musicfsFiles: await findStat(join(mfsMnt, "Files", `tree-${SMALL}`)),
    musicfsArtists: await findStat(join(mfsMnt, "Artists")),
  };
  results.findStat.musicfsFullWalk = await findStat(mfsMnt);
  results.mount20k.rssMiBAfterWalk = rssMiB(mfs.child.pid);

  log("sequential reads");
  const served = (root, file) => join(root, "Files", "big", file.split("/").pop());
  const viaBind = (file) => join(bindMnt, "big", file.split("/").pop());
  results.sequential = {};
  const readers = [
    ["direct", f.bigFile],
    ["bindfs", viaBind(f.bigFile)],
    ["musicfs", served(mfsMnt, f.bigFile)],
  ];
  // Cold reads on a VM vary a lot from one run to the next (the host caches the virtual disk): the three
  // take turns COLD_ROUNDS times and the median is reported.
  const coldRuns = Object.fromEntries(readers.map(([name]) => [name, []]));
  for (let round = 0; round < COLD_ROUNDS; round++) {
    for (const [name, path] of readers) {
      const run = await sequentialRead(path, true);
      if (run) coldRuns[name].push(run);
    }
  }
  for (const [name, path] of readers) {
    await sequentialRead(path, false); // fills the page cache; the second warm read is the one reported
    const runs = coldRuns[name].sort((a, b) => a.mibPerSecond - b.mibPerSecond);
    const cold = runs.length ? { ...runs[Math.floor(runs.length / 2)], runsMiBPerSecond: runs.map((r) => r.mibPerSecond) } : null;
    results.sequential[name] = { cold, warm: await sequentialRead(path, false) };
  }
  const direct = await sequentialRead(f.noise, false);
  await sequentialRead(served(mfsMnt, f.noise), false);
  results.overlayRead = { direct, musicfsOverlay: await sequentialRead(served(mfsMnt, f.noise), false) };

  log("random 4 KiB reads");
  results.random4k = {
    direct: await randomReads(f.bigFile),
    bindfs: await randomReads(viaBind(f.bigFile)),
    musicfs: await randomReads(served(mfsMnt, f.bigFile)),
  };
  await bind.stop();
  await mfs.stop();

  // Start-up times on this VM vary by +-15% from one run to the next: mount MOUNT_ROUNDS times and report
  // the median (and the range); the last mount is walked.
  log(`musicfs: mount ${LARGE} synthetic files x ${MOUNT_ROUNDS}`);
  const rounds = [];
  for (let i = 0; i < MOUNT_ROUNDS; i++) {
    mfs = await startMusicfs(f.largeDb, mfsMnt);
    rounds.push({ wallMs: mfs.wallMs, treeMs: mfs.treeMs, mountMs: mfs.mountMs, rssMiBAtReady: rssMiB(mfs.child.pid) });
    if (i < MOUNT_ROUNDS - 1) await mfs.stop();
  }
  const mid = (key) => median(rounds.map((r) => r[key]));
  results.mountLarge = {
    files: LARGE,
    rounds,
    wallMs: mid("wallMs"),
    wallMsRange: [Math.min(...rounds.map((r) => r.wallMs)), Math.max(...rounds.map((r) => r.wallMs))],
    treeMs: mid("treeMs"),
    mountMs: mid("mountMs"),
    rssMiBAtReady: mid("rssMiBAtReady"),
  };
  results.mountLarge.walk = await findStat(mfsMnt);
  results.mountLarge.rssMiBAfterWalk = rssMiB(mfs.child.pid);
  await mfs.stop();
} finally {
  await cleanup();
}

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);

const n = (x, d = 0) => (x === undefined || x === null ? "-" : Number(x).toFixed(d));
const fs = results.findStat;
const seq = results.sequential;
const rows = [
  [
    "mount ready, 20,000 files (CLI start to 'mounted' / tree build)",
    `${n(results.mount20k.wallMs)} ms / ${n(results.mount20k.treeMs)} ms`,
  ],
  ["bindfs mount", `${n(results.bindfsMountMs)} ms`],
  ["find+stat 20,000 files: direct", `${n(fs.direct.filesPerSecond)} files/s`],
  ["find+stat 20,000 files: bindfs", `${n(fs.bindfs.filesPerSecond)} files/s`],
  [
    "find+stat 20,000 files: musicfs Files/",
    `${n(fs.musicfsFiles.filesPerSecond)} files/s (${n((100 * fs.musicfsFiles.filesPerSecond) / fs.bindfs.filesPerSecond)}% of bindfs)`,
  ],
  [
    "find+stat 20,000 files: musicfs Artists/",
    `${n(fs.musicfsArtists.filesPerSecond)} files/s (${n((100 * fs.musicfsArtists.filesPerSecond) / fs.bindfs.filesPerSecond)}% of bindfs)`,
  ],
  ["find+stat whole mount (all views)", `${fs.musicfsFullWalk.files} files in ${n(fs.musicfsFullWalk.seconds, 2)} s`],
  ["RSS after full walk, 20,000 files", `${n(results.mount20k.rssMiBAfterWalk)} MiB`],
];
for (const mode of ["cold", "warm"]) {
  const d = seq.direct[mode]?.mibPerSecond;
  const b = seq.bindfs[mode]?.mibPerSecond;
  const m = seq.musicfs[mode]?.mibPerSecond;
  rows.push([
    `sequential read ${BIG_MIB} MiB, ${mode}${mode === "cold" ? ` (median of ${COLD_ROUNDS})` : ""}: direct / bindfs / musicfs`,
    `${n(d)} / ${n(b)} / ${n(m)} MiB/s (${b ? n((100 * m) / b) : "-"}% of bindfs)`,
  ]);
}
rows.push([
  "overlaid FLAC read, warm: direct / musicfs",
  `${n(results.overlayRead.direct.mibPerSecond)} / ${n(results.overlayRead.musicfsOverlay.mibPerSecond)} MiB/s`,
]);
rows.push([
  "random 4 KiB reads: direct / bindfs / musicfs",
  `${n(results.random4k.direct)} / ${n(results.random4k.bindfs)} / ${n(results.random4k.musicfs)} reads/s`,
]);
const L = results.mountLarge;
rows.push([
  `mount ready, ${LARGE} files (CLI start to 'mounted' / tree build), median of ${L.rounds.length}`,
  `${n(L.wallMs)} ms / ${n(L.treeMs)} ms (range ${n(L.wallMsRange[0])}-${n(L.wallMsRange[1])} ms)`,
]);
rows.push([
  `RSS at ${LARGE} files: ready / after full walk`,
  `${n(L.rssMiBAtReady)} / ${n(L.rssMiBAfterWalk)} MiB (walk: ${L.walk.files} files, ${n(L.walk.filesPerSecond)} files/s)`,
]);
const width = Math.max(...rows.map((r) => r[0].length));
console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n"));
console.log(`\nresults: ${outFile}`);
