export * from "./clock.js";
export * from "./config.js";
export * from "./errors.js";
export * from "./logger.js";
export * from "./paths.js";
export * from "./random.js";
