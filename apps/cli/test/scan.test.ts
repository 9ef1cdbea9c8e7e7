import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLibrary, makeTemplates } from "../../../packages/scan/test/helpers.js";
import { CLI, musicfs } from "./cli.js";

let work: string;
let root: string;
let total: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "musicfs-cli-scan-"));
  const templates = await makeTemplates(join(work, "templates"));
  root = join(work, "library");
  total = (await makeLibrary(root, templates, 150, 10)).length;
  await writeFile(join(root, "broken.mp3"), "not audio");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const snapshot = (db: string) => {
  const lib = openLibrary(db);
  try {
    return lib.sqlite
      .prepare(
        "SELECT f.path_text, f.size, f.format, m.title, m.album_key FROM files f JOIN file_metadata m USING (file_id) ORDER BY f.path_text",
      )
      .all();
  } finally {
    lib.close();
  }
};

describe("musicfs scan", () => {
  it("prints a JSON summary and exits 0 despite file errors", async () => {
    const db = join(work, "json.db");
    const r = await musicfs(["scan", root, "--db", db, "--json"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ added: total, updated: 0, unchanged: 0, removed: 0, errors: 1, interrupted: false });
    expect(typeof summary.seconds).toBe("number");
    const again = JSON.parse((await musicfs(["scan", root, "--db", db, "--json"])).stdout);
    expect(again).toMatchObject({ added: 0, unchanged: total, errors: 1 });
  });

  it("exits 1 with --strict when a file could not be read", async () => {
    const r = await musicfs(["scan", root, "--db", join(work, "strict.db"), "--strict", "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });

  it("exits 2 on a missing folder, an unknown flag and an invalid config", async () => {
    expect((await musicfs(["scan", join(work, "nope"), "--db", join(work, "x.db")])).code).toBe(2);
    expect((await musicfs(["scan", root, "--bogus"])).code).toBe(2);
    const config = join(work, "bad.toml");
    await writeFile(config, '[metadata_provider]\ntimeout_ms = "soon"\n[colour]\nx = 1\n');
    const r = await musicfs(["scan", root, "--config", config, "--db", join(work, "x.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${config}: metadata_provider.timeout_ms`);
    expect(r.stderr).toContain('unknown key "colour"');
  });

  it("exits 3 when the database cannot be opened", async () => {
    const notADb = join(work, "not-a-db.db");
    await writeFile(notADb, "this is not sqlite".repeat(100));
    const r = await musicfs(["scan", root, "--db", notADb]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/library database .*not-a-db\.db/);
  });

  it("survives SIGKILL mid-scan: nothing committed is lost and the next scan finishes the job", async () => {
    const db = join(work, "killed.db");
    const child = spawn(
      process.execPath,
      [CLI, "scan", root, "--db", db, "--batch-size", "50", "--threads", "1", "--concurrency", "2", "--quiet"],
      {
        stdio: "ignore",
      },
    );
    // Wait for a few batches to commit, then kill without warning.
    let committed = 0;
    for (let i = 0; i < 500 && committed < 200; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        const lib = openLibrary(db, { readonly: true });
        committed = (lib.sqlite.prepare("SELECT count(*) AS n FROM files").get() as { n: number }).n;
        lib.close();
      } catch {
        // not created yet
      }
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect(committed).toBeGreaterThan(0);

    const lib = openLibrary(db);
    const afterKill = (lib.sqlite.prepare("SELECT count(*) AS n FROM files").get() as { n: number }).n;
    expect(lib.sqlite.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(
      lib.sqlite.prepare("SELECT count(*) AS n FROM files f LEFT JOIN file_metadata m USING (file_id) WHERE m.file_id IS NULL").get(),
    ).toEqual({ n: 0 });
    lib.close();
    expect(afterKill).toBeLessThan(total);

    const resumed = JSON.parse((await musicfs(["scan", root, "--db", db, "--json"])).stdout);
    expect(resumed).toMatchObject({ added: total - afterKill, unchanged: afterKill, removed: 0 });

    await musicfs(["scan", root, "--db", join(work, "clean.db"), "--quiet"]);
    expect(snapshot(db)).toEqual(snapshot(join(work, "clean.db")));
  });

  it("status reports files, formats and scan errors, as text and JSON", async () => {
    const db = join(work, "status.db");
    await musicfs(["scan", root, "--db", db, "--quiet"]);
    const json = JSON.parse((await musicfs(["status", "--db", db, "--json"])).stdout);
    expect(json).toMatchObject({
      files: total,
      albums: 1,
      scanErrors: { total: 1, topReasons: [{ code: "UNSUPPORTED_FORMAT", count: 1 }] },
    });
    expect(json.enrichment.bySource).toEqual({ embedded: total, provider: 0, orchestrator: 0 });
    expect(json.lastScan).toMatchObject({ status: "completed", added: total, errors: 1 });
    const text = (await musicfs(["status", "--db", db])).stdout;
    expect(text).toContain(`Files     ${total}`);
    expect(text).toContain("UNSUPPORTED_FORMAT");
  });
});
