import { MusicfsError } from "@musicfs/core";
import { runTool } from "./run-tool.js";

/** Debian's python has python3-mutagen; the pyenv python on PATH does not. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Tags as mutagen (a second, independent reader) sees them. */
export interface IndependentTags {
  /** mutagen's class name: "FLAC", "MP3", "OggVorbis", "OggOpus", "MP4", "WAVE", "AIFF"; null if mutagen cannot identify the file. */
  type: string | null;
  /** ID3 version of the tag mutagen read, e.g. "2.4", "2.3", "1.1"; null for non-ID3 tags. */
  id3Version: string | null;
  info: { length: number | null; sampleRate: number | null; channels: number | null };
  /** Every frame/field, keyed the way the container names it (ID3 frame hash keys, MP4 atoms, Vorbis field names upper-cased). */
  raw: Record<string, string[]>;
  /** The common fields, mapped from the container's own names; absent when not present. */
  common: {
    title?: string[];
    artist?: string[];
    album?: string[];
    albumartist?: string[];
    tracknumber?: string[];
    tracktotal?: string[];
    discnumber?: string[];
    disctotal?: string[];
    date?: string[];
    genre?: string[];
    compilation?: string[];
    musicbrainz_releasegroupid?: string[];
  };
  pictureCount: number;
}

// Paths travel as hex so non-UTF-8 file names survive argv.
const MUTAGEN_SCRIPT = String.raw`
import io, json, os, sys
import mutagen
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

path = os.fsdecode(bytes.fromhex(sys.argv[1]))
try:
    f = mutagen.File(path)
except mutagen.MutagenError:
    # The extension picked the wrong parser (an MP3 named .flac): retry judging by content alone.
    with open(path, "rb") as fh:
        f = mutagen.File(io.BytesIO(fh.read()))
out = {"type": None, "id3Version": None, "info": {"length": None, "sampleRate": None, "channels": None}, "raw": {}, "common": {}, "pictureCount": 0}
if f is not None:
    out["type"] = type(f).__name__
    info = f.info
    out["info"] = {"length": getattr(info, "length", None), "sampleRate": getattr(info, "sample_rate", None), "channels": getattr(info, "channels", None)}
    tags = f.tags
    raw = {}
    common = {}
    pictures = 0
    def add(d, k, v):
        d.setdefault(k, []).append(v)
    def text(v):
        return "<%d bytes>" % len(v) if isinstance(v, (bytes, bytearray)) else str(v)
    if isinstance(tags, ID3):
        out["id3Version"] = "%d.%d" % tags.version[:2]
        id3map = {"TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "albumartist", "TDRC": "date", "TCMP": "compilation",
                  "TXXX:MusicBrainz Release Group Id": "musicbrainz_releasegroupid"}
        for key, frame in tags.items():
            if frame.FrameID == "APIC":
                pictures += 1
                add(raw, key, "<picture %s %d bytes>" % (frame.mime, len(frame.data)))
                continue
            values = [text(t) for t in frame.text] if hasattr(frame, "text") else [text(frame)]
            raw[key] = values
            if frame.FrameID == "TCON":
                common["genre"] = list(frame.genres)
            elif frame.FrameID in ("TRCK", "TPOS"):
                no, _, of = values[0].partition("/")
                prefix = "track" if frame.FrameID == "TRCK" else "disc"
                common[prefix + "number"] = [no]
                if of:
                    common[prefix + "total"] = [of]
            elif key in id3map:
                common[id3map[key]] = values
    elif isinstance(tags, MP4Tags):
        mp4map = {"\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album", "aART": "albumartist", "\xa9day": "date", "\xa9gen": "genre",
                  "cpil": "compilation", "----:com.apple.iTunes:MusicBrainz Release Group Id": "musicbrainz_releasegroupid"}
        for key, values in tags.items():
            if key == "covr":
                pictures += len(values)
                raw[key] = ["<picture %d bytes>" % len(v) for v in values]
                continue
            if key in ("trkn", "disk"):
                prefix = "track" if key == "trkn" else "disc"
                no, of = values[0]
                raw[key] = ["%d/%d" % (no, of)]
                common[prefix + "number"] = [str(no)]
                if of:
                    common[prefix + "total"] = [str(of)]
                continue
            strs = [v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v) for v in (values if isinstance(values, list) else [values])]
            raw[key] = strs
            if key in mp4map:
                common[mp4map[key]] = ["1" if s == "True" else "0" if s == "False" else s for s in strs]
    elif tags is not None:
        # Vorbis comments (FLAC, Ogg Vorbis, Opus): a list of (name, value) pairs, duplicates kept.
        for key, value in tags:
            name = key.upper()
            if name == "METADATA_BLOCK_PICTURE":
                pictures += 1
                add(raw, name, "<picture>")
                continue
            add(raw, name, value)
            if name.lower() in ("title", "artist", "album", "albumartist", "tracknumber", "tracktotal", "discnumber", "disctotal", "date", "genre", "compilation", "musicbrainz_releasegroupid"):
                add(common, name.lower(), value)
    pictures += len(getattr(f, "pictures", []) or [])
    out["raw"] = raw
    out["common"] = common
    out["pictureCount"] = pictures
print(json.dumps(out))
`;

/**
 * Reads a file's tags with mutagen in a child process, for cross-checking music-metadata and the overlay writers.
 * `file` may be a Buffer path (non-UTF-8 names).
 */
export async function readTagsIndependently(file: string | Buffer, opts: { timeoutMs?: number } = {}): Promise<IndependentTags> {
  const hex = (typeof file === "string" ? Buffer.from(file, "utf8") : file).toString("hex");
  const result = await runTool(SYSTEM_PYTHON, ["-c", MUTAGEN_SCRIPT, hex], { timeoutMs: opts.timeoutMs ?? 20_000 });
  if (result.code !== 0) {
    throw new MusicfsError("TAG_PARSE_FAILED", `mutagen could not read ${String(file)}: ${result.stderr.trim().split("\n").pop() ?? ""}`, {
      details: { stderr: result.stderr },
    });
  }
  return JSON.parse(result.stdout) as IndependentTags;
}
