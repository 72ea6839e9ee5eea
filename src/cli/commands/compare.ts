/** `pgload compare`: two saved results, their difference and whether it is significant; a regression gate. */
import * as path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { formatComparison } from '../../shared/format';
import { compareResults, regressions } from '../../core/analysis/compare';
import { readResultFile } from '../../core/report/resultFile';
import { EXIT, CliIO, usage, emitJson, checkOutputPaths } from '../io';
import { parseCommand, percentFlag } from '../flags';

export const COMPARE_HELP = `Usage: pgload compare BEFORE.json AFTER.json [--max-regression 10%] [--json PATH|-]

Compares two results written by "pgload run --json" (e.g. before and after adding an index): p50, p95, p99 with
95 % confidence intervals and throughput, whether the latency distribution shifted (Mann–Whitney U over every
recorded request, Cliff's δ), the hints that appeared or went away, and the plans. Changes under the noise
floor are treated as run-to-run noise.

  --max-regression PCT     Exit 3 when AFTER is significantly worse than BEFORE by more than this on p50, p95,
                           p99 or throughput.                                          e.g. --max-regression 10%
  --noise-floor PCT        Smaller changes count as noise (default 10%: two runs of one query on a busy
                           machine differ by 5–15 % at the median).                    e.g. --noise-floor 5%
  --json PATH|-            Write the comparison as JSON.

Exit codes: 0 compared · 2 a file is missing or not a result · 3 a regression beyond --max-regression.
`;

export const COMPARE_OPTIONS = {
  'max-regression': { type: 'string' },
  'noise-floor': { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export function compareCommand(args: string[], io: CliIO): number {
  const parsed = parseCommand(args, COMPARE_OPTIONS, 'compare', COMPARE_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  if (positionals.length !== 2) usage(`pgload compare takes two result files (before and after), got ${positionals.length}; e.g. pgload compare before.json after.json`);
  const maxRegression = percentFlag('max-regression', v['max-regression']);
  const noiseFloor = percentFlag('noise-floor', v['noise-floor']);
  const [a, b] = positionals.map(readResultFile);
  const comparison = compareResults(a, b, { labels: [path.basename(positionals[0]), path.basename(positionals[1])], noiseFloor });
  emitJson(io, v.json, comparison, 'comparison')(formatComparison(comparison) + '\n');
  if (maxRegression !== undefined) {
    const failed = regressions(comparison, maxRegression);
    if (failed.length) {
      for (const f of failed) io.stderr(`pgload: REGRESSION: ${f}\n`);
      return EXIT.gate;
    }
  }
  return EXIT.ok;
}
