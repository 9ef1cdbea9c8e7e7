import { MusicfsError } from "@musicfs/core";
import type { EmbeddedTagValues, Library } from "@musicfs/db";
import { readAudioFile } from "@musicfs/tags";

/**
 * The tags embedded in a library file, read again from its origin path (ClearOverride restores them).
 * NOT_FOUND when the library has no such file; the reader's own error when the file cannot be read.
 */
export async function rereadFile(lib: Library, fileId: number): Promise<EmbeddedTagValues> {
  const row = lib.sqlite.prepare("SELECT path FROM files WHERE file_id = ?").get(fileId) as { path: Buffer } | undefined;
  if (!row) throw new MusicfsError("NOT_FOUND", `no file with id ${fileId}`);
  const { tags } = await readAudioFile(row.path);
  return {
    title: tags.title ?? null,
    artist: tags.artist ?? null,
    album: tags.album ?? null,
    albumartist: tags.albumartist ?? null,
    track: tags.track ?? null,
    track_total: tags.trackTotal ?? null,
    disc: tags.disc ?? null,
    disc_total: tags.discTotal ?? null,
    year: tags.year ?? null,
    date: tags.date ?? null,
    compilation: tags.compilation,
    mb_track_id: tags.mbTrackId ?? null,
    mb_album_id: tags.mbAlbumId ?? null,
    mb_releasegroup_id: tags.mbReleaseGroupId ?? null,
    mb_artist_id: tags.mbArtistId ?? null,
    mb_albumartist_id: tags.mbAlbumArtistId ?? null,
    genres: tags.genres,
  };
}
