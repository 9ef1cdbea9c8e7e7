import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MusicfsError } from "@musicfs/core";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./schema.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Library {
  /** Drizzle over the connection, for typed queries. */
  db: Db;
  /** The raw connection, for prepared statements on hot paths and PRAGMAs. */
  sqlite: Database.Database;
  path: string;
  close(): void;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Milliseconds to wait on a lock held by another process before failing. */
  busyTimeoutMs?: number;
  migrationsFolder?: string;
}

/**
 * drizzle/ at the repository root: the nearest one above this module, which may be packages/db/src,
 * packages/db/dist, or a command bundled into apps/cli/dist/commands.
 */
export const defaultMigrationsFolder = findMigrationsFolder(dirname(fileURLToPath(import.meta.url)));

function findMigrationsFolder(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "drizzle");
    if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
    // Not found: name the place it was expected, for the error message.
    if (dirname(dir) === dir) return join(from, "..", "..", "..", "drizzle");
  }
}

function dbError(path: string, err: unknown): MusicfsError {
  const code = (err as { code?: string }).code;
  const locked = code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
  return new MusicfsError(locked ? "DB_LOCKED" : "DB_ERROR", `library database ${path}: ${(err as Error).message}`, { cause: err });
}

function migrateWithRetry(db: Db, folder: string): void {
  // Two commands starting at once may both try to migrate; the loser retries once the winner committed.
  for (let attempt = 0; ; attempt++) {
    try {
      migrate(db, { migrationsFolder: folder });
      return;
    } catch (err) {
      const text = String((err as Error).message) + String((err as { cause?: Error }).cause?.message ?? "");
      if (attempt >= 5 || !/SQLITE_BUSY|database is locked|already exists/i.test(text)) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * (attempt + 1));
    }
  }
}

/**
 * Opens (creating if needed) the library database: WAL, busy timeout, foreign keys, and all
 * migrations in drizzle/ applied.
 */
export function openLibrary(path: string, opts: OpenOptions = {}): Library {
  let sqlite: Database.Database;
  try {
    if (!opts.readonly && path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    sqlite = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw dbError(path, err);
  }
  try {
    sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10000}`);
    if (!opts.readonly) {
      sqlite.pragma("journal_mode = WAL");
      // WAL + NORMAL: a crash can lose the last transactions but never corrupts the database.
      sqlite.pragma("synchronous = NORMAL");
    }
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("cache_size = -32000");
    const db = drizzle(sqlite, { schema });
    if (!opts.readonly) migrateWithRetry(db, opts.migrationsFolder ?? defaultMigrationsFolder);
    return { db, sqlite, path, close: () => sqlite.close() };
  } catch (err) {
    sqlite.close();
    throw dbError(path, err);
  }
}

/** SQLite's data_version: changes whenever another connection commits. Cheap to poll. */
export function dataVersion(lib: Library): number {
  return lib.sqlite.pragma("data_version", { simple: true }) as number;
}
