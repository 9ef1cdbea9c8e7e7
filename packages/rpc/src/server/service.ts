import { EventEmitter } from "node:events";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { type Clock, describeError, isMusicfsError, type Logger, systemClock } from "@musicfs/core";
import {
  albumKey,
  applyOrchestratorWrite,
  clearOrchestratorOverrides,
  type EmbeddedTagValues,
  type FileMetadataRecord,
  type FileModifiedEvent,
  type FileTarget,
  fileIdByPath,
  fileIdsOfAlbum,
  type Library,
  overriddenFileIds,
  readFileMetadata,
} from "@musicfs/db";
import { rereadFile } from "@musicfs/scan";
import type {
  AlbumSelector,
  FileMetadataSchema,
  MusicfsService,
  UpdateMetadataRequest,
  UpdateMetadataResponseSchema,
  WatchEventsRequest,
} from "../gen/musicfs/v1/musicfs_pb.js";
import { listAlbumPage, pageSizeOf } from "./albums.js";
import {
  type AlbumOutcomePayload,
  type ControlEvent,
  EventHub,
  type EventSource,
  enrichmentFinishedEvent,
  fileModifiedEvent,
  kindOf,
  type ScanFinishedPayload,
  scanFinishedEvent,
  sourceToProto,
} from "./events.js";
import { buildStatus, type LiveEnrichment, type ProviderSettings, RateWindow } from "./status.js";
import { checkText, invalidArgument, overrideValuesOf, UPDATE_LIMITS } from "./validate.js";

export interface ControlDeps {
  lib: Library;
  log: Logger;
  clock?: Clock;
  /** The running enrichment service (mount, enrich --daemon): live queue, counters, latency, events. */
  enrichment?: LiveEnrichment | undefined;
  /** Other sources of 'fileModified' (FileModifiedEvent) and 'scanFinished' (ScanSummary) events, e.g. the scanner. */
  events?: EventSource | undefined;
  /** Given by the mount: the file behind a path inside it (relative to its root), or undefined. */
  resolveVirtualPath?: ((virtualPath: string) => number | undefined) | undefined;
  /** [metadata_provider] settings, for GetStatus (endpoint, queue capacity, retry_max of the backlog). */
  provider?: ProviderSettings | undefined;
}

export interface ControlService {
  impl: ServiceImpl<typeof MusicfsService>;
  /**
   * 'fileModified' (FileModifiedEvent) for every write made through the control API (UpdateMetadata,
   * BatchUpdateMetadata, ClearOverride): the mount listens to refresh at once.
   */
  events: EventEmitter;
  /** WatchEvents streams open now. */
  watchers(): number;
  /** Detaches from the event sources. */
  close(): void;
}

/** WatchEvents: a stream more than this many events behind is ended with RESOURCE_EXHAUSTED. */
const MAX_PENDING_EVENTS = 10_000;

type FileMetadataInit = MessageInitShape<typeof FileMetadataSchema>;
type UpdateResult = MessageInitShape<typeof UpdateMetadataResponseSchema>;

function notFound(message: string): ConnectError {
  return new ConnectError(message, Code.NotFound);
}

/** Connect error for anything a handler throws: MusicfsError codes map to their gRPC equivalents. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isMusicfsError(err)) {
    const code =
      err.code === "NOT_FOUND"
        ? Code.NotFound
        : err.code === "INVALID_ARGUMENT" || err.code === "USAGE"
          ? Code.InvalidArgument
          : err.code === "UNAUTHENTICATED"
            ? Code.Unauthenticated
            : err.code === "DB_LOCKED"
              ? Code.Unavailable
              : Code.Internal;
    return new ConnectError(err.message, code, undefined, undefined, err);
  }
  return new ConnectError(describeError(err), Code.Internal, undefined, undefined, err);
}

function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

function fileIdOf(value: bigint): number {
  if (value <= 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`file_id must be a positive integer, got ${value}`);
  return Number(value);
}

function opt<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

export function toFileMetadata(r: FileMetadataRecord): FileMetadataInit {
  return {
    fileId: BigInt(r.fileId),
    originPath: r.originPath,
    format: r.format ?? "",
    durationSeconds: r.duration ?? 0,
    title: opt(r.title),
    artist: opt(r.artist),
    album: opt(r.album),
    albumartist: opt(r.albumartist),
    track: opt(r.track),
    trackTotal: opt(r.trackTotal),
    disc: opt(r.disc),
    discTotal: opt(r.discTotal),
    year: opt(r.year),
    date: opt(r.date),
    genre: opt(r.genre),
    genres: r.genres,
    compilation: r.compilation,
    musicbrainzTrackId: opt(r.mbTrackId),
    musicbrainzAlbumId: opt(r.mbAlbumId),
    musicbrainzReleaseGroupId: opt(r.mbReleaseGroupId),
    musicbrainzArtistId: opt(r.mbArtistId),
    musicbrainzAlbumartistId: opt(r.mbAlbumArtistId),
    label: opt(r.label),
    albumType: opt(r.albumType),
    coverUrl: opt(r.coverUrl),
    releaseDate: opt(r.releaseDate),
    totalTracks: opt(r.totalTracks),
    totalDiscs: opt(r.totalDiscs),
    providerAlbumId: opt(r.providerAlbumId),
    enrichmentSource: sourceToProto(r.enrichmentSource),
    // The column holds Unix ms; the API speaks seconds.
    enrichedAt: r.enrichedAt === null ? undefined : BigInt(Math.floor(r.enrichedAt / 1000)),
    enrichmentAttempts: r.enrichmentAttempts,
    lastEnrichmentError: opt(r.lastEnrichmentError),
    metadataVersion: BigInt(r.metadataVersion),
    albumKey: opt(r.albumKey),
    overriddenFields: r.overriddenFields,
  };
}

/** The MusicfsService implementation over a library; served by startControlServer or used in-process. */
export function createControlService(deps: ControlDeps): ControlService {
  const { lib, log } = deps;
  const clock = deps.clock ?? systemClock;
  const hub = new EventHub();
  const writes = new EventEmitter();
  const rate = new RateWindow();
  const detach: (() => void)[] = [];

  function listen<T>(source: EventSource | undefined, name: string, handler: (payload: T) => void): void {
    if (!source) return;
    const listener = (payload: unknown) => {
      try {
        handler(payload as T);
      } catch (err) {
        log.error({ err: describeError(err), event: name }, "control API could not forward an event");
      }
    };
    source.on(name, listener);
    detach.push(() => source.off(name, listener));
  }
  listen<FileModifiedEvent>(deps.enrichment?.events, "fileModified", (e) => hub.publish(fileModifiedEvent(e, clock.now())));
  listen<AlbumOutcomePayload>(deps.enrichment?.events, "album", (o) => {
    if (o.via !== "none") rate.record(clock.now());
    hub.publish(enrichmentFinishedEvent(o, clock.now()));
  });
  listen<FileModifiedEvent>(deps.events, "fileModified", (e) => hub.publish(fileModifiedEvent(e, clock.now())));
  listen<ScanFinishedPayload>(deps.events, "scanFinished", (s) => hub.publish(scanFinishedEvent(s, clock.now())));

  function announce(modified: FileModifiedEvent[]): void {
    const now = clock.now();
    for (const m of modified) {
      writes.emit("fileModified", m);
      hub.publish(fileModifiedEvent(m, now));
    }
  }

  function albumKeyOf(selector: AlbumSelector | undefined): string {
    const key =
      selector &&
      albumKey({
        albumartist: checkText("album_selector.artist", selector.artist),
        album: checkText("album_selector.album", selector.album),
      });
    if (!key) throw invalidArgument("album_selector needs both artist and album");
    if (fileIdsOfAlbum(lib, key).length === 0) throw notFound(`no album "${selector?.album}" by "${selector?.artist}" in the library`);
    return key;
  }

  function fileByPath(path: string): number {
    checkText("origin_path", path, 4096);
    const id = fileIdByPath(lib, path);
    if (id === undefined) throw notFound(`no library file at ${path}`);
    return id;
  }

  function existingFile(id: number): number {
    if (!readFileMetadata(lib, id)) throw notFound(`no file with id ${id}`);
    return id;
  }

  type Target =
    | { case: "fileId"; value: bigint }
    | { case: "originPath"; value: string }
    | { case: "albumSelector"; value: AlbumSelector }
    | { case: undefined; value?: undefined };

  function resolveTarget(target: Target): FileTarget {
    switch (target.case) {
      case "fileId":
        return { fileIds: [existingFile(fileIdOf(target.value))] };
      case "originPath":
        return { fileIds: [fileByPath(target.value)] };
      case "albumSelector":
        return { albumKey: albumKeyOf(target.value) };
      default:
        throw invalidArgument("no target: set file_id, origin_path or album_selector");
    }
  }

  function update(req: UpdateMetadataRequest): UpdateResult {
    const target = resolveTarget(req.target);
    const values = overrideValuesOf(req);
    const modified = applyOrchestratorWrite(lib, target, values, clock.now());
    if (modified.length === 0) throw notFound("the target has no files");
    announce(modified);
    log.info({ files: modified.length, fields: Object.keys(values) }, "orchestrator metadata written");
    return { filesUpdated: modified.length, fileIds: modified.map((m) => BigInt(m.fileId)) };
  }

  async function* watch(req: WatchEventsRequest, ctx: HandlerContext): AsyncGenerator<ControlEvent> {
    const kinds = new Set(req.kinds);
    const pending: ControlEvent[] = [];
    let overflow = false;
    let wake: (() => void) | undefined;
    const unsubscribe = hub.subscribe((event) => {
      if (kinds.size > 0 && !kinds.has(kindOf(event))) return;
      if (pending.length >= MAX_PENDING_EVENTS) overflow = true;
      else pending.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    ctx.signal.addEventListener("abort", onAbort);
    try {
      while (!ctx.signal.aborted) {
        if (overflow) throw new ConnectError("the client fell too far behind the events; watch again", Code.ResourceExhausted);
        const next = pending.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  const impl: ServiceImpl<typeof MusicfsService> = {
    getMetadata(req) {
      let fileId: number;
      switch (req.selector.case) {
        case "fileId":
          fileId = fileIdOf(req.selector.value);
          break;
        case "originPath":
          fileId = fileByPath(req.selector.value);
          break;
        case "virtualPath": {
          if (!deps.resolveVirtualPath) {
            throw new ConnectError("virtual paths are known only to a running `musicfs mount`", Code.FailedPrecondition);
          }
          checkText("virtual_path", req.selector.value, 4096);
          const path = req.selector.value.replace(/^\/+/, "");
          const id = deps.resolveVirtualPath(path);
          if (id === undefined) throw notFound(`no file at ${path} in the mount`);
          fileId = id;
          break;
        }
        default:
          throw invalidArgument("no selector: set file_id, virtual_path or origin_path");
      }
      const record = readFileMetadata(lib, fileId);
      if (!record) throw notFound(`no file with id ${fileId}`);
      return { metadata: toFileMetadata(record) };
    },

    updateMetadata: (req) => update(req),

    batchUpdateMetadata(req) {
      if (req.requests.length > UPDATE_LIMITS.batch) {
        throw invalidArgument(`at most ${UPDATE_LIMITS.batch} requests per batch, got ${req.requests.length}`);
      }
      return {
        results: req.requests.map((item) => {
          try {
            return { outcome: { case: "updated" as const, value: update(item) } };
          } catch (err) {
            const e = toConnectError(err);
            if (e.code === Code.Internal) log.error({ err: describeError(err) }, "batch item failed");
            return { outcome: { case: "error" as const, value: { code: codeName(e.code), message: e.rawMessage } } };
          }
        }),
      };
    },

    async clearOverride(req) {
      const target = resolveTarget(req.target);
      const ids = overriddenFileIds(lib, target);
      const tags = new Map<number, EmbeddedTagValues>();
      for (const id of ids) {
        try {
          tags.set(id, await rereadFile(lib, id));
        } catch (err) {
          // The file keeps its current tags; the next scan reads it (or drops it) anyway.
          log.warn({ fileId: id, err: describeError(err) }, "cannot re-read the file's embedded tags; clearing its override anyway");
        }
      }
      const cleared = clearOrchestratorOverrides(lib, ids, tags, clock.now());
      announce(cleared);
      // Eligible for the provider again (design §4.3.7): queue the albums now rather than at the next access.
      const queued = new Set<string>();
      for (const c of cleared) {
        const r = readFileMetadata(lib, c.fileId);
        if (!r?.albumKey || !r.album || !(r.albumartist || r.artist) || queued.has(r.albumKey)) continue;
        queued.add(r.albumKey);
        deps.enrichment?.queue.tryPush({
          artist: r.artist ?? r.albumartist ?? "",
          album: r.album,
          albumartist: r.albumartist,
          albumKey: r.albumKey,
        });
      }
      return { filesCleared: cleared.length, fileIds: cleared.map((c) => BigInt(c.fileId)) };
    },

    listAlbums(req) {
      if (req.filter !== undefined) checkText("filter", req.filter);
      const page = listAlbumPage(lib, {
        query: req.filter,
        genreAndLabel: false,
        pageSize: pageSizeOf(req.pageSize),
        pageToken: req.pageToken,
      });
      return { albums: page.albums, nextPageToken: page.nextPageToken, totalCount: BigInt(page.totalCount) };
    },

    search(req) {
      if (checkText("query", req.query) === null) throw invalidArgument("query is empty");
      const page = listAlbumPage(lib, {
        query: req.query,
        genreAndLabel: true,
        pageSize: pageSizeOf(req.pageSize),
        pageToken: req.pageToken,
      });
      return { albums: page.albums, nextPageToken: page.nextPageToken };
    },

    getStatus: () => buildStatus(lib, { enrichment: deps.enrichment, provider: deps.provider, rate, now: clock.now() }),

    watchEvents: (req, ctx) => watch(req, ctx),
  };

  return {
    impl,
    events: writes,
    watchers: () => hub.size,
    close() {
      for (const d of detach.splice(0)) d();
    },
  };
}
