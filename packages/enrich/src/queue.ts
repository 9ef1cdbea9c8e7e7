/** design §4.3.5: one request per album; the worker enriches every file of the album in one pass. */
export interface EnrichmentRequest {
  albumKey: string;
  /** Display names used when the album has no albums row yet. */
  artist: string;
  album: string;
  /** The file whose access triggered the request, when there is one. */
  fileId?: number;
}

export type PushResult = "queued" | "duplicate" | "dropped" | "ineligible";

/**
 * The bounded queue of §4.3.5 with its in-flight set: an album is "in flight" from the moment it is
 * queued until the worker has finished it, so twelve simultaneous track opens make one request.
 */
export class EnrichmentQueue {
  private readonly items: EnrichmentRequest[] = [];
  private readonly inFlight = new Set<string>();
  private waiters: ((req: EnrichmentRequest | undefined) => void)[] = [];
  private closed = false;

  constructor(
    readonly capacity: number,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Never blocks: 'duplicate' when the album is already queued or being worked on, 'dropped' when full. */
  tryPush(req: EnrichmentRequest): Exclude<PushResult, "ineligible"> {
    if (this.inFlight.has(req.albumKey)) return "duplicate";
    if (this.closed || this.items.length >= this.capacity) return "dropped";
    this.inFlight.add(req.albumKey);
    const waiter = this.waiters.shift();
    if (waiter) waiter(req);
    else this.items.push(req);
    this.onChange();
    return "queued";
  }

  /** The next request, waiting for one; undefined once the queue is closed. */
  async take(): Promise<EnrichmentRequest | undefined> {
    const next = this.items.shift();
    if (next) {
      this.onChange();
      return next;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Called by the worker when an album is finished (whatever the outcome), so it may be requested again. */
  done(albumKey: string): void {
    this.inFlight.delete(albumKey);
    this.onChange();
  }

  isInFlight(albumKey: string): boolean {
    return this.inFlight.has(albumKey);
  }

  /** Stops taking pushes; queued requests are discarded (design §4.3.5 shutdown: they are re-queued on next access). */
  close(): void {
    this.closed = true;
    for (const req of this.items.splice(0)) this.inFlight.delete(req.albumKey);
    for (const w of this.waiters.splice(0)) w(undefined);
    this.onChange();
  }

  get depth(): number {
    return this.items.length;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
