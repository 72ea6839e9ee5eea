/** `pgload capacity`: the most users (or requests per second) whose p95 meets an objective, found by a search. */
import type { ParseArgsConfig } from 'node:util';
import { APP_POOL_LIMITS, RATE_LIMITS } from '../../core/optionTable';
import { capacity } from '../../core/analysis/capacity';
import type { CapacityDemand } from '../../shared/result';
import { formatMs } from '../../shared/format';
import { formatCapacityMarkdown, formatCapacityReport, demandWords, intervalWords, VERDICT_WORDS } from '../../shared/report/capacity';
import { buildHtmlReport, capacityState, loadReportAssets } from '../../core/report/htmlReport';
import { EXIT, CliIO, usage, stderrLogger, emitJson, checkOutputPaths, writeOutput } from '../io';
import { COMMON_OPTIONS, parseCommand, duration, percentFlag, whole, sqlFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, commonRunFlags, THINK_FLAGS, thinkFromFlags, perSecondFlag } from '../flags';

export const CAPACITY_HELP = `Usage: pgload capacity (--sql TEXT | --file PATH [--statement N]) --max-p95 TIME [options]

Finds the largest demand whose p95 meets the objective: application users who pause between requests (through
your pool), or an arrival rate. A short back-to-back run first measures the statement alone and the most the
sessions serve; the search starts at half of that, brackets the boundary (doubling, halving) and narrows it
(bisection) to the precision asked. Each step runs ≥ 10 × the objective and for ≥ 200 requests when the budget
allows; it is judged "meets" or "misses" only when the 95 % interval of its p95 is on one side of the objective,
else "too close to tell". The answer gives the boundary with its precision and what limits it.

The objective:
  --max-p95 TIME           The latency objective: p95 at most this.                  e.g. --max-p95 500ms
The demand (users by default):
  --by users|rate          Search the number of users (default) or the arrival rate.
  --think-time TIME        Each user's pause between requests (exponential; default 0: back to back).
                           Your metrics give it: users ÷ requests per second − latency. e.g. --think-time 5s
  --pool-size N            The application pool's size (default 5, SQLAlchemy's).    e.g. --pool-size 20
  --max-overflow N         Connections beyond it (default 10, SQLAlchemy's).         e.g. --max-overflow 100
  --pool-timeout TIME      How long a request waits for a connection (default 30s).
                           With --by rate, pool size + overflow sessions serve the Poisson arrivals.
  --max-users N            The most users the search tries (default 1000).
  --max-rate R/s           The highest rate it tries (default 10000/s).
The search:
  --budget TIME            The time the whole search may take (default 3m; at least 20s). e.g. --budget 5m
  --precision PCT          Stop when the boundary is bracketed this closely (default 5%).
A gate (exit 3 when the capacity is below it):
  --min-users N / --min-rate R/s                                                     e.g. --min-users 100
  --sql/--file/--statement/--url, --statement-timeout, --allow-writes, --set, --param, --seed   as for "pgload run"
Output:
  --json PATH|-            Write { kind: "capacity", steps, boundary, capacity, answer } as JSON.
  --markdown PATH          Write the steps and the answer as Markdown.
  --html PATH              Write a self-contained HTML report (the chart of p95 against the demand; opens offline).
  --no-progress            No progress output.

Exit codes: 0 answered · 2 bad usage · 3 the capacity is below --min-users/--min-rate · 130 cancelled.

Example:
  pgload capacity --file report.sql --max-p95 500ms --think-time 5s --pool-size 20 --max-overflow 100 --budget 5m
`;

export const CAPACITY_OPTIONS = {
  ...COMMON_OPTIONS,
  ...THINK_FLAGS,
  'max-p95': { type: 'string' },
  by: { type: 'string' },
  'pool-size': { type: 'string' },
  'max-overflow': { type: 'string' },
  'pool-timeout': { type: 'string' },
  'max-users': { type: 'string' },
  'max-rate': { type: 'string' },
  budget: { type: 'string' },
  precision: { type: 'string' },
  'min-users': { type: 'string' },
  'min-rate': { type: 'string' },
  markdown: { type: 'string' },
  html: { type: 'string' },
} satisfies ParseArgsConfig['options'];

type CapacityValues = Record<string, string | boolean | string[] | undefined>;

/** The demand the flags describe, and the most of it to try. */
function demandFromFlags(v: CapacityValues): { demand: CapacityDemand; max: number } {
  const by = (v.by as string | undefined)?.trim().toLowerCase() ?? 'users';
  if (by !== 'users' && by !== 'rate') usage(`--by ${v.by}: use users (application users who pause) or rate (requests per second)`);
  const poolSize = whole('pool-size', v['pool-size'] as string | undefined, APP_POOL_LIMITS.size.min, APP_POOL_LIMITS.size.max) ?? 5;
  const maxOverflow = whole('max-overflow', v['max-overflow'] as string | undefined, APP_POOL_LIMITS.maxOverflow.min, APP_POOL_LIMITS.maxOverflow.max) ?? 10;
  const poolTimeoutMs = duration('pool-timeout', v['pool-timeout'] as string | undefined, 's', 0) ?? 30_000;
  const think = thinkFromFlags(v as { 'think-time'?: string; 'think-dist'?: string });
  if (by === 'rate') {
    if (think.thinkTimeMs !== undefined) usage('--think-time is the pause of users; with --by rate the arrivals come at the rate searched');
    if (v['max-users'] !== undefined || v['min-users'] !== undefined) usage('--max-users and --min-users go with --by users; with --by rate give --max-rate and --min-rate');
    return { demand: { kind: 'rate', sessions: poolSize + maxOverflow }, max: perSecondFlag('max-rate', v['max-rate'] as string | undefined, RATE_LIMITS.perSecond.min * 100) ?? 10_000 };
  }
  if (v['max-rate'] !== undefined || v['min-rate'] !== undefined) usage('--max-rate and --min-rate go with --by rate');
  return {
    demand: { kind: 'users', thinkTimeMs: think.thinkTimeMs ?? 0, thinkTimeDistribution: think.thinkTimeDistribution ?? 'exponential', poolSize, maxOverflow, poolTimeoutMs },
    max: whole('max-users', v['max-users'] as string | undefined, 2, APP_POOL_LIMITS.users.max) ?? 1000,
  };
}

export async function capacityCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, CAPACITY_OPTIONS, 'capacity', CAPACITY_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  const objective = duration('max-p95', v['max-p95'], 'ms', 0);
  if (objective === undefined) usage('--max-p95 is the objective the search holds the p95 to: give it, like --max-p95 500ms');
  const { demand, max } = demandFromFlags(v);
  const minWanted = demand.kind === 'users' ? whole('min-users', v['min-users'], 1, APP_POOL_LIMITS.users.max) : perSecondFlag('min-rate', v['min-rate'], RATE_LIMITS.perSecond.min * 100);
  const budgetMs = duration('budget', v.budget, 's', 0) ?? 180_000;
  const precision = percentFlag('precision', v.precision);
  checkOutputPaths(v, ['json', 'markdown', 'html']);
  const connection = connectionFromFlags(v.url);
  const sql = await sqlFromFlags(v, positionals);
  const logger = stderrLogger(io, v.verbose === true);
  const quiet = v['no-progress'] === true;
  const result = await capacity(
    { base: { sql, connection, ...commonRunFlags(v), settings: settingsFromFlags(v.set), ...paramsFromFlags(v) }, objectiveP95Ms: objective!, demand, max, budgetMs, precision },
    {
      signal: io.signal,
      logger,
      environment: { env: io.env },
      onStep: (i, d, p) => {
        if (quiet || p) return;
        io.stderr(i === 0 ? 'pgload: the statement alone, then back to back on the sessions (where the search starts from)\n' : `pgload: step ${i}: ${demandWords(demand, d!)}\n`);
      },
      onJudged: (s) => quiet || io.stderr(`pgload:   p95 ${formatMs(s.p95Ms)} (${intervalWords(s)}): ${VERDICT_WORDS[s.verdict]}\n`),
    },
  );
  const out = emitJson(io, v.json, result);
  if (v.markdown !== undefined) writeOutput(io, v.markdown, formatCapacityMarkdown(result), 'Markdown report');
  if (v.html !== undefined && writeOutput(io, v.html, buildHtmlReport(capacityState(result, result.connection.host), loadReportAssets()), 'HTML report')) io.stderr(`pgload: HTML report written to ${v.html}\n`);
  out(formatCapacityReport(result) + '\n');
  if (io.signal?.aborted || result.status === 'cancelled') return EXIT.cancelled;
  if (minWanted !== undefined && (result.capacity === null || result.capacity < minWanted)) {
    io.stderr(`pgload: the capacity within p95 ≤ ${formatMs(objective!)} is ${result.capacity === null ? 'none' : demandWords(demand, result.capacity)}, below the ${demandWords(demand, minWanted)} required\n`);
    return EXIT.gate;
  }
  return EXIT.ok;
}
