export { type EncodeJob, type Encoding, encodeAlbum, type ToneOptions, type WrittenTags, writeCoverImage } from "./audio-encoder.js";
export { FIXTURE_MTIME, seededBytes, seededRandom, setTreeTimes, uuidFromName } from "./deterministic.js";
export { copyFixtureLibrary, defaultFixtureCacheDir, ensureFixtureLibrary, type FixtureLibrary, findRepoRoot } from "./fixture-cache.js";
export { type AlbumTemplate, fixtureFsPath, generateAlbumTemplates, generateFixtureLibrary } from "./fixture-library.js";
export * from "./fixture-manifest.js";
export { type IndependentTags, readTagsIndependently, SYSTEM_PYTHON } from "./mutagen.js";
export { mapWithConcurrency, type RunToolOptions, runTool, runToolChecked, type ToolResult } from "./run-tool.js";
export { buildSampleCatalog, type CatalogAlbum, generateSampleLibrary, type SampleAlbum, type SampleLibrary } from "./sample-library.js";
