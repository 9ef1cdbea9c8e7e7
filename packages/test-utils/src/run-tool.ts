import { spawn } from "node:child_process";
import { MusicfsError } from "@musicfs/core";

export interface RunToolOptions {
  /** Kill the process (SIGKILL) and reject after this long; default 60 s. */
  timeoutMs?: number;
  cwd?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export interface ToolResult<Out extends string | Buffer = string> {
  /** Exit code, or null when the process died from a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Out;
  stderr: string;
}

/**
 * Runs an external tool without a shell and collects its output. A non-zero exit is a result, not an error;
 * failing to start and running past the timeout are errors (IO_ERROR).
 */
export function runTool(cmd: string, args: readonly string[], opts: RunToolOptions & { stdout: "buffer" }): Promise<ToolResult<Buffer>>;
export function runTool(cmd: string, args: readonly string[], opts?: RunToolOptions & { stdout?: "string" }): Promise<ToolResult<string>>;
export function runTool(
  cmd: string,
  args: readonly string[],
  opts: RunToolOptions & { stdout?: "string" | "buffer" } = {},
): Promise<ToolResult<string | Buffer>> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (cause) => {
      clearTimeout(timer);
      reject(new MusicfsError("IO_ERROR", `cannot run ${cmd}: ${cause.message}`, { cause }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) {
        reject(new MusicfsError("IO_ERROR", `${cmd} timed out after ${timeoutMs} ms`, { details: { args, stderr } }));
        return;
      }
      const stdout = Buffer.concat(out);
      resolve({ code, signal, stdout: opts.stdout === "buffer" ? stdout : stdout.toString("utf8"), stderr });
    });
    // A tool that exits without reading stdin would otherwise raise EPIPE on the stream.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input);
  });
}

/** runTool, but a non-zero exit becomes an IO_ERROR carrying the tool's stderr. */
export async function runToolChecked(cmd: string, args: readonly string[], opts: RunToolOptions = {}): Promise<string> {
  const result = await runTool(cmd, args, opts);
  if (result.code !== 0) {
    const detail = result.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new MusicfsError("IO_ERROR", `${cmd} exited with ${result.code ?? result.signal}: ${detail}`, {
      details: { args, stderr: result.stderr },
    });
  }
  return result.stdout;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
