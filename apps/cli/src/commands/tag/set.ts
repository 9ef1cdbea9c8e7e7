import { resolve } from "node:path";
import { AlbumSelectorSchema, controlCallError, create, type UpdateMetadataRequest } from "@musicfs/rpc";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class TagSet extends BaseCommand<typeof TagSet> {
  static override summary = "Override metadata of one file or a whole album, as an orchestrator would.";
  static override description = `The values are written with source "orchestrator": they win over embedded tags and
provider enrichment, survive re-scans, and the mount serves them at once. \`musicfs tag clear\` undoes it.

Target: --file PATH (or --file-id) for one file; otherwise --artist and --album select the album
(album artist, or artist, plus title, compared the way musicfs groups albums). With --file, --artist
and --album are values to set. --genre takes several genres separated by ";".

Goes through the running mount / serve / enrich --daemon when one listens on [control] listen (so its
watchers see the change), otherwise writes the database directly. An empty value ("") clears a field.`;
  static override examples = [
    `<%= config.bin %> tag set --artist "Pink Floyd" --album "The Wall" --genre "Progressive Rock;Art Rock" --label Harvest`,
    `<%= config.bin %> tag set --file ~/Music/Yes/Fragile/01.flac --title "Roundabout (2024 mix)" --year 1971`,
  ];
  static override flags = {
    file: Flags.string({ description: "The file (its path in the scanned library).", exclusive: ["file-id"], helpGroup: "TARGET" }),
    "file-id": Flags.integer({ description: "The file by id.", min: 1, helpGroup: "TARGET" }),
    artist: Flags.string({ description: "Album target: its artist; with --file: the artist to set." }),
    album: Flags.string({ description: "Album target: its title; with --file: the album to set." }),
    title: Flags.string({ description: "Track title." }),
    albumartist: Flags.string({ description: "Album artist." }),
    track: Flags.integer({ description: "Track number.", min: 0 }),
    "track-total": Flags.integer({ description: "Tracks on the disc.", min: 0 }),
    disc: Flags.integer({ description: "Disc number.", min: 0 }),
    "disc-total": Flags.integer({ description: "Discs in the set.", min: 0 }),
    year: Flags.integer({ description: "Year.", min: 0 }),
    date: Flags.string({ description: "Date: YYYY, YYYY-MM or YYYY-MM-DD." }),
    genre: Flags.string({ description: 'Genres, separated by ";" (the first is the primary genre).' }),
    label: Flags.string({ description: "Record label." }),
    "album-type": Flags.string({ description: "album, single, ep, compilation, live, ..." }),
    "cover-url": Flags.string({ description: "Cover image URL (stored for players; musicfs does not fetch it)." }),
    "release-date": Flags.string({ description: "Release date: YYYY, YYYY-MM or YYYY-MM-DD." }),
    "total-tracks": Flags.integer({ description: "Tracks on the release.", min: 0 }),
    "total-discs": Flags.integer({ description: "Discs of the release.", min: 0 }),
    json: Flags.boolean({ description: "Print the result as JSON." }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const oneFile = f.file !== undefined || f["file-id"] !== undefined;
    let target: UpdateMetadataRequest["target"];
    if (f["file-id"] !== undefined) target = { case: "fileId", value: BigInt(f["file-id"]) };
    else if (f.file !== undefined) target = { case: "originPath", value: resolve(f.file) };
    else if (f.artist !== undefined && f.album !== undefined)
      target = { case: "albumSelector", value: create(AlbumSelectorSchema, { artist: f.artist, album: f.album }) };
    else this.error("give --file PATH, --file-id N, or --artist and --album of the album to change", { exit: 2 });
    const genres = f.genre
      ?.split(";")
      .map((g) => g.trim())
      .filter(Boolean);
    const request = {
      target,
      ...(oneFile && f.artist !== undefined ? { artist: f.artist } : {}),
      ...(oneFile && f.album !== undefined ? { album: f.album } : {}),
      title: f.title,
      albumartist: f.albumartist,
      track: f.track,
      trackTotal: f["track-total"],
      disc: f.disc,
      discTotal: f["disc-total"],
      year: f.year,
      date: f.date,
      // "" clears the genres: an empty list would mean "leave them".
      ...(genres === undefined ? {} : genres.length > 0 ? { genres } : { genre: "" }),
      label: f.label,
      albumType: f["album-type"],
      coverUrl: f["cover-url"],
      releaseDate: f["release-date"],
      totalTracks: f["total-tracks"],
      totalDiscs: f["total-discs"],
    };
    const conn = await this.openControl();
    try {
      const res = await conn.client.updateMetadata(request).catch((err: unknown) => Promise.reject(controlCallError(err)));
      const fileIds = res.fileIds.map(Number);
      if (f.json) return this.printJson({ filesUpdated: res.filesUpdated, fileIds, via: conn.via, url: conn.url ?? null });
      const via = conn.via === "daemon" ? `through ${conn.url}` : "in the database";
      process.stdout.write(`updated ${res.filesUpdated} file${res.filesUpdated === 1 ? "" : "s"} ${via}\n`);
    } finally {
      conn.close();
    }
  }
}
