import { chmod, copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type EncodeJob, type Encoding, encodeAlbum, type WrittenTags, writeCoverImage } from "./audio-encoder.js";
import { seededBytes, setTreeTimes, uuidFromName } from "./deterministic.js";
import type { ExpectedAlbum, ExpectedTags, FixtureFile, FixtureManifest } from "./fixture-manifest.js";
import { FIXTURE_LIBRARY_VERSION } from "./fixture-manifest.js";
import { mapWithConcurrency, runTool, runToolChecked } from "./run-tool.js";

/** ffmpeg processes in flight; the project's machines have 2 cores. */
const PARALLELISM = 2;
const TRACK_SECONDS = 0.5;

interface TrackSpec {
  /** Relative to the album folder. */
  file: string;
  encoding: Encoding;
  tags: WrittenTags;
  picture?: "png" | "jpeg";
  note?: string;
}

interface AlbumSpec {
  dir: string;
  frequency: number;
  tracks: TrackSpec[];
}

/** What music-metadata 11 reports for each encoding (verified by test/fixtures.test.ts). */
const FORMAT: Record<Encoding, { container: string; codec: string; tagTypes: string[] }> = {
  flac: { container: "FLAC", codec: "FLAC", tagTypes: ["vorbis"] },
  "mp3-id3v2.3": { container: "MPEG", codec: "MPEG 2.5 Layer 3", tagTypes: ["ID3v2.3"] },
  "mp3-id3v2.4": { container: "MPEG", codec: "MPEG 2.5 Layer 3", tagTypes: ["ID3v2.4"] },
  "mp3-id3v2.4+id3v1": { container: "MPEG", codec: "MPEG 2.5 Layer 3", tagTypes: ["ID3v2.4", "ID3v1"] },
  "mp3-id3v1": { container: "MPEG", codec: "MPEG 2.5 Layer 3", tagTypes: ["ID3v1"] },
  "ogg-vorbis": { container: "Ogg", codec: "Vorbis I", tagTypes: ["vorbis"] },
  opus: { container: "Ogg", codec: "Opus", tagTypes: ["vorbis"] },
  "m4a-aac": { container: "M4A/isom/iso2", codec: "MPEG-4/AAC", tagTypes: ["iTunes"] },
  "m4a-alac": { container: "M4A/isom/iso2", codec: "ALAC", tagTypes: ["iTunes"] },
  // music-metadata files RIFF LIST/INFO chunks under the tag type "exif".
  wav: { container: "WAVE", codec: "PCM", tagTypes: ["exif"] },
  aiff: { container: "AIFF", codec: "PCM", tagTypes: ["AIFF", "ID3v2.4"] },
};

const EXTENSION: Record<Encoding, string> = {
  flac: "flac",
  "mp3-id3v2.3": "mp3",
  "mp3-id3v2.4": "mp3",
  "mp3-id3v2.4+id3v1": "mp3",
  "mp3-id3v1": "mp3",
  "ogg-vorbis": "ogg",
  opus: "opus",
  "m4a-aac": "m4a",
  "m4a-alac": "m4a",
  wav: "wav",
  aiff: "aiff",
};

function rgId(artist: string, album: string): string {
  return uuidFromName(`release-group:${artist}/${album}`);
}

/** Tracks numbered n/total with the album-wide tags merged in. */
function numbered(
  titles: readonly (string | { title: string; artist?: string; file?: string; note?: string })[],
  encoding: Encoding,
  common: WrittenTags,
  picture?: "png" | "jpeg",
  disc?: { disc: number; discTotal: number; folder: string },
): TrackSpec[] {
  return titles.map((entry, i) => {
    const t = typeof entry === "string" ? { title: entry } : entry;
    const n = String(i + 1).padStart(2, "0");
    const file = `${disc ? `${disc.folder}/` : ""}${n} - ${t.file ?? t.title}.${EXTENSION[encoding]}`;
    const tags: WrittenTags = { ...common, title: t.title, track: i + 1 };
    // ID3v1.1 has a track number but no total.
    if (encoding !== "mp3-id3v1") tags.trackTotal = titles.length;
    if (t.artist !== undefined) tags.artist = t.artist;
    if (disc) Object.assign(tags, { disc: disc.disc, discTotal: disc.discTotal });
    return { file, encoding, tags, ...(picture ? { picture } : {}), ...(t.note ? { note: t.note } : {}) };
  });
}

const NORTHERN_LIGHTS = [
  "Polar Night",
  "Aurora",
  "Ice Shelf",
  "Solar Wind",
  "Magnetosphere",
  "Tundra",
  { title: "Glacier Song", artist: "Aurora Lane feat. Kira Vale", note: "track artist 'A feat. B' inside a single-artist album" },
  "Midnight Sun",
  "Fjordlight",
  "Snowfield",
  "Borealis",
  "Thaw",
];

/** The good part of the library: artist/album folders, every format and tag flavour the scanner must read. */
function goodAlbums(): AlbumSpec[] {
  const aurora = { artist: "Aurora Lane", albumartist: "Aurora Lane" };
  return [
    {
      // 12 tracks: the lazy-enrichment test opens them all at once (design §5.4 test_album_dedup_simultaneous).
      dir: "Aurora Lane/Northern Lights",
      frequency: 440,
      tracks: numbered(
        NORTHERN_LIGHTS,
        "flac",
        {
          ...aurora,
          album: "Northern Lights",
          disc: 1,
          discTotal: 1,
          date: "2019-03-01",
          genres: ["Electronic", "Ambient"],
          musicbrainzReleaseGroupId: rgId("Aurora Lane", "Northern Lights"),
        },
        "png",
      ),
    },
    {
      dir: "Aurora Lane/Daybreak (Deluxe Edition)",
      frequency: 466,
      tracks: numbered(["First Light", "Morning Tide"], "mp3-id3v2.4", {
        ...aurora,
        album: "Daybreak (Deluxe Edition)",
        disc: 1,
        discTotal: 1,
        date: "2021",
        // Two TCON values separated by NUL, as ID3v2.4 specifies.
        genres: ["Electronic", "Synthpop"],
        musicbrainzReleaseGroupId: rgId("Aurora Lane", "Daybreak"),
      }),
    },
    {
      dir: "Aurora Lane/Live at the Harbour",
      frequency: 494,
      tracks: numbered(["Polar Night (Live)", "Aurora (Live)"], "ogg-vorbis", {
        ...aurora,
        album: "Live at the Harbour",
        disc: 1,
        discTotal: 1,
        date: "2022",
        genres: ["Electronic"],
        musicbrainzReleaseGroupId: rgId("Aurora Lane", "Live at the Harbour"),
      }),
    },
    {
      dir: "The Glass Orchard/Seasons",
      frequency: 523,
      tracks: [1, 2].flatMap((disc) =>
        numbered(
          disc === 1 ? ["Spring", "Summer"] : ["Autumn", "Winter"],
          "flac",
          {
            artist: "The Glass Orchard",
            albumartist: "The Glass Orchard",
            album: "Seasons",
            date: "2016-09-23",
            genres: ["Indie Folk"],
            musicbrainzReleaseGroupId: rgId("The Glass Orchard", "Seasons"),
          },
          "jpeg",
          { disc, discTotal: 2, folder: `Disc ${disc}` },
        ),
      ),
    },
    {
      dir: "Various Artists/Summer Sampler 2021",
      frequency: 554,
      tracks: numbered(
        [
          { title: "Halo Drift", artist: "Beyoncé" },
          { title: "Night Bus", artist: "DJ Mono feat. Kira Vale" },
          { title: "Glasshouse", artist: "Marta Kowalski" },
        ],
        "m4a-aac",
        {
          albumartist: "Various Artists",
          album: "Summer Sampler 2021",
          compilation: true,
          disc: 1,
          discTotal: 1,
          date: "2021",
          genres: ["Pop"],
        },
        "jpeg",
      ),
    },
    {
      dir: "Sigur Rós/Ljósið",
      frequency: 587,
      tracks: numbered(["Dögun", "Hafið"], "opus", {
        artist: "Sigur Rós",
        albumartist: "Sigur Rós",
        album: "Ljósið",
        disc: 1,
        discTotal: 1,
        date: "2020",
        genres: ["Post-Rock"],
        musicbrainzReleaseGroupId: rgId("Sigur Rós", "Ljósið"),
      }),
    },
    {
      dir: "山田花子/夜明けの歌",
      frequency: 622,
      tracks: numbered(
        ["桜", "月光"],
        "m4a-alac",
        { artist: "山田花子", albumartist: "山田花子", album: "夜明けの歌", disc: 1, discTotal: 1, date: "2018", genres: ["J-Pop"] },
        "png",
      ),
    },
    {
      // The slash must not become a path separator in the mount; ID3v2.4 because music-metadata splits ID3v2.3 TPE1 on "/".
      dir: "AC_DC/High Voltage Hum",
      frequency: 659,
      tracks: numbered(
        ["Live Wire", { title: "../../etc/passwd", file: "etc passwd", note: "path traversal in a title" }],
        "mp3-id3v2.4+id3v1",
        { artist: "AC/DC", albumartist: "AC/DC", album: "High Voltage Hum", disc: 1, discTotal: 1, date: "1976", genres: ["Hard Rock"] },
        "jpeg",
      ),
    },
    {
      dir: "Marta Kowalski/Paper Boats",
      frequency: 698,
      tracks: numbered(
        ["Harbour", { title: "Lanterns", artist: "Marta Kowalski feat. Jonah Reyes" }],
        "mp3-id3v2.3",
        {
          artist: "Marta Kowalski",
          albumartist: "Marta Kowalski",
          album: "Paper Boats",
          disc: 1,
          discTotal: 1,
          date: "2017",
          genres: ["Folk"],
          musicbrainzReleaseGroupId: rgId("Marta Kowalski", "Paper Boats"),
        },
        "png",
      ),
    },
    {
      dir: "Old Tapes/Cassette Sessions",
      frequency: 740,
      // ID3v1 only: 30-character fields, a numeric genre (Rock = 17), no totals, no album artist.
      tracks: numbered(["Side A", "Side B"], "mp3-id3v1", {
        artist: "Old Tapes",
        album: "Cassette Sessions",
        date: "1987",
        genres: ["Rock"],
        comment: "Recorded live",
      }),
    },
    {
      // One album in two PCM containers: WAV (RIFF INFO: no album artist, no disc) and AIFF (ID3 chunk).
      dir: "Field Recordings/Room Tone",
      frequency: 784,
      tracks: [
        {
          file: "01 - Hum.wav",
          encoding: "wav",
          tags: {
            title: "Hum",
            artist: "Field Recordings",
            album: "Room Tone",
            track: 1,
            trackTotal: 2,
            date: "2015",
            genres: ["Ambient"],
          },
        },
        {
          file: "02 - Buzz.aiff",
          encoding: "aiff",
          tags: {
            title: "Buzz",
            artist: "Field Recordings",
            albumartist: "Field Recordings",
            album: "Room Tone",
            track: 2,
            trackTotal: 2,
            disc: 1,
            discTotal: 1,
            date: "2015",
            genres: ["Ambient"],
            musicbrainzReleaseGroupId: rgId("Field Recordings", "Room Tone"),
          },
        },
      ],
    },
  ];
}

const HOSTILE = { artist: "Bad Inputs", albumartist: "Bad Inputs", album: "Hostile Tags" };
const NON_UTF8_NAME = Buffer.concat([Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]), Buffer.from(".flac")]);
const LONG_TITLE_LENGTH = 100_000;

function longTitle(): string {
  return "Long title ".repeat(Math.ceil(LONG_TITLE_LENGTH / 11)).slice(0, LONG_TITLE_LENGTH);
}

function expectedTags(tags: WrittenTags, hasPicture: boolean): ExpectedTags {
  return {
    title: tags.title ?? null,
    artist: tags.artist ?? null,
    album: tags.album ?? null,
    albumartist: tags.albumartist ?? null,
    track: tags.track ?? null,
    trackTotal: tags.trackTotal ?? null,
    disc: tags.disc ?? null,
    discTotal: tags.discTotal ?? null,
    year: tags.date === undefined ? null : Number(tags.date.slice(0, 4)),
    genres: tags.genres ?? [],
    compilation: tags.compilation ?? false,
    hasPicture,
    musicbrainzReleaseGroupId: tags.musicbrainzReleaseGroupId ?? null,
  };
}

function goodEntry(path: string, encoding: Encoding, tags: WrittenTags, hasPicture: boolean, note?: string): FixtureFile {
  const f = FORMAT[encoding];
  // An empty VORBIS_COMMENT block (vendor string only) is not reported as a tag type.
  const tagTypes = encoding === "flac" && Object.keys(tags).length === 0 ? [] : f.tagTypes;
  return {
    path,
    kind: "good",
    fileType: "file",
    format: f.container,
    codec: f.codec,
    tagTypes,
    tags: expectedTags(tags, hasPicture),
    ...(note ? { note } : {}),
  };
}

function albumGroups(files: readonly FixtureFile[]): ExpectedAlbum[] {
  const groups = new Map<string, ExpectedAlbum>();
  for (const f of files) {
    if (f.kind !== "good" || !f.tags?.album) continue;
    const artist = f.tags.albumartist ?? f.tags.artist ?? "";
    const key = `${artist}\u0000${f.tags.album}`;
    const group = groups.get(key) ?? { artist, album: f.tags.album, paths: [] };
    group.paths.push(f.path);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * Writes the fixture library under `dir` (created if missing; should be empty) and returns its manifest.
 * Output is deterministic: same bytes (ffmpeg bitexact, fixed tones and seeds) and the same mtimes on every run.
 */
export async function generateFixtureLibrary(dir: string): Promise<FixtureManifest> {
  await mkdir(dir, { recursive: true });
  const files: FixtureFile[] = [];
  const covers = { png: join(dir, ".cover.png"), jpeg: join(dir, ".cover.jpg") };
  await writeCoverImage(covers.png, "3366cc");
  await writeCoverImage(covers.jpeg, "cc6633");

  const albums = goodAlbums();
  for (const album of albums) {
    for (const track of album.tracks) await mkdir(dirname(join(dir, album.dir, track.file)), { recursive: true });
  }
  await mapWithConcurrency(albums, PARALLELISM, (album) =>
    encodeAlbum(
      album.tracks.map((t): EncodeJob => {
        const job: EncodeJob = { file: join(dir, album.dir, t.file), encoding: t.encoding, tags: t.tags };
        if (t.picture) job.picture = covers[t.picture];
        return job;
      }),
      { frequency: album.frequency, durationSeconds: TRACK_SECONDS },
    ),
  );
  for (const album of albums) {
    for (const t of album.tracks) files.push(goodEntry(`${album.dir}/${t.file}`, t.encoding, t.tags, t.picture !== undefined, t.note));
  }

  // Non-audio files a real library has next to the music.
  const ignored = ["Aurora Lane/Northern Lights/cover.jpg", "Aurora Lane/Northern Lights/notes.txt"];
  await copyFile(covers.jpeg, join(dir, ignored[0] as string));
  await writeFile(join(dir, ignored[1] as string), "Ripped from the original CD.\n");

  files.push(...(await generateBadInputs(dir, join(dir, `${albums[0]?.dir}/${albums[0]?.tracks[0]?.file}`))));

  await rm(covers.png);
  await rm(covers.jpeg);
  await setTreeTimes(dir);
  // Last: after chmod 000 even utimes would need root.
  await chmod(join(dir, "bad/unreadable.flac"), 0o000);
  return { version: FIXTURE_LIBRARY_VERSION, files, ignored, albums: albumGroups(files) };
}

/** bad/: empty, truncated, corrupt, mislabelled, special files, symlinks, hostile names and tag values. */
async function generateBadInputs(dir: string, goodFlac: string): Promise<FixtureFile[]> {
  const bad = join(dir, "bad");
  await mkdir(bad, { recursive: true });
  const out: FixtureFile[] = [];

  await writeFile(join(bad, "empty.flac"), "");
  await writeFile(join(bad, "empty.mp3"), "");
  const none = "resolves-without-container" as const;
  out.push({ path: "bad/empty.flac", kind: "bad", fileType: "file", errorClass: "EMPTY", parseFileOutcome: none });
  out.push({ path: "bad/empty.mp3", kind: "bad", fileType: "file", errorClass: "EMPTY", parseFileOutcome: none });

  await writeFile(join(bad, "truncated.flac"), (await readFile(goodFlac)).subarray(0, 100));
  out.push({
    path: "bad/truncated.flac",
    kind: "bad",
    fileType: "file",
    errorClass: "CORRUPT",
    parseFileOutcome: "resolves-with-container",
    note: "first 100 bytes of a good FLAC: music-metadata reports FLAC, 0.5 s, no tags and no warning",
  });
  await writeFile(join(bad, "random.mp3"), seededBytes(1, 4096));
  await writeFile(join(bad, "random.m4a"), seededBytes(2, 4096));
  out.push({
    path: "bad/random.mp3",
    kind: "bad",
    fileType: "file",
    errorClass: "CORRUPT",
    parseFileOutcome: "resolves-with-container",
    note: "4096 seeded random bytes: music-metadata finds an ADTS/MPEG-2 AAC sync word and warns",
  });
  out.push({
    path: "bad/random.m4a",
    kind: "bad",
    fileType: "file",
    errorClass: "CORRUPT",
    parseFileOutcome: "throws",
    note: "4096 seeded random bytes",
  });
  await writeFile(join(bad, "not-audio.ogg"), "This is a text file, not an Ogg stream.\n".repeat(8));
  out.push({
    path: "bad/not-audio.ogg",
    kind: "bad",
    fileType: "file",
    errorClass: "CORRUPT",
    parseFileOutcome: none,
    note: "text named .ogg",
  });

  // Parseable files with hostile names or values: "good", grouped as album "Bad Inputs / Hostile Tags".
  const controlTitle = "Bad\u0001Title\u0000X";
  const hostile: { path: string; encoding: Encoding; tags: WrittenTags; note: string }[] = [
    {
      path: "bad/really-an-mp3.flac",
      encoding: "mp3-id3v2.4",
      tags: { ...HOSTILE, title: "Really an MP3", track: 1 },
      // ParserFactory: MIME type, then extension, content sniffing only when both are missing.
      note: "MP3 named .flac: parseFile throws (FLAC parser chosen by extension); parseBuffer/parseStream without a path sniff MPEG",
    },
    {
      path: "bad/control-chars.flac",
      encoding: "flac",
      tags: { ...HOSTILE, title: controlTitle, track: 2 },
      note: "U+0001 and NUL in TITLE",
    },
    { path: "bad/long-title.flac", encoding: "flac", tags: { ...HOSTILE, title: longTitle(), track: 3 }, note: "100,000-character TITLE" },
    {
      path: "bad/.non-utf8.flac",
      encoding: "flac",
      tags: { ...HOSTILE, title: "Non-UTF-8 Name", track: 4 },
      note: "file name bytes 62 61 64 ff fe",
    },
  ];
  await encodeAlbum(
    hostile.map((h) => ({ file: join(dir, h.path), encoding: h.encoding, tags: h.tags })),
    { frequency: 880, durationSeconds: TRACK_SECONDS },
  );
  const nonUtf8Path = Buffer.concat([Buffer.from(`${bad}/`), NON_UTF8_NAME]);
  await rename(join(bad, ".non-utf8.flac"), nonUtf8Path);
  for (const h of hostile) {
    const entry = goodEntry(h.path, h.encoding, h.tags, false, h.note);
    if (h.path === "bad/really-an-mp3.flac") entry.parseFileOutcome = "throws";
    if (h.path === "bad/.non-utf8.flac") {
      const rel = Buffer.concat([Buffer.from("bad/"), NON_UTF8_NAME]);
      entry.path = rel.toString("utf8");
      entry.pathHex = rel.toString("hex");
    }
    out.push(entry);
  }

  // A valid FLAC without tags; chmod 000 happens after the mtimes are fixed.
  await encodeAlbum([{ file: join(bad, "unreadable.flac"), encoding: "flac", tags: {} }], {
    frequency: 932,
    durationSeconds: TRACK_SECONDS,
  });
  out.push({
    ...goodEntry("bad/unreadable.flac", "flac", {}, false, "mode 000"),
    kind: "bad",
    errorClass: "UNREADABLE",
    unreadableUnlessRoot: true,
  });

  await mkdir(join(bad, "loop"));
  await symlink("..", join(bad, "loop/up"));
  out.push({
    path: "bad/loop/up",
    kind: "bad",
    fileType: "symlink",
    linkTarget: "..",
    errorClass: "SYMLINK",
    note: "directory symlink back to bad/: a walk that follows it never ends",
  });
  await symlink("no-such-file.flac", join(bad, "dangling.flac"));
  out.push({
    path: "bad/dangling.flac",
    kind: "bad",
    fileType: "symlink",
    linkTarget: "no-such-file.flac",
    errorClass: "SYMLINK",
    note: "dangling",
  });

  await runToolChecked("mkfifo", [join(bad, "x.mp3")]);
  out.push({ path: "bad/x.mp3", kind: "bad", fileType: "fifo", errorClass: "NOT_REGULAR", note: "FIFO: opening it for reading blocks" });
  // Needs root (CAP_MKNOD); skipped elsewhere, and then absent from the manifest.
  const mknod = await runTool("mknod", [join(bad, "dev.mp3"), "c", "1", "3"]);
  if (mknod.code === 0) {
    out.push({
      path: "bad/dev.mp3",
      kind: "bad",
      fileType: "char-device",
      errorClass: "NOT_REGULAR",
      note: "character device 1:3 (/dev/null)",
    });
  }

  return out;
}

/** The path to hand to fs calls for a manifest entry: a Buffer when the name is not valid UTF-8. */
export function fixtureFsPath(root: string, file: FixtureFile): string | Buffer {
  if (file.pathHex === undefined) return join(root, file.path);
  return Buffer.concat([Buffer.from(`${root}/`), Buffer.from(file.pathHex, "hex")]);
}

export interface AlbumTemplate {
  path: string;
  encoding: Encoding;
  format: string;
  codec: string;
}

/** One short tagged file per format (flac, mp3, ogg, opus, m4a, wav, aiff): seeds for benchmark libraries. */
export async function generateAlbumTemplates(dir: string): Promise<AlbumTemplate[]> {
  await mkdir(dir, { recursive: true });
  const encodings: Encoding[] = ["flac", "mp3-id3v2.4", "ogg-vorbis", "opus", "m4a-aac", "wav", "aiff"];
  const tags: WrittenTags = { title: "Template", artist: "Bench Artist", album: "Bench Album", track: 1, trackTotal: 1, date: "2020" };
  const jobs = encodings.map((encoding) => ({
    file: join(dir, `template.${EXTENSION[encoding]}`),
    encoding,
    tags: encoding === "wav" ? tags : { ...tags, albumartist: "Bench Artist" },
  }));
  await encodeAlbum(jobs, { frequency: 440, durationSeconds: TRACK_SECONDS });
  await setTreeTimes(dir);
  return jobs.map((j) => ({ path: j.file, encoding: j.encoding, format: FORMAT[j.encoding].container, codec: FORMAT[j.encoding].codec }));
}
