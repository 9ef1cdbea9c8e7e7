import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AudioLibrary, audioLibrary } from "../../../packages/rpc/test/control-helpers.js";
import { CLI, musicfs } from "./cli.js";

let t: AudioLibrary;
let cfg: string;
let port: number;
let wallTrack: string;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

const run = (args: string[]) => musicfs([...args, "--config", cfg, "--db", t.dbPath]);

/** Starts `musicfs serve` and resolves once it prints its URL. */
function startServe(): Promise<{ child: ChildProcess; url: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, "serve", "--config", cfg, "--db", t.dbPath], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", XDG_CONFIG_HOME: "/nonexistent-musicfs-test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /serving control API at (\S+)/.exec(out);
      if (m?.[1]) {
        resolve({
          child,
          url: m[1],
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`musicfs serve exited with ${code}: ${err}`)));
  });
}

beforeAll(async () => {
  t = await audioLibrary();
  t.lib.close();
  port = await freePort();
  cfg = join(t.dir, "config.toml");
  await writeFile(cfg, `[control]\nlisten = "127.0.0.1:${port}"\n`);
  wallTrack = join(t.root, "Pink Floyd", "The Wall", "01 In the Flesh.flac");
}, 60_000);
afterAll(async () => {
  await t.cleanup().catch(() => {});
});

describe("musicfs tag without a running daemon", () => {
  it("sets an album's genres and label in the database, shows them, and clears them back to the embedded tags", async () => {
    const set = await run([
      "tag",
      "set",
      "--artist",
      "Pink Floyd",
      "--album",
      "The Wall",
      "--genre",
      "Progressive Rock;Art Rock",
      "--label",
      "Harvest",
    ]);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toBe("updated 2 files in the database\n");

    const show = await run(["tag", "show", wallTrack, "--json"]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      title: "In the Flesh?",
      genre: "Progressive Rock",
      genres: ["Progressive Rock", "Art Rock"],
      label: "Harvest",
      enrichmentSource: "ENRICHMENT_SOURCE_ORCHESTRATOR",
      overriddenFields: ["genres", "label"],
    });
    const human = await run(["tag", "show", wallTrack]);
    expect(human.stdout).toContain("genres       Progressive Rock; Art Rock");
    expect(human.stdout).toContain("source       orchestrator");

    const clear = await run(["tag", "clear", "--artist", "Pink Floyd", "--album", "The Wall", "--json"]);
    expect(clear.code).toBe(0);
    expect(JSON.parse(clear.stdout)).toMatchObject({ filesCleared: 2, via: "database" });
    const after = JSON.parse((await run(["tag", "show", wallTrack, "--json"])).stdout);
    expect(after).toMatchObject({ genres: ["Rock"], enrichmentSource: "ENRICHMENT_SOURCE_EMBEDDED" });
    expect(after.label).toBeUndefined();
  });

  it("reports an unknown file and a missing target with a message", async () => {
    const missing = await run(["tag", "show", join(t.root, "nope.flac")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("no library file at");
    const noTarget = await run(["tag", "set", "--label", "X"]);
    expect(noTarget.code).toBe(2);
    const empty = await run(["tag", "set", "--file", wallTrack]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("sets no field");
  });

  it("status --json reports totals, coverage and no live figures", async () => {
    const r = await run(["status", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      files: 3,
      albums: 2,
      enrichment: { bySource: { embedded: 3, provider: 0, orchestrator: 0 }, backlogFiles: 3, backlogAlbums: 2, failingAlbums: [] },
      live: null,
    });
    expect(doc.lastScan).toMatchObject({ status: "completed", added: 3 });
  });
});

describe("musicfs tag and status with `musicfs serve` running", () => {
  it("go through the daemon, and status shows its live figures", async () => {
    const serve = await startServe();
    try {
      expect(serve.url).toBe(`http://127.0.0.1:${port}`);
      const set = await run(["tag", "set", "--file", wallTrack, "--title", "In the Flesh (live)", "--year", "1980", "--json"]);
      expect(set.stderr).toBe("");
      expect(JSON.parse(set.stdout)).toMatchObject({ filesUpdated: 1, via: "daemon", url: serve.url });
      const show = JSON.parse((await run(["tag", "show", wallTrack, "--json"])).stdout);
      expect(show).toMatchObject({ title: "In the Flesh (live)", year: 1980, overriddenFields: ["title", "year"] });

      const status = JSON.parse((await run(["status", "--json"])).stdout);
      expect(status.enrichment.bySource).toEqual({ embedded: 2, provider: 0, orchestrator: 1 });
      expect(status.live).toMatchObject({
        url: serve.url,
        providerEnabled: false,
        queue: { depth: 0, inFlight: 0 },
        counters: { lookups: 0, hits: 0, misses: 0, errors: 0, skips: 0, drops: 0 },
        backlog: { files: 2, albums: 2, etaSeconds: null },
      });
      const human = await run(["status"]);
      expect(human.stdout).toContain(`Live      ${serve.url} (enrichment disabled)`);

      const clear = await run(["tag", "clear", "--file", wallTrack]);
      expect(clear.stdout).toBe(`cleared 1 file through ${serve.url}\n`);
      expect(JSON.parse((await run(["tag", "show", wallTrack, "--json"])).stdout).title).toBe("In the Flesh?");
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it("serve refuses a non-loopback address without a token", async () => {
    const open = join(t.dir, "open.toml");
    await writeFile(open, `[control]\nlisten = "0.0.0.0:${port}"\n`);
    const r = await musicfs(["serve", "--config", open, "--db", t.dbPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[control] token");
  });
});
