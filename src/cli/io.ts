/** What every command shares for output: exit codes, the I/O it is given, usage errors, progress, log lines, files. */
import * as fs from 'node:fs';
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
        if (drewLine) io.stderr('\r\x1b[K');
        drewLine = false;
        io.stderr(`pgload: ${p.message}\n`);
        return;
      }
      if (p.phase !== 'load') return;
      if (io.isTTY) {
        io.stderr(`\r\x1b[K${describe(p)}`);
        drewLine = true;
      } else if (Date.now() - lastLineAt >= 5000) {
        lastLineAt = Date.now();
        io.stderr(`pgload: ${describe(p)}\n`);
      }
    },
    done() {
      if (drewLine) io.stderr('\r\x1b[K');
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

export function writeOutput(path: string, text: string, what: string): void {
  try {
    fs.writeFileSync(path, text);
  } catch (err) {
    throw new UsageError(`Could not write the ${what} to ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
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
    else writeOutput(target, json, what);
  }
  return target === '-' ? io.stderr : io.stdout;
}
