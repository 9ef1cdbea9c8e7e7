import { resolve } from "node:path";
import { controlCallError, EnrichmentSource, FileMetadataSchema, toJson } from "@musicfs/rpc";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { formatTime } from "../../format.js";

export default class TagShow extends BaseCommand<typeof TagShow> {
  static override summary = "Show a file's effective metadata: tags, enrichment and who wrote them.";
  static override description = `Asks the running mount / serve / enrich --daemon when one listens on [control] listen,
otherwise reads the database. PATH is the file's path in the scanned library.`;
  static override examples = [
    "<%= config.bin %> tag show ~/Music/Yes/Fragile/01\\ Roundabout.flac",
    "<%= config.bin %> tag show --file-id 42 --json",
  ];
  static override args = { path: Args.string({ description: "The file's path in the scanned library." }) };
  static override flags = {
    "file-id": Flags.integer({ description: "The file by its id instead of its path.", min: 1, exclusive: ["path"] }),
    json: Flags.boolean({ description: "Print the metadata as proto JSON (musicfs.v1.FileMetadata)." }),
  };

  public async run(): Promise<void> {
    const { path } = this.args;
    const fileId = this.flags["file-id"];
    if (!path && fileId === undefined) this.error("give PATH or --file-id", { exit: 2 });
    const conn = await this.openControl();
    try {
      const { metadata } = await conn.client
        .getMetadata({
          selector: fileId !== undefined ? { case: "fileId", value: BigInt(fileId) } : { case: "originPath", value: resolve(path ?? "") },
        })
        .catch((err: unknown) => Promise.reject(controlCallError(err)));
      if (!metadata) return;
      if (this.flags.json) return this.printJson(toJson(FileMetadataSchema, metadata));
      const m = metadata;
      const rows: [string, unknown][] = [
        ["file", `${m.originPath} (id ${m.fileId}, ${m.format}, ${m.durationSeconds.toFixed(1)} s)`],
        ["title", m.title],
        ["artist", m.artist],
        ["album", m.album],
        ["albumartist", m.albumartist],
        ["track", m.track === undefined ? undefined : `${m.track}${m.trackTotal ? `/${m.trackTotal}` : ""}`],
        ["disc", m.disc === undefined ? undefined : `${m.disc}${m.discTotal ? `/${m.discTotal}` : ""}`],
        ["year", m.year],
        ["date", m.date],
        ["genres", m.genres.join("; ")],
        ["label", m.label],
        ["album type", m.albumType],
        ["release date", m.releaseDate],
        ["tracks/discs", m.totalTracks || m.totalDiscs ? `${m.totalTracks ?? "?"}/${m.totalDiscs ?? "?"}` : undefined],
        ["cover url", m.coverUrl],
        ["provider id", m.providerAlbumId],
        ["source", EnrichmentSource[m.enrichmentSource]?.toLowerCase()],
        ["overridden", m.overriddenFields.join(", ")],
        ["enriched at", m.enrichedAt === undefined ? undefined : formatTime(Number(m.enrichedAt) * 1000)],
        ["attempts", m.enrichmentAttempts || undefined],
        ["last error", m.lastEnrichmentError],
        ["version", m.metadataVersion],
      ];
      const lines = rows.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${k.padEnd(13)}${String(v)}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      conn.close();
    }
  }
}
