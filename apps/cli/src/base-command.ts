import {
  type Config,
  createLogger,
  isMusicfsError,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  loadConfig,
  MusicfsError,
  resolveConfigPath,
  resolveDbPath,
} from "@musicfs/core";
import { type Library, openLibrary } from "@musicfs/db";
import type { ControlConnection, ControlServer, startControlServer } from "@musicfs/rpc";
import { Command, Errors, Flags, type Interfaces } from "@oclif/core";
import { EXIT, exitCodeFor } from "./exit-codes.js";

type ControlDeps = Parameters<typeof startControlServer>[0];

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)["baseFlags"] & T["flags"]>;

/**
 * Shared flags and plumbing: config and database resolution, logging, and the mapping of
 * MusicfsError codes to exit codes. Commands stay thin: parse, call a package, print.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    config: Flags.string({
      description: "Config file (default $MUSICFS_CONFIG or $XDG_CONFIG_HOME/musicfs/config.toml).",
      helpGroup: "GLOBAL",
    }),
    db: Flags.string({ description: "Library database (default $MUSICFS_DB or $XDG_DATA_HOME/musicfs/library.db).", helpGroup: "GLOBAL" }),
    "log-level": Flags.option({
      options: LOG_LEVELS,
      description: "Log verbosity (logs go to stderr; JSON unless stderr is a terminal).",
      helpGroup: "GLOBAL",
    })(),
  };

  protected flags!: BaseFlags<T>;
  protected args!: Interfaces.InferredArgs<T["args"]>;
  private opened: Library | undefined;
  private cachedConfig: { config: Config; path: string | undefined } | undefined;
  private cachedLogger: Logger | undefined;

  public override async init(): Promise<void> {
    await super.init();
    const { flags, args } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as Interfaces.InferredArgs<T["args"]>;
  }

  /** The validated configuration (defaults when no file exists at the default location). */
  protected get musicfsConfig(): Config {
    if (!this.cachedConfig) {
      const flag = this.flags.config;
      const explicit = flag !== undefined || process.env.MUSICFS_CONFIG !== undefined;
      this.cachedConfig = loadConfig(resolveConfigPath(flag), { explicit });
    }
    return this.cachedConfig.config;
  }

  protected get configPath(): string | undefined {
    void this.musicfsConfig;
    return this.cachedConfig?.path;
  }

  protected get logger(): Logger {
    this.cachedLogger ??= createLogger({ level: (this.flags["log-level"] ?? this.musicfsConfig.log.level) as LogLevel });
    return this.cachedLogger;
  }

  protected get dbPath(): string {
    return resolveDbPath(this.flags.db, this.musicfsConfig.library.database);
  }

  /** Opens the library database, applying migrations; closed automatically when the command ends. */
  protected openLibrary(): Library {
    this.opened ??= openLibrary(this.dbPath);
    return this.opened;
  }

  /**
   * The control API beside a long-running command (mount, enrich --daemon). A busy port (another
   * mount or daemon already serves it) costs only the API, with a warning; a bad config is an error.
   */
  protected async startControlApi(deps: Omit<ControlDeps, "log">): Promise<ControlServer | undefined> {
    const { listen, token } = this.musicfsConfig.control;
    // @musicfs/rpc (Connect, protobuf) loads only in commands that serve or call the control API.
    const { startControlServer } = await import("@musicfs/rpc");
    try {
      return await startControlServer({ ...deps, log: this.logger }, { listen, token });
    } catch (err) {
      if (!isMusicfsError(err, "ALREADY_RUNNING")) throw err;
      process.stderr.write(`musicfs: control API not started: ${err.message} (set [control] listen to another address)\n`);
      return undefined;
    }
  }

  /** The control API of a running mount/daemon if one answers on [control] listen, else the same service on the database. */
  protected async openControl(): Promise<ControlConnection> {
    const { listen, token } = this.musicfsConfig.control;
    const { openControlClient } = await import("@musicfs/rpc");
    return openControlClient({ listen, token, open: () => ({ lib: this.openLibrary(), log: this.logger }) });
  }

  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof MusicfsError) {
      process.stderr.write(`musicfs: ${err.message}\n`);
      return this.exit(exitCodeFor(err.code));
    }
    // oclif's own parse errors (unknown flag, missing arg) are usage errors.
    if (err instanceof Errors.CLIError && !(err instanceof Errors.ExitError) && err.oclif?.exit !== 0) {
      process.stderr.write(`musicfs: ${err.message}\nSee \`musicfs ${this.id ?? ""} --help\`.\n`);
      return this.exit(EXIT.USAGE_OR_CONFIG);
    }
    return super.catch(err);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.opened?.close();
    this.opened = undefined;
    this.cachedLogger?.flush();
    return super.finally(err);
  }
}
