export { embeddedTagValues } from "./ingest.js";
export { rereadFile } from "./reread.js";
export * from "./scan.js";
export { extensionOf, type WalkEntry, walkAudioFiles } from "./walk.js";
