import { Listr } from "listr2";

interface Progress {
  seen: number;
  parsed: number;
  unchanged: number;
  errors: number;
  currentDir: string;
  elapsedMs: number;
  /** When known, the total, for an ETA. */
  total?: number;
}

function line(p: Progress): string {
  const rate = p.elapsedMs > 0 ? (p.seen * 1000) / p.elapsedMs : 0;
  const eta = p.total && rate > 0 ? ` ETA ${Math.max(0, Math.round((p.total - p.seen) / rate))}s` : "";
  return `${p.seen} files (${Math.round(rate)}/s${eta}) · parsed ${p.parsed} · unchanged ${p.unchanged} · errors ${p.errors} · ${p.currentDir}`;
}

/**
 * Runs work while showing its progress: a listr2 task on a terminal, a plain line every few
 * seconds on stderr otherwise, nothing when disabled.
 */
export async function withProgress<T, P extends Progress>(
  opts: { title: string; enabled: boolean },
  work: (report: (p: P) => void) => Promise<T>,
): Promise<T> {
  if (!opts.enabled) return work(() => {});
  if (!process.stderr.isTTY) {
    let last = 0;
    return work((p) => {
      if (p.elapsedMs - last < 5000) return;
      last = p.elapsedMs;
      process.stderr.write(`${opts.title}: ${line(p)}\n`);
    });
  }
  let result: T | undefined;
  await new Listr(
    [
      {
        title: opts.title,
        task: async (_ctx, task) => {
          result = await work((p) => {
            task.output = line(p);
          });
          task.title = `${opts.title}: done`;
        },
        rendererOptions: { persistentOutput: false, outputBar: 1 },
      },
    ],
    { rendererOptions: { collapseSubtasks: false }, exitOnError: true, registerSignalListeners: false },
  ).run();
  return result as T;
}
