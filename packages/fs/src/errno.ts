import { constants } from "node:os";
import { type ErrorCode, isMusicfsError } from "@musicfs/core";

const E = constants.errno;

/** Negative errno values FUSE callbacks answer with. */
export const Errno = {
  ENOENT: -E.ENOENT,
  EIO: -E.EIO,
  EROFS: -E.EROFS,
  ENOTDIR: -E.ENOTDIR,
  EISDIR: -E.EISDIR,
  EBADF: -E.EBADF,
  ENODATA: -E.ENODATA,
  ERANGE: -E.ERANGE,
  EACCES: -E.EACCES,
  EINVAL: -E.EINVAL,
  ENOMEM: -E.ENOMEM,
  EBUSY: -E.EBUSY,
} as const;

/** The one place MusicfsError codes become errno (the CLI's exit codes are the other mapping). */
function errnoForCode(code: ErrorCode): number {
  switch (code) {
    case "NOT_FOUND":
      return Errno.ENOENT;
    case "INVALID_ARGUMENT":
    case "USAGE":
      return Errno.EINVAL;
    case "UNAUTHENTICATED":
      return Errno.EACCES;
    case "DB_LOCKED":
      return Errno.EBUSY;
    default:
      return Errno.EIO;
  }
}

/** Any thrown value as a negative errno: MusicfsError by code, Node system errors by their own errno. */
export function toErrno(err: unknown): number {
  if (isMusicfsError(err)) {
    // A POSIX-specific answer (EROFS, EISDIR, ...) travels in details.errno; otherwise the code decides.
    const name = err.details?.errno;
    if (typeof name === "string" && name in E) return -E[name as keyof typeof E];
    return errnoForCode(err.code);
  }
  const sys = err as NodeJS.ErrnoException | undefined;
  if (typeof sys?.errno === "number" && sys.errno < 0) return sys.errno;
  if (typeof sys?.code === "string" && sys.code in E) return -E[sys.code as keyof typeof E];
  return Errno.EIO;
}
