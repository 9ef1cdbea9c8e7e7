/** Paths are stored as raw bytes; these convert to and from what users type and see. */
export function pathBytes(path: string | Buffer): Buffer {
  return typeof path === "string" ? Buffer.from(path, "utf8") : path;
}

/** The display form of a path: UTF-8 with invalid bytes as U+FFFD. */
export function pathText(path: Buffer): string {
  return path.toString("utf8");
}

/** Whether a path's bytes survive a round trip through a JS string. */
export function isUtf8Path(path: Buffer): boolean {
  return Buffer.from(path.toString("utf8"), "utf8").equals(path);
}
