import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { albumKey, normalizeName, openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..", "..");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-db-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("library database", () => {
  it("has no schema change missing from the committed migrations", async () => {
    // drizzle-kit generates into a copy of drizzle/: if the schema drifted it writes a new migration.
    const out = join(dir, "drizzle");
    await cp(join(repo, "drizzle"), out, { recursive: true });
    const config = join(dir, "drizzle.config.json");
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(config, JSON.stringify({ dialect: "sqlite", schema: "packages/db/src/schema.ts", out: relative(repo, out) })),
    );
    const before = await readdir(out);
    const { stdout, stderr } = await promisify(execFile)(join(repo, "node_modules/.bin/drizzle-kit"), ["generate", "--config", config], {
      cwd: repo,
    });
    expect(stdout + stderr).toContain("No schema changes");
    expect(await readdir(out)).toEqual(before);
  }, 60_000);

  it("opens with WAL, foreign keys and a busy timeout, and applies the migrations", () => {
    const lib = openLibrary(join(dir, "a.db"));
    try {
      expect(lib.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(lib.sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
      expect(lib.sqlite.pragma("busy_timeout", { simple: true })).toBe(10000);
      const tables = (
        lib.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
      ).map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining(["files", "file_metadata", "albums", "provider_albums", "album_candidates", "scan_errors", "scans"]),
      );
      const columns = (lib.sqlite.prepare("PRAGMA table_info(file_metadata)").all() as { name: string }[]).map((c) => c.name);
      expect(columns).toEqual(
        expect.arrayContaining([
          "genre",
          "genres_json",
          "enrichment_source",
          "enriched_at",
          "enrichment_attempts",
          "last_enrichment_error",
          "label",
          "album_type",
          "cover_url",
          "release_date",
          "total_tracks",
          "total_discs",
        ]),
      );
    } finally {
      lib.close();
    }
  });

  it("re-opens an existing database without re-applying migrations", async () => {
    openLibrary(join(dir, "b.db")).close();
    const lib = openLibrary(join(dir, "b.db"));
    const migrations = (await readdir(join(repo, "drizzle"))).filter((f) => f.endsWith(".sql")).length;
    expect(lib.sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get()).toEqual({ n: migrations });
    lib.close();
    expect(await readFile(join(dir, "b.db"))).toBeTruthy();
  });
});

describe("albumKey", () => {
  it("folds case, diacritics and punctuation", () => {
    expect(normalizeName("  Beyoncé — LEMONADE! ")).toBe("beyonce lemonade");
    expect(albumKey({ artist: "Sigur Rós", album: "( )" })).toBe(null);
    expect(albumKey({ artist: "Sigur Rós", album: "Ágætis byrjun" })).toBe("sigur ros\u001fagaetis byrjun");
  });

  it("prefers the album artist and groups compilations", () => {
    expect(albumKey({ artist: "X feat. Y", albumartist: "X", album: "A" })).toBe("x\u001fa");
    expect(albumKey({ artist: "Someone", album: "Hits", compilation: true })).toBe("various artists\u001fhits");
    expect(albumKey({ artist: undefined, album: "A" })).toBe(null);
  });
});
