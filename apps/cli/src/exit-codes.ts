import type { ErrorCode } from "@musicfs/core";

/** The one place error codes become process exit codes (documented in README "Exit codes"). */
export const EXIT = {
  OK: 0,
  /** Completed, but some files failed (scan --strict) or some albums failed (enrich). */
  PARTIAL: 1,
  USAGE_OR_CONFIG: 2,
  DATABASE: 3,
  PROVIDER_UNAVAILABLE: 4,
  ALREADY_RUNNING: 5,
  MOUNT_FAILED: 6,
  INTERNAL: 70,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "USAGE":
    case "CONFIG_INVALID":
    case "CONFIG_DISABLED":
    case "INVALID_ARGUMENT":
      return EXIT.USAGE_OR_CONFIG;
    case "DB_ERROR":
    case "DB_LOCKED":
      return EXIT.DATABASE;
    case "PROVIDER_UNAVAILABLE":
      return EXIT.PROVIDER_UNAVAILABLE;
    case "ALREADY_RUNNING":
      return EXIT.ALREADY_RUNNING;
    case "MOUNT_FAILED":
      return EXIT.MOUNT_FAILED;
    default:
      return EXIT.INTERNAL;
  }
}
