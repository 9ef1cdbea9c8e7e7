import { type FileHandle, open } from "node:fs/promises";
import { isMusicfsError, MusicfsError } from "@musicfs/core";
import { resolveOverlayFields } from "./fields.js";
import { overlayFlac } from "./flac.js";
import { overlayMp3 } from "./mp3.js";
import { HeadReader, parseFailed } from "./source.js";
import type { OverlayFormat, OverlayLayout, OverlayTags } from "./types.js";

export function isOverlayFormat(format: string): format is OverlayFormat {
  return format === "flac" || format === "mp3";
}

/**
 * Computes what to serve for `file` with `tags` written into its header. Reads only the origin's header region
 * (FLAC metadata blocks / ID3v2 tags) and its last 128 bytes. `format` is files.format; anything but "flac" and
 * "mp3" returns null (served unmodified). A corrupt or truncated header throws TAG_PARSE_FAILED (serve the origin).
 */
export async function buildOverlay(file: FileHandle | string, format: string, tags: OverlayTags): Promise<OverlayLayout | null> {
  if (!isOverlayFormat(format)) return null;
  if (typeof file !== "string") return buildFromHandle(file, format, tags);
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (cause) {
    throw new MusicfsError(isErrno(cause, "ENOENT") ? "NOT_FOUND" : "IO_ERROR", `cannot open ${file}`, { cause });
  }
  try {
    return await buildFromHandle(fh, format, tags);
  } finally {
    await fh.close();
  }
}

async function buildFromHandle(fh: FileHandle, format: OverlayFormat, tags: OverlayTags): Promise<OverlayLayout> {
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (cause) {
    throw new MusicfsError("IO_ERROR", "cannot stat origin", { cause });
  }
  const src = new HeadReader(fh, size);
  const fields = resolveOverlayFields(tags);
  try {
    return format === "flac" ? await overlayFlac(src, fields) : await overlayMp3(src, fields);
  } catch (err) {
    if (isMusicfsError(err)) throw err;
    // A RangeError from a Buffer read past a lying length field is a corrupt header too.
    throw parseFailed(`${format} header could not be parsed`, err);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
