import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { MusicfsError } from "@musicfs/core";

/** What is at a mount point before we mount on it. */
export type MountpointState =
  | "ready"
  /** A FUSE mount whose process died: every access fails with ENOTCONN. */
  | "stale"
  /** Something is mounted there and answering. */
  | "mounted"
  | "missing"
  | "not-a-directory"
  | "not-empty";

/** Mount points listed in /proc/self/mountinfo (field 5, with its octal escapes undone). */
export async function listMountpoints(): Promise<Set<string>> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (field) out.add(field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))));
  }
  return out;
}

/** Inspects a mount point without blocking on it (only async calls: it may be a hung FUSE mount). */
export async function inspectMountpoint(mountpoint: string): Promise<MountpointState> {
  const path = resolve(mountpoint);
  try {
    const st = await stat(path);
    if (!st.isDirectory()) return "not-a-directory";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTCONN" || code === "ECONNABORTED") return "stale";
    if (code === "ENOENT") return "missing";
    throw new MusicfsError("MOUNT_FAILED", `cannot inspect mount point ${path}: ${(err as Error).message}`, { cause: err });
  }
  if ((await listMountpoints()).has(path)) return "mounted";
  if ((await readdir(path)).length > 0) return "not-empty";
  return "ready";
}

/** `fusermount -u` (lazy with `-z`: detaches now even if files are open, frees when they close). */
export function unmountMountpoint(mountpoint: string, opts: { lazy?: boolean } = {}): Promise<void> {
  const path = resolve(mountpoint);
  return new Promise((done, fail) => {
    execFile("fusermount", [opts.lazy === false ? "-u" : "-uz", path], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return done();
      fail(new MusicfsError("MOUNT_FAILED", `cannot unmount ${path}: ${(stderr || err.message).trim()}`, { cause: err }));
    });
  });
}

/**
 * Makes sure `mountpoint` can be mounted on: a stale mount left by a crash is reported with its fix,
 * or cleared when `force` is set; so is a live mount.
 */
export async function prepareMountpoint(mountpoint: string, opts: { force?: boolean } = {}): Promise<void> {
  const path = resolve(mountpoint);
  const state = await inspectMountpoint(path);
  switch (state) {
    case "ready":
      return;
    case "stale":
    case "mounted": {
      if (!opts.force) {
        const what =
          state === "stale" ? `${path} is a stale mount left by a process that exited without unmounting` : `${path} is already mounted`;
        throw new MusicfsError(
          "MOUNT_FAILED",
          `${what}; run \`musicfs umount ${path}\` (or \`fusermount -uz ${path}\`), or mount with --force`,
          {
            details: { state },
          },
        );
      }
      await unmountMountpoint(path, { lazy: true });
      const after = await inspectMountpoint(path);
      if (after !== "ready") throw new MusicfsError("MOUNT_FAILED", `${path} is still not usable after unmounting it (${after})`);
      return;
    }
    case "missing":
      throw new MusicfsError("MOUNT_FAILED", `mount point ${path} does not exist; create it with \`mkdir -p ${path}\``, {
        details: { state },
      });
    case "not-a-directory":
      throw new MusicfsError("MOUNT_FAILED", `mount point ${path} is not a directory`, { details: { state } });
    case "not-empty":
      throw new MusicfsError("MOUNT_FAILED", `mount point ${path} is not empty; mount on an empty directory`, { details: { state } });
  }
}
