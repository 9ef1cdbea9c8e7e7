/**
 * Tags to write into a served file's header. Absent, null, empty-string and empty-list fields leave the origin's
 * values alone; a field that is set replaces every origin value of the tag it maps to (see flac.ts / mp3.ts).
 * Nullable so a file_metadata row can be passed field by field.
 */
export interface OverlayTags {
  title?: string | null;
  artist?: string | null;
  album?: string | null;
  albumartist?: string | null;
  track?: number | null;
  trackTotal?: number | null;
  disc?: number | null;
  discTotal?: number | null;
  year?: number | null;
  /** Written as DATE / TDRC; falls back to releaseDate, then year. */
  date?: string | null;
  /** One GENRE comment / one TCON value per entry. */
  genres?: readonly string[] | null;
  label?: string | null;
  /** MusicBrainz release type ("album", "ep", ...): RELEASETYPE / TXXX:MusicBrainz Album Type. */
  albumType?: string | null;
  /** Accepted but never written: design §4.3.9 keeps cover_url out of the files. */
  coverUrl?: string | null;
  releaseDate?: string | null;
  mbReleaseGroupId?: string | null;
  mbAlbumId?: string | null;
}

/**
 * What the mount serves for one file: `header ++ origin[originAudioOffset, originAudioEnd) ++ trailer`.
 * Computed from the origin's header region (and last 128 bytes), never from its audio.
 */
export interface OverlayLayout {
  /** Bytes served at offset 0 (rebuilt FLAC metadata blocks, or an ID3v2.4 tag). */
  header: Buffer;
  /** Origin offset where the served bytes continue after the header (first byte after the origin's tags). */
  originAudioOffset: number;
  /** Origin offset where the copied region ends (before an ID3v1 trailer, else the origin's size). */
  originAudioEnd: number;
  /** Bytes served after the copied region: the (updated) ID3v1 trailer, else empty. */
  trailer: Buffer;
  /** Served file length: header.length + (originAudioEnd - originAudioOffset) + trailer.length. */
  size: number;
}

/** Containers buildOverlay rewrites; every other format is served unmodified. */
export type OverlayFormat = "flac" | "mp3";
