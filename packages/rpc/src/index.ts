// Callers inspect call failures by code; re-exported so they need no direct @connectrpc dependency.
export { type Client, Code, ConnectError, type Transport } from "@connectrpc/connect";
export * from "./agregator-client.js";
export * from "./gen/metadata/v1/metadata_pb.js";
export * from "./gen/musicfs/v1/musicfs_pb.js";
export * from "./server/index.js";
