/** `pgload diagnose`: the four questions — pool, settings, the query under concurrency, ORM or raw SQL — in one planned run. */
import { APP_POOL_LIMITS, RATE_LIMITS } from '../../core/optionTable';
import type { ParseArgsConfig } from 'node:util';
import { formatDiagnoseMarkdown, formatDiagnosePlan, formatDiagnoseReport } from '../../shared/report/diagnose';
import { formatMs } from '../../shared/format';
import { diagnose } from '../../core/analysis/diagnose';
import { usersForRate } from '../../core/analysis/appDemand';
import { buildHtmlReport, diagnosisState, loadReportAssets } from '../../core/report/htmlReport';
import { EXIT, CliIO, usage, progressPrinter, stderrLogger, emitJson, writeOutput, checkOutputPaths } from '../io';
import { COMMON_OPTIONS, parseCommand, duration, whole, THINK_FLAGS, thinkFromFlags, perSecondFlag, sqlFromFlags, sqlBFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, commonRunFlags, tableFlags, tableValues } from '../flags';

export const DIAGNOSE_HELP = `Usage: pgload diagnose (--sql TEXT | --file PATH [--statement N]) [options]

Answers four questions with measurements, within a time budget:
  1. Are my pool settings right?   The statement through your application's pool at its users, a sweep to where
                                   the server stops gaining throughput, and your pool against that size, same users.
  2. Which server parameters?      Each setting the plan's hints suggest (work_mem, parallel workers, JIT), A/B-tested.
  3. How does the query hold up?   The plan's findings ranked by what they cost per request under load.
  4. ORM or raw SQL?               Unnamed statements with parameters (what ORMs send) against prepared, and your
                                   alternative SQL against the statement when you give one.
The phases and their time are printed before anything runs; the budget is kept (± 20 %), and a phase that runs
over is paid for by the optional phases after the pool comparison, never by the pool question. Ctrl-C keeps the
answers so far, marked partial.

Your application:
  --users N                Concurrent users of the application (default 100).       e.g. --users 100
  --pool-size N            The pool's size (default 5, SQLAlchemy's).               e.g. --pool-size 20
  --max-overflow N         Connections beyond it (default 10, SQLAlchemy's).        e.g. --max-overflow 100
  --pool-timeout TIME      How long a request waits for a connection (default 30s).
  --think-time TIME        Each user's pause between requests (exponential; default 0: back to back). Your
                           metrics give it: users ÷ requests per second − latency.   e.g. --think-time 5s
  --rate R/s               Or the requests per second your metrics show, arriving whatever the responses
                           (Poisson), each waiting for one of the pool's sessions (instead of --users). e.g. --rate 17/s
  --server-vcpus N         The server's CPUs (bounds the sweep; used in the hints). e.g. --server-vcpus 2
  --server-memory SIZE     The server's memory (what work_mem × the pool costs).    e.g. --server-memory 16GB
  --max-p95 TIME           Your latency objective: adds a phase that finds the most demand (users with their
                           pause, or the rate) whose p95 meets it, as is and with the best measured fix. e.g. --max-p95 500ms
  --allow-index-trials     This database is a scratch or development copy: adds a phase that builds the best index
                           suggestion (HypoPG-checked) for B's legs of an A/B and drops it (asked first on a server
                           that is not this machine). Without it nothing is built.
Run:
  --budget TIME            The time the whole diagnosis may take (default 3m).     e.g. --budget 4m
  --sql-b TEXT / --file-b PATH [--statement-b N]   Your hand-written alternative, measured against the statement.
  --sql/--file/--statement/--url, --statement-timeout, --allow-writes, --set, --param, --seed   as for "pgload run"
Output:
  --json PATH|-            Write { kind: "diagnose", answers, phases, runs } as JSON.
  --markdown PATH          Write the answers as Markdown.
  --html PATH              Write a self-contained HTML report (the Answers tab first; opens offline).
  --no-progress            No progress output.

Example:
  pgload diagnose --file report.sql --users 100 --pool-size 20 --max-overflow 100 --budget 4m --html diagnosis.html
`;

export const DIAGNOSE_OPTIONS = {
  ...COMMON_OPTIONS,
  ...(tableFlags(['server-vcpus', 'server-memory']) as Record<never, never>),
  users: { type: 'string' },
  'pool-size': { type: 'string' },
  'max-overflow': { type: 'string' },
  'pool-timeout': { type: 'string' },
  ...THINK_FLAGS,
  rate: { type: 'string' },
  'max-p95': { type: 'string' },
  'allow-index-trials': { type: 'boolean' },
  budget: { type: 'string' },
  'sql-b': { type: 'string' },
  'file-b': { type: 'string' },
  'statement-b': { type: 'string' },
  markdown: { type: 'string' },
  html: { type: 'string' },
} satisfies ParseArgsConfig['options'];

export async function diagnoseCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, DIAGNOSE_OPTIONS, 'diagnose', DIAGNOSE_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  const connection = connectionFromFlags(v.url);
  const rateQps = perSecondFlag('rate', v.rate, RATE_LIMITS.perSecond.min * 100);
  if (rateQps !== undefined && (v.users !== undefined || v['think-time'] !== undefined)) usage('--rate is the demand as requests per second; --users and --think-time describe it as users who pause. Give one or the other');
  const poolSize = whole('pool-size', v['pool-size'], APP_POOL_LIMITS.size.min, APP_POOL_LIMITS.size.max) ?? 5;
  const maxOverflow = whole('max-overflow', v['max-overflow'], APP_POOL_LIMITS.maxOverflow.min, APP_POOL_LIMITS.maxOverflow.max) ?? 10;
  // Arrivals at a rate may use every session the pool has.
  const users = rateQps !== undefined ? usersForRate(poolSize, maxOverflow) : (whole('users', v.users, APP_POOL_LIMITS.users.min, APP_POOL_LIMITS.users.max) ?? 100);
  const poolTimeoutMs = duration('pool-timeout', v['pool-timeout'], 's', 0) ?? 30_000;
  if (poolTimeoutMs <= 0) usage(`--pool-timeout ${v['pool-timeout']}: must be more than 0`);
  const budgetMs = duration('budget', v.budget, 's', 0) ?? 180_000;
  const objectiveP95Ms = duration('max-p95', v['max-p95'], 'ms', 0);
  if (objectiveP95Ms !== undefined && objectiveP95Ms <= 0) usage(`--max-p95 ${v['max-p95']}: the objective must be above 0, like --max-p95 500ms`);
  const t = tableValues(v, ['server-vcpus', 'server-memory']);
  checkOutputPaths(v, ['json', 'markdown', 'html']);
  const sql = await sqlFromFlags(v, positionals);
  const sqlB = await sqlBFromFlags(v, 'your alternative statement');
  const logger = stderrLogger(io, v.verbose === true);
  const printer = progressPrinter(io);
  const quiet = v['no-progress'] === true;
  let result;
  try {
    result = await diagnose(
      {
        base: { sql, connection, ...commonRunFlags(v), settings: settingsFromFlags(v.set), ...paramsFromFlags(v), serverVcpus: t.serverVcpus as number | undefined, serverMemoryKB: t.serverMemoryKB as number | undefined },
        app: { users, poolSize, maxOverflow, poolTimeoutMs, ...thinkFromFlags(v), ...(rateQps !== undefined ? { rateQps } : {}) },
        budgetMs,
        sqlB,
        ...(objectiveP95Ms !== undefined ? { objectiveP95Ms } : {}),
        ...(v['allow-index-trials'] ? { allowIndexTrials: true } : {}),
      },
      {
        signal: io.signal,
        ...(io.confirm ? { confirmRemote: (target: string) => io.confirm!(`pgload: build and drop the suggested index on ${target}, a server that is not this machine?`) } : {}),
        logger,
        environment: { env: io.env },
        // The plan goes where the report goes, before anything runs.
        onPlan: (phases) => (v.json === '-' ? io.stderr : io.stdout)(formatDiagnosePlan(phases, budgetMs) + '\n\n'),
        onPhase: (p, i, of, ms) => {
          printer.done();
          if (!quiet) io.stderr(`pgload: phase ${i} of ${of}: ${p.label} (${formatMs(ms)})\n`);
        },
        onProgress: quiet ? undefined : printer.onProgress,
      },
    );
  } finally {
    printer.done();
  }
  const out = emitJson(io, v.json, result);
  if (v.markdown !== undefined) writeOutput(io, v.markdown, formatDiagnoseMarkdown(result), 'Markdown report');
  if (v.html !== undefined) {
    writeOutput(io, v.html, buildHtmlReport(diagnosisState(result, result.runs.load.connection.host), loadReportAssets()), 'HTML report');
    io.stderr(`pgload: HTML report written to ${v.html}\n`);
  }
  out(formatDiagnoseReport(result) + '\n');
  if (io.signal?.aborted) return EXIT.cancelled;
  return EXIT.ok;
}
