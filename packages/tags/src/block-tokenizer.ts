import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { AbstractTokenizer, EndOfStreamError, type IFileInfo, type IReadChunkOptions } from "strtok3";

const BLOCK = 64 * 1024;
const MAX_CACHED_BLOCKS = 8;

/** Positional reads from an open file: a FileHandle on the main thread, a raw fd (blocking) in workers. */
export type FileSource = FileHandle | number;

function readFrom(source: FileSource, target: Uint8Array, length: number, position: number): Promise<number> | number {
  if (typeof source === "number") return readSync(source, target, 0, length, position);
  return source.read(target, 0, length, position).then((r) => r.bytesRead);
}

/**
 * A random-access tokenizer over an open file that serves reads from a small block cache.
 * music-metadata issues many small reads; one pread per 64 KiB block instead of one per token
 * is what makes scanning fast (a 128 KiB head read answers most files completely).
 */
export class BlockCacheTokenizer extends AbstractTokenizer {
  override fileInfo: IFileInfo;
  private readonly blocks = new Map<number, Buffer>();
  /** Bytes read from disk, for the scan's I/O accounting. */
  bytesRead = 0;
  /** Set when a parser skipped past the end of the file: its headers promise more than the file has. */
  ranPastEnd = false;

  constructor(
    private readonly source: FileSource,
    size: number,
    head: Buffer,
  ) {
    super();
    this.fileInfo = { size };
    for (let i = 0; i * BLOCK < head.length; i++) this.blocks.set(i, head.subarray(i * BLOCK, (i + 1) * BLOCK));
  }

  supportsRandomAccess(): boolean {
    return true;
  }

  setPosition(position: number): void {
    this.position = position;
  }

  override async readBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const norm = this.normalizeOptions(target, options);
    const n = await this.readAt(target, norm.length, norm.position, norm.mayBeLess === true);
    this.position = norm.position + n;
    return n;
  }

  override async peekBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const norm = this.normalizeOptions(target, options);
    return this.readAt(target, norm.length, norm.position, norm.mayBeLess === true);
  }

  override async ignore(length: number): Promise<number> {
    const remaining = (this.fileInfo.size ?? Number.POSITIVE_INFINITY) - this.position;
    if (length > remaining) this.ranPastEnd = true;
    return super.ignore(length);
  }

  private async readAt(target: Uint8Array, length: number, position: number, mayBeLess: boolean): Promise<number> {
    const size = this.fileInfo.size ?? Number.POSITIVE_INFINITY;
    const wanted = Math.max(0, Math.min(length, size - position));
    let done = 0;
    if (wanted > 2 * BLOCK) {
      // Large reads (a cover we were asked to decode, a whole chunk) bypass the cache.
      const bytesRead = await readFrom(this.source, target, wanted, position);
      this.bytesRead += bytesRead;
      done = bytesRead;
    } else {
      while (done < wanted) {
        const pos = position + done;
        const index = Math.floor(pos / BLOCK);
        const block = await this.block(index);
        const within = pos - index * BLOCK;
        if (within >= block.length) break;
        const n = Math.min(block.length - within, wanted - done);
        target.set(block.subarray(within, within + n), done);
        done += n;
      }
    }
    // Short reads the parser allowed (mayBeLess) are normal look-ahead near the end, not truncation.
    if (done < length && !mayBeLess) throw new EndOfStreamError();
    return done;
  }

  private async block(index: number): Promise<Buffer> {
    const cached = this.blocks.get(index);
    if (cached) return cached;
    const buf = Buffer.allocUnsafe(BLOCK);
    const bytesRead = await readFrom(this.source, buf, BLOCK, index * BLOCK);
    this.bytesRead += bytesRead;
    const block = buf.subarray(0, bytesRead);
    if (this.blocks.size >= MAX_CACHED_BLOCKS) {
      // Keep block 0 (headers are re-read from the start by several parsers); evict the oldest other.
      for (const key of this.blocks.keys()) {
        if (key !== 0) {
          this.blocks.delete(key);
          break;
        }
      }
    }
    this.blocks.set(index, block);
    return block;
  }
}
