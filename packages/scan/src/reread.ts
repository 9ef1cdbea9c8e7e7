import { MusicfsError } from "@musicfs/core";
import type { EmbeddedTagValues, Library } from "@musicfs/db";
import { readAudioFile } from "@musicfs/tags";
import { embeddedTagValues } from "./ingest.js";

/**
 * The tags embedded in a library file, read again from its origin path (ClearOverride restores them).
 * NOT_FOUND when the library has no such file; the reader's own error when the file cannot be read.
 */
export async function rereadFile(lib: Library, fileId: number): Promise<EmbeddedTagValues> {
  const row = lib.sqlite.prepare("SELECT path FROM files WHERE file_id = ?").get(fileId) as { path: Buffer } | undefined;
  if (!row) throw new MusicfsError("NOT_FOUND", `no file with id ${fileId}`);
  const { tags } = await readAudioFile(row.path);
  return embeddedTagValues(tags);
}
