#!/usr/bin/env node
// Scan benchmark: musicfs first scan and unchanged re-scan against beets, mutagen and a raw-read floor,
// on the same generated tree, cold (page cache dropped) and warm. See bench/README.md.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CORPUS_VERSION, ensureTemplates, ensureTree } from "./corpus.mjs";

const USAGE = `usage: node bench/scan/run.mjs [--sizes 2000,20000] [--out FILE] [--dir DIR] [--threads N]
                              [--skip-beets-over N] [--beets-timeout MINUTES] [--repeat-cold N]
  --sizes            files per corpus, comma-separated (default 2000,20000)
  --out              JSON results (default bench/results/scan-<timestamp>.json)
  --dir              corpus cache (default $MUSICFS_BENCH_DIR or /tmp/musicfs-bench)
  --threads          passed to \`musicfs scan --threads\` (default: the scanner's own default)
  --skip-beets-over  do not run beets on corpora larger than N files
  --beets-timeout    kill a beets run after this many minutes and report its partial rate (default 15)
  --repeat-cold      repeat each cold measurement N times (default 1); the table shows every run`;

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "2000,20000" },
    out: { type: "string" },
    dir: { type: "string" },
    threads: { type: "string" },
    "skip-beets-over": { type: "string" },
    "beets-timeout": { type: "string", default: "15" },
    "repeat-cold": { type: "string", default: "1" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const positiveInt = (name, text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive integer, got ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const sizes = values.sizes.split(",").map((s) => positiveInt("sizes", s.trim()));
const skipBeetsOver = values["skip-beets-over"] === undefined ? Infinity : positiveInt("skip-beets-over", values["skip-beets-over"]);
const beetsTimeoutMinutes = Number(values["beets-timeout"]);
if (!(beetsTimeoutMinutes > 0)) {
  console.error(`--beets-timeout must be a positive number of minutes, got ${values["beets-timeout"]}\n${USAGE}`);
  process.exit(2);
}
const beetsTimeoutMs = beetsTimeoutMinutes * 60_000;
const repeatCold = positiveInt("repeat-cold", values["repeat-cold"]);
const threads = values.threads === undefined ? undefined : String(positiveInt("threads", values.threads));

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the bench is run with node, not as a turbo task
const benchDir = resolve(values.dir ?? process.env.MUSICFS_BENCH_DIR ?? "/tmp/musicfs-bench");
const outFile = resolve(values.out ?? join(repo, "bench/results", `scan-${new Date().toISOString().replace(/[:.]/g, "-")}.json`));
const musicfsBin = join(repo, "apps/cli/bin/run.js");
const SYSTEM_PYTHON = "/usr/bin/python3"; // Debian's python3-mutagen and beets live here, not in a pyenv python
const TIME = "/usr/bin/time";

const log = (msg) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- environment -------------------------------------------------------------------------------------
if (!existsSync(join(repo, "apps/cli/dist/commands/scan.js"))) {
  console.error("apps/cli is not built: run `npx tsc -b packages/scan apps/cli` first");
  process.exit(2);
}
const haveTime = existsSync(TIME);
const haveBeets = commandOutput("beet", ["version"]) !== undefined;
const canDropCaches = process.getuid?.() === 0 && dropCaches();
if (!canDropCaches) log("WARNING: cannot drop the page cache (needs root): cold columns are skipped, results are warm only");
if (!haveTime) log(`WARNING: ${TIME} not found: peak RSS is not measured`);
if (!haveBeets) log("WARNING: `beet` not on PATH (apt install beets): beets is skipped");

const environment = {
  date: new Date().toISOString(),
  nproc: availableParallelism(),
  cpu: cpus()[0]?.model ?? "unknown",
  kernel: release(),
  node: process.version,
  gitCommit: commandOutput("git", ["-C", repo, "rev-parse", "--short", "HEAD"]),
  beets: commandOutput("beet", ["version"])?.split("\n")[0],
  mutagen: commandOutput(SYSTEM_PYTHON, ["-c", "import mutagen; print(mutagen.version_string)"]),
  coldCache: canDropCaches ? "dropped before each cold run (sync; echo 3 > /proc/sys/vm/drop_caches)" : "warm only",
  musicfsFlags: threads ? ["--threads", threads] : [],
  loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
};
log(`nproc ${environment.nproc}, kernel ${environment.kernel}, node ${environment.node}, ${environment.cpu}`);

// ---- measurement -------------------------------------------------------------------------------------
function commandOutput(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function dropCaches() {
  try {
    execFileSync("sync");
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one tool to completion, alone, and returns its wall time (spawn to exit, so interpreter start-up
 * counts for every tool alike) and peak RSS (`/usr/bin/time -f %M`: ru_maxrss of the process, which
 * covers worker threads since they share it).
 */
function measure(cmd, args, { env, timeoutMs } = {}) {
  const rssFile = join(tmpdir(), `musicfs-bench-rss-${process.pid}`);
  const [file, argv] = haveTime ? [TIME, ["-f", "%M", "-o", rssFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    // Own process group, so a timeout kills the tool and not just /usr/bin/time.
    const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            log(`  timeout after ${timeoutMs / 60_000} min: killing ${cmd} (pid ${child.pid})`);
            process.kill(-child.pid, "SIGTERM");
            setTimeout(() => child.exitCode === null && process.kill(-child.pid, "SIGKILL"), 5000).unref();
          }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (timer) clearTimeout(timer);
      let rssMb = null;
      if (haveTime && existsSync(rssFile)) {
        const kb = Number.parseInt(readFileSync(rssFile, "utf8").trim().split("\n").at(-1) ?? "", 10);
        if (Number.isFinite(kb)) rssMb = Math.round(kb / 1024);
        rmSync(rssFile, { force: true });
      }
      resolvePromise({ code, seconds, rssMb, stdout, stderr, timedOut });
    });
  });
}

function failed(tool, r) {
  return new Error(`${tool} exited ${r.code}: ${r.stderr.slice(-1500)}`);
}

const rate = (files, seconds) => (seconds > 0 ? Math.round(files / seconds) : null);

// Each tool: prepare(state) for per-run state (fresh DB, fresh beets library), run, check what it did.
function musicfsScan(root, dbFile, configHome) {
  return measure("node", [musicfsBin, "scan", root, "--db", dbFile, "--json", "--quiet", ...environment.musicfsFlags], {
    // An empty XDG_CONFIG_HOME keeps any user config out: the scanner runs with its defaults.
    env: { XDG_CONFIG_HOME: configHome, MUSICFS_CONFIG: undefined, MUSICFS_DB: undefined },
  });
}

function musicfsResult(r, n, expect) {
  if (r.code !== 0) throw failed("musicfs scan", r);
  const summary = JSON.parse(r.stdout);
  if (summary[expect] !== n || summary.errors !== 0) {
    log(`  WARNING: musicfs scan ${expect}=${summary[expect]} errors=${summary.errors}, expected ${expect}=${n}`);
  }
  return {
    seconds: r.seconds,
    filesPerSec: rate(n, r.seconds),
    rssMb: r.rssMb,
    scanSeconds: summary.seconds,
    scanFilesPerSec: rate(n, summary.seconds),
    summary: {
      seen: summary.seen,
      added: summary.added,
      unchanged: summary.unchanged,
      errors: summary.errors,
      bytesRead: summary.bytesRead,
    },
  };
}

function writeBeetsConfig(dir) {
  const config = join(dir, "config.yaml");
  // Import in place with no autotagger, no plugins and no file writes: the cost measured is walk + read tags + DB.
  writeFileSync(
    config,
    [
      `directory: ${JSON.stringify(join(dir, "music"))}`,
      `library: ${JSON.stringify(join(dir, "library.db"))}`,
      `statefile: ${JSON.stringify(join(dir, "state.pickle"))}`,
      "plugins: []",
      "import:",
      "  copy: no",
      "  move: no",
      "  write: no",
      "  quiet: yes",
      "  resume: no",
      "  incremental: no",
      "  log: null",
      "ui:",
      "  color: no",
      "",
    ].join("\n"),
  );
  return config;
}

async function beetsImport(root, workDir, n) {
  const dir = mkdtempSync(join(workDir, "beets-"));
  const config = writeBeetsConfig(dir);
  const r = await measure("beet", ["-c", config, "import", "-A", "-q", "-C", "-W", root], {
    env: { BEETSDIR: dir },
    timeoutMs: beetsTimeoutMs,
  });
  if (r.code !== 0 && !r.timedOut) throw failed("beet import", r);
  const items = Number(
    commandOutput(SYSTEM_PYTHON, [
      "-c",
      "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from items').fetchone()[0])",
      join(dir, "library.db"),
    ]) ?? 0,
  );
  if (!r.timedOut && items !== n) log(`  WARNING: beets imported ${items} items, expected ${n}`);
  rmSync(dir, { recursive: true, force: true });
  // A killed run reports the rate of what it had committed by then.
  return { seconds: r.seconds, filesPerSec: rate(items, r.seconds), rssMb: r.rssMb, items, partial: r.timedOut };
}

async function mutagenRead(root, n) {
  const r = await measure(SYSTEM_PYTHON, [join(repo, "bench/scan/mutagen_read.py"), root]);
  if (r.code !== 0) throw failed("mutagen", r);
  const out = JSON.parse(r.stdout);
  if (out.files !== n || out.errors !== 0) log(`  WARNING: mutagen read ${out.files} files, ${out.errors} errors, expected ${n}`);
  return { seconds: r.seconds, filesPerSec: rate(n, r.seconds), rssMb: r.rssMb, ...out };
}

async function ioFloor(root, n) {
  const r = await measure("node", [join(repo, "bench/scan/io_floor.mjs"), root]);
  if (r.code !== 0) throw failed("io floor", r);
  const out = JSON.parse(r.stdout);
  if (out.files !== n) log(`  WARNING: io floor read ${out.files} files, expected ${n}`);
  return { seconds: r.seconds, filesPerSec: rate(n, r.seconds), rssMb: r.rssMb, ...out };
}

/** Cold runs (cache dropped before each), then one warm run right after, which the cold run has warmed. */
async function coldThenWarm(name, runOnce) {
  const cold = [];
  if (canDropCaches) {
    for (let i = 0; i < repeatCold; i++) {
      dropCaches();
      const r = await runOnce("cold");
      log(`  ${name} cold: ${r.seconds.toFixed(2)} s, ${r.filesPerSec} files/s${r.partial ? " (partial, killed)" : ""}`);
      cold.push(r);
    }
  } else {
    await runOnce("warm-up");
  }
  const warm = await runOnce("warm");
  log(`  ${name} warm: ${warm.seconds.toFixed(2)} s, ${warm.filesPerSec} files/s${warm.partial ? " (partial, killed)" : ""}`);
  return { cold, warm };
}

// ---- run ---------------------------------------------------------------------------------------------
const templates = await ensureTemplates(join(benchDir, `templates-v${CORPUS_VERSION}`), log);
const results = [];
for (const n of sizes) {
  const corpus = await ensureTree(join(benchDir, String(n)), n, templates, log);
  if (corpus.reused) log(`reusing ${n}-file corpus under ${corpus.root}`);
  const workDir = mkdtempSync(join(tmpdir(), "musicfs-bench-run-"));
  const configHome = join(workDir, "config");
  mkdirSync(configHome);
  try {
    const tools = {};
    log(`size ${n}: musicfs first scan (fresh database each run)`);
    let firstDb = "";
    let runNo = 0;
    tools.musicfsFirst = await coldThenWarm("musicfs first scan", async () => {
      const db = join(workDir, `first-${runNo++}.db`);
      firstDb ||= db;
      return musicfsResult(await musicfsScan(corpus.root, db, configHome), n, "added");
    });
    log(`size ${n}: musicfs unchanged re-scan (database of the first cold scan)`);
    tools.musicfsRescan = await coldThenWarm("musicfs re-scan", async () =>
      musicfsResult(await musicfsScan(corpus.root, firstDb, configHome), n, "unchanged"),
    );
    if (haveBeets && n <= skipBeetsOver) {
      log(`size ${n}: beet import -A -q (throwaway library each run)`);
      tools.beets = await coldThenWarm("beets", () => beetsImport(corpus.root, workDir, n));
    } else if (haveBeets) {
      log(`size ${n}: beets skipped (--skip-beets-over ${skipBeetsOver})`);
    }
    log(`size ${n}: mutagen, one process`);
    tools.mutagen = await coldThenWarm("mutagen", () => mutagenRead(corpus.root, n));
    log(`size ${n}: I/O floor, first 128 KiB of every file`);
    tools.ioFloor = await coldThenWarm("io floor", () => ioFloor(corpus.root, n));
    results.push({ size: n, corpus: { root: corpus.root, bytes: corpus.bytes, byFormat: corpus.byFormat }, tools });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
environment.loadavgAtEnd = loadavg().map((l) => Number(l.toFixed(2)));

// ---- report ------------------------------------------------------------------------------------------
const LABELS = {
  musicfsFirst: "musicfs first scan",
  musicfsRescan: "musicfs re-scan",
  beets: "beet import -A",
  mutagen: "mutagen (python)",
  ioFloor: "I/O floor (node)",
};
const fmt = (v, width, digits = 0) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits)).padStart(width);
const lines = [];
lines.push(`scan benchmark — nproc ${environment.nproc}, kernel ${environment.kernel}, node ${environment.node}, ${environment.cpu}`);
lines.push(`cache: ${environment.coldCache}; load avg ${environment.loadavgAtStart.join(" ")} -> ${environment.loadavgAtEnd.join(" ")}`);
lines.push("");
lines.push(
  `${"tool".padEnd(22)} ${"size".padStart(6)} ${"cold f/s".padStart(9)} ${"warm f/s".padStart(9)} ${"cold s".padStart(7)} ${"warm s".padStart(7)} ${"RSS MB".padStart(7)}`,
);
for (const { size, tools } of results) {
  for (const [key, t] of Object.entries(tools)) {
    const runs = t.cold.length > 0 ? t.cold : [undefined];
    runs.forEach((c, i) => {
      const label = `${LABELS[key]}${runs.length > 1 ? ` #${i + 1}` : ""}${c?.partial || t.warm.partial ? "*" : ""}`;
      const rss = Math.max(c?.rssMb ?? 0, t.warm.rssMb ?? 0) || null;
      lines.push(
        `${label.padEnd(22)} ${String(size).padStart(6)} ${fmt(c?.filesPerSec, 9)} ${fmt(i === 0 ? t.warm.filesPerSec : null, 9)} ${fmt(c?.seconds, 7, 2)} ${fmt(i === 0 ? t.warm.seconds : null, 7, 2)} ${fmt(rss, 7)}`,
      );
    });
  }
}
lines.push("");
lines.push("ratios of musicfs first-scan files/s (cold / warm; cold uses the first cold run):");
lines.push(
  `${"size".padStart(6)} ${"vs beets".padStart(13)} ${"vs mutagen".padStart(13)} ${"of I/O floor".padStart(13)} ${"re-scan % of first".padStart(19)} ${"RSS MB".padStart(7)}`,
);
const ratio = (a, b, digits = 1) => (a && b ? (a / b).toFixed(digits) : "-");
const pair = (key, tools, digits = 1) => {
  const m = tools.musicfsFirst;
  const t = tools[key];
  if (!t) return "-";
  return `${ratio(m.cold[0]?.filesPerSec, t.cold[0]?.filesPerSec, digits)} / ${ratio(m.warm.filesPerSec, t.warm.filesPerSec, digits)}`;
};
for (const { size, tools } of results) {
  const first = tools.musicfsFirst;
  const re = tools.musicfsRescan;
  const pct = (a, b) => (a && b ? ((100 * a) / b).toFixed(0) : "-");
  const rescan = `${pct(re.cold[0]?.seconds, first.cold[0]?.seconds)} / ${pct(re.warm.seconds, first.warm.seconds)}`;
  const rss = Math.max(first.warm.rssMb ?? 0, ...first.cold.map((c) => c.rssMb ?? 0)) || null;
  lines.push(
    `${String(size).padStart(6)} ${pair("beets", tools).padStart(13)} ${pair("mutagen", tools).padStart(13)} ${pair("ioFloor", tools, 2).padStart(13)} ${rescan.padStart(19)} ${fmt(rss, 7)}`,
  );
}
lines.push("");
lines.push("wall time from spawn to exit for every tool (interpreter start-up included); musicfs's own scan time:");
for (const { size, tools } of results) {
  const f = tools.musicfsFirst;
  const r = tools.musicfsRescan;
  lines.push(
    `  ${size}: first scan ${f.cold.map((c) => `${c.scanSeconds} s`).join(", ") || "-"} cold, ${f.warm.scanSeconds} s warm (${f.warm.scanFilesPerSec} files/s); re-scan ${r.cold.map((c) => `${c.scanSeconds} s`).join(", ") || "-"} cold, ${r.warm.scanSeconds} s warm`,
  );
}
if (results.some(({ tools }) => tools.beets && [...tools.beets.cold, tools.beets.warm].some((b) => b.partial))) {
  lines.push("* killed at --beets-timeout; rate from the items it had imported");
}
const report = lines.join("\n");
process.stdout.write(`${report}\n`);

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify({ environment, options: { sizes, repeatCold, skipBeetsOver: Number.isFinite(skipBeetsOver) ? skipBeetsOver : null, beetsTimeoutMinutes: beetsTimeoutMs / 60_000 }, results, report }, null, 2)}\n`,
);
log(`results written to ${outFile}`);
