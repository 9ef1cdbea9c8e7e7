export * from "./scan.js";
export { extensionOf, type WalkEntry, walkAudioFiles } from "./walk.js";
