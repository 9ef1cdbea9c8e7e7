import { type Logger as PinoLogger, pino } from "pino";

export type Logger = PinoLogger;
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export interface LoggerOptions {
  level?: LogLevel;
  /** Human-readable output (pino-pretty); defaults to whether stderr is a TTY. */
  pretty?: boolean;
  /** Where log lines go; defaults to stderr so stdout stays for command output. */
  destination?: number;
}

/** Logs go to stderr: JSON for machines, pretty on a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? (process.env.MUSICFS_LOG_LEVEL as LogLevel | undefined) ?? "warn";
  const pretty = opts.pretty ?? process.stderr.isTTY === true;
  const fd = opts.destination ?? 2;
  if (pretty) {
    return pino({
      level,
      transport: { target: "pino-pretty", options: { destination: fd, colorize: true, translateTime: "HH:MM:ss", ignore: "pid,hostname" } },
    });
  }
  return pino({ level, base: undefined }, pino.destination({ fd, sync: true }));
}

/** A logger that drops everything; the default in library code and tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
