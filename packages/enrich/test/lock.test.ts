import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("run lock", () => {
  it("refuses a second holder with ALREADY_RUNNING and is free again once released", () => {
    const path = join(dir, "library.db.enrich.lock");
    const first = acquireRunLock(path);
    expect(() => acquireRunLock(path)).toThrow(expect.objectContaining({ code: "ALREADY_RUNNING" }));
    first.release();
    acquireRunLock(path).release();
  });

  it("is released by the operating system when the holder is killed", async () => {
    const path = join(dir, "library.db.enrich.lock");
    const script = `const D = require("better-sqlite3"); const d = new D(${JSON.stringify(path)}); d.exec("BEGIN EXCLUSIVE"); console.log("held"); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["-e", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve) => child.stdout.on("data", () => resolve()));
      expect(() => acquireRunLock(path)).toThrow(expect.objectContaining({ code: "ALREADY_RUNNING" }));
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      acquireRunLock(path).release();
    } finally {
      child.kill("SIGKILL");
    }
  });
});
