import type { MessageInitShape } from "@bufbuild/protobuf";
import type { EnrichmentSource as DbEnrichmentSource, FileModifiedEvent } from "@musicfs/db";
import { AlbumEnrichmentStatus, EnrichmentSource, EventKind, type WatchEventsResponseSchema } from "../gen/musicfs/v1/musicfs_pb.js";

export type ControlEvent = MessageInitShape<typeof WatchEventsResponseSchema>;

// biome-ignore lint/suspicious/noExplicitAny: matches Node's EventEmitter listener type, so an emitter fits as is
type Listener = (...args: any[]) => void;

/** Anything with on/off, e.g. a Node EventEmitter. */
export interface EventSource {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** The 'scanFinished' payload an event source may emit (a scan summary with its id and status). */
export interface ScanFinishedPayload {
  scanId: number | null;
  status?: string;
  interrupted?: boolean;
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  removed: number;
  errors: number;
}

/** The 'album' payload of the enrichment service (its AlbumOutcome, the fields used here). */
export interface AlbumOutcomePayload {
  albumKey: string;
  status: string;
  filesUpdated: number;
  providerAlbumId: string | null;
  via?: string;
}

export function sourceToProto(source: DbEnrichmentSource | string): EnrichmentSource {
  switch (source) {
    case "embedded":
      return EnrichmentSource.EMBEDDED;
    case "provider":
      return EnrichmentSource.PROVIDER;
    case "orchestrator":
      return EnrichmentSource.ORCHESTRATOR;
    default:
      return EnrichmentSource.UNSPECIFIED;
  }
}

export function albumStatusToProto(status: string): AlbumEnrichmentStatus {
  const map: Record<string, AlbumEnrichmentStatus> = {
    pending: AlbumEnrichmentStatus.PENDING,
    hit: AlbumEnrichmentStatus.HIT,
    miss: AlbumEnrichmentStatus.MISS,
    doubtful: AlbumEnrichmentStatus.DOUBTFUL,
    error: AlbumEnrichmentStatus.ERROR,
    skipped: AlbumEnrichmentStatus.SKIPPED,
  };
  return map[status] ?? AlbumEnrichmentStatus.UNSPECIFIED;
}

export function kindOf(event: ControlEvent): EventKind {
  switch (event.event?.case) {
    case "fileModified":
      return EventKind.FILE_MODIFIED;
    case "scanFinished":
      return EventKind.SCAN_FINISHED;
    case "enrichmentFinished":
      return EventKind.ENRICHMENT_FINISHED;
    default:
      return EventKind.UNSPECIFIED;
  }
}

export function fileModifiedEvent(e: FileModifiedEvent, now: number): ControlEvent {
  return {
    timeUnixMs: BigInt(now),
    event: {
      case: "fileModified",
      value: { fileId: BigInt(e.fileId), metadataVersion: BigInt(e.metadataVersion), source: sourceToProto(e.source) },
    },
  };
}

export function scanFinishedEvent(s: ScanFinishedPayload, now: number): ControlEvent {
  return {
    timeUnixMs: BigInt(now),
    event: {
      case: "scanFinished",
      value: {
        scanId: BigInt(s.scanId ?? 0),
        status: s.status ?? (s.interrupted ? "interrupted" : "completed"),
        added: BigInt(s.added),
        updated: BigInt(s.updated),
        unchanged: BigInt(s.unchanged),
        moved: BigInt(s.moved),
        removed: BigInt(s.removed),
        errors: BigInt(s.errors),
      },
    },
  };
}

export function enrichmentFinishedEvent(o: AlbumOutcomePayload, now: number): ControlEvent {
  return {
    timeUnixMs: BigInt(now),
    event: {
      case: "enrichmentFinished",
      value: {
        albumKey: o.albumKey,
        status: albumStatusToProto(o.status),
        filesUpdated: o.filesUpdated,
        ...(o.providerAlbumId ? { providerAlbumId: o.providerAlbumId } : {}),
      },
    },
  };
}

/** Fan-out of control events to WatchEvents streams (no replay: a subscriber sees what happens after it joined). */
export class EventHub {
  private readonly subscribers = new Set<(event: ControlEvent) => void>();

  subscribe(listener: (event: ControlEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  publish(event: ControlEvent): void {
    for (const s of this.subscribers) s(event);
  }

  get size(): number {
    return this.subscribers.size;
  }
}
