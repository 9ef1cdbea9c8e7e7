import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openLibrary } from "@musicfs/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listMountpoints } from "../src/index.js";
import { eventually, forceUnmount, insertTrack, listTree, makeAudio, run } from "./fixtures.js";

// The built CLI (npm test builds first), as users and the demo run it.
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "apps", "cli", "bin", "run.js");

let dir: string;
let db: string;
const mountpoints: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicfs-cli-mount-"));
  db = join(dir, "library.db");
  await makeAudio(join(dir, "music/a.flac"), { format: "flac" });
  const lib = openLibrary(db);
  await insertTrack(lib, {
    path: join(dir, "music/a.flac"),
    root: join(dir, "music"),
    title: "Alpha",
    artist: "Band",
    album: "First",
    track: 1,
  });
  lib.close();
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const m of mountpoints) await forceUnmount(m);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newMountpoint(name: string): Promise<string> {
  const m = join(dir, name);
  await mkdir(m);
  mountpoints.push(m);
  return m;
}

/** Starts `musicfs mount`, resolving once it printed its "mounted" line. */
function startMount(mnt: string, extra: string[] = []) {
  const child = spawn(process.execPath, [CLI, "mount", mnt, "--db", db, ...extra], {
    env: { PATH: process.env.PATH ?? "", HOME: dir, XDG_CONFIG_HOME: join(dir, "no-config") },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const ready = eventually(
    async () => stdout.includes("mounted") || (child.exitCode !== null && Promise.reject(new Error(stderr))),
    20_000,
  );
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe("musicfs mount / umount", () => {
  it("prints the mounted line, serves the tree, and unmounts cleanly on SIGTERM", async () => {
    const mnt = await newMountpoint("term");
    const m = startMount(mnt);
    await m.ready;
    // The first line; "serving control API at <url>" may follow.
    expect(m.output().stdout.split("\n")[0]).toBe(`mounted ${db} at ${mnt}`);
    expect(await listTree(join(mnt, "Artists"))).toContain("Band/0000 - First/01 Alpha.flac");
    m.child.kill("SIGTERM");
    expect(await m.exited).toBe(0);
    expect((await listMountpoints()).has(mnt)).toBe(false);
  });

  it("reports a stale mount left by a crash with the fix, and clears it with --force", async () => {
    const mnt = await newMountpoint("stale");
    const crashed = startMount(mnt);
    await crashed.ready;
    crashed.child.kill("SIGKILL");
    await crashed.exited;
    expect((await run("ls", [mnt])).stderr).toContain("Transport endpoint is not connected");

    const refused = startMount(mnt);
    expect(await refused.exited).toBe(6);
    expect(refused.output().stderr).toContain("stale mount");
    expect(refused.output().stderr).toContain(`musicfs umount ${mnt}`);

    const forced = startMount(mnt, ["--force"]);
    await forced.ready;
    expect(await listTree(join(mnt, "Files"))).toContain("music/a.flac");
    forced.child.kill("SIGINT");
    expect(await forced.exited).toBe(0);
  });

  it("umount detaches a running mount and its process exits 0", async () => {
    const mnt = await newMountpoint("umount");
    const m = startMount(mnt);
    await m.ready;
    const r = await run(process.execPath, [CLI, "umount", mnt]);
    expect(r.stdout).toBe(`unmounted ${mnt}\n`);
    expect(await m.exited).toBe(0);
    const again = await run(process.execPath, [CLI, "umount", mnt]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("nothing is mounted");
  });
});
