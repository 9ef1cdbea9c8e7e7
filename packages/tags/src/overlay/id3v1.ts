import type { OverlayFields } from "./fields.js";

export const ID3V1_LENGTH = 128;

export function isId3v1(tail: Buffer | null): tail is Buffer {
  return tail !== null && tail.length === ID3V1_LENGTH && tail.toString("latin1", 0, 3) === "TAG";
}

/** Latin-1 bytes of `value`, or null when it has characters Latin-1 cannot hold (the old field is kept then). */
function latin1(value: string): Buffer | null {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return null;
  return Buffer.from(value, "latin1");
}

function setField(out: Buffer, at: number, width: number, value: string | undefined): void {
  if (value === undefined) return;
  const bytes = latin1(value);
  if (bytes === null) return;
  out.fill(0, at, at + width);
  bytes.copy(out, at, 0, Math.min(width, bytes.length)); // ID3v1 fields are fixed width: longer values are cut, as every v1 writer does
}

/**
 * The origin's ID3v1 trailer with title/artist/album/year/track updated where the new values fit the format
 * (Latin-1, truncated to 30 bytes; track only in a v1.1 layout). Comment and the genre byte are kept as they were:
 * v1 genres are a fixed numbered list, and every reader prefers the ID3v2 TCON anyway.
 */
export function updateId3v1(original: Buffer, fields: OverlayFields): Buffer {
  const out = Buffer.from(original);
  setField(out, 3, 30, fields.title);
  setField(out, 33, 30, fields.artist);
  setField(out, 63, 30, fields.album);
  const year = fields.date?.slice(0, 4);
  if (year !== undefined && /^\d{4}$/.test(year)) out.write(year, 93, 4, "latin1");
  // v1.1 keeps the track in byte 126 behind a NUL at 125; a v1.0 comment using all 30 bytes leaves no room.
  if (fields.track !== undefined && fields.track <= 255 && out[125] === 0) out[126] = fields.track;
  return out;
}
