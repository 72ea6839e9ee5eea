/** `pgload sweep`: the statement at 1, 2, 4, … clients; the scalability fit and the pool size the steps support. */
import { MAX_CLIENTS } from '../../core/optionTable';
import type { ParseArgsConfig } from 'node:util';
import { formatMs, formatSweepReport } from '../../shared/format';
import { sweep } from '../../core/analysis/sweep';
import { EXIT, CliIO, usage, stderrLogger, emitJson, checkOutputPaths } from '../io';
import { COMMON_OPTIONS, parseCommand, duration, whole, sqlFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, commonRunFlags } from '../flags';

export const SWEEP_HELP = `Usage: pgload sweep (--sql TEXT | --file PATH [--statement N]) [options]

Runs the statement at a series of client counts (1 warm-up request per client not counted) and prints
throughput, its noise (± two standard errors from batch means) and p50/p95/p99 per step. A step runs for
--step-duration, and longer when it has not yet completed 20 requests per client and lasted 10 p95 latencies
(at most 10 × the step or 60 s). Fits the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) to the
throughput, and recommends the fewest concurrent queries whose throughput is within 5 % of the best measured
or not significantly below it — or, when throughput still rises at the largest step, says so (sweep higher).
The first step is measured again at the end: if the server's speed changed by more than 10 % (beyond the
noise), the steps do not compare and no pool size is claimed. Steps above the server's free connections are
left out with a notice.

  --sql TEXT / --file PATH / --statement N / --url URL    as for "pgload run"
  --max-clients N          The largest step (default 64); steps are 1, 2, 4, … up to it.  e.g. --max-clients 32
  --steps LIST             The client counts to run instead.                             e.g. --steps 1,2,4,8,16
  --step-duration TIME     How long each step runs (default 5s).                         e.g. --step-duration 10s
  --statement-timeout TIME, --allow-writes, --set NAME=VALUE, --param N=GENERATOR, --prepared, --seed N   as for "pgload run"
  --json PATH|-            Write the sweep result (steps, usl, recommendation) as JSON.
  --no-progress            No progress output.

Example:
  pgload sweep --file report.sql --max-clients 64 --step-duration 10s --json sweep.json
`;

export const SWEEP_OPTIONS = {
  ...COMMON_OPTIONS,
  'max-clients': { type: 'string' },
  steps: { type: 'string' },
  'step-duration': { type: 'string' },
} satisfies ParseArgsConfig['options'];

export async function sweepCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, SWEEP_OPTIONS, 'sweep', SWEEP_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  const connection = connectionFromFlags(v.url);
  const maxClients = whole('max-clients', v['max-clients'], 1, MAX_CLIENTS) ?? 64;
  let steps: number[] | undefined;
  if (v.steps !== undefined) {
    const parts = v.steps.split(',').map((x) => x.trim());
    if (parts.some((x) => !/^\d+$/.test(x) || Number(x) < 1)) usage(`--steps ${v.steps}: give client counts separated by commas, like 1,2,4,8`);
    steps = parts.map(Number);
    if (steps.length < 3) usage(`--steps ${v.steps}: give at least three steps, so that a curve can be fitted`);
  }
  const stepDurationMs = duration('step-duration', v['step-duration'], 's', 0) ?? 5000;
  if (stepDurationMs < 500) usage(`--step-duration ${v['step-duration']}: must be at least 500ms`);
  const sql = await sqlFromFlags(v, positionals);
  const logger = stderrLogger(io, v.verbose === true);
  let lastLine = '';
  const result = await sweep(
    { sql, connection, steps, maxClients, stepDurationMs, ...commonRunFlags(v), settings: settingsFromFlags(v.set), ...paramsFromFlags(v) },
    {
      signal: io.signal,
      logger,
      environment: { env: io.env },
      onStep: (i, of, clients, _progress, again) => {
        const line = `pgload: step ${i}/${of}: ${clients} client${clients === 1 ? '' : 's'}${again ? ' again (the speed check)' : ''} for ${formatMs(stepDurationMs)}`;
        if (!v['no-progress'] && line !== lastLine) io.stderr(`${line}\n`);
        lastLine = line;
      },
    },
  );
  emitJson(io, v.json, result)(formatSweepReport(result) + '\n');
  if (io.signal?.aborted) return EXIT.cancelled;
  return result.steps.some((s) => s.failed > 0) ? EXIT.failures : EXIT.ok;
}
