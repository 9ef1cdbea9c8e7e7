import type { FileHandle } from "node:fs/promises";
import { MusicfsError } from "@musicfs/core";

/** First read of an origin's head; covers the tags of most files in one pread. */
const FIRST_READ = 64 * 1024;

/** Fills target[offset, offset+length) from the file at `position`; throws on EOF or I/O failure. */
export async function readExactly(fh: FileHandle, target: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(target, offset + done, length - done, position + done));
    } catch (cause) {
      throw new MusicfsError("IO_ERROR", `reading origin at ${position + done} failed`, { cause });
    }
    if (bytesRead === 0) throw new MusicfsError("IO_ERROR", `origin ended at ${position + done}, expected ${position + length}`);
    done += bytesRead;
  }
}

export function parseFailed(message: string, cause?: unknown): MusicfsError {
  return new MusicfsError("TAG_PARSE_FAILED", message, cause === undefined ? undefined : { cause });
}

/** The origin's leading bytes, read on demand so only the header region is ever loaded. */
export class HeadReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** Returns a buffer holding at least bytes [0, end); a header claiming more bytes than the file has is corrupt. */
  async upTo(end: number): Promise<Buffer> {
    if (end <= this.buf.length) return this.buf;
    if (end > this.size) throw parseFailed(`header runs past the end of the file (${end} > ${this.size})`);
    const want = Math.min(this.size, Math.max(end, FIRST_READ, this.buf.length * 2));
    const next = Buffer.allocUnsafe(want);
    this.buf.copy(next);
    await readExactly(this.fh, next, this.buf.length, want - this.buf.length, this.buf.length);
    this.buf = next;
    return next;
  }

  /** The last `length` bytes of the file (for ID3v1), or null when the file is shorter. */
  async tail(length: number): Promise<Buffer | null> {
    if (this.size < length) return null;
    const start = this.size - length;
    if (start + length <= this.buf.length) return this.buf.subarray(start, start + length);
    const out = Buffer.allocUnsafe(length);
    await readExactly(this.fh, out, 0, length, start);
    return out;
  }
}
