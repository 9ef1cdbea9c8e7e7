export { type Catalog, type CatalogRow, createCatalog, type LibraryFile, originPathOf, overlayFormatOf, sameFile } from "./catalog.js";
export { Errno, toErrno } from "./errno.js";
export { keepYoungGenerationSmall } from "./heap-policy.js";
export { type LayoutInput, layoutPaths, originExtension, type Placement, placementsOf, TreeLayout, VIEWS } from "./layout.js";
export { type MountDeps, type MountedLibrary, type MountOptions, type MountStats, mountLibrary } from "./mount.js";
export { inspectMountpoint, listMountpoints, type MountpointState, prepareMountpoint, unmountMountpoint } from "./mountpoint.js";
export { collisionName, cutUtf8, fitName, NAME_MAX_BYTES, safeName, sanitizeComponent, splitExtension } from "./naming.js";
export { type FileMetadataRow, LruCache, type OverlayBuilder, overlayTagsOf, tagsOverlayBuilder } from "./overlay.js";
export {
  compileTemplate,
  displayAlbumArtist,
  FIELD_FALLBACKS,
  type PathTemplate,
  TEMPLATE_FIELDS,
  type TemplateField,
  type TemplateValues,
  type TrackTags,
  trackFields,
} from "./template.js";
export { DirNode, isDir, Tree, type TreeFile } from "./tree.js";
export {
  type LazyEnricher,
  type LazyEnrichRequest,
  LibraryView,
  type Stat,
  type ViewOptions,
  type ViewStats,
  XATTR_PREFIX,
} from "./view.js";
