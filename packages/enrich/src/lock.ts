import { MusicfsError } from "@musicfs/core";
import Database from "better-sqlite3";

export interface RunLock {
  path: string;
  release(): void;
}

/** The lock file of enrichment runs on a library database: next to it, one per database. */
export function enrichLockPath(dbPath: string): string {
  return `${dbPath}.enrich.lock`;
}

/**
 * An exclusive, process-wide lock: an exclusive transaction held open on a small SQLite file. The
 * operating system drops the underlying file lock when the holder exits, even on kill -9, so a crashed
 * holder never leaves a stale lock behind (unlike a pid file). Throws ALREADY_RUNNING when held.
 */
export function acquireRunLock(path: string, what = "musicfs enrich"): RunLock {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (cause) {
    throw new MusicfsError("IO_ERROR", `cannot open lock file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    db.pragma("busy_timeout = 0");
    db.pragma("journal_mode = DELETE");
    db.exec("BEGIN EXCLUSIVE");
  } catch (cause) {
    db.close();
    const code = (cause as { code?: string }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw new MusicfsError(
        "ALREADY_RUNNING",
        `another ${what} is already running on this library (lock ${path}); not starting a second one`,
        {
          cause,
        },
      );
    }
    throw new MusicfsError("IO_ERROR", `cannot take lock ${path}: ${(cause as Error).message}`, { cause });
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec("ROLLBACK");
      } finally {
        db.close();
      }
    },
  };
}
