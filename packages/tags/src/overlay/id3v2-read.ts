import { inflateSync } from "node:zlib";
import type { HeadReader } from "./source.js";
import { parseFailed } from "./source.js";

/** One frame with its format flags undone (no unsynchronisation, compression or data length indicator). */
export interface Id3Frame {
  /** ID3v2.4 frame id (v2.2/v2.3 ids already mapped). */
  id: string;
  /** Frame content, byte-identical to the origin's once its format flags are undone. */
  body: Buffer;
  /** Status flags carried over to the rebuilt frame. */
  tagAlterDiscard: boolean;
  fileAlterDiscard: boolean;
  readOnly: boolean;
}

export interface Id3v2Tag {
  version: 2 | 3 | 4;
  /** Bytes the tag occupies in the file: header + body + footer. */
  length: number;
  /** Frames in file order, upgraded to ID3v2.4 (see upgradeFramesToV24). */
  frames: Id3Frame[];
}

const HEADER = 10;

function syncsafe(b: Buffer, at: number): number {
  return ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f);
}

/** Total length of the ID3v2 tag starting at `at` (header + body + footer), or null when none starts there. */
export function id3v2TagLength(b: Buffer, at: number): number | null {
  if (b.length < at + HEADER || b.toString("latin1", at, at + 3) !== "ID3") return null;
  const major = b[at + 3]!;
  if (major < 2 || major > 4 || b[at + 4] === 0xff) throw parseFailed(`unsupported ID3v2 version 2.${major}`);
  for (let i = 6; i < 10; i++) if (b[at + i]! >= 0x80) throw parseFailed("ID3v2 tag size is not syncsafe");
  const footer = major === 4 && (b[at + 5]! & 0x10) !== 0 ? HEADER : 0;
  return HEADER + syncsafe(b, at + 6) + footer;
}

/** Offset of the first byte after every ID3v2 tag starting at `at` (some taggers stack several). */
export async function skipId3v2Tags(src: HeadReader, at: number): Promise<number> {
  let pos = at;
  for (;;) {
    const b = await src.upTo(Math.min(src.size, pos + HEADER));
    const len = id3v2TagLength(b, pos);
    if (len === null) return pos;
    await src.upTo(pos + len);
    pos += len;
  }
}

/** Undoes unsynchronisation: every 0xFF 0x00 becomes 0xFF. */
export function removeUnsynchronisation(data: Buffer): Buffer {
  if (data.indexOf(0xff) < 0) return data;
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    out[o++] = c;
    if (c === 0xff && data[i + 1] === 0x00) i++;
  }
  return out.subarray(0, o);
}

interface FrameScan {
  frames: Id3Frame[];
  /** False when the scan stopped at bytes that are neither a frame nor padding. */
  clean: boolean;
  /** True when a frame claimed more bytes than the tag holds. */
  overrun: boolean;
}

const FRAME_ID4 = /^[A-Z0-9]{4}$/;
const FRAME_ID3 = /^[A-Z0-9]{3}$/;

function scanFrames(body: Buffer, start: number, version: 2 | 3 | 4, tagUnsync: boolean, syncsafeSizes: boolean): FrameScan {
  const frames: Id3Frame[] = [];
  const headerLen = version === 2 ? 6 : 10;
  let pos = start;
  while (pos + headerLen <= body.length) {
    if (body[pos] === 0) break; // padding
    const idLen = version === 2 ? 3 : 4;
    const id = body.toString("latin1", pos, pos + idLen);
    if (!(version === 2 ? FRAME_ID3 : FRAME_ID4).test(id)) return { frames, clean: false, overrun: false };
    const size =
      version === 2 ? body.readUIntBE(pos + 3, 3) : syncsafeSizes && version === 4 ? syncsafe(body, pos + 4) : body.readUInt32BE(pos + 4);
    const dataStart = pos + headerLen;
    if (dataStart + size > body.length) return { frames, clean: false, overrun: true };
    const data = body.subarray(dataStart, dataStart + size);
    const frame =
      version === 2
        ? v22Frame(id, data)
        : version === 3
          ? v23Frame(id, body[pos + 8]!, body[pos + 9]!, data)
          : v24Frame(id, body[pos + 8]!, body[pos + 9]!, data, tagUnsync);
    if (frame !== null) frames.push(frame);
    pos = dataStart + size;
  }
  return { frames, clean: true, overrun: false };
}

// ID3v2.2 three-character ids with a v2.3/2.4 equivalent; others (CRM, LNK, RVA, EQU) cannot be carried over.
const V22_IDS: Record<string, string> = {
  BUF: "RBUF",
  CNT: "PCNT",
  COM: "COMM",
  CRA: "AENC",
  ETC: "ETCO",
  GEO: "GEOB",
  IPL: "IPLS",
  MCI: "MCDI",
  MLL: "MLLT",
  PIC: "APIC",
  POP: "POPM",
  REV: "RVRB",
  SLT: "SYLT",
  STC: "SYTC",
  TAL: "TALB",
  TBP: "TBPM",
  TCM: "TCOM",
  TCO: "TCON",
  TCP: "TCMP",
  TCR: "TCOP",
  TDA: "TDAT",
  TDY: "TDLY",
  TEN: "TENC",
  TFT: "TFLT",
  TIM: "TIME",
  TKE: "TKEY",
  TLA: "TLAN",
  TLE: "TLEN",
  TMT: "TMED",
  TOA: "TOPE",
  TOF: "TOFN",
  TOL: "TOLY",
  TOR: "TORY",
  TOT: "TOAL",
  TP1: "TPE1",
  TP2: "TPE2",
  TP3: "TPE3",
  TP4: "TPE4",
  TPA: "TPOS",
  TPB: "TPUB",
  TRC: "TSRC",
  TRD: "TRDA",
  TRK: "TRCK",
  TS2: "TSO2",
  TSA: "TSOA",
  TSC: "TSOC",
  TSI: "TSIZ",
  TSP: "TSOP",
  TSS: "TSSE",
  TST: "TSOT",
  TT1: "TIT1",
  TT2: "TIT2",
  TT3: "TIT3",
  TXT: "TEXT",
  TXX: "TXXX",
  TYE: "TYER",
  UFI: "UFID",
  ULT: "USLT",
  WAF: "WOAF",
  WAR: "WOAR",
  WAS: "WOAS",
  WCM: "WCOM",
  WCP: "WCOP",
  WPB: "WPUB",
  WXX: "WXXX",
};

function v22Frame(id: string, data: Buffer): Id3Frame | null {
  const mapped = V22_IDS[id];
  if (mapped === undefined) return null;
  let body = data;
  if (mapped === "APIC") {
    // PIC: encoding, 3-char image format, picture type, ... ; APIC: encoding, MIME string + NUL, picture type, ...
    if (data.length < 5) return null;
    const fmt = data.toString("latin1", 1, 4).toLowerCase();
    const mime = fmt === "jpg" ? "image/jpeg" : fmt === "-->" ? "-->" : `image/${fmt.replace(/\0/g, "")}`;
    body = Buffer.concat([data.subarray(0, 1), Buffer.from(mime + "\0", "latin1"), data.subarray(4)]);
  }
  return { id: mapped, body, tagAlterDiscard: false, fileAlterDiscard: false, readOnly: false };
}

function v23Frame(id: string, status: number, format: number, data: Buffer): Id3Frame | null {
  let pos = 0;
  const compressed = (format & 0x80) !== 0;
  if (compressed) pos += 4; // decompressed size
  if ((format & 0x40) !== 0) return null; // encrypted: method unknown to us, cannot be carried over
  // Grouping ids are skipped and not written back: mutagen and others misread grouped frames, and nothing uses them.
  if ((format & 0x20) !== 0) pos += 1;
  if (pos > data.length) throw parseFailed(`ID3v2.3 frame ${id} is truncated`);
  const body = compressed ? inflate(id, data.subarray(pos)) : data.subarray(pos);
  return {
    id,
    body,
    tagAlterDiscard: (status & 0x80) !== 0,
    fileAlterDiscard: (status & 0x40) !== 0,
    readOnly: (status & 0x20) !== 0,
  };
}

function v24Frame(id: string, status: number, format: number, data: Buffer, tagUnsync: boolean): Id3Frame | null {
  let pos = 0;
  if ((format & 0x40) !== 0) pos += 1; // grouping id, dropped as in v23Frame
  if ((format & 0x04) !== 0) return null; // encrypted
  if ((format & 0x01) !== 0) pos += 4; // data length indicator
  if (pos > data.length) throw parseFailed(`ID3v2.4 frame ${id} is truncated`);
  let body = data.subarray(pos);
  if ((format & 0x02) !== 0 || tagUnsync) body = removeUnsynchronisation(body);
  if ((format & 0x08) !== 0) body = inflate(id, body);
  return {
    id,
    body,
    tagAlterDiscard: (status & 0x40) !== 0,
    fileAlterDiscard: (status & 0x20) !== 0,
    readOnly: (status & 0x10) !== 0,
  };
}

function inflate(id: string, data: Buffer): Buffer {
  try {
    return inflateSync(data);
  } catch (cause) {
    throw parseFailed(`compressed ID3v2 frame ${id} does not inflate`, cause);
  }
}

/** Parses the tag occupying b[at, at+length) (length from id3v2TagLength); frames come back upgraded to ID3v2.4. */
export function parseId3v2Tag(b: Buffer, at: number, length: number): Id3v2Tag {
  const version = b[at + 3]! as 2 | 3 | 4;
  const flags = b[at + 5]!;
  const unsync = (flags & 0x80) !== 0;
  if (version === 2 && (flags & 0x40) !== 0) throw parseFailed("ID3v2.2 tag uses the undefined compression scheme");
  const footer = version === 4 && (flags & 0x10) !== 0 ? HEADER : 0;
  let body = b.subarray(at + HEADER, at + length - footer);
  // v2.2/2.3 unsynchronise the whole tag; v2.4 does it per frame (the header flag then applies to every frame).
  if (unsync && version < 4) body = removeUnsynchronisation(body);
  let start = 0;
  if (version >= 3 && (flags & 0x40) !== 0) {
    if (body.length < 4) throw parseFailed("ID3v2 extended header is truncated");
    // v2.3 size excludes its own 4 bytes; v2.4 size is syncsafe and includes them.
    start = version === 3 ? 4 + body.readUInt32BE(0) : syncsafe(body, 0);
    if (start > body.length) throw parseFailed("ID3v2 extended header runs past the tag");
  }
  let scan = scanFrames(body, start, version, unsync, true);
  if (version === 4 && !scan.clean) {
    // iTunes and others wrote v2.4 frame sizes as plain integers; take that reading when it parses cleanly.
    const plain = scanFrames(body, start, version, unsync, false);
    if (plain.clean) scan = plain;
  }
  if (scan.overrun) throw parseFailed("ID3v2 frame runs past the end of the tag");
  return { version, length, frames: upgradeFramesToV24(scan.frames, version) };
}

const DROPPED_IN_V24 = new Set(["EQUA", "RVAD", "TSIZ", "TRDA", "TDAT", "TIME", "TYER"]);

/** ID3v2.2/2.3 frames rewritten as ID3v2.4 ones (TYER+TDAT+TIME -> TDRC, TORY -> TDOR, IPLS -> TIPL); bodies untouched. */
export function upgradeFramesToV24(frames: Id3Frame[], version: 2 | 3 | 4): Id3Frame[] {
  if (version === 4) return frames;
  const firstText = (id: string) => {
    const f = frames.find((x) => x.id === id);
    return f === undefined ? undefined : decodeTextFrame(f.body)[0];
  };
  const hasTdrc = frames.some((f) => f.id === "TDRC");
  const tdrc = hasTdrc ? undefined : v23Timestamp(firstText("TYER"), firstText("TDAT"), firstText("TIME"));
  const out: Id3Frame[] = [];
  for (const f of frames) {
    if (f.id === "TYER" && tdrc !== undefined) out.push({ ...f, id: "TDRC", body: encodeTextFrame([tdrc]) });
    else if (f.id === "TORY") out.push({ ...f, id: "TDOR" });
    else if (f.id === "IPLS") out.push({ ...f, id: "TIPL" });
    else if (!DROPPED_IN_V24.has(f.id)) out.push(f);
  }
  return out;
}

function v23Timestamp(year: string | undefined, ddmm: string | undefined, hhmm: string | undefined): string | undefined {
  const y = year?.trim();
  if (y === undefined || !/^\d{4}$/.test(y)) return y === undefined || y === "" ? undefined : y;
  const d = ddmm?.trim();
  if (d === undefined || !/^\d{4}$/.test(d)) return y;
  const date = `${y}-${d.slice(2, 4)}-${d.slice(0, 2)}`;
  const t = hhmm?.trim();
  return t !== undefined && /^\d{4}$/.test(t) ? `${date}T${t.slice(0, 2)}:${t.slice(2, 4)}` : date;
}

/** Decodes a string in one of the four ID3v2 text encodings. */
export function decodeId3String(encoding: number, bytes: Buffer): string {
  switch (encoding) {
    case 0:
      return bytes.toString("latin1");
    case 1: {
      if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return utf16be(bytes.subarray(2));
      if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.toString("utf16le", 2);
      return bytes.toString("utf16le");
    }
    case 2:
      return utf16be(bytes);
    default:
      return bytes.toString("utf8");
  }
}

function utf16be(bytes: Buffer): string {
  const swapped = Buffer.from(bytes.subarray(0, bytes.length & ~1));
  return swapped.swap16().toString("utf16le");
}

/** Splits b[from..] at the encoding's terminator; returns the string bytes and where the rest begins. */
export function splitTerminated(encoding: number, b: Buffer, from: number): { value: Buffer; next: number } {
  if (encoding === 1 || encoding === 2) {
    for (let i = from; i + 1 < b.length; i += 2) if (b[i] === 0 && b[i + 1] === 0) return { value: b.subarray(from, i), next: i + 2 };
    return { value: b.subarray(from), next: b.length };
  }
  const i = b.indexOf(0, from);
  return i < 0 ? { value: b.subarray(from), next: b.length } : { value: b.subarray(from, i), next: i + 1 };
}

/** The values of a text frame (T***, not TXXX); trailing empty values from terminators are dropped. */
export function decodeTextFrame(body: Buffer): string[] {
  if (body.length === 0) return [];
  const enc = body[0]!;
  const values: string[] = [];
  let pos = 1;
  while (pos < body.length) {
    const { value, next } = splitTerminated(enc, body, pos);
    values.push(decodeId3String(enc, value));
    pos = next;
  }
  while (values.length > 0 && values[values.length - 1] === "") values.pop();
  return values;
}

/** The description of a TXXX (or WXXX) frame. */
export function userFrameDescription(body: Buffer): string {
  if (body.length === 0) return "";
  const enc = body[0]!;
  return decodeId3String(enc, splitTerminated(enc, body, 1).value);
}

/** A text frame body in UTF-8 (encoding 3); ID3v2.4 separates multiple values with NUL. */
export function encodeTextFrame(values: readonly string[]): Buffer {
  return Buffer.concat([Buffer.of(3), Buffer.from(values.join("\0"), "utf8")]);
}

/** A TXXX body: UTF-8 description, NUL, UTF-8 value. */
export function encodeUserTextFrame(description: string, value: string): Buffer {
  return Buffer.concat([Buffer.of(3), Buffer.from(`${description}\0${value}`, "utf8")]);
}
