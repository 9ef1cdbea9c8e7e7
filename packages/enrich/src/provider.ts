import { type MetadataProviderConfig, MusicfsError } from "@musicfs/core";
import { type Album, Code, ConnectError, createAgregatorClient, createAgregatorTransport } from "@musicfs/rpc";
import { type AlbumQuery, chooseMatch, creditText } from "./match.js";

/** Design §4.3.2: what a matched album adds to its files. */
export interface EnrichedMetadata {
  genres: string[];
  label: string | null;
  albumType: string | null;
  coverUrl: string | null;
  releaseDate: string | null;
  totalTracks: number | null;
  totalDiscs: number | null;
}

/** A verified search result, as cached in provider_albums. */
export interface ProviderAlbum {
  providerAlbumId: string;
  title: string;
  artists: string[];
  /** The credit as printed, e.g. "Simon & Garfunkel". */
  credit: string;
  metadata: EnrichedMetadata;
}

export interface DoubtfulCandidate {
  providerAlbumId: string;
  title: string;
  artists: string;
  score: number;
  reason: string;
}

export type LookupOutcome =
  | { kind: "hit"; album: ProviderAlbum; reason: string }
  | { kind: "miss"; candidates: DoubtfulCandidate[]; resultCount: number };

/** How a failed call is treated: the first three are transient and retried with backoff. */
export type ProviderErrorKind = "unreachable" | "deadline" | "overloaded" | "bad_response";

/** The album search the worker depends on; tests may pass any implementation. */
export interface MetadataProvider {
  lookup(artist: string, album: string, hints?: LookupHints): Promise<LookupOutcome>;
  /** Calls made so far (each lookup is one SearchAlbums call). */
  readonly calls: number;
  close(): void;
}

export interface LookupHints {
  compilation?: boolean;
  mbReleaseGroupId?: string | null;
  signal?: AbortSignal;
}

/** The slice of the generated Connect client the provider uses. */
export interface AlbumSearchClient {
  searchAlbums(
    request: { query: string; artist: string; limit: number },
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ albums: Album[] }>;
}

export function toEnrichedMetadata(album: Album): EnrichedMetadata {
  const text = (s: string) => (s.trim() === "" ? null : s.trim());
  const count = (n: number) => (n > 0 ? n : null);
  return {
    genres: [...new Set(album.genres.map((g) => g.name.trim()).filter(Boolean))],
    label: text(album.label),
    albumType: text(album.albumType)?.toLowerCase() ?? null,
    coverUrl: text(album.coverUrl),
    releaseDate: text(album.releaseDate),
    totalTracks: count(album.totalTracks),
    totalDiscs: count(album.totalDiscs),
  };
}

export function toProviderAlbum(album: Album): ProviderAlbum {
  return {
    providerAlbumId: album.id,
    title: album.title,
    artists: album.artists.map((a) => a.name),
    credit: creditText(album.artists),
    metadata: toEnrichedMetadata(album),
  };
}

/** Maps a failed call to a MusicfsError whose details.kind says whether to retry. */
export function classifyProviderError(err: unknown, context: { artist: string; album: string; endpoint?: string }): MusicfsError {
  if (err instanceof MusicfsError) return err;
  const connect = ConnectError.from(err);
  let kind: ProviderErrorKind;
  switch (connect.code) {
    case Code.Unavailable:
      // A Node error underneath (ECONNREFUSED, ENOTFOUND, a TLS failure) means no connection at all; an UNAVAILABLE
      // answered by the server is a busy service, retried like ResourceExhausted.
      kind = typeof (connect.cause as { code?: unknown } | undefined)?.code === "string" ? "unreachable" : "overloaded";
      break;
    case Code.Canceled:
      kind = "unreachable";
      break;
    case Code.DeadlineExceeded:
      kind = "deadline";
      break;
    case Code.ResourceExhausted:
      kind = "overloaded";
      break;
    default:
      kind = "bad_response";
  }
  const what = `SearchAlbums("${context.album}", "${context.artist}")`;
  return new MusicfsError(
    kind === "bad_response" ? "PROVIDER_BAD_RESPONSE" : "PROVIDER_UNAVAILABLE",
    `${what}: ${kind}: ${connect.rawMessage}`,
    {
      cause: err,
      details: { kind, grpcCode: Code[connect.code], endpoint: context.endpoint },
    },
  );
}

export function providerErrorKind(err: unknown): ProviderErrorKind {
  const kind = (err as MusicfsError | undefined)?.details?.kind;
  return kind === "unreachable" || kind === "deadline" || kind === "overloaded" ? kind : "bad_response";
}

/**
 * Design §4.3.2, with verification: asks for a few results and accepts one only when title and
 * artist agree with the files (see match.ts); otherwise the album is a miss with near-miss candidates.
 */
export class MetadataAgregatorProvider implements MetadataProvider {
  private callCount = 0;

  constructor(
    private readonly client: AlbumSearchClient,
    private readonly opts: { timeoutMs: number; searchLimit: number; endpoint?: string; onClose?: () => void },
  ) {}

  get calls(): number {
    return this.callCount;
  }

  async lookup(artist: string, album: string, hints: LookupHints = {}): Promise<LookupOutcome> {
    const query: AlbumQuery = { artist, album, compilation: hints.compilation ?? false, mbReleaseGroupId: hints.mbReleaseGroupId ?? null };
    this.callCount++;
    let albums: Album[];
    try {
      const options: { signal?: AbortSignal; timeoutMs: number } = { timeoutMs: this.opts.timeoutMs };
      if (hints.signal) options.signal = hints.signal;
      ({ albums } = await this.client.searchAlbums({ query: album, artist, limit: this.opts.searchLimit }, options));
    } catch (err) {
      throw classifyProviderError(err, { artist, album, ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}) });
    }
    const bad = albums.find((a) => a.id.trim() === "" || a.title.trim() === "");
    if (bad) {
      throw new MusicfsError("PROVIDER_BAD_RESPONSE", `SearchAlbums("${album}", "${artist}"): bad_response: a result has no id or title`, {
        details: { kind: "bad_response", id: bad.id, title: bad.title, endpoint: this.opts.endpoint },
      });
    }
    const choice = chooseMatch(query, albums);
    if (choice.match)
      return {
        kind: "hit",
        album: toProviderAlbum(choice.match.result),
        reason: `${choice.match.reason} (score ${choice.match.result.score})`,
      };
    return {
      kind: "miss",
      resultCount: albums.length,
      candidates: choice.candidates.map((c) => ({
        providerAlbumId: c.result.id,
        title: c.result.title,
        artists: creditText(c.result.artists),
        score: c.score,
        reason: c.reason,
      })),
    };
  }

  close(): void {
    this.opts.onClose?.();
  }
}

/** The provider of the config: a gRPC client to `endpoint`. Throws CONFIG_DISABLED when `enabled = false` (design G3). */
export function createProvider(
  cfg: Pick<MetadataProviderConfig, "enabled" | "endpoint" | "timeout_ms" | "search_limit" | "tls_ca_file">,
): MetadataAgregatorProvider {
  if (!cfg.enabled) {
    throw new MusicfsError(
      "CONFIG_DISABLED",
      "metadata enrichment is disabled: set `enabled = true` under [metadata_provider] in the config",
    );
  }
  const transport = createAgregatorTransport({ endpoint: cfg.endpoint, timeoutMs: cfg.timeout_ms, tlsCaFile: cfg.tls_ca_file });
  return new MetadataAgregatorProvider(createAgregatorClient(transport), {
    timeoutMs: cfg.timeout_ms,
    searchLimit: cfg.search_limit,
    endpoint: cfg.endpoint,
    onClose: () => transport.close(),
  });
}
