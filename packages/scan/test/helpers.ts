import { execFile } from "node:child_process";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);

/** One small real file per format, made with ffmpeg (tags set per template). */
export async function makeTemplates(dir: string): Promise<Record<"flac" | "mp3" | "ogg" | "m4a", string>> {
  await mkdir(dir, { recursive: true });
  const out = { flac: join(dir, "t.flac"), mp3: join(dir, "t.mp3"), ogg: join(dir, "t.ogg"), m4a: join(dir, "t.m4a") };
  const common = ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=0.5", "-ar", "22050"];
  const tags = (title: string) => [
    "-metadata",
    `title=${title}`,
    "-metadata",
    "artist=Test Artist",
    "-metadata",
    "album=Test Album",
    "-metadata",
    "genre=Rock",
  ];
  await Promise.all([
    run("ffmpeg", [...common, ...tags("Flac Song"), out.flac]),
    run("ffmpeg", [...common, ...tags("Mp3 Song"), "-id3v2_version", "3", out.mp3]),
    run("ffmpeg", [...common, ...tags("Ogg Song"), "-c:a", "libvorbis", out.ogg]),
    run("ffmpeg", [...common, ...tags("M4a Song"), "-c:a", "aac", out.m4a]),
  ]);
  return out;
}

/** A library of `albums` folders with `perAlbum` copies of the templates. */
export async function makeLibrary(root: string, templates: Record<string, string>, albums: number, perAlbum: number): Promise<string[]> {
  const exts = Object.keys(templates);
  const paths: string[] = [];
  for (let a = 0; a < albums; a++) {
    const dir = join(root, `Artist ${a % 3}`, `Album ${a}`);
    await mkdir(dir, { recursive: true });
    for (let t = 0; t < perAlbum; t++) {
      const ext = exts[(a + t) % exts.length]!;
      const path = join(dir, `${String(t + 1).padStart(2, "0")} Track.${ext}`);
      await copyFile(templates[ext]!, path);
      paths.push(path);
    }
  }
  return paths;
}
