import { resolve } from "node:path";
import { AlbumSelectorSchema, type ClearOverrideRequest, controlCallError, create } from "@musicfs/rpc";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class TagClear extends BaseCommand<typeof TagClear> {
  static override summary = "Drop orchestrator overrides: files go back to their embedded tags.";
  static override description = `Re-reads the files' own tags, clears every value set with \`musicfs tag set\` (or an
orchestrator's UpdateMetadata) and makes the files eligible for provider enrichment again.
Target: --file PATH or --file-id for one file, or --artist and --album for an album.
Goes through the running mount / serve / enrich --daemon when there is one, otherwise the database.`;
  static override examples = [
    `<%= config.bin %> tag clear --artist "Pink Floyd" --album "The Wall"`,
    "<%= config.bin %> tag clear --file ~/Music/Yes/Fragile/01.flac",
  ];
  static override flags = {
    file: Flags.string({ description: "The file (its path in the scanned library).", exclusive: ["file-id", "artist", "album"] }),
    "file-id": Flags.integer({ description: "The file by id.", min: 1, exclusive: ["artist", "album"] }),
    artist: Flags.string({ description: "The album's artist.", dependsOn: ["album"] }),
    album: Flags.string({ description: "The album's title.", dependsOn: ["artist"] }),
    json: Flags.boolean({ description: "Print the result as JSON." }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    let target: ClearOverrideRequest["target"];
    if (f["file-id"] !== undefined) target = { case: "fileId", value: BigInt(f["file-id"]) };
    else if (f.file !== undefined) target = { case: "originPath", value: resolve(f.file) };
    else if (f.artist !== undefined && f.album !== undefined)
      target = { case: "albumSelector", value: create(AlbumSelectorSchema, { artist: f.artist, album: f.album }) };
    else this.error("give --file PATH, --file-id N, or --artist and --album", { exit: 2 });
    const conn = await this.openControl();
    try {
      const res = await conn.client.clearOverride({ target }).catch((err: unknown) => Promise.reject(controlCallError(err)));
      const fileIds = res.fileIds.map(Number);
      if (f.json) return this.printJson({ filesCleared: res.filesCleared, fileIds, via: conn.via, url: conn.url ?? null });
      const via = conn.via === "daemon" ? `through ${conn.url}` : "in the database";
      process.stdout.write(`cleared ${res.filesCleared} file${res.filesCleared === 1 ? "" : "s"} ${via}\n`);
    } finally {
      conn.close();
    }
  }
}
