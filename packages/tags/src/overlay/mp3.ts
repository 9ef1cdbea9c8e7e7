import type { OverlayFields } from "./fields.js";
import { ID3V1_LENGTH, isId3v1, updateId3v1 } from "./id3v1.js";
import {
  decodeTextFrame,
  encodeTextFrame,
  encodeUserTextFrame,
  type Id3Frame,
  id3v2TagLength,
  parseId3v2Tag,
  skipId3v2Tags,
  userFrameDescription,
} from "./id3v2-read.js";
import { id3v24TagLength, writeId3v24Tag } from "./id3v2-write.js";
import type { HeadReader } from "./source.js";
import type { OverlayLayout } from "./types.js";

/** Padding of a rebuilt tag that no longer fits in the origin's tag. */
export const ID3V2_PADDING = 1024;

// Picard's TXXX descriptions (matched case-insensitively, as Picard does).
const TXXX_ALBUM_TYPE = "MusicBrainz Album Type";
const TXXX_RELEASE_GROUP = "MusicBrainz Release Group Id";
const TXXX_ALBUM_ID = "MusicBrainz Album Id";

function newFrame(id: string, body: Buffer): Id3Frame {
  return { id, body, tagAlterDiscard: false, fileAlterDiscard: false, readOnly: false };
}

/** "n" or "n/total", merging what is set with what the origin's TRCK/TPOS said. */
function numberPair(original: Id3Frame | undefined, n: number | undefined, total: number | undefined): string | undefined {
  if (n === undefined && total === undefined) return undefined;
  const [origN, origTotal] = (original === undefined ? "" : (decodeTextFrame(original.body)[0] ?? "")).split("/");
  const num = n ?? (origN !== undefined && /^\d+$/.test(origN.trim()) ? Number(origN) : undefined);
  if (num === undefined) return undefined; // "/12" alone is not a valid TRCK
  const tot = total ?? (origTotal !== undefined && /^\d+$/.test(origTotal.trim()) ? Number(origTotal) : undefined);
  return tot === undefined ? String(num) : `${num}/${tot}`;
}

/**
 * The origin's frames with the set fields replaced (Picard's frames: TIT2 TPE1 TALB TPE2 TRCK TPOS TDRC TCON TPUB
 * and TXXX:MusicBrainz Album Type / Release Group Id / Album Id). Replaced frames are dropped wherever they were and
 * the new ones appended, so overlaying an overlaid file yields the same frames.
 */
export function mergeId3Frames(original: readonly Id3Frame[], fields: OverlayFields): Id3Frame[] {
  const replace = new Map<string, Buffer>();
  const text = (id: string, value: string | undefined) => {
    if (value !== undefined) replace.set(id, encodeTextFrame([value]));
  };
  text("TIT2", fields.title);
  text("TPE1", fields.artist);
  text("TALB", fields.album);
  text("TPE2", fields.albumartist);
  text(
    "TRCK",
    numberPair(
      original.find((f) => f.id === "TRCK"),
      fields.track,
      fields.trackTotal,
    ),
  );
  text(
    "TPOS",
    numberPair(
      original.find((f) => f.id === "TPOS"),
      fields.disc,
      fields.discTotal,
    ),
  );
  text("TDRC", fields.date);
  if (fields.genres !== undefined) replace.set("TCON", encodeTextFrame(fields.genres));
  text("TPUB", fields.label);

  const userText = new Map<string, string>();
  if (fields.albumType !== undefined) userText.set(TXXX_ALBUM_TYPE, fields.albumType);
  if (fields.mbReleaseGroupId !== undefined) userText.set(TXXX_RELEASE_GROUP, fields.mbReleaseGroupId);
  if (fields.mbAlbumId !== undefined) userText.set(TXXX_ALBUM_ID, fields.mbAlbumId);
  const replacedDescriptions = new Set([...userText.keys()].map((d) => d.toLowerCase()));

  const kept = original.filter((f) => {
    if (replace.has(f.id)) return false;
    if (f.id === "TXXX" && replacedDescriptions.has(userFrameDescription(f.body).toLowerCase())) return false;
    return true;
  });
  for (const [id, body] of replace) kept.push(newFrame(id, body));
  for (const [description, value] of userText) kept.push(newFrame("TXXX", encodeUserTextFrame(description, value)));
  return kept;
}

/**
 * MP3 overlay: the origin's leading ID3v2 tag(s) replaced by one ID3v2.4 tag, the ID3v1 trailer (if any) updated.
 * The new tag takes the origin tag's length when it fits (so the served size stays put), else frames + ID3V2_PADDING.
 */
export async function overlayMp3(src: HeadReader, fields: OverlayFields): Promise<OverlayLayout> {
  const head = await src.upTo(Math.min(src.size, 10));
  const firstLength = id3v2TagLength(head, 0);
  let frames: Id3Frame[] = [];
  if (firstLength !== null) {
    const b = await src.upTo(firstLength);
    frames = parseId3v2Tag(b, 0, firstLength).frames;
  }
  // Tags stacked behind the first are dropped, as readers (mutagen, music-metadata) only see the first.
  const audioOffset = firstLength === null ? 0 : await skipId3v2Tags(src, 0);
  const merged = mergeId3Frames(frames, fields);
  const needed = id3v24TagLength(merged);
  const header = writeId3v24Tag(merged, needed <= audioOffset ? audioOffset : needed + ID3V2_PADDING);

  let audioEnd = src.size;
  let trailer: Buffer = Buffer.alloc(0);
  if (src.size - audioOffset >= ID3V1_LENGTH) {
    const tail = await src.tail(ID3V1_LENGTH);
    if (isId3v1(tail)) {
      audioEnd = src.size - ID3V1_LENGTH;
      trailer = updateId3v1(tail, fields);
    }
  }
  return {
    header,
    originAudioOffset: audioOffset,
    originAudioEnd: audioEnd,
    trailer,
    size: header.length + (audioEnd - audioOffset) + trailer.length,
  };
}
