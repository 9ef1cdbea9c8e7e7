import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs a tool with a timeout; stdout as a Buffer so decoded audio can be compared byte for byte. */
export async function run(cmd: string, args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  const { stdout, stderr } = await execFileAsync(cmd, args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024, encoding: "buffer" });
  return { stdout, stderr: stderr.toString("utf8") };
}

// Debian's python3 has mutagen; the pyenv python3 on PATH does not.
const PYTHON = "/usr/bin/python3";

const MUTAGEN_SCRIPT = `
import sys, json, hashlib
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TIT2, TPE1, TALB, TRCK, TCON, TXXX, APIC, COMM, PRIV, TDRC

def flac(p):
    f = FLAC(p)
    tags = {}
    for k, v in (f.tags or []):
        tags.setdefault(k.upper(), []).append(v)
    return {"tags": tags, "pictures": [hashlib.md5(x.data).hexdigest() for x in f.pictures]}

def id3(p):
    t = ID3(p, translate=False)
    frames = {}
    for key, fr in t.items():
        if key.startswith("APIC"):
            v = {"md5": hashlib.md5(fr.data).hexdigest(), "mime": fr.mime, "desc": fr.desc}
        elif key.startswith("PRIV"):
            v = fr.data.hex()
        elif hasattr(fr, "text"):
            v = fr.text if isinstance(fr.text, str) else [str(x) for x in fr.text]
        else:
            v = repr(fr)
        frames[key] = v
    return {"version": list(t.version), "frames": frames}

def tag_mp3(p, version, cover, v1):
    t = ID3()
    t.add(TIT2(encoding=3, text="Origin Title"))
    t.add(TPE1(encoding=3, text="Origin Artist"))
    t.add(TALB(encoding=3, text="Origin Album"))
    t.add(TRCK(encoding=0, text="3/12"))
    t.add(TCON(encoding=0, text="Rock"))
    t.add(TDRC(encoding=0, text="2001-05-03"))
    t.add(TXXX(encoding=3, desc="MusicBrainz Album Type", text="single"))
    t.add(TXXX(encoding=3, desc="Custom", text="keep"))
    t.add(APIC(encoding=0, mime="image/png", type=3, desc="front", data=open(cover, "rb").read()))
    t.add(COMM(encoding=3, lang="eng", desc="", text="keep this comment"))
    t.add(PRIV(owner="musicfs.test", data=bytes(range(256))))
    t.save(p, v2_version=int(version), v1=2 if v1 == "1" else 0)
    return {}

mode = sys.argv[1]
if mode == "flac": out = flac(sys.argv[2])
elif mode == "id3": out = id3(sys.argv[2])
else: out = tag_mp3(*sys.argv[2:])
print(json.dumps(out))
`;

export interface MutagenFlac {
  tags: Record<string, string[]>;
  pictures: string[];
}
export interface MutagenId3 {
  version: number[];
  frames: Record<string, unknown>;
}

export async function mutagen(dir: string, mode: "flac", path: string): Promise<MutagenFlac>;
export async function mutagen(dir: string, mode: "id3", path: string): Promise<MutagenId3>;
export async function mutagen(dir: string, mode: "tag_mp3", ...args: string[]): Promise<Record<string, never>>;
export async function mutagen(dir: string, mode: string, ...args: string[]): Promise<unknown> {
  const script = join(dir, "mutagen_probe.py");
  await writeFile(script, MUTAGEN_SCRIPT);
  const { stdout } = await run(PYTHON, [script, mode, ...args]);
  return JSON.parse(stdout.toString("utf8"));
}

/** A 16x16 image used as embedded cover art. */
export async function makeCover(dir: string, ext: "png" | "jpg" = "png"): Promise<string> {
  const path = join(dir, `cover.${ext}`);
  await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", path]);
  return path;
}

/** A 1 s FLAC with a SEEKTABLE, a PICTURE, 8 KiB of PADDING and some comments. */
export async function makeFlac(dir: string, cover: string): Promise<string> {
  const wav = join(dir, "sine.wav");
  const path = join(dir, "origin.flac");
  await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "44100", "-ac", "2", wav]);
  await run("flac", [
    "-s",
    "-f",
    "--padding=8192",
    "-S",
    "10x",
    "-T",
    "TITLE=Origin Title",
    "-T",
    "ARTIST=Origin Artist",
    "-T",
    "GENRE=Rock",
    "-T",
    "genre=Pop",
    "-T",
    "COMMENT=keep me",
    "-T",
    "TOTALTRACKS=9",
    "-o",
    path,
    wav,
  ]);
  await run("metaflac", [`--import-picture-from=${cover}`, path]);
  return path;
}

/** A 1 s MP3 with no tags at all. */
export async function makeBareMp3(dir: string, name = "bare.mp3"): Promise<string> {
  const path = join(dir, name);
  await run("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "sine=f=440:d=1",
    "-ar",
    "44100",
    "-c:a",
    "libmp3lame",
    "-b:a",
    "64k",
    "-id3v2_version",
    "0",
    "-write_id3v1",
    "0",
    path,
  ]);
  return path;
}
