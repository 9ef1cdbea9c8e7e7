/** Bump when the generated library changes, so cached copies are regenerated. */
export const FIXTURE_LIBRARY_VERSION = 1;

/**
 * Why a "bad" entry cannot be scanned as audio:
 * - EMPTY: zero bytes.
 * - CORRUPT: claims a supported extension but the content does not parse (truncated, random bytes, text).
 * - NOT_REGULAR: a FIFO or device node; opening it would block or read nonsense.
 * - SYMLINK: a dangling symlink or a directory symlink forming a loop.
 * - UNREADABLE: mode 000; only an error when not running as root (see `unreadableUnlessRoot`).
 */
export type FixtureErrorClass = "EMPTY" | "CORRUPT" | "NOT_REGULAR" | "SYMLINK" | "UNREADABLE";

export type FixtureFileType = "file" | "symlink" | "fifo" | "char-device";

/** What music-metadata's `common` should say; absent values are null (not undefined) so JSON round-trips. */
export interface ExpectedTags {
  title: string | null;
  artist: string | null;
  album: string | null;
  albumartist: string | null;
  track: number | null;
  trackTotal: number | null;
  disc: number | null;
  discTotal: number | null;
  year: number | null;
  genres: string[];
  compilation: boolean;
  hasPicture: boolean;
  musicbrainzReleaseGroupId: string | null;
}

export interface FixtureFile {
  /** Relative to the library root, "/"-separated. Non-UTF-8 names are decoded lossily here; use `pathHex`. */
  path: string;
  /** Hex of the raw relative path bytes, present only when the name is not valid UTF-8. */
  pathHex?: string;
  /** "good": parses as audio (even if it sits under bad/, e.g. a mislabelled or hostile-tag file). */
  kind: "good" | "bad";
  fileType: FixtureFileType;
  /** music-metadata's `format.container`: "FLAC", "MPEG", "Ogg", "M4A/isom/iso2", "WAVE", "AIFF". */
  format?: string;
  /** music-metadata's `format.codec`, e.g. "FLAC", "MPEG 2.5 Layer 3", "Vorbis I", "Opus", "MPEG-4/AAC", "ALAC", "PCM". */
  codec?: string;
  /** music-metadata's `format.tagTypes`, e.g. ["ID3v2.4", "ID3v1"]. */
  tagTypes?: string[];
  tags?: ExpectedTags;
  errorClass?: FixtureErrorClass;
  /** Mode 000: readable anyway when the test runs as root. */
  unreadableUnlessRoot?: boolean;
  /** Symlink target, verbatim. */
  linkTarget?: string;
  /**
   * What music-metadata 11's `parseFile(path)` does with this entry (pinned by test/fixtures.test.ts): it picks the
   * parser by extension and often resolves without error on bad input, so a scanner cannot rely on it throwing.
   * Set for regular files under bad/.
   */
  parseFileOutcome?: "throws" | "resolves-without-container" | "resolves-with-container";
  /** What makes this entry interesting. */
  note?: string;
}

/** Tracks grouped the way the scanner should group them: albumartist (else artist) + album. */
export interface ExpectedAlbum {
  artist: string;
  album: string;
  paths: string[];
}

export interface FixtureManifest {
  version: number;
  files: FixtureFile[];
  /** Non-audio files that a scan must skip silently (cover.jpg, notes.txt). */
  ignored: string[];
  albums: ExpectedAlbum[];
}
