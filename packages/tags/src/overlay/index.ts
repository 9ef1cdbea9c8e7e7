/**
 * Overlay writers: the header (and ID3v1 trailer) a read-only mount serves in place of the origin's, so enriched
 * tags appear in the file while the audio bytes come unchanged from the origin. Pure of FUSE; the mount caches a
 * layout per (file, metadata version) and answers reads with readOverlayInto.
 *
 * - FLAC: metadata blocks rebuilt (flac.ts); a prepended ID3v2 tag is dropped.
 * - MP3: one ID3v2.4 tag replaces the origin's ID3v2.2/2.3/2.4 tag(s) (mp3.ts); an ID3v1 trailer is kept, with
 *   title/artist/album/year/track updated where they fit (id3v1.ts). Files without ID3v2 get one.
 * - Every other format: buildOverlay returns null and the origin is served as is.
 */
export { buildOverlay, isOverlayFormat } from "./build.js";
export { FLAC_PADDING } from "./flac.js";
export { ID3V2_PADDING } from "./mp3.js";
export { readOverlayInto, readOverlayRange } from "./range.js";
export type { OverlayFormat, OverlayLayout, OverlayTags } from "./types.js";
