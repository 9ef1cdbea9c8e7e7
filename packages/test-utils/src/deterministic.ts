import { createHash } from "node:crypto";
import { lstat, lutimes, readdir } from "node:fs/promises";
import { seededRandom } from "@musicfs/core";

export { seededRandom };

/** Every generated file and folder gets this mtime, so scans of two generated copies agree. */
export const FIXTURE_MTIME = new Date("2021-06-01T12:00:00Z");

/** A UUID-shaped id derived from `name` (SHA-1, version/variant bits set like a v5 UUID): stable across runs. */
export function uuidFromName(name: string): string {
  const h = createHash("sha1").update(`musicfs-fixture:${name}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function seededBytes(seed: number, length: number): Buffer {
  const next = seededRandom(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/**
 * Sets atime/mtime of everything under `root` (and root itself), children before parents, without following
 * symlinks. Walks with Buffer names so non-UTF-8 entries are reached.
 */
export async function setTreeTimes(root: string | Buffer, time: Date = FIXTURE_MTIME): Promise<void> {
  const rootBuf = typeof root === "string" ? Buffer.from(root) : root;
  const visit = async (dir: Buffer): Promise<void> => {
    for (const entry of await readdir(dir, { encoding: "buffer", withFileTypes: true })) {
      const child = Buffer.concat([dir, Buffer.from("/"), entry.name]);
      if (entry.isDirectory()) await visit(child);
      else await lutimes(child, time, time);
    }
    await lutimes(dir, time, time);
  };
  if ((await lstat(rootBuf)).isDirectory()) await visit(rootBuf);
  else await lutimes(rootBuf, time, time);
}
