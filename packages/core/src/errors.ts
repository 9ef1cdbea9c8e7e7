/** Every failure musicfs reports carries one of these codes; the CLI maps them to exit codes, the FUSE adapter to errno. */
export type ErrorCode =
  | "USAGE"
  | "CONFIG_INVALID"
  | "CONFIG_DISABLED"
  | "DB_ERROR"
  | "DB_LOCKED"
  | "IO_ERROR"
  | "NOT_FOUND"
  | "TAG_PARSE_FAILED"
  | "UNSUPPORTED_FORMAT"
  | "PROVIDER_UNAVAILABLE"
  | "PROVIDER_BAD_RESPONSE"
  | "ALREADY_RUNNING"
  | "MOUNT_FAILED"
  | "INVALID_ARGUMENT"
  | "UNAUTHENTICATED"
  | "INTERNAL";

export class MusicfsError extends Error {
  override readonly name = "MusicfsError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

export function isMusicfsError(err: unknown, code?: ErrorCode): err is MusicfsError {
  return err instanceof MusicfsError && (code === undefined || err.code === code);
}

/** A short, single-line description of any thrown value, for logs and error tables. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
