import { MusicfsError } from "@musicfs/core";
import type { Id3Frame } from "./id3v2-read.js";

const MAX_SYNCSAFE = 0x0fffffff;

function writeSyncsafe(b: Buffer, at: number, value: number): void {
  b[at] = (value >>> 21) & 0x7f;
  b[at + 1] = (value >>> 14) & 0x7f;
  b[at + 2] = (value >>> 7) & 0x7f;
  b[at + 3] = value & 0x7f;
}

function frameLength(f: Id3Frame): number {
  return 10 + f.body.length;
}

/** Length of the ID3v2.4 tag holding `frames` without padding. */
export function id3v24TagLength(frames: readonly Id3Frame[]): number {
  let length = 10;
  for (const f of frames) length += frameLength(f);
  return length;
}

/**
 * Serialises frames as an ID3v2.4 tag of at least `minLength` bytes (the rest is padding): no unsynchronisation,
 * compression, extended header or footer, so every reader that knows v2.4 can read it.
 */
export function writeId3v24Tag(frames: readonly Id3Frame[], minLength: number): Buffer {
  const total = Math.max(id3v24TagLength(frames), minLength);
  if (total - 10 > MAX_SYNCSAFE) throw new MusicfsError("INVALID_ARGUMENT", `ID3v2 tag would be ${total} bytes, over the format's limit`);
  const out = Buffer.alloc(total); // zero-filled: the tail is the padding
  out.write("ID3", 0, "latin1");
  out[3] = 4;
  out[4] = 0;
  out[5] = 0;
  writeSyncsafe(out, 6, total - 10);
  let pos = 10;
  for (const f of frames) {
    out.write(f.id, pos, 4, "latin1");
    const size = frameLength(f) - 10;
    writeSyncsafe(out, pos + 4, size);
    out[pos + 8] = (f.tagAlterDiscard ? 0x40 : 0) | (f.fileAlterDiscard ? 0x20 : 0) | (f.readOnly ? 0x10 : 0);
    out[pos + 9] = 0;
    pos += 10;
    f.body.copy(out, pos);
    pos += f.body.length;
  }
  return out;
}
