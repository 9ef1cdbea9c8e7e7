import { MusicfsError } from "@musicfs/core";
import { inspectMountpoint, unmountMountpoint } from "@musicfs/fs";
import { Args } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Umount extends BaseCommand<typeof Umount> {
  static override summary = "Unmount a musicfs mount, including a stale one left by a crashed process.";
  static override description = `Detaches the mount at once (files still open keep working until closed); the
\`musicfs mount\` process serving it then exits with code 0.

Exit codes: 0 unmounted, 2 usage error, 6 nothing is mounted there or it could not be unmounted.`;
  static override examples = ["<%= config.bin %> umount ~/Music-view"];
  static override args = { mountpoint: Args.string({ description: "Where the library is mounted.", required: true }) };

  public async run(): Promise<void> {
    const { mountpoint } = this.args;
    const state = await inspectMountpoint(mountpoint);
    if (state !== "mounted" && state !== "stale") {
      throw new MusicfsError("MOUNT_FAILED", `nothing is mounted at ${mountpoint} (${state})`);
    }
    await unmountMountpoint(mountpoint, { lazy: true });
    process.stdout.write(`unmounted ${mountpoint}${state === "stale" ? " (stale mount cleared)" : ""}\n`);
  }
}
