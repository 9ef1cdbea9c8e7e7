// Bundles the mount command into one module, with a chunk for each thing it loads only later (the
// enrichment client, the control API, metrics). `musicfs mount` is the long-running process whose
// start-up users wait on (a player, a systemd unit's ExecStartPost); Node resolves, reads and compiles
// ~400 separate modules otherwise, a third of the time to "mounted" at 100,000 files.
// Runs after tsc: replaces tsc's dist/commands/mount.js (oclif loads that path, see the manifest).
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chunks = join(root, "dist", "chunks");
rmSync(chunks, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { mount: "src/commands/mount.ts" },
  outdir: "dist/commands",
  chunkNames: "../chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // Native addons; oclif (shared with the runner that loads this command); pino (its transports run
  // in worker threads that load pino's files by path).
  external: ["better-sqlite3", "fuse-native", "@oclif/core", "pino", "pino-pretty"],
  // CommonJS dependencies call require() for Node built-ins.
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
});
const size = Object.entries(result.metafile.outputs).reduce((n, [, o]) => n + o.bytes, 0);
console.log(`dist/commands/mount.js: bundled, ${Object.keys(result.metafile.outputs).length} files, ${(size / 1048576).toFixed(1)} MiB`);
