/** What every command shares for output: exit codes, the I/O it is given, usage errors, progress, log lines, files. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../core/errors';
import { formatProgress } from '../shared/format';
import type { Logger } from '../core/logger';
import type { Progress } from '../core/load/runner';

export const EXIT = { ok: 0, failures: 1, usage: 2, gate: 3, cancelled: 130 } as const;

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (live progress line) or a log (occasional lines). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
  /**
   * pgload's own terminal control (the progress line's carriage return and line clearing), written as it is; `stdout`
   * and `stderr` show every control character in the text as visible code. Without it nothing is cleared.
   */
  control?: (sequence: string) => void;
  /** Asks a yes/no question on the terminal; absent when stdin is not a terminal (nobody to answer). */
  confirm?: (question: string) => Promise<boolean>;
}

export class UsageError extends Error {}

export function usage(message: string): never {
  throw new UsageError(message);
}

export function progressPrinter(io: CliIO): { onProgress: (p: Progress) => void; done: () => void } {
  let lastLineAt = 0;
  let lastPhaseMessage = '';
  let drewLine = false;
  const describe = (p: Progress) => {
    return `load: ${formatProgress(p)}`;
  };
  return {
    onProgress(p) {
      if (p.message && p.message !== lastPhaseMessage) {
        lastPhaseMessage = p.message;
        lastLineAt = Date.now();
        if (drewLine) io.control?.('\r\x1b[K');
        drewLine = false;
        io.stderr(`pgload: ${p.message}\n`);
        return;
      }
      if (p.phase !== 'load') return;
      if (io.isTTY) {
        io.control?.('\r\x1b[K');
        io.stderr(describe(p));
        drewLine = true;
      } else if (Date.now() - lastLineAt >= 5000) {
        lastLineAt = Date.now();
        io.stderr(`pgload: ${describe(p)}\n`);
      }
    },
    done() {
      if (drewLine) io.control?.('\r\x1b[K');
      drewLine = false;
    },
  };
}

export function stderrLogger(io: CliIO, verbose: boolean): Logger {
  return {
    debug: (m) => verbose && io.stderr(`pgload: debug: ${m}\n`),
    info: (m) => verbose && io.stderr(`pgload: ${m}\n`),
    warn: (m) => io.stderr(`pgload: warning: ${m}\n`),
    error: (m) => verbose && io.stderr(`pgload: error: ${m}\n`),
  };
}

/**
 * Checks output paths before anything runs (a run must never end in "could not write" after minutes of load): each
 * given path needs an existing folder pgload may write into and must not be a folder itself. `-` (stdout) passes.
 */
export function checkOutputPaths(v: Record<string, unknown>, flags: readonly string[]): void {
  for (const flag of flags) {
    const target = v[flag];
    if (target === undefined) continue;
    if (typeof target !== 'string' || target.trim() === '') usage(`--${flag} needs a path${flag === 'json' ? ', or - for stdout' : ''}`);
    if (target === '-') continue;
    const problem = outputProblem(target);
    if (problem) usage(`--${flag} ${target}: ${problem}; nothing was run`);
  }
}

function outputProblem(target: string): string | undefined {
  const dir = path.dirname(path.resolve(target));
  try {
    if (!fs.statSync(dir).isDirectory()) return `${dir} is not a folder`;
  } catch {
    return `the folder ${dir} does not exist; create it first or give another path`;
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    return `the folder ${dir} cannot be written to (permission denied)`;
  }
  try {
    const st = fs.statSync(target);
    if (st.isDirectory()) return 'is a folder; give a file name';
    if (!st.isFile()) return 'is not a regular file (a pipe or a device); give a file name';
    fs.accessSync(target, fs.constants.W_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'exists and cannot be written to (permission denied)';
  }
  return undefined;
}

/** Outputs that could not be written during this process (the report was printed instead); main turns them into exit 2. */
export const failedOutputs: string[] = [];

/**
 * Writes an output file, atomically (a temporary file beside it, then renamed over it). When that fails the content is
 * never lost: the reason and the content go to stderr, and the command ends with exit 2 once everything is printed.
 */
export function writeOutput(io: Pick<CliIO, 'stderr'>, target: string, text: string, what: string): boolean {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, target);
    return true;
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing was left, or nothing can be done about it
    }
    const reason = (err as NodeJS.ErrnoException).code ?? errorMessage(err);
    failedOutputs.push(`the ${what} could not be written to ${target} (${reason})`);
    io.stderr(`pgload: could not write the ${what} to ${target} (${reason}); here it is instead:\n${text}${text.endsWith('\n') ? '' : '\n'}`);
    return false;
  }
}

/**
 * Writes `value` as JSON to `target` (a path, or - for stdout) when asked; returns where the human-readable report
 * goes: stderr when the JSON took stdout, else stdout.
 */
export function emitJson(io: CliIO, target: string | undefined, value: unknown, what = 'JSON result'): (text: string) => void {
  if (target !== undefined) {
    const json = JSON.stringify(value, null, 2) + '\n';
    if (target === '-') io.stdout(json);
    else writeOutput(io, target, json, what);
  }
  return target === '-' ? io.stderr : io.stdout;
}
