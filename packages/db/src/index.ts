export * from "./album-key.js";
export * from "./open.js";
export * from "./overrides.js";
export * from "./schema.js";
export * from "./stats.js";
