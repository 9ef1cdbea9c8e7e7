export * from "./albums.js";
export * from "./client.js";
export * from "./events.js";
export * from "./http.js";
export * from "./service.js";
export * from "./status.js";
export * from "./validate.js";
