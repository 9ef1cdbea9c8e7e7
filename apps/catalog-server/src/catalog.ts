import { readFileSync } from "node:fs";
import { create, fromJson, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { MusicfsError } from "@musicfs/core";
import { type Album, AlbumSchema } from "@musicfs/rpc";

/** An album as a test writes it: any subset of the proto's fields (the JSON form of the catalog file fits too). */
export type AlbumInit = MessageInitShape<typeof AlbumSchema>;

export function catalogFromInits(albums: readonly AlbumInit[]): Album[] {
  return albums.map((init) => create(AlbumSchema, init));
}

/** Reads a catalog file: a JSON array of metadata.v1.Album in the proto's JSON form. */
export function loadCatalogFile(file: string): Album[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new MusicfsError("CONFIG_INVALID", `cannot read catalog ${file}`, { cause });
  }
  if (!Array.isArray(parsed)) throw new MusicfsError("CONFIG_INVALID", `catalog ${file} is not a JSON array of albums`);
  return parsed.map((item: JsonValue, i) => {
    try {
      return fromJson(AlbumSchema, item);
    } catch (cause) {
      throw new MusicfsError("CONFIG_INVALID", `catalog ${file}: album #${i} is not a metadata.v1.Album`, { cause });
    }
  });
}
