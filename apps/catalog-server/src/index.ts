export { type AlbumInit, catalogFromInits, loadCatalogFile } from "./catalog.js";
export {
  DEFAULT_LIMIT,
  DEFAULT_MIN_SCORE,
  MAX_LIMIT,
  normalize,
  type ScoredAlbum,
  scoreAlbum,
  searchCatalog,
  similarity,
} from "./search.js";
export {
  type CallOutcome,
  type CallRecord,
  type CatalogBehaviour,
  type CatalogServer,
  type CatalogServerOptions,
  FAILURE_CODES,
  type FailureCode,
  startCatalogServer,
} from "./server.js";
