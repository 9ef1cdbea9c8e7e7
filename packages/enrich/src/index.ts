export * from "./lock.js";
export * from "./match.js";
export * from "./metrics.js";
export * from "./provider.js";
export * from "./queue.js";
export * from "./service.js";
export * from "./store.js";
