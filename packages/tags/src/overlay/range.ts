import type { FileHandle } from "node:fs/promises";
import { readExactly } from "./source.js";
import type { OverlayLayout } from "./types.js";

/**
 * Fills `target` with the served bytes starting at `offset` (fewer at the end of the file); returns how many.
 * The header and trailer come from the layout, the middle from one positional read of the origin.
 */
export async function readOverlayInto(layout: OverlayLayout, origin: FileHandle, target: Buffer, offset: number): Promise<number> {
  const end = Math.min(layout.size, offset + target.length);
  if (offset < 0 || offset >= end) return 0;
  const headerEnd = layout.header.length;
  const audioEnd = headerEnd + (layout.originAudioEnd - layout.originAudioOffset);
  let pos = offset;
  if (pos < headerEnd) {
    const n = Math.min(end, headerEnd) - pos;
    layout.header.copy(target, 0, pos, pos + n);
    pos += n;
  }
  if (pos < end && pos < audioEnd) {
    const n = Math.min(end, audioEnd) - pos;
    await readExactly(origin, target, pos - offset, n, layout.originAudioOffset + (pos - headerEnd));
    pos += n;
  }
  if (pos < end) {
    layout.trailer.copy(target, pos - offset, pos - audioEnd, end - audioEnd);
    pos = end;
  }
  return end - offset;
}

/** The served bytes [offset, offset + length), clipped to the served size. */
export async function readOverlayRange(layout: OverlayLayout, origin: FileHandle, offset: number, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, layout.size - offset)));
  const n = await readOverlayInto(layout, origin, out, offset);
  return out.subarray(0, n);
}
