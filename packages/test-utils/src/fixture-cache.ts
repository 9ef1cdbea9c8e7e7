import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MusicfsError } from "@musicfs/core";
import { generateFixtureLibrary } from "./fixture-library.js";
import { FIXTURE_LIBRARY_VERSION, type FixtureManifest } from "./fixture-manifest.js";
import { runToolChecked } from "./run-tool.js";

/** The monorepo root: the nearest ancestor of this module whose package.json declares workspaces. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && "workspaces" in (JSON.parse(readFileSync(pkg, "utf8")) as object)) return dir;
    if (dirname(dir) === dir) throw new MusicfsError("NOT_FOUND", `no workspace root above ${from}`);
  }
}

export function defaultFixtureCacheDir(): string {
  return join(findRepoRoot(), ".fixtures", `library-v${FIXTURE_LIBRARY_VERSION}`);
}

export interface FixtureLibrary {
  /** The library root to scan; treat it as read-only (copy it with copyFixtureLibrary to mutate). */
  root: string;
  manifest: FixtureManifest;
}

const MANIFEST_FILE = "manifest.json";

async function readStamp(cacheDir: string): Promise<FixtureManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(cacheDir, MANIFEST_FILE), "utf8")) as FixtureManifest;
    return manifest.version === FIXTURE_LIBRARY_VERSION ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns the cached fixture library, generating it first if missing or incomplete. Layout: `<cacheDir>/library/`
 * (the root) and `<cacheDir>/manifest.json` (the stamp, written last). Generation happens in a temp sibling that is
 * renamed into place, so concurrent callers (vitest workers) never see a half-written library.
 */
export async function ensureFixtureLibrary(cacheDir: string = defaultFixtureCacheDir()): Promise<FixtureLibrary> {
  const existing = await readStamp(cacheDir);
  if (existing) return { root: join(cacheDir, "library"), manifest: existing };

  await mkdir(dirname(cacheDir), { recursive: true });
  const temp = join(dirname(cacheDir), `.${basename(cacheDir)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const manifest = await generateFixtureLibrary(join(temp, "library"));
    await writeFile(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // No stamp means a crashed or older generation: replace it. A stamped one may have just landed from another worker.
    if (existsSync(cacheDir) && !(await readStamp(cacheDir))) await rm(cacheDir, { recursive: true, force: true });
    try {
      await rename(temp, cacheDir);
    } catch (err) {
      const raced = await readStamp(cacheDir);
      if (!raced) throw err;
      return { root: join(cacheDir, "library"), manifest: raced };
    }
    return { root: join(cacheDir, "library"), manifest };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Copies a fixture library for a test that modifies it, keeping symlinks, FIFOs, device nodes, modes and mtimes.
 * Uses `cp -a` because fs.cp rejects FIFOs and device nodes and cannot name non-UTF-8 entries.
 */
export async function copyFixtureLibrary(root: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await runToolChecked("cp", ["-a", `${root}/.`, dest], { timeoutMs: 60_000 });
}
