// I/O floor for the scan benchmark: walk the tree and read the first 128 KiB of every audio file with
// synchronous reads in one Node process. No parsing, no database: what any scanner must at least pay.
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { extname, join } from "node:path";

const AUDIO = new Set([".flac", ".mp3", ".ogg", ".opus", ".m4a"]);
const buffer = Buffer.allocUnsafe(128 * 1024);
let files = 0;
let bytes = 0;
const stack = [process.argv[2]];
while (stack.length > 0) {
  const dir = stack.pop();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) stack.push(path);
    else if (entry.isFile() && AUDIO.has(extname(entry.name).toLowerCase())) {
      const fd = openSync(path, "r");
      try {
        bytes += readSync(fd, buffer, 0, buffer.length, 0);
      } finally {
        closeSync(fd);
      }
      files++;
    }
  }
}
process.stdout.write(`${JSON.stringify({ files, bytes })}\n`);
