import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMusicfsError, loadConfig, parseConfig, renderExampleConfig, resolveConfigPath, resolveDbPath } from "@musicfs/core";
import { parse } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..", "..");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

describe("config", () => {
  it("has the design's [metadata_provider] defaults", () => {
    expect(parseConfig({}).metadata_provider).toMatchObject({
      enabled: false,
      endpoint: "http://localhost:50051",
      timeout_ms: 5000,
      retry_max: 3,
      retry_backoff_ms: 1000,
      queue_size: 256,
    });
  });

  it("keeps config.example.toml in sync with the schema", () => {
    expect(readFileSync(join(repo, "config.example.toml"), "utf8")).toBe(renderExampleConfig());
    // and the example is itself a valid config equal to the defaults
    expect(parseConfig(parse(renderExampleConfig()))).toEqual(parseConfig({}));
  });

  it("names the file, key and expected value of a wrong type", async () => {
    const file = join(dir, "wrong-type.toml");
    await writeFile(file, "[metadata_provider]\ntimeout_ms = \"5s\"\n");
    const err = errorOf(() => loadConfig(file));
    expect(isMusicfsError(err, "CONFIG_INVALID")).toBe(true);
    expect(err.message).toBe(`${file}: metadata_provider.timeout_ms: Invalid input: expected number, received string; got "5s"`);
  });

  it("rejects unknown keys and sections", async () => {
    const file = join(dir, "unknown.toml");
    await writeFile(file, "[library]\nrootz = []\n[mount]\npath_template = \"{title}\"\n");
    expect(errorOf(() => loadConfig(file)).message).toContain('unknown key [library] "rootz"');
  });

  it("rejects out-of-range values with the allowed range", async () => {
    const file = join(dir, "range.toml");
    await writeFile(file, "[metadata_provider]\nqueue_size = 0\nendpoint = \"ftp://x\"\n");
    const message = errorOf(() => loadConfig(file)).message;
    expect(message).toContain("metadata_provider.queue_size: Too small: expected number to be >=1; got 0");
    expect(message).toContain("metadata_provider.endpoint");
  });

  it("reports TOML syntax errors with the line", async () => {
    const file = join(dir, "syntax.toml");
    await writeFile(file, "[library]\nroots = [\n");
    expect(errorOf(() => loadConfig(file)).message).toMatch(/syntax\.toml: not valid TOML \(line \d+/);
  });

  it("treats a missing default config as defaults but a missing explicit one as an error", () => {
    expect(loadConfig(join(dir, "absent.toml")).path).toBeUndefined();
    expect(isMusicfsError(errorOf(() => loadConfig(join(dir, "absent.toml"), { explicit: true })), "CONFIG_INVALID")).toBe(true);
  });

  it("resolves config and database paths from flags, environment and XDG", () => {
    const env = { HOME: "/home/u", XDG_CONFIG_HOME: "/cfg", XDG_DATA_HOME: "/data" };
    expect(resolveConfigPath(undefined, env)).toBe("/cfg/musicfs/config.toml");
    expect(resolveConfigPath(undefined, { ...env, MUSICFS_CONFIG: "/x.toml" })).toBe("/x.toml");
    expect(resolveConfigPath("/flag.toml", { ...env, MUSICFS_CONFIG: "/x.toml" })).toBe("/flag.toml");
    expect(resolveDbPath(undefined, undefined, env)).toBe("/data/musicfs/library.db");
    expect(resolveDbPath(undefined, undefined, { HOME: "/home/u" })).toBe("/home/u/.local/share/musicfs/library.db");
    expect(resolveDbPath(undefined, "/conf.db", { ...env, MUSICFS_DB: "/env.db" })).toBe("/env.db");
    expect(resolveDbPath("/flag.db", "/conf.db", env)).toBe("/flag.db");
  });

  it("expands ~ in configured paths", () => {
    const home = process.env.HOME;
    expect(parseConfig({ library: { roots: ["~/Music"] } }).library.roots).toEqual([join(home ?? "", "Music")]);
  });
});
