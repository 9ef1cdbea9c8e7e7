export { BlockCacheTokenizer } from "./block-tokenizer.js";
export * from "./overlay/index.js";
export * from "./parser-pool.js";
export * from "./picture.js";
export * from "./read.js";
export * from "./sanitize.js";
