import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { MusicfsError } from "./errors.js";
import { LOG_LEVELS } from "./logger.js";
import { expandHome } from "./paths.js";

/** File extensions the scanner treats as audio unless [scan] extensions says otherwise. */
export const DEFAULT_AUDIO_EXTENSIONS = [
  "flac",
  "mp3",
  "ogg",
  "oga",
  "opus",
  "m4a",
  "m4b",
  "mp4",
  "aac",
  "wav",
  "aif",
  "aiff",
  "aifc",
  "wv",
  "ape",
  "wma",
  "mpc",
  "dsf",
] as const;

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:50052");

const library = z
  .strictObject({
    roots: z.array(z.string().min(1)).default([]).describe("Folders `musicfs scan` reads when no PATH is given."),
    database: z.string().min(1).optional().describe("Library database file (default $XDG_DATA_HOME/musicfs/library.db)."),
  })
  .describe("The music folders and where the library database lives.");

const scan = z
  .strictObject({
    concurrency: z.number().int().min(1).max(256).default(16).describe("Files being read at once (reads overlap parsing)."),
    threads: z
      .number()
      .int()
      .min(0)
      .max(64)
      .optional()
      .describe("Parser worker threads; 0 parses on the main thread (default: one per core, up to 4)."),
    batch_size: z.number().int().min(1).max(10000).default(500).describe("Files committed per database transaction."),
    follow_symlinks: z.boolean().default(false).describe("Follow symbolic links (once each, with loop detection)."),
    extensions: z
      .array(z.string().regex(/^[a-z0-9]+$/, "lower-case extension without the dot"))
      .default([...DEFAULT_AUDIO_EXTENSIONS])
      .describe("File extensions treated as audio."),
  })
  .describe("How `musicfs scan` walks and reads the library.");

const metadataProvider = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Look albums up in metadata-agregator (design §4.3.1)."),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default("http://localhost:50051")
      .describe("metadata-agregator gRPC endpoint; https:// uses TLS."),
    timeout_ms: z.number().int().min(1).max(600000).default(5000).describe("Per-call deadline."),
    retry_max: z.number().int().min(0).max(100).default(3).describe("Failed attempts before an album is given up."),
    retry_backoff_ms: z.number().int().min(0).max(86400000).default(1000).describe("First retry delay; doubles with each attempt."),
    queue_size: z.number().int().min(1).max(1000000).default(256).describe("Enrichment queue capacity; pushes beyond it are dropped."),
    concurrency: z.number().int().min(1).max(64).default(4).describe("Lookups in flight at once in batch runs (`enrich --once`)."),
    search_limit: z.number().int().min(1).max(100).default(5).describe("Results asked per search; each is verified before use."),
    tls_ca_file: z.string().min(1).optional().describe("PEM file of a private CA for https:// endpoints."),
    metrics_listen: hostPort.default("127.0.0.1:9464").describe("Where `enrich --daemon` serves Prometheus /metrics."),
  })
  .describe("The metadata-agregator service that supplies genres, label, album type and cover URL.");

const mount = z
  .strictObject({
    path_template: z
      .string()
      .min(1)
      .default("{albumartist}/{year} - {album}/{disc-track} {title}.{ext}")
      .describe("Layout under Artists/; fields: artist, albumartist, album, year, genre, label, track, disc, disc-track, title, ext."),
    allow_other: z.boolean().default(false).describe("Let other users (e.g. a media server) read the mount."),
    header_cache_entries: z.number().int().min(0).max(1000000).default(512).describe("Overlay headers kept in memory."),
    refresh_ms: z.number().int().min(50).max(600000).default(1000).describe("How often the mount checks the database for changes."),
  })
  .describe("The FUSE view of the library.");

const control = z
  .strictObject({
    listen: hostPort.default("127.0.0.1:50052").describe("Control API address (gRPC and Connect)."),
    token: z.string().min(16).optional().describe("Bearer token; required when listening off loopback."),
  })
  .describe("The control API for orchestrators and players.");

const log = z
  .strictObject({
    level: z
      .enum(LOG_LEVELS as [string, ...string[]])
      .default("warn")
      .describe("trace, debug, info, warn, error, fatal or silent."),
  })
  .describe("Logging.");

export const configSchema = z.strictObject({
  library: library.default(() => library.parse({})),
  scan: scan.default(() => scan.parse({})),
  metadata_provider: metadataProvider.default(() => metadataProvider.parse({})),
  mount: mount.default(() => mount.parse({})),
  control: control.default(() => control.parse({})),
  log: log.default(() => log.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type MetadataProviderConfig = Config["metadata_provider"];
export type ScanConfig = Config["scan"];
export type MountConfig = Config["mount"];

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or undefined when none existed and defaults apply. */
  path: string | undefined;
}

function describeReceived(input: unknown): string {
  if (input === undefined) return "nothing";
  const text = JSON.stringify(input);
  return text === undefined ? String(input) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function formatIssue(issue: z.core.$ZodIssue, source: string, raw: unknown): string {
  const key = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = key ? `[${key}] ` : "";
    return `${source}: unknown key ${where}${issue.keys.map((k) => `"${k}"`).join(", ")} (see config.example.toml for the valid keys)`;
  }
  let received: unknown = raw;
  for (const part of issue.path) received = (received as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey];
  return `${source}: ${key || "(top level)"}: ${issue.message}; got ${describeReceived(received)}`;
}

/** Validates an already-parsed TOML document; `source` names it in error messages. */
export function parseConfig(raw: unknown, source = "config"): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => formatIssue(i, source, raw));
    throw new MusicfsError("CONFIG_INVALID", lines.join("\n"), { details: { source } });
  }
  const config = result.data;
  config.library.roots = config.library.roots.map((r) => expandHome(r));
  if (config.library.database) config.library.database = expandHome(config.library.database);
  return config;
}

/**
 * Reads and validates the TOML config. A missing file at the default location means defaults;
 * a missing file that was asked for explicitly is an error.
 */
export function loadConfig(path: string, opts: { explicit?: boolean } = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !opts.explicit) return { config: parseConfig({}), path: undefined };
    throw new MusicfsError("CONFIG_INVALID", `cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : "";
    const first = (err as Error).message.split("\n")[0];
    throw new MusicfsError("CONFIG_INVALID", `${path}: not valid TOML${where}: ${first}`, { cause: err });
  }
  return { config: parseConfig(raw, path), path };
}

interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

/** One row per key, from the schema itself: the source of config.example.toml and the README reference. */
export interface ConfigKeyDoc {
  section: string;
  sectionDescription: string;
  key: string;
  type: string;
  default: unknown;
  description: string;
}

export function describeConfig(): ConfigKeyDoc[] {
  const root = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  const rows: ConfigKeyDoc[] = [];
  for (const [section, node] of Object.entries(root.properties ?? {})) {
    for (const [key, field] of Object.entries(node.properties ?? {})) {
      let type = field.type ?? "string";
      if (field.enum) type = field.enum.map((v) => JSON.stringify(v)).join(" | ");
      else if (type === "array") type = `array of ${field.items?.type ?? "string"}`;
      if (field.minimum !== undefined || field.maximum !== undefined) type += ` (${field.minimum ?? ""}..${field.maximum ?? ""})`;
      rows.push({
        section,
        sectionDescription: node.description ?? "",
        key,
        type,
        default: field.default,
        description: field.description ?? "",
      });
    }
  }
  return rows;
}

function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  return JSON.stringify(value);
}

/** The text of config.example.toml: every key with its default, optional keys commented out. */
export function renderExampleConfig(): string {
  const out = [
    "# musicfs configuration: every key with its default value.",
    "# Location: $XDG_CONFIG_HOME/musicfs/config.toml (or MUSICFS_CONFIG, or --config).",
    "# Generated from the config schema (packages/core/src/config.ts); a test keeps it in sync.",
  ];
  let section = "";
  for (const row of describeConfig()) {
    if (row.section !== section) {
      section = row.section;
      out.push("", `# ${row.sectionDescription}`, `[${section}]`);
    }
    out.push(`# ${row.description}`);
    out.push(row.default === undefined ? `# ${row.key} = ""` : `${row.key} = ${tomlValue(row.default)}`);
  }
  return `${out.join("\n")}\n`;
}

/** The README's configuration reference (between the config markers), one table per section. */
export function renderConfigReference(): string {
  const out: string[] = [];
  let section = "";
  for (const row of describeConfig()) {
    if (row.section !== section) {
      section = row.section;
      out.push(
        "",
        `### \`[${section}]\``,
        "",
        row.sectionDescription,
        "",
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
      );
    }
    const def = row.default === undefined ? "—" : `\`${tomlValue(row.default)}\``;
    out.push(
      `| \`${row.key}\` | ${row.type.replace(/\|/g, "\\|")} | ${def.length > 60 ? "(see config.example.toml)" : def} | ${row.description.replace(/\|/g, "\\|")} |`,
    );
  }
  return `${out.join("\n").trim()}\n`;
}
