/** `pgload ab`: two variants (settings or SQL) in alternating legs, compared as `pgload compare` does. */
import { MAX_CLIENTS } from '../../core/optionTable';
import type { ParseArgsConfig } from 'node:util';
import { formatAbReport } from '../../shared/format';
import { regressions } from '../../core/analysis/compare';
import { abTest } from '../../core/analysis/ab';
import { indexTrial } from '../../core/analysis/indexTrial';
import { EXIT, CliIO, usage, progressPrinter, stderrLogger, emitJson, checkOutputPaths } from '../io';
import { COMMON_OPTIONS, parseCommand, duration, percentFlag, whole, sqlFromFlags, sqlBFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, commonRunFlags } from '../flags';

export const AB_HELP = `Usage: pgload ab (--sql TEXT | --file PATH [--statement N]) (--setting NAME=VALUE … | --sql-b TEXT | --file-b PATH | --index SQL … --allow-index-trials) [options]

Runs two variants of a statement under the same load in alternating legs — A B, B A, A B, … — so that what
the machine does meanwhile hits both, then compares them as "pgload compare" does: percentiles with
intervals, the shift of the whole distribution, the hints only one side has (e.g. a sort spilling to disk
only with the smaller work_mem), and the plans.

B differs from A by:
  --setting NAME=VALUE     Session settings for B only (repeatable).                 e.g. --setting work_mem=64MB
  --sql-b TEXT / --file-b PATH [--statement-b N]   Another statement for B, e.g. the SQL your ORM emits (A)
                           against a hand-written rewrite (B); with --file-b, --statement-b picks one of its statements.
  --index SQL              An index B runs with (repeatable: a pair), e.g. one pgload suggested. It is built
                           (CREATE INDEX CONCURRENTLY, timed) before B's legs and dropped before A's and at the end.
                           The one thing pgload writes to a database, so only with:
  --allow-index-trials     This database is a scratch or development copy where indexes may be built and dropped.
                           On a server that is not this machine pgload also asks on the terminal first.
  --keep-index             Keep the index after the trial instead of dropping it.

Load (per side, split over the legs):
  --clients N (default 10), --requests N or --duration TIME (default 10s), --warmup N
  --rounds N               Legs per side (default 4).                               e.g. --rounds 6
  --sql/--file/--statement/--url, --statement-timeout, --allow-writes, --set (both sides), --param, --prepared, --seed
  --no-explain             No EXPLAIN (plans and spill hints come from the first leg of each side).
  --max-regression PCT     Exit 3 when B is significantly worse than A by more than this.
  --json PATH|-            Write { kind: "ab", order, a, b, comparison } as JSON.

Examples:
  pgload ab --file report.sql --setting work_mem=64MB --clients 20 --duration 30s
  pgload ab --file report.sql --index "CREATE INDEX ON orders (status, created DESC)" --allow-index-trials
`;

export const AB_OPTIONS = {
  ...COMMON_OPTIONS,
  clients: { type: 'string' },
  requests: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string' },
  setting: { type: 'string', multiple: true },
  'sql-b': { type: 'string' },
  'file-b': { type: 'string' },
  'statement-b': { type: 'string' },
  'no-explain': { type: 'boolean' },
  'max-regression': { type: 'string' },
  index: { type: 'string', multiple: true },
  'allow-index-trials': { type: 'boolean' },
  'keep-index': { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

export async function abCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, AB_OPTIONS, 'ab', AB_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  const connection = connectionFromFlags(v.url);
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  const clients = whole('clients', v.clients, 1, MAX_CLIENTS);
  const requests = whole('requests', v.requests, 1, 1_000_000_000);
  const durationMs = duration('duration', v.duration, 's', 0) ?? (requests === undefined ? 10_000 : undefined);
  const rounds = whole('rounds', v.rounds, 1, 50) ?? 4;
  const maxRegression = percentFlag('max-regression', v['max-regression']);
  const sql = await sqlFromFlags(v, positionals);
  const sqlB = await sqlBFromFlags(v, 'the statement B runs');
  const settingsB = settingsFromFlags(v.setting, 'setting');
  const indexes = v.index ?? [];
  if (indexes.length && (sqlB || Object.keys(settingsB ?? {}).length)) usage('--index is a change of its own: give it without --setting, --sql-b or --file-b (one change per A/B, so that the comparison says what it bought)');
  if (!indexes.length && (v['allow-index-trials'] || v['keep-index'])) usage(`--${v['keep-index'] ? 'keep-index' : 'allow-index-trials'} goes with --index "CREATE INDEX …": without an index there is nothing to build`);
  const logger = stderrLogger(io, v.verbose === true);
  const printer = progressPrinter(io);
  let result;
  const ctx = {
    signal: io.signal,
    logger,
    environment: { env: io.env },
    onProgress: v['no-progress'] ? undefined : printer.onProgress,
    onLeg: (i: number, of: number, side: 'A' | 'B') => !v['no-progress'] && io.stderr(`pgload: leg ${i} of ${of}: ${side}\n`),
  };
  try {
    const base = {
      sql,
      connection,
      clients,
      requests,
      durationMs,
      warmupPerClient: whole('warmup', v.warmup, 0, 1_000_000),
      ...commonRunFlags(v),
      settings: settingsFromFlags(v.set),
      explain: v['no-explain'] !== true,
      ...paramsFromFlags(v),
    };
    result = indexes.length
      ? await indexTrial(
          { base, indexes, allowIndexTrials: v['allow-index-trials'] === true, keep: v['keep-index'] === true, rounds },
          { ...ctx, confirmRemote: io.confirm ? (target) => io.confirm!(`pgload: build and drop ${indexes.length === 1 ? 'an index' : `${indexes.length} indexes`} on ${target}, a server that is not this machine?`) : undefined },
        )
      : await abTest(
          { base, b: { sql: sqlB, settings: settingsB }, rounds },
          ctx,
        );
  } finally {
    printer.done();
  }
  const out = emitJson(io, v.json, result);
  out(formatAbReport(result, sqlB ? { a: sql, b: sqlB } : undefined) + '\n');
  if (result.a.status === 'cancelled' || result.b.status === 'cancelled') return EXIT.cancelled;
  if (maxRegression !== undefined) {
    const failed = regressions(result.comparison, maxRegression);
    for (const f of failed) io.stderr(`pgload: REGRESSION (B against A): ${f}\n`);
    if (failed.length) return EXIT.gate;
  }
  return result.a.load.requests.failed + result.b.load.requests.failed > 0 ? EXIT.failures : EXIT.ok;
}
