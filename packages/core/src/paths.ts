import { homedir } from "node:os";
import { join } from "node:path";

type Env = Record<string, string | undefined>;

function xdg(env: Env, name: "XDG_CONFIG_HOME" | "XDG_DATA_HOME" | "XDG_RUNTIME_DIR", fallback: string): string {
  const value = env[name];
  // XDG spec: relative paths in these variables are invalid and must be ignored.
  return value?.startsWith("/") ? value : join(env.HOME ?? homedir(), fallback);
}

/** `--config`, then `MUSICFS_CONFIG`, then `$XDG_CONFIG_HOME/musicfs/config.toml`. */
export function resolveConfigPath(flag: string | undefined, env: Env = process.env): string {
  return flag ?? env.MUSICFS_CONFIG ?? join(xdg(env, "XDG_CONFIG_HOME", ".config"), "musicfs", "config.toml");
}

/** `--db`, then `MUSICFS_DB`, then the config's `[library] database`, then `$XDG_DATA_HOME/musicfs/library.db`. */
export function resolveDbPath(flag: string | undefined, configured: string | undefined, env: Env = process.env): string {
  return flag ?? env.MUSICFS_DB ?? configured ?? join(xdg(env, "XDG_DATA_HOME", ".local/share"), "musicfs", "library.db");
}

/** Expands a leading `~/` the way a shell would, for paths written in the config file. */
export function expandHome(path: string, env: Env = process.env): string {
  if (path === "~") return env.HOME ?? homedir();
  if (path.startsWith("~/")) return join(env.HOME ?? homedir(), path.slice(2));
  return path;
}
