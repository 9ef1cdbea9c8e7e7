import { MusicfsError } from "@musicfs/core";
import type { OverlayFields } from "./fields.js";
import { skipId3v2Tags } from "./id3v2-read.js";
import { type HeadReader, parseFailed } from "./source.js";
import type { OverlayLayout } from "./types.js";

/** Padding body of a rebuilt header whose comment no longer fits in the origin's comment + padding bytes. */
export const FLAC_PADDING = 4096;

const STREAMINFO = 0;
const PADDING = 1;
const VORBIS_COMMENT = 4;
const INVALID = 127;
const MAX_BLOCK = 0xffffff;

interface MetadataBlock {
  type: number;
  /** The block's body (without its 4-byte header), a view into the origin's head. */
  body: Buffer;
}

/** Walks the metadata blocks; returns them and the offset of the first audio frame. */
async function readMetadataBlocks(src: HeadReader): Promise<{ blocks: MetadataBlock[]; audioOffset: number }> {
  // Some taggers prepend an ID3v2 tag to FLAC; it is skipped (and not served).
  let pos = await skipId3v2Tags(src, 0);
  let b = await src.upTo(pos + 4);
  if (b.toString("latin1", pos, pos + 4) !== "fLaC") throw parseFailed("no fLaC marker");
  pos += 4;
  const blocks: MetadataBlock[] = [];
  for (;;) {
    b = await src.upTo(pos + 4);
    const last = (b[pos]! & 0x80) !== 0;
    const type = b[pos]! & 0x7f;
    const length = b.readUIntBE(pos + 1, 3);
    if (type === INVALID) throw parseFailed("invalid FLAC metadata block type 127");
    b = await src.upTo(pos + 4 + length);
    blocks.push({ type, body: b.subarray(pos + 4, pos + 4 + length) });
    pos += 4 + length;
    if (last) break;
  }
  const first = blocks[0];
  if (first === undefined || first.type !== STREAMINFO || first.body.length !== 34)
    throw parseFailed("FLAC does not start with a STREAMINFO block");
  if (blocks.some((x, i) => i > 0 && x.type === STREAMINFO)) throw parseFailed("FLAC has more than one STREAMINFO block");
  // Bodies stay valid views: HeadReader copies into a new buffer as it grows and never rewrites an old one.
  return { blocks, audioOffset: pos };
}

interface VorbisComment {
  vendor: Buffer;
  /** Raw "NAME=value" entries, kept byte for byte. */
  entries: Buffer[];
}

function parseVorbisComment(body: Buffer): VorbisComment {
  const fail = () => parseFailed("FLAC VORBIS_COMMENT block is truncated");
  if (body.length < 8) throw fail();
  const vendorLength = body.readUInt32LE(0);
  let pos = 4 + vendorLength;
  if (pos + 4 > body.length) throw fail();
  const vendor = body.subarray(4, pos);
  const count = body.readUInt32LE(pos);
  pos += 4;
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 4 > body.length) throw fail();
    const length = body.readUInt32LE(pos);
    if (pos + 4 + length > body.length) throw fail();
    entries.push(body.subarray(pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  return { vendor, entries };
}

function entryName(entry: Buffer): string {
  const eq = entry.indexOf(0x3d); // "="
  return entry.toString("latin1", 0, eq < 0 ? entry.length : eq).toUpperCase();
}

/** Picard's Vorbis names for the set fields; a set field also clears the aliases readers confuse with it. */
function vorbisFields(fields: OverlayFields): { set: [string, string][]; clear: Set<string> } {
  const set: [string, string][] = [];
  const clear = new Set<string>();
  const put = (name: string, value: string | number | undefined, aliases: string[] = []) => {
    if (value === undefined) return;
    set.push([name, String(value)]);
    clear.add(name);
    for (const a of aliases) clear.add(a);
  };
  put("TITLE", fields.title);
  put("ARTIST", fields.artist);
  put("ALBUM", fields.album);
  put("ALBUMARTIST", fields.albumartist);
  put("TRACKNUMBER", fields.track);
  put("TRACKTOTAL", fields.trackTotal, ["TOTALTRACKS"]);
  put("DISCNUMBER", fields.disc);
  put("DISCTOTAL", fields.discTotal, ["TOTALDISCS"]);
  put("DATE", fields.date, ["YEAR"]);
  for (const g of fields.genres ?? []) put("GENRE", g);
  put("LABEL", fields.label);
  put("RELEASETYPE", fields.albumType);
  put("MUSICBRAINZ_RELEASEGROUPID", fields.mbReleaseGroupId);
  put("MUSICBRAINZ_ALBUMID", fields.mbAlbumId);
  return { set, clear };
}

/** The origin's comments minus those being replaced, plus the new ones (appended, so re-overlaying is stable). */
function mergeVorbisComment(original: VorbisComment | undefined, fields: OverlayFields): Buffer {
  const { set, clear } = vorbisFields(fields);
  const kept = (original?.entries ?? []).filter((e) => !clear.has(entryName(e)));
  const entries = [...kept, ...set.map(([name, value]) => Buffer.from(`${name}=${value}`, "utf8"))];
  const vendor = original?.vendor ?? Buffer.from("musicfs", "utf8");
  const parts: Buffer[] = [u32le(vendor.length), vendor, u32le(entries.length)];
  for (const e of entries) parts.push(u32le(e.length), e);
  return Buffer.concat(parts);
}

function u32le(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function blockHeader(type: number, length: number, last: boolean): Buffer {
  return Buffer.of((last ? 0x80 : 0) | type, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}

/**
 * FLAC overlay: STREAMINFO first, every other block (SEEKTABLE, PICTURE, CUESHEET, APPLICATION, ...) byte-identical
 * in its original order, VORBIS_COMMENT merged in place (after STREAMINFO when the origin had none), PADDING last.
 * When the new comment fits in the origin's comment + padding bytes the header keeps the origin's length.
 */
export async function overlayFlac(src: HeadReader, fields: OverlayFields): Promise<OverlayLayout> {
  const { blocks, audioOffset } = await readMetadataBlocks(src);
  const comments = blocks.filter((x) => x.type === VORBIS_COMMENT);
  // Several VORBIS_COMMENT blocks are illegal; readers use the first, so that one is merged and the rest dropped.
  const firstComment = comments[0];
  const comment = mergeVorbisComment(firstComment === undefined ? undefined : parseVorbisComment(firstComment.body), fields);
  if (comment.length > MAX_BLOCK) throw new MusicfsError("INVALID_ARGUMENT", "Vorbis comment exceeds the FLAC block size limit");

  let budget = 0; // bytes (with headers) the origin spent on comments and padding
  const layout: MetadataBlock[] = [];
  for (const x of blocks) {
    if (x.type === VORBIS_COMMENT || x.type === PADDING) budget += 4 + x.body.length;
    if (x.type === PADDING || (x.type === VORBIS_COMMENT && x !== firstComment)) continue;
    layout.push(x === firstComment ? { type: VORBIS_COMMENT, body: comment } : x);
  }
  if (firstComment === undefined) layout.splice(1, 0, { type: VORBIS_COMMENT, body: comment });
  const left = budget - (4 + comment.length);
  if (left >= 4) layout.push({ type: PADDING, body: Buffer.alloc(left - 4) });
  else if (left !== 0) layout.push({ type: PADDING, body: Buffer.alloc(FLAC_PADDING) });

  const parts: Buffer[] = [Buffer.from("fLaC", "latin1")];
  layout.forEach((x, i) => {
    parts.push(blockHeader(x.type, x.body.length, i === layout.length - 1), x.body);
  });
  const header = Buffer.concat(parts);
  return {
    header,
    originAudioOffset: audioOffset,
    originAudioEnd: src.size,
    trailer: Buffer.alloc(0),
    size: header.length + (src.size - audioOffset),
  };
}
