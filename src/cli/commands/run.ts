/** `pgload run`: one statement alone, then under load; the report, JSON/Markdown/HTML/CSV, the --max-p95/--max-p99 gates. */
import type { ParseArgsConfig } from 'node:util';
import type { PoolSettings, ProfileResult, RateSettings } from '../../shared/result';
import { formatMarkdownReport, formatTimelineCsv, formatTextReport } from '../../shared/format';
import { buildHtmlReport, exportState, loadReportAssets } from '../../core/report/htmlReport';
import { profile } from '../../core/load/runner';
import { profileWithBackground, type BackgroundInput } from '../../core/load/background';
import { parseParamFlag } from '../../core/load/params';
import { parseMixFlag } from '../../core/load/script';
import { PgloadError } from '../../core/errors';
import type { ScriptInput } from '../../core/options';
import { evaluateBudgets } from '../../core/analysis/check';
import type { ProfileInput } from '../../core/options';
import { APP_POOL_LIMITS, optionHelp, RATE_LIMITS } from '../../core/optionTable';
import { EXIT, CliIO, usage, progressPrinter, stderrLogger, writeOutput, emitJson, checkOutputPaths } from '../io';
import { SHARD_FLAGS, SHARD_HELP, shardBackground, shardFromFlags } from '../shardFlags';
import { COMMON_OPTIONS, parseCommand, duration, whole, THINK_FLAGS, thinkFromFlags, perSecondFlag, readSqlFile, sqlFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, tableFlags, tableValues } from '../flags';

export const RUN_HELP = `Usage: pgload run (--sql TEXT | --file PATH [--statement N]) [options]

Runs one statement once cold and a few times warm on one session (the baseline), then opens N sessions,
releases them together and runs the statement until the requests or the duration are done.
Every request is a transaction that ends in ROLLBACK: READ ONLY for queries; DML needs --allow-writes, and no row it
changes is kept. DDL, utility statements, transaction control and functions whose effects escape a transaction
(dblink, lo_export, pg_terminate_backend, …) are refused. See SECURITY.md.

What to run:
  --sql TEXT               The statement.                     e.g. --sql "SELECT count(*) FROM orders"
  --file PATH              A .sql file holding the statement.  e.g. --file queries/report.sql
  --statement N            With --file: which statement (1-based) when the file holds several. e.g. --statement 2

Where:
  --url URL                postgres://user@host:5432/db?sslmode=require or "host=… dbname=…".
                           Without it the PG* environment variables and ~/.pgpass are used.
                           Prefer PGPASSWORD or ~/.pgpass to a password in the URL.

How much:
${optionHelp('how much')}

Limits:
${optionHelp('limits')}
  --set NAME=VALUE         A setting for every session of the run (repeatable).       e.g. --set work_mem=64MB

Application pool (instead of --clients: users share a pool, as SQLAlchemy's QueuePool or HikariCP):
  --users N                Concurrent application users.                             e.g. --users 100
  --pool-size N            Connections in the pool (pool_size).                       e.g. --pool-size 20
  --max-overflow N         Extra connections when all are busy (default 0: fixed pool). e.g. --max-overflow 100
  --pool-timeout TIME      How long a request waits for a connection (default 30s).   e.g. --pool-timeout 30s
  --think-time TIME        Each user's pause between requests, holding no connection (default 0: back to back).
                           Exponential around TIME, as users pause; --think-dist constant for exactly TIME.
                                                                                      e.g. --think-time 5s
                           The report splits every request into pool wait + database time.

Fixed arrival rate (open loop; latency from each request's intended start, coordinated-omission corrected):
  --rate R/s               Requests per second, sent whatever the responses; --clients sessions serve them. e.g. --rate 100/s
  --arrival KIND           constant (default) or poisson.                             e.g. --arrival poisson
  --max-outstanding N      Queued + running requests at most; more are dropped and counted (default 10 × rate). e.g. --max-outstanding 500

What an endpoint sends (per request, each statement timed apart: load.statements[]):
  --transaction            With --file (or --sql): all its statements as one request, BEGIN; s1; s2; …; ROLLBACK
                           (like every request). DDL, COPY and BEGIN/COMMIT inside are refused.
                                                                                      e.g. --file endpoint.sql --transaction
  --mix PATH@WEIGHT        Instead of --sql/--file (repeatable): each request runs one script, picked by weight
                           (as pgbench -f file@weight); a script of several statements is one transaction.
                           Figures per script (load.scripts[]) and overall.          e.g. --mix browse.sql@70 --mix checkout.sql@30

Background load (other statements running while this one is measured, e.g. checkout writes under a report query):
  --background PATH        A .sql file holding one statement run beside the load (after the baseline, which stays
                           alone); its figures are reported apart. Writes need --allow-writes and are rolled back;
                           a profiled plain SELECT still runs read-only, as it would alone, so the two compare.
                                                                                      e.g. --background checkout.sql
  --background-clients N   Sessions running it back to back (default 2).              e.g. --background-clients 4
  --background-rate R/s    Or: requests per second, whatever the responses (--background-clients serve them). e.g. --background-rate 200/s
  --background-param N=GENERATOR   Values for its $N (repeatable), as --param.        e.g. --background-param 1=int:1..1000

Parameters ($1 … $n) and protocol:
  --param N=GENERATOR      Values for $N (repeatable; one for every parameter the statement uses):
                             int:1..100000          uniform whole numbers
                             zipf:1..100000[:1.1]   Zipfian whole numbers, rank 1 most frequent (like pgbench random_zipfian)
                             num:0.5..99.5          uniform real numbers
                             list:a,b,c             one of the values (\, for a comma inside one)
                             csv:FILE:COLUMN        a column of a CSV file with a header (name or 1-based number)
                             sql:SELECT …           the first column of a read-only query run once before the run
                           e.g. --param 1=int:1..100000 --param 2=list:open,closed
${optionHelp('protocol')}

Server insight:
${optionHelp('insight')}

Output:
  --json PATH|-            Write the result object as JSON (- for stdout; the report then goes to stderr).
  --markdown PATH          Write a Markdown report.                                     e.g. --markdown report.md
  --html PATH              Write a self-contained HTML report with the charts (opens offline). e.g. --html report.html
  --csv PATH               Write the timeline (per interval: count, errors, q/s, p50, p95, max) as CSV. e.g. --csv timeline.csv
  --no-progress            No progress output.
  --verbose                Log what pgload does to stderr.

${SHARD_HELP}

Gates (exit code 3 when exceeded):
  --max-p95 TIME           Fail when the p95 under load is above this.                  e.g. --max-p95 200ms
  --max-p99 TIME           Fail when the p99 under load is above this.                  e.g. --max-p99 1s

Exit codes: 0 ok · 1 some requests failed or the run ended early · 2 bad usage or input (nothing ran) ·
            3 a gate failed · 130 cancelled.

Examples:
  pgload run --sql "SELECT pg_sleep(0.05)" --clients 10 --duration 10s
  pgload run --file report.sql --statement 2 --url postgres://app@db:5432/shop --clients 100 --requests 2000 --json -
  pgload run --file slow.sql --clients 50 --duration 1m --max-p95 500ms --markdown slow.md
`;

export const RUN_OPTIONS = {
  ...COMMON_OPTIONS,
  // Everything in the option table (src/core/optionTable.ts); the rest is shaped by this command.
  ...(tableFlags() as Record<never, never>),
  clients: { type: 'string' },
  requests: { type: 'string' },
  duration: { type: 'string' },
  markdown: { type: 'string' },
  html: { type: 'string' },
  csv: { type: 'string' },
  rate: { type: 'string' },
  arrival: { type: 'string' },
  'max-outstanding': { type: 'string' },
  users: { type: 'string' },
  'pool-size': { type: 'string' },
  'max-overflow': { type: 'string' },
  'pool-timeout': { type: 'string' },
  ...THINK_FLAGS,
  transaction: { type: 'boolean' },
  mix: { type: 'string', multiple: true },
  background: { type: 'string' },
  'background-clients': { type: 'string' },
  'background-rate': { type: 'string' },
  'background-param': { type: 'string', multiple: true },
  'max-p95': { type: 'string' },
  'max-p99': { type: 'string' },
  ...SHARD_FLAGS,
} satisfies ParseArgsConfig['options'];


/** The flags as parsed for `pgload run`. */
type RunValues = NonNullable<ReturnType<typeof parseCommand<typeof RUN_OPTIONS>>>['values'];

export async function runCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, RUN_OPTIONS, 'run', RUN_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length > 0) usage(`Unexpected argument "${positionals[0]}"; put the SQL after --sql, or a file after --file`);
  if (v.sql !== undefined && v.file !== undefined) usage('Give either --sql or --file, not both');
  if (v.sql === undefined && v.file === undefined && v.mix === undefined) usage('No SQL given; use --sql "SELECT …", --file query.sql, or --mix a.sql@70 --mix b.sql@30');
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  const connection = connectionFromFlags(v.url);

  // Every option of the table, parsed and range-checked as the table says.
  const t = tableValues(v);
  const clients = t.clients as number | undefined;
  const pool = poolFromFlags(v, clients);
  const { params, prepared, seed } = paramsFromFlags(v);
  const rate = rateFromFlags(v, pool !== undefined, seed);
  const settings = settingsFromFlags(v.set);
  const limits = gateLimits(v);
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);

  const scripts = scriptsFromFlags(v);
  const sql = scripts ? scripts.map((x) => x.sql).join(';\n') : await sqlFromFlags(v, positionals);
  const shard = shardFromFlags(v, io.env);
  const background = shardBackground(backgroundFromFlags(v), shard);

  const showProgress = !v['no-progress'];
  const printer = progressPrinter(io);
  const logger = stderrLogger(io, v.verbose === true);

  let result: ProfileResult;
  try {
    const input: ProfileInput = {
        ...(t as Partial<ProfileInput>),
        sql,
        connection,
        clients,
        settings,
        pool,
        rate,
        params,
        prepared,
        seed,
        scripts,
        shard,
      };
    const ctx = { signal: io.signal, logger, onProgress: showProgress ? printer.onProgress : undefined, environment: { env: io.env } };
    result = background ? await profileWithBackground(input, background, ctx) : await profile(input, ctx);
  } finally {
    printer.done();
  }

  return report(io, v, result, limits);
}

/** --background PATH with its clients or rate and parameters; undefined without --background. */
function backgroundFromFlags(v: { background?: string; 'background-clients'?: string; 'background-rate'?: string; 'background-param'?: string[] }): BackgroundInput | undefined {
  if (v.background === undefined) {
    for (const f of ['background-clients', 'background-rate', 'background-param'] as const) if (v[f] !== undefined) usage(`--${f} goes with --background FILE`);
    return undefined;
  }
  const sql = readSqlFile(v.background, 'background');
  const clients = whole('background-clients', v['background-clients'], 1, 1000);
  let ratePerSecond: number | undefined;
  if (v['background-rate'] !== undefined) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s|\/\s*sec|per\s*s)?\s*$/i.exec(v['background-rate']);
    if (!m || Number(m[1]) <= 0) usage(`--background-rate ${v['background-rate']}: write requests per second, like --background-rate 200/s`);
    ratePerSecond = Number(m![1]);
  }
  const params = (v['background-param'] ?? []).map((p) => {
    try {
      return parseParamFlag(p);
    } catch (err) {
      return usage(`--background-param: ${(err as Error).message.replace(/^--param /, '')}`);
    }
  });
  return { sql, clients, ratePerSecond, params };
}

/** --transaction (the file's statements as one request) or --mix FILE@WEIGHT (repeatable); undefined for one statement. */
function scriptsFromFlags(v: { sql?: string; file?: string; statement?: string; transaction?: boolean; mix?: string[] }): ScriptInput[] | undefined {
  if (v.mix !== undefined) {
    if (v.sql !== undefined || v.file !== undefined) usage('Give either --mix scripts or --sql/--file, not both');
    if (v.transaction) usage('--transaction goes with --file; in a mix, a script of several statements already runs as one transaction');
    if (v.statement !== undefined) usage('--statement goes with --file, not with --mix');
    return v.mix.map((m) => {
      let parsed;
      try {
        parsed = parseMixFlag(m);
      } catch (err) {
        return usage((err as PgloadError).message);
      }
      return { name: parsed.file, weight: parsed.weight, sql: readSqlFile(parsed.file, 'mix') };
    });
  }
  if (!v.transaction) return undefined;
  if (v.statement !== undefined) usage('--transaction runs every statement of the file; leave out --statement');
  if (v.file !== undefined) return [{ name: v.file, weight: 1, sql: readSqlFile(v.file) }];
  if (v.sql !== undefined) return [{ name: '--sql', weight: 1, sql: v.sql }];
  return usage('--transaction needs --file endpoint.sql (or --sql "s1; s2")');
}

/** --users with --pool-size (and --max-overflow, --pool-timeout): an application pool; undefined without them. */
function poolFromFlags(v: RunValues, clients: number | undefined): PoolSettings | undefined {
  const users = whole('users', v.users, APP_POOL_LIMITS.users.min, APP_POOL_LIMITS.users.max);
  const poolSize = whole('pool-size', v['pool-size'], APP_POOL_LIMITS.size.min, APP_POOL_LIMITS.size.max);
  const maxOverflow = whole('max-overflow', v['max-overflow'], APP_POOL_LIMITS.maxOverflow.min, APP_POOL_LIMITS.maxOverflow.max);
  const poolTimeoutMs = duration('pool-timeout', v['pool-timeout'], 's', 0);
  if ((users === undefined) !== (poolSize === undefined)) usage('An application pool needs both --users and --pool-size');
  if (users === undefined && (maxOverflow !== undefined || poolTimeoutMs !== undefined)) usage('--max-overflow and --pool-timeout need --users and --pool-size');
  if (users !== undefined && clients !== undefined) usage('Give either --clients or --users with --pool-size, not both');
  const think = thinkFromFlags(v);
  if (users === undefined && think.thinkTimeMs !== undefined) usage('--think-time is the pause of each application user: give --users and --pool-size with it');
  const pool = users !== undefined ? { users, size: poolSize!, maxOverflow: maxOverflow ?? 0, timeoutMs: poolTimeoutMs ?? 30_000, ...think } : undefined;
  return pool;
}

/** --rate with --arrival and --max-outstanding: a fixed arrival rate; undefined without --rate. */
function rateFromFlags(v: RunValues, withPool: boolean, seed: number): RateSettings | undefined {
  const perSecond = perSecondFlag('rate', v.rate);
  if (perSecond !== undefined) {
    if (withPool) usage('Give either --rate or --users with --pool-size, not both');
    const arrival = (v.arrival ?? 'constant').toLowerCase();
    if (arrival !== 'constant' && arrival !== 'poisson') usage(`--arrival ${v.arrival}: use constant or poisson`);
    return {
      perSecond,
      distribution: arrival as 'constant' | 'poisson',
      maxOutstanding: whole('max-outstanding', v['max-outstanding'], RATE_LIMITS.maxOutstanding.min, RATE_LIMITS.maxOutstanding.max) ?? Math.max(100, Math.ceil(perSecond * 10)),
      seed,
    };
  } else if (v.arrival !== undefined || v['max-outstanding'] !== undefined) {
    usage('--arrival and --max-outstanding go with --rate');
  }
  return undefined;
}

/** --max-p95 and --max-p99, read before anything runs. */
export function gateLimits(v: Pick<RunValues, 'max-p95' | 'max-p99'>): { maxP95?: number; maxP99?: number } {
  return { maxP95: duration('max-p95', v['max-p95'], 'ms', 0), maxP99: duration('max-p99', v['max-p99'], 'ms', 0) };
}

/** The outputs asked for, the report, and the exit code: cancelled, a gate failed, failures, or ok. */
export function report(io: CliIO, v: Pick<RunValues, 'json' | 'markdown' | 'csv' | 'html' | 'max-p95' | 'max-p99'>, result: ProfileResult, limits: { maxP95?: number; maxP99?: number }): number {
  const { maxP95, maxP99 } = limits;
  const out = emitJson(io, v.json, result);
  if (v.markdown !== undefined) writeOutput(io, v.markdown, formatMarkdownReport(result), 'Markdown report');
  if (v.csv !== undefined) writeOutput(io, v.csv, formatTimelineCsv(result), 'timeline CSV');
  if (v.html !== undefined) writeOutput(io, v.html, buildHtmlReport(exportState(result, result.connection.host), loadReportAssets()), 'HTML report');
  out(formatTextReport(result) + '\n');

  if (result.status === 'cancelled') return EXIT.cancelled;
  const gates = evaluateBudgets(
    result,
    [...(maxP95 !== undefined ? [{ metric: 'p95' as const, limit: maxP95, text: v['max-p95']! }] : []), ...(maxP99 !== undefined ? [{ metric: 'p99' as const, limit: maxP99, text: v['max-p99']! }] : [])],
    (metric) => `--max-${metric}`,
  );
  if (gates.length > 0) {
    for (const g of gates) io.stderr(`pgload: GATE FAILED: ${g}\n`);
    return EXIT.gate;
  }
  if (result.load.requests.failed > 0 || result.status !== 'completed') return EXIT.failures;
  return EXIT.ok;
}
