import { readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MusicfsError } from "@musicfs/core";
import { runToolChecked } from "./run-tool.js";

/** How a file is encoded and tagged; one value per tag-format variant the fixtures need. */
export type Encoding =
  | "flac"
  | "mp3-id3v2.3"
  | "mp3-id3v2.4"
  | "mp3-id3v2.4+id3v1"
  | "mp3-id3v1"
  | "ogg-vorbis"
  | "opus"
  | "m4a-aac"
  | "m4a-alac"
  | "wav"
  | "aiff";

/** The tags written into a file. Numbers are written as "n" or "n/total" the way each format expects. */
export interface WrittenTags {
  title?: string;
  artist?: string;
  album?: string;
  albumartist?: string;
  track?: number;
  trackTotal?: number;
  disc?: number;
  discTotal?: number;
  /** "YYYY" or "YYYY-MM-DD". */
  date?: string;
  genres?: string[];
  compilation?: boolean;
  musicbrainzReleaseGroupId?: string;
  comment?: string;
}

export interface EncodeJob {
  /** Absolute output path. */
  file: string;
  encoding: Encoding;
  tags: WrittenTags;
  /** Absolute path of a PNG/JPEG to embed as the front cover. */
  picture?: string;
}

export interface ToneOptions {
  /** Sine frequency in Hz; fixed per album so output is deterministic. */
  frequency: number;
  durationSeconds: number;
}

const SAMPLE_RATE = 8000;
const FFMPEG_BASE = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"];
// Byte-identical output across runs: no encoder/muxer version strings, fixed Ogg serials, no creation times.
const BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact"];
// Stands in for NUL, which argv cannot carry; patched back in place after writing (one byte, so no length field moves).
const NUL_PLACEHOLDER = "\u001f";

interface Capabilities {
  multiGenre: boolean;
  picture: boolean;
  compilation: boolean;
  albumartist: boolean;
  disc: boolean;
  musicbrainz: boolean;
  nul: boolean;
}

const ALL: Capabilities = {
  multiGenre: true,
  picture: true,
  compilation: true,
  albumartist: true,
  disc: true,
  musicbrainz: true,
  nul: true,
};
const ID3V24: Capabilities = { ...ALL, compilation: false, nul: false }; // ffmpeg writes compilation as TXXX:TCMP, which readers ignore
const CAPABILITIES: Record<Encoding, Capabilities> = {
  flac: ALL,
  "mp3-id3v2.3": { ...ID3V24, multiGenre: false },
  "mp3-id3v2.4": ID3V24,
  "mp3-id3v2.4+id3v1": ID3V24,
  "mp3-id3v1": { ...ID3V24, multiGenre: false, picture: false, albumartist: false, disc: false, musicbrainz: false },
  "ogg-vorbis": { ...ALL, multiGenre: false, picture: false, nul: false },
  opus: { ...ALL, multiGenre: false, picture: false, nul: false },
  "m4a-aac": { ...ALL, multiGenre: false, musicbrainz: false, nul: false },
  "m4a-alac": { ...ALL, multiGenre: false, musicbrainz: false, nul: false },
  wav: { ...ID3V24, multiGenre: false, picture: false, albumartist: false, disc: false, musicbrainz: false },
  aiff: { ...ID3V24, picture: false },
};

/** Fails early when a fixture asks for a tag the encoding cannot carry, so the manifest never promises one. */
function checkCapabilities(job: EncodeJob): void {
  const cap = CAPABILITIES[job.encoding];
  const t = job.tags;
  const problems: string[] = [];
  if (!cap.multiGenre && (t.genres?.length ?? 0) > 1) problems.push("several genres");
  if (!cap.picture && job.picture !== undefined) problems.push("a picture");
  if (!cap.compilation && t.compilation) problems.push("the compilation flag");
  if (!cap.albumartist && t.albumartist !== undefined) problems.push("albumartist");
  if (!cap.disc && (t.disc !== undefined || t.discTotal !== undefined)) problems.push("disc numbers");
  if (!cap.musicbrainz && t.musicbrainzReleaseGroupId !== undefined) problems.push("a MusicBrainz id");
  if (job.encoding === "mp3-id3v1" && t.trackTotal !== undefined) problems.push("a track total");
  if (!cap.nul && Object.values(t).some((v) => typeof v === "string" && v.includes("\0"))) problems.push("NUL characters");
  if (problems.length > 0) {
    throw new MusicfsError("INVALID_ARGUMENT", `${job.encoding} cannot carry ${problems.join(", ")} (${job.file})`);
  }
}

function numberPair(no: number | undefined, of: number | undefined): string | undefined {
  if (no === undefined) return undefined;
  return of === undefined ? String(no) : `${no}/${of}`;
}

/** ffmpeg's generic metadata keys; the muxer maps them to ID3 frames, iTunes atoms or RIFF INFO chunks. */
function ffmpegMetadata(job: EncodeJob): [string, string][] {
  const t = job.tags;
  const genre = t.genres === undefined || t.genres.length === 0 ? undefined : t.genres.join(NUL_PLACEHOLDER);
  const entries: [string, string | undefined][] = [];
  switch (job.encoding) {
    case "mp3-id3v1":
      // With -id3v2_version 0 ffmpeg skips its key conversion and the ID3v1 writer only looks up ID3v2 frame names.
      entries.push(["TIT2", t.title], ["TPE1", t.artist], ["TALB", t.album], ["TRCK", numberPair(t.track, undefined)]);
      entries.push(["TYER", t.date?.slice(0, 4)], ["TDRC", t.date?.slice(0, 4)], ["TCON", genre], ["comment", t.comment]);
      break;
    case "ogg-vorbis":
    case "opus":
      // Vorbis comments keep raw keys; separate TRACKTOTAL/DISCTOTAL is the Xiph convention.
      entries.push(["TITLE", t.title], ["ARTIST", t.artist], ["ALBUM", t.album], ["ALBUMARTIST", t.albumartist]);
      entries.push(["TRACKNUMBER", t.track?.toString()], ["TRACKTOTAL", t.trackTotal?.toString()]);
      entries.push(["DISCNUMBER", t.disc?.toString()], ["DISCTOTAL", t.discTotal?.toString()]);
      entries.push(["DATE", t.date], ["GENRE", genre], ["COMPILATION", t.compilation ? "1" : undefined]);
      entries.push(["MUSICBRAINZ_RELEASEGROUPID", t.musicbrainzReleaseGroupId], ["COMMENT", t.comment]);
      break;
    default:
      entries.push(["title", t.title], ["artist", t.artist], ["album", t.album], ["album_artist", t.albumartist]);
      entries.push(["track", numberPair(t.track, t.trackTotal)], ["disc", numberPair(t.disc, t.discTotal)]);
      entries.push(["date", t.date], ["genre", genre], ["comment", t.comment], ["compilation", t.compilation ? "1" : undefined]);
      // ffmpeg writes unknown keys as TXXX frames with the key as description, which is what Picard writes.
      entries.push(["MusicBrainz Release Group Id", t.musicbrainzReleaseGroupId]);
  }
  return entries.filter((e): e is [string, string] => e[1] !== undefined);
}

function codecArgs(encoding: Encoding): string[] {
  switch (encoding) {
    case "flac":
      return ["-c:a", "flac", "-f", "flac"];
    case "mp3-id3v2.3":
      return ["-c:a", "libmp3lame", "-b:a", "16k", "-id3v2_version", "3", "-f", "mp3"];
    case "mp3-id3v2.4":
      return ["-c:a", "libmp3lame", "-b:a", "16k", "-id3v2_version", "4", "-f", "mp3"];
    case "mp3-id3v2.4+id3v1":
      return ["-c:a", "libmp3lame", "-b:a", "16k", "-id3v2_version", "4", "-write_id3v1", "1", "-f", "mp3"];
    case "mp3-id3v1":
      return ["-c:a", "libmp3lame", "-b:a", "16k", "-id3v2_version", "0", "-write_id3v1", "1", "-f", "mp3"];
    case "ogg-vorbis":
      return ["-c:a", "libvorbis", "-q:a", "0", "-f", "ogg"];
    case "opus":
      return ["-c:a", "libopus", "-b:a", "16k", "-f", "opus"];
    case "m4a-aac":
      return ["-c:a", "aac", "-b:a", "16k", "-f", "ipod"];
    case "m4a-alac":
      return ["-c:a", "alac", "-f", "ipod"];
    case "wav":
      return ["-c:a", "pcm_s16le", "-f", "wav"];
    case "aiff":
      return ["-c:a", "pcm_s16be", "-write_id3v2", "1", "-id3v2_version", "4", "-f", "aiff"];
  }
}

/**
 * Encodes every job from one sine tone in a single ffmpeg run (one process per album keeps generation fast),
 * then finishes FLAC tags with metaflac and patches NUL separators in place.
 */
export async function encodeAlbum(jobs: readonly EncodeJob[], tone: ToneOptions): Promise<void> {
  if (jobs.length === 0) return;
  jobs.forEach(checkCapabilities);
  const source = `sine=frequency=${tone.frequency}:sample_rate=${SAMPLE_RATE}:duration=${tone.durationSeconds}`;
  const args = [...FFMPEG_BASE, "-f", "lavfi", "-i", source];
  const pictureInputs = [...new Set(jobs.filter((j) => j.encoding !== "flac" && j.picture !== undefined).map((j) => j.picture as string))];
  for (const picture of pictureInputs) args.push("-i", picture);
  for (const job of jobs) {
    args.push("-map", "0:a");
    if (job.encoding !== "flac" && job.picture !== undefined) {
      const input = pictureInputs.indexOf(job.picture) + 1;
      args.push("-map", `${input}:v`, "-c:v", "copy", "-disposition:v:0", "attached_pic");
      args.push("-metadata:s:v:0", "title=Album cover", "-metadata:s:v:0", "comment=Cover (front)");
    }
    args.push("-ac", "1", "-ar", String(SAMPLE_RATE), ...codecArgs(job.encoding), ...BITEXACT);
    // FLAC tags come from metaflac below (multi-value fields, pictures, seektable).
    if (job.encoding !== "flac") for (const [key, value] of ffmpegMetadata(job)) args.push("-metadata", `${key}=${value}`);
    args.push(job.file);
  }
  await runToolChecked("ffmpeg", args, { timeoutMs: 120_000 });
  for (const job of jobs) {
    if (job.encoding === "flac") await tagFlac(job);
    else if ((job.tags.genres?.length ?? 0) > 1)
      await patchUnique(job.file, job.tags.genres!.join(NUL_PLACEHOLDER), job.tags.genres!.join("\0"));
  }
}

/** Replaces FLAC's Vorbis comments and adds a picture, a SEEKTABLE and keeps ffmpeg's PADDING block. */
async function tagFlac(job: EncodeJob): Promise<void> {
  const t = job.tags;
  const fields: [string, string | undefined][] = [
    ["TITLE", t.title],
    ["ARTIST", t.artist],
    ["ALBUM", t.album],
    ["ALBUMARTIST", t.albumartist],
    ["TRACKNUMBER", t.track?.toString()],
    ["TRACKTOTAL", t.trackTotal?.toString()],
    ["DISCNUMBER", t.disc?.toString()],
    ["DISCTOTAL", t.discTotal?.toString()],
    ["DATE", t.date],
    ...(t.genres ?? []).map((g): [string, string] => ["GENRE", g]),
    ["COMPILATION", t.compilation ? "1" : undefined],
    ["MUSICBRAINZ_RELEASEGROUPID", t.musicbrainzReleaseGroupId],
    ["COMMENT", t.comment],
  ];
  const args = ["--no-utf8-convert", "--remove-all-tags"];
  const tempFiles: string[] = [];
  const nulFields: string[] = [];
  for (const [name, value] of fields) {
    if (value === undefined) continue;
    const written = value.replaceAll("\0", NUL_PLACEHOLDER);
    if (written !== value) nulFields.push(value);
    if (written.length > 8192) {
      // Long values go through a file: argv entries are capped at 128 KiB and this keeps `ps` readable.
      const temp = join(dirname(job.file), `.${basename(job.file)}.${name}.tag`);
      await writeFile(temp, written);
      tempFiles.push(temp);
      args.push(`--set-tag-from-file=${name}=${temp}`);
    } else {
      args.push(`--set-tag=${name}=${written}`);
    }
  }
  if (job.picture !== undefined) {
    const mime = job.picture.endsWith(".png") ? "image/png" : "image/jpeg";
    args.push(`--import-picture-from=3|${mime}|Front cover||${job.picture}`);
  }
  args.push("--add-seekpoint=2x", job.file);
  try {
    await runToolChecked("metaflac", args);
  } finally {
    await Promise.all(tempFiles.map((f) => rm(f, { force: true })));
  }
  for (const value of nulFields) await patchUnique(job.file, value.replaceAll("\0", NUL_PLACEHOLDER), value);
}

/** Overwrites the single occurrence of `from` with `to` (same UTF-8 length), so no length field moves. */
export async function patchUnique(file: string, from: string, to: string): Promise<void> {
  const a = Buffer.from(from, "utf8");
  const b = Buffer.from(to, "utf8");
  if (a.length !== b.length) throw new MusicfsError("INTERNAL", "patchUnique needs equal-length strings");
  const data = await readFile(file);
  const at = data.indexOf(a);
  if (at < 0 || data.indexOf(a, at + 1) >= 0) {
    throw new MusicfsError("INTERNAL", `expected exactly one ${JSON.stringify(from)} in ${file}`);
  }
  b.copy(data, at);
  await writeFile(file, data);
}

/** A tiny solid-colour cover (8x8) as PNG or JPEG. */
export async function writeCoverImage(file: string, rgbHex: string): Promise<void> {
  const codec = file.endsWith(".png") ? ["-c:v", "png"] : ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p"];
  await runToolChecked("ffmpeg", [
    ...FFMPEG_BASE,
    "-f",
    "lavfi",
    "-i",
    `color=c=0x${rgbHex}:s=8x8`,
    "-frames:v",
    "1",
    ...codec,
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-f",
    "image2",
    file,
  ]);
}
