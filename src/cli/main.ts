/**
 * The `pgload` command: a thin shell around the core. Parses flags, runs, prints the report, sets the exit code.
 * Exit codes: 0 ok · 1 some requests failed (or the run ended early) · 2 bad usage or input, nothing ran ·
 * 3 a --max-* gate failed · 130 cancelled (Ctrl-C).
 */
import * as fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CheckOutcome, ProfileResult } from '../shared/result';
import { PgloadError, errorMessage } from '../core/errors';
import { describePlan, formatCheckMarkdown, formatCheckReport, formatComparison, formatMarkdownReport, formatMs, formatPoolComparison, formatTimelineCsv, formatQps, formatSweepReport, formatTextReport, formatCount } from '../core/report/format';
import { sweep } from '../core/analysis/sweep';
import { parseParamFlag, type ParamInput } from '../core/load/params';
import { compareResults, regressions } from '../core/analysis/compare';
import { abTest } from '../core/analysis/ab';
import { oneLine } from '../core/text';
import { readResultFile } from '../core/report/resultfile';
import { buildHtmlReport, exportState, loadReportAssets } from '../core/report/htmlreport';
import * as path from 'node:path';
import type { Logger } from '../core/logger';
import { prepareRun, profile, type Progress } from '../core/load/runner';
import { evaluateBudgets, loadCheckFile } from '../core/analysis/check';
import { parseDurationMs, parseSizeKB, parseWholeNumber } from '../core/units';
import { ensureParser, splitStatements } from '../core/sql';
import { makeRedactor } from '../core/connection/redact';
import { VERSION } from '../core/version';

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

/** How every command reports: JSON, progress, log lines, help. */
const OUTPUT_OPTIONS = {
  json: { type: 'string' },
  'no-progress': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

const MAIN_HELP = `pgload ${VERSION} — profile a PostgreSQL query under concurrent load

Usage:
  pgload run (--sql TEXT | --file PATH [--statement N]) [options]
  pgload sweep (--sql TEXT | --file PATH [--statement N]) [--max-clients 64] [--steps 1,2,4] [--step-duration 5s]
  pgload pools (--sql TEXT | --file PATH) --users N --pool 20+100 --pool 4 [--duration 10s]
  pgload compare BEFORE.json AFTER.json [--max-regression 10%]
  pgload check pgload.yml [--url URL] [--json PATH|-] [--markdown PATH]
  pgload ab (--sql A | --file A) (--setting NAME=VALUE | --sql-b B | --file-b B) [--rounds 4]
  pgload --help | --version

Commands:
  run     Run a statement alone (baseline) and then with N concurrent clients; print the report.
  sweep   Run it at 1, 2, 4, … clients; fit the Universal Scalability Law; recommend a pool size.
  pools   Compare application-pool configurations side by side (pool wait vs database time).
  compare Compare two saved results: percentiles with intervals, significance, hints and plans.
  check   Run a list of statements with budgets (p95 < 200ms, qps > 100, no warning hint): a CI gate.
  ab      A against B in alternating legs (other settings, or other SQL such as an ORM query vs a rewrite).

Run "pgload run --help", "pgload sweep --help" or "pgload pools --help" for every option. Connection: --url, or the PG* environment variables
(PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT) and ~/.pgpass.

Example:
  PGHOST=localhost PGDATABASE=shop pgload run --sql "SELECT * FROM orders WHERE id = 42" --clients 50 --duration 30s
`;

const RUN_HELP = `Usage: pgload run (--sql TEXT | --file PATH [--statement N]) [options]

Runs one statement once cold and a few times warm on one session (the baseline), then opens N sessions,
releases them together and runs the statement until the requests or the duration are done.
Read-only statements run in read-only sessions. DML needs --allow-writes and is then rolled back after
every request, so no row is kept. DDL, utility statements and transaction control are refused.

What to run:
  --sql TEXT               The statement.                     e.g. --sql "SELECT count(*) FROM orders"
  --file PATH              A .sql file holding the statement.  e.g. --file queries/report.sql
  --statement N            With --file: which statement (1-based) when the file holds several. e.g. --statement 2

Where:
  --url URL                postgres://user@host:5432/db?sslmode=require or "host=… dbname=…".
                           Without it the PG* environment variables and ~/.pgpass are used.
                           Prefer PGPASSWORD or ~/.pgpass to a password in the URL.

How much:
  --clients N              Concurrent clients, each on its own session (default 10).     e.g. --clients 100
  --requests N             Total requests across all clients (default 200).             e.g. --requests 5000
  --duration TIME          Run for a time instead of a number of requests.              e.g. --duration 30s
  --warmup N               Requests per client before timing starts, not counted (default 0). e.g. --warmup 5
  --baseline-runs N        Warm single executions after the cold one (default 5).       e.g. --baseline-runs 20

Limits:
  --threshold TIME         Count requests slower than this (default 500ms).             e.g. --threshold 200ms
  --statement-timeout TIME Server-side statement_timeout per request (default 30s).     e.g. --statement-timeout 5s
  --max-errors N           Stop the run after N failed requests; 0 never (default 100). e.g. --max-errors 10
  --allow-writes           Allow INSERT/UPDATE/DELETE/MERGE; each request is rolled back.
  --reconnect              A client whose session is lost (server restart, terminated backend) connects again,
                           retrying with backoff, instead of stopping; the report shows the outage window.
  --workers N|auto         Event loops (worker threads) running the clients, like pgbench -j (default auto: one per
                           32 clients, up to half the cores). Plain --clients runs only.   e.g. --workers 2
  --set NAME=VALUE         A setting for every session of the run (repeatable).       e.g. --set work_mem=64MB

Application pool (instead of --clients: users share a pool, as SQLAlchemy's QueuePool or HikariCP):
  --users N                Concurrent application users.                             e.g. --users 100
  --pool-size N            Connections in the pool (pool_size).                       e.g. --pool-size 20
  --max-overflow N         Extra connections when all are busy (default 0: fixed pool). e.g. --max-overflow 100
  --pool-timeout TIME      How long a request waits for a connection (default 30s).   e.g. --pool-timeout 30s
                           The report splits every request into pool wait + database time.

Fixed arrival rate (open loop; latency from each request's intended start, coordinated-omission corrected):
  --rate R/s               Requests per second, sent whatever the responses; --clients sessions serve them. e.g. --rate 100/s
  --arrival KIND           constant (default) or poisson.                             e.g. --arrival poisson
  --max-outstanding N      Queued + running requests at most; more are dropped and counted (default 10 × rate). e.g. --max-outstanding 500

Parameters ($1 … $n) and protocol:
  --param N=GENERATOR      Values for $N (repeatable; one for every parameter the statement uses):
                             int:1..100000          uniform whole numbers
                             zipf:1..100000[:1.1]   Zipfian whole numbers, rank 1 most frequent (like pgbench random_zipfian)
                             num:0.5..99.5          uniform real numbers
                             list:a,b,c             one of the values (\, for a comma inside one)
                             csv:FILE:COLUMN        a column of a CSV file with a header (name or 1-based number)
                             sql:SELECT …           the first column of a read-only query run once before the run
                           e.g. --param 1=int:1..100000 --param 2=list:open,closed
  --prepared               Send the statement as a named prepared statement (parse and plan once per session, like pgbench -M prepared).
  --seed N                 Seed of every random choice (parameter values, Poisson arrivals); the same seed repeats them (default 1).

Server insight:
  --server-vcpus N         The server's CPU count, to compare with active sessions.  e.g. --server-vcpus 2
  --server-memory SIZE     The server's memory, to weigh work_mem × clients against.  e.g. --server-memory 16GB
  --no-explain             Do not capture EXPLAIN ANALYZE (alone and under load).
  --sample-interval TIME   How often to sample what sessions wait on; 0 off (default 100ms). e.g. --sample-interval 250ms

Output:
  --json PATH|-            Write the result object as JSON (- for stdout; the report then goes to stderr).
  --markdown PATH          Write a Markdown report.                                     e.g. --markdown report.md
  --html PATH              Write a self-contained HTML report with the charts (opens offline). e.g. --html report.html
  --csv PATH               Write the timeline (per interval: count, errors, q/s, p50, p95, max) as CSV. e.g. --csv timeline.csv
  --no-progress            No progress output.
  --verbose                Log what pgload does to stderr.

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

const SWEEP_HELP = `Usage: pgload sweep (--sql TEXT | --file PATH [--statement N]) [options]

Runs the statement at a series of client counts (1 warm-up request per client not counted) and prints
throughput, its noise (± two standard errors from batch means) and p50/p95/p99 per step. A step runs for
--step-duration, and longer when it has not yet completed 20 requests per client and lasted 10 p95 latencies
(at most 10 × the step or 60 s). Fits the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) to the
throughput, and recommends the fewest concurrent queries whose throughput is within 5 % of the best measured
or not significantly below it — or, when throughput still rises at the largest step, says so (sweep higher).
Steps above the server's free connections are left out with a notice.

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

const POOLS_HELP = `Usage: pgload pools (--sql TEXT | --file PATH [--statement N]) --users N --pool SIZE[+OVERFLOW] --pool SIZE[+OVERFLOW] [options]

Runs the statement for the same application users over each pool configuration in turn (SQLAlchemy's
QueuePool: pool_size + max_overflow; a plain SIZE is a fixed pool like HikariCP or pgx) and prints them side
by side: throughput, latency percentiles, and each request split into the wait for a pooled connection and
the time in the database. Answers "is 20 + 100 right for 100 users, or would the size the sweep recommends do better?"

  --users N                Concurrent application users (the same for every configuration). e.g. --users 100
  --pool SIZE[+OVERFLOW]   A configuration, given two to four times.             e.g. --pool 20+100 --pool 4
  --pool-timeout TIME      How long a request waits for a connection (default 30s). e.g. --pool-timeout 30s
  --duration TIME          How long each configuration runs (default 10s).         e.g. --duration 30s
  --requests N             Or a number of requests per configuration.             e.g. --requests 2000
  --sql TEXT / --file PATH / --statement N / --url URL, --statement-timeout TIME, --allow-writes, --set NAME=VALUE,
  --param N=GENERATOR, --prepared, --seed N       as for "pgload run"
  --json PATH|-            Write { kind: "pool-comparison", runs: [result, …] } as JSON.
  --no-progress            No progress output.

Example:
  pgload pools --file report.sql --users 100 --pool 20+100 --pool 4 --duration 30s
`;

const COMPARE_HELP = `Usage: pgload compare BEFORE.json AFTER.json [--max-regression 10%] [--json PATH|-]

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

const COMPARE_OPTIONS = {
  'max-regression': { type: 'string' },
  'noise-floor': { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

function compareCommand(args: string[], io: CliIO): number {
  const { values: v, positionals } = parseFlags(args, COMPARE_OPTIONS, 'compare');
  if (v.help) {
    io.stdout(COMPARE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 2) usage(`pgload compare takes two result files (before and after), got ${positionals.length}; e.g. pgload compare before.json after.json`);
  const maxRegression = percentFlag('max-regression', v['max-regression']);
  const noiseFloor = percentFlag('noise-floor', v['noise-floor']);
  const [a, b] = positionals.map(readResultFile);
  const comparison = compareResults(a, b, { labels: [path.basename(positionals[0]), path.basename(positionals[1])], noiseFloor });
  if (v.json !== undefined) {
    const json = JSON.stringify(comparison, null, 2) + '\n';
    if (v.json === '-') io.stdout(json);
    else writeOutput(v.json, json, 'comparison');
  }
  (v.json === '-' ? io.stderr : io.stdout)(formatComparison(comparison) + '\n');
  if (maxRegression !== undefined) {
    const failed = regressions(comparison, maxRegression);
    if (failed.length) {
      for (const f of failed) io.stderr(`pgload: REGRESSION: ${f}\n`);
      return EXIT.gate;
    }
  }
  return EXIT.ok;
}

const CHECK_HELP = `Usage: pgload check FILE.yml [--url URL] [--json PATH|-] [--markdown PATH] [--no-progress]

Runs every statement of the check file with its load and compares the result with its budgets; prints a
summary table. Everything in the file is checked before anything runs.

  url: postgres://app@localhost:5432/shop     # optional; --url wins, else PG* variables and ~/.pgpass
  defaults:                                   # run options for every check
    clients: 10
    duration: 5s                              # or requests: 500
  checks:
    - name: orders of a customer
      file: queries/orders.sql                # relative to this file; or sql: "SELECT …"
      statement: 2                            # which statement, when the file holds several
      clients: 20
      params: { 1: "int:1..1000" }            # generators for $1 … $n, as --param
      settings: { work_mem: 64MB }
      budgets:
        p95: 200ms                            # p50 p90 p95 p99 max mean: upper bounds
        qps: 100                              # at least this throughput
        errors: 0                             # at most this many failed requests
        hints: warning                        # no hint of this severity or above (info, warning, critical)

Run options: clients, requests, duration, warmup, statementTimeout, threshold, settings, params, prepared,
seed, allowWrites, explain.

Exit codes: 0 every budget met · 3 a budget failed · 1 a check could not run or ended early ·
            2 the file is wrong (nothing ran) · 130 cancelled.
`;

const CHECK_OPTIONS = {
  url: { type: 'string' },
  markdown: { type: 'string' },
  ...OUTPUT_OPTIONS,
} satisfies ParseArgsConfig['options'];

async function checkCommand(args: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parseFlags(args, CHECK_OPTIONS, 'check');
  if (v.help) {
    io.stdout(CHECK_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) usage(`pgload check takes one check file, got ${positionals.length}; e.g. pgload check pgload.yml (see "pgload check --help")`);
  const file = await loadCheckFile(positionals[0]);
  const url = v.url ?? file.url;
  const connection = url !== undefined ? { url } : {};
  // Every check is validated (SQL, safety, generators, connection settings) before the first runs.
  for (const c of file.checks) {
    try {
      await prepareRun({ ...c.input, connection }, { env: io.env });
    } catch (err) {
      if (err instanceof PgloadError && (err.kind === 'usage' || err.kind === 'input')) usage(`${positionals[0]}: check "${c.name}": ${err.message}`);
      throw err;
    }
  }
  const logger = stderrLogger(io, v.verbose === true);
  const outcomes: CheckOutcome[] = [];
  for (const [i, c] of file.checks.entries()) {
    if (io.signal?.aborted) break;
    if (!v['no-progress']) io.stderr(`pgload: check ${i + 1} of ${file.checks.length}: ${c.name}\n`);
    try {
      const result = await profile({ ...c.input, connection }, { signal: io.signal, logger, environment: { env: io.env } });
      const failures = evaluateBudgets(result, c.budgets);
      if (result.status !== 'completed') failures.unshift(`the run ended early: ${result.statusDetail ?? result.status}`);
      outcomes.push({ name: c.name, status: result.status !== 'completed' ? 'error' : failures.length ? 'failed' : 'passed', failures, budgets: c.budgets.map((b) => `${b.metric} ${b.text}`), result });
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') break;
      outcomes.push({ name: c.name, status: 'error', failures: [errorMessage(err)], budgets: c.budgets.map((b) => `${b.metric} ${b.text}`) });
    }
  }
  const jsonToStdout = v.json === '-';
  if (v.json !== undefined) {
    const json = JSON.stringify({ schemaVersion: 1, kind: 'check', file: positionals[0], checks: outcomes }, null, 2) + '\n';
    if (jsonToStdout) io.stdout(json);
    else writeOutput(v.json, json, 'JSON result');
  }
  if (v.markdown !== undefined) writeOutput(v.markdown, formatCheckMarkdown(outcomes), 'Markdown summary');
  (jsonToStdout ? io.stderr : io.stdout)(formatCheckReport(outcomes, positionals[0]) + '\n');
  if (io.signal?.aborted || outcomes.length < file.checks.length) return EXIT.cancelled;
  if (outcomes.some((o) => o.status === 'error')) return EXIT.failures;
  return outcomes.some((o) => o.status === 'failed') ? EXIT.gate : EXIT.ok;
}

/** Flags both commands take: what to run, where, and how to write the result. */
const COMMON_OPTIONS = {
  sql: { type: 'string' },
  file: { type: 'string' },
  statement: { type: 'string' },
  url: { type: 'string' },
  'statement-timeout': { type: 'string' },
  'allow-writes': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  param: { type: 'string', multiple: true },
  prepared: { type: 'boolean' },
  seed: { type: 'string' },
  ...OUTPUT_OPTIONS,
} satisfies ParseArgsConfig['options'];

const RUN_OPTIONS = {
  ...COMMON_OPTIONS,
  clients: { type: 'string' },
  requests: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  'baseline-runs': { type: 'string' },
  threshold: { type: 'string' },
  'max-errors': { type: 'string' },
  reconnect: { type: 'boolean' },
  workers: { type: 'string' },
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
  'server-vcpus': { type: 'string' },
  'server-memory': { type: 'string' },
  'no-explain': { type: 'boolean' },
  'sample-interval': { type: 'string' },
  'max-p95': { type: 'string' },
  'max-p99': { type: 'string' },
} satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

/**
 * `--duration -1` → `--duration=-1`, so that a negative number reaches validation instead of reading as a flag;
 * likewise SQL that starts with a `--` comment after --sql.
 */
function joinNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    const spec = name !== undefined ? options[name] : undefined;
    // SQL may begin with a "-- comment": after --sql the next word is always its value.
    const takesAnything = name === 'sql' || name === 'sql-b';
    if (spec?.type === 'string' && i + 1 < args.length && (/^-\d/.test(args[i + 1]) || (takesAnything && args[i + 1].startsWith('-')))) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals: true });
  } catch (err) {
    const m = errorMessage(err);
    const unknown = /Unknown option '([^']+)'/.exec(m);
    if (unknown) usage(`Unknown option ${unknown[1]}; see "pgload ${command} --help" for the options`);
    const missing = /Option '([^']+?)(?:, -\w)?(?: <value>)?' argument missing/.exec(m);
    if (missing) usage(`${missing[1]} needs a value; see "pgload ${command} --help"`);
    usage(`${m}; see "pgload ${command} --help"`);
  }
}

function duration(flag: string, text: string | undefined, bare: 'ms' | 's', min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (/^\s*-/.test(text)) usage(`--${flag} ${text}: a duration cannot be negative; write it like 500ms or 30s`);
  const r = parseDurationMs(text, bare);
  if (!r.ok) usage(`--${flag}: ${r.error}`);
  if (r.ms <= min) usage(`--${flag} ${text}: must be more than ${formatMs(min)}`);
  return r.ms;
}

/** `10%` or `10` → 0.1. */
function percentFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) usage(`--${flag} ${text}: write a percentage, like 10%`);
  return Number(m![1]) / 100;
}

function whole(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const r = parseWholeNumber(text, min, max);
  if (!r.ok) usage(`--${flag} ${text}: ${r.error}`);
  return r.value;
}

/** `16GB` → kB, with the flag named when it is not a size or out of range. */
function memorySize(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const r = parseSizeKB(text);
  if (!r.ok) usage(`--${flag}: ${r.error}`);
  return r.kb;
}

/** Reads a .sql file as UTF-8 text, with a specific message for each way it can be wrong. */
function readSqlFile(path: string, flag = 'file'): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') usage(`--${flag} ${path}: no such file`);
    if (code === 'EISDIR') usage(`--${flag} ${path}: is a folder; give a .sql file`);
    usage(`--${flag} ${path}: cannot be read (${code ?? errorMessage(err)})`);
  }
  if (buf.length === 0) usage(`--${flag} ${path}: the file is empty; put the statement to profile in it`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/^\uFEFF/, '');
  } catch {
    usage(`--${flag} ${path}: is not UTF-8 text; save it as UTF-8`);
  }
}

async function pickStatement(text: string, source: string, n: number | undefined): Promise<string> {
  if (n === undefined) return text;
  await ensureParser();
  const statements = splitStatements(text);
  if (statements.length === 0) usage(`${source} holds no statement`);
  if (n > statements.length) {
    usage(`--statement ${n}: ${source} holds ${statements.length} statement${statements.length === 1 ? '' : 's'}; give a number from 1 to ${statements.length}`);
  }
  return statements[n - 1].text;
}

function progressPrinter(io: CliIO): { onProgress: (p: Progress) => void; done: () => void } {
  let lastLineAt = 0;
  let lastPhaseMessage = '';
  let drewLine = false;
  const describe = (p: Progress) => {
    const count = p.total !== null ? `${formatCount(p.done)}/${formatCount(p.total)} requests` : `${formatCount(p.done)} requests, ${formatMs(p.elapsedMs)}/${formatMs(p.plannedMs)}`;
    return `load: ${count} · ${formatQps(p.qps)} q/s · p95 ${formatMs(p.p95Ms)} · ${p.errors} errors`;
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

function stderrLogger(io: CliIO, verbose: boolean): Logger {
  return {
    debug: (m) => verbose && io.stderr(`pgload: debug: ${m}\n`),
    info: (m) => verbose && io.stderr(`pgload: ${m}\n`),
    warn: (m) => io.stderr(`pgload: warning: ${m}\n`),
    error: (m) => verbose && io.stderr(`pgload: error: ${m}\n`),
  };
}

function writeOutput(path: string, text: string, what: string): void {
  try {
    fs.writeFileSync(path, text);
  } catch (err) {
    throw new UsageError(`Could not write the ${what} to ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
}

function checkGates(r: ProfileResult, maxP95?: number, maxP99?: number): string[] {
  const failed: string[] = [];
  if (maxP95 !== undefined && r.load.latency.p95Ms > maxP95) failed.push(`p95 ${formatMs(r.load.latency.p95Ms)} is above --max-p95 ${formatMs(maxP95)}`);
  if (maxP99 !== undefined && r.load.latency.p99Ms > maxP99) failed.push(`p99 ${formatMs(r.load.latency.p99Ms)} is above --max-p99 ${formatMs(maxP99)}`);
  return failed;
}

const SWEEP_OPTIONS = {
  ...COMMON_OPTIONS,
  'max-clients': { type: 'string' },
  steps: { type: 'string' },
  'step-duration': { type: 'string' },
} satisfies ParseArgsConfig['options'];

const POOLS_OPTIONS = {
  ...COMMON_OPTIONS,
  users: { type: 'string' },
  pool: { type: 'string', multiple: true },
  'pool-timeout': { type: 'string' },
  duration: { type: 'string' },
  requests: { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** `20+100` → size 20, overflow 100; `4` → a fixed pool of 4. */
function parsePoolConfig(text: string): { size: number; maxOverflow: number } {
  const m = /^\s*(\d+)\s*(?:\+\s*(\d+)\s*)?$/.exec(text);
  if (!m || Number(m[1]) < 1) usage(`--pool ${text}: write the pool size and the overflow as SIZE+OVERFLOW (e.g. 20+100), or SIZE for a fixed pool`);
  return { size: Number(m![1]), maxOverflow: Number(m![2] ?? 0) };
}

async function poolsCommand(args: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parseFlags(args, POOLS_OPTIONS, 'pools');
  if (v.help) {
    io.stdout(POOLS_HELP);
    return EXIT.ok;
  }
  if (v.url !== undefined && v.url.trim() === '') usage('--url is empty; give a URL like postgres://user@host:5432/dbname, or leave it out to use PG* variables');
  const users = whole('users', v.users, 1, 100_000);
  if (users === undefined) usage('pgload pools needs --users N: the application users sharing the pool');
  const configs = (v.pool ?? []).map(parsePoolConfig);
  if (configs.length < 2 || configs.length > 4) usage(`Give two to four pool configurations to compare, like --pool 20+100 --pool 4 (got ${configs.length})`);
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  const requests = whole('requests', v.requests, 1, 1_000_000_000);
  const durationMs = duration('duration', v.duration, 's', 0) ?? (requests === undefined ? 10_000 : undefined);
  const timeoutMs = duration('pool-timeout', v['pool-timeout'], 's', 0) ?? 30_000;
  const statementTimeoutMs = duration('statement-timeout', v['statement-timeout'], 'ms', 0);
  const sql = await sqlFromFlags(v, positionals);
  const logger = stderrLogger(io, v.verbose === true);
  const printer = progressPrinter(io);
  const runs: ProfileResult[] = [];
  try {
    for (const [i, c] of configs.entries()) {
      if (!v['no-progress']) io.stderr(`pgload: configuration ${i + 1} of ${configs.length}: pool ${c.size}${c.maxOverflow ? ` + ${c.maxOverflow} overflow` : ''} for ${users} users\n`);
      const r = await profile(
        {
          sql,
          connection: v.url !== undefined ? { url: v.url } : {},
          pool: { users: users!, size: c.size, maxOverflow: c.maxOverflow, timeoutMs },
          requests,
          durationMs,
          baselineRuns: 3,
          statementTimeoutMs,
          allowWrites: v['allow-writes'] === true,
          settings: settingsFromFlags(v.set),
          // The comparison is about the pool; EXPLAIN and wait sampling would only add sessions.
          explain: false,
          sampleIntervalMs: 0,
          maxErrors: 0,
          ...paramsFromFlags(v),
        },
        { signal: io.signal, logger, onProgress: v['no-progress'] ? undefined : printer.onProgress, environment: { env: io.env } },
      );
      runs.push(r);
      if (r.status === 'cancelled') break;
    }
  } finally {
    printer.done();
  }
  const jsonToStdout = v.json === '-';
  if (v.json !== undefined) {
    const json = JSON.stringify({ schemaVersion: 1, kind: 'pool-comparison', runs }, null, 2) + '\n';
    if (jsonToStdout) io.stdout(json);
    else writeOutput(v.json, json, 'JSON result');
  }
  (jsonToStdout ? io.stderr : io.stdout)(formatPoolComparison(runs) + '\n');
  if (runs.some((r) => r.status === 'cancelled')) return EXIT.cancelled;
  return runs.some((r) => r.load.requests.failed > 0 || r.status !== 'completed') ? EXIT.failures : EXIT.ok;
}

/** The SQL to run, from --sql or --file (and --statement), with the checks both commands share. */
async function sqlFromFlags(v: { sql?: string; file?: string; statement?: string }, positionals: string[]): Promise<string> {
  if (positionals.length > 0) usage(`Unexpected argument "${positionals[0]}"; put the SQL after --sql, or a file after --file`);
  if (v.sql !== undefined && v.file !== undefined) usage('Give either --sql or --file, not both');
  if (v.sql === undefined && v.file === undefined) usage('No SQL given; use --sql "SELECT …" or --file query.sql');
  if (v.sql !== undefined && v.sql.trim() === '') usage('--sql is empty; give the statement to profile');
  const statementNo = whole('statement', v.statement, 1, 1_000_000);
  const source = v.file !== undefined ? `--file ${v.file}` : '--sql';
  const text = v.file !== undefined ? readSqlFile(v.file) : v.sql!;
  return pickStatement(text, source, statementNo);
}

/** --param N=SPEC (repeatable), --prepared and --seed: how the statement's `$n` get values and how it is sent. */
function paramsFromFlags(v: { param?: string[]; prepared?: boolean; seed?: string }): { params: ParamInput[]; prepared: boolean; seed: number } {
  return {
    params: (v.param ?? []).map(parseParamFlag),
    prepared: v.prepared === true,
    seed: whole('seed', v.seed, 0, 2 ** 32 - 1) ?? 1,
  };
}

function settingsFromFlags(pairs: string[] | undefined, flag = 'set'): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(pair);
    if (!m || m[2] === '') usage(`--${flag} ${pair}: write it as NAME=VALUE, like --${flag} work_mem=64MB`);
    settings[m[1]] = m[2];
  }
  return settings;
}

async function sweepCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseFlags(args, SWEEP_OPTIONS, 'sweep');
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout(SWEEP_HELP);
    return EXIT.ok;
  }
  if (v.url !== undefined && v.url.trim() === '') usage('--url is empty; give a URL like postgres://user@host:5432/dbname, or leave it out to use PG* variables');
  const maxClients = whole('max-clients', v['max-clients'], 1, 10_000) ?? 64;
  let steps: number[] | undefined;
  if (v.steps !== undefined) {
    const parts = v.steps.split(',').map((x) => x.trim());
    if (parts.some((x) => !/^\d+$/.test(x) || Number(x) < 1)) usage(`--steps ${v.steps}: give client counts separated by commas, like 1,2,4,8`);
    steps = parts.map(Number);
    if (steps.length < 3) usage(`--steps ${v.steps}: give at least three steps, so that a curve can be fitted`);
  }
  const stepDurationMs = duration('step-duration', v['step-duration'], 's', 0) ?? 5000;
  if (stepDurationMs < 500) usage(`--step-duration ${v['step-duration']}: must be at least 500ms`);
  const statementTimeoutMs = duration('statement-timeout', v['statement-timeout'], 'ms', 0);
  const sql = await sqlFromFlags(v, positionals);
  const logger = stderrLogger(io, v.verbose === true);
  const jsonToStdout = v.json === '-';
  let lastLine = '';
  const result = await sweep(
    { sql, connection: v.url !== undefined ? { url: v.url } : {}, steps, maxClients, stepDurationMs, statementTimeoutMs, allowWrites: v['allow-writes'] === true, settings: settingsFromFlags(v.set), ...paramsFromFlags(v) },
    {
      signal: io.signal,
      logger,
      environment: { env: io.env },
      onStep: (i, of, clients) => {
        const line = `pgload: step ${i}/${of}: ${clients} client${clients === 1 ? '' : 's'} for ${formatMs(stepDurationMs)}`;
        if (!v['no-progress'] && line !== lastLine) io.stderr(`${line}\n`);
        lastLine = line;
      },
    },
  );
  if (v.json !== undefined) {
    const json = JSON.stringify(result, null, 2) + '\n';
    if (jsonToStdout) io.stdout(json);
    else writeOutput(v.json, json, 'JSON result');
  }
  (jsonToStdout ? io.stderr : io.stdout)(formatSweepReport(result) + '\n');
  if (io.signal?.aborted) return EXIT.cancelled;
  return result.steps.some((s) => s.failed > 0) ? EXIT.failures : EXIT.ok;
}

async function runCommand(args: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parseFlags(args, RUN_OPTIONS, 'run');
  if (v.help) {
    io.stdout(RUN_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) usage(`Unexpected argument "${positionals[0]}"; put the SQL after --sql, or a file after --file`);
  if (v.sql !== undefined && v.file !== undefined) usage('Give either --sql or --file, not both');
  if (v.sql === undefined && v.file === undefined) usage('No SQL given; use --sql "SELECT …" or --file query.sql');
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  if (v.url !== undefined && v.url.trim() === '') usage('--url is empty; give a URL like postgres://user@host:5432/dbname, or leave it out to use PG* variables');

  const clients = whole('clients', v.clients, 1, 10_000);
  const requests = whole('requests', v.requests, 1, 1_000_000_000);
  const durationMs = duration('duration', v.duration, 's', 0);
  if (durationMs !== undefined && durationMs < 100) usage(`--duration ${v.duration}: must be at least 100ms`);
  const warmup = whole('warmup', v.warmup, 0, 1_000_000);
  const baselineRuns = whole('baseline-runs', v['baseline-runs'], 1, 10_000);
  const thresholdMs = duration('threshold', v.threshold, 'ms', 0);
  const statementTimeoutMs = duration('statement-timeout', v['statement-timeout'], 'ms', 0);
  const maxErrors = whole('max-errors', v['max-errors'], 0, 1_000_000_000);
  const serverVcpus = whole('server-vcpus', v['server-vcpus'], 1, 4096);
  const serverMemoryKB = memorySize('server-memory', v['server-memory']);
  const users = whole('users', v.users, 1, 100_000);
  const poolSize = whole('pool-size', v['pool-size'], 1, 10_000);
  const maxOverflow = whole('max-overflow', v['max-overflow'], 0, 10_000);
  const poolTimeoutMs = duration('pool-timeout', v['pool-timeout'], 's', 0);
  if ((users === undefined) !== (poolSize === undefined)) usage('An application pool needs both --users and --pool-size');
  if (users === undefined && (maxOverflow !== undefined || poolTimeoutMs !== undefined)) usage('--max-overflow and --pool-timeout need --users and --pool-size');
  if (users !== undefined && clients !== undefined) usage('Give either --clients or --users with --pool-size, not both');
  const pool = users !== undefined ? { users, size: poolSize!, maxOverflow: maxOverflow ?? 0, timeoutMs: poolTimeoutMs ?? 30_000 } : undefined;
  const { params, prepared, seed } = paramsFromFlags(v);
  const workers = v.workers === undefined || v.workers.trim().toLowerCase() === 'auto' ? 'auto' : whole('workers', v.workers, 1, 64)!;
  let rate;
  if (v.rate !== undefined) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s|\/\s*sec|per\s*s)?\s*$/i.exec(v.rate);
    if (!m || Number(m[1]) <= 0) usage(`--rate ${v.rate}: write requests per second, like --rate 100/s`);
    if (pool) usage('Give either --rate or --users with --pool-size, not both');
    const arrival = (v.arrival ?? 'constant').toLowerCase();
    if (arrival !== 'constant' && arrival !== 'poisson') usage(`--arrival ${v.arrival}: use constant or poisson`);
    const perSecond = Number(m[1]);
    rate = {
      perSecond,
      distribution: arrival as 'constant' | 'poisson',
      maxOutstanding: whole('max-outstanding', v['max-outstanding'], 1, 10_000_000) ?? Math.max(100, Math.ceil(perSecond * 10)),
      seed,
    };
  } else if (v.arrival !== undefined || v['max-outstanding'] !== undefined) {
    usage('--arrival and --max-outstanding go with --rate');
  }
  const sampleIntervalMs = v['sample-interval'] !== undefined && /^\s*0+\s*(ms|s)?\s*$/.test(v['sample-interval']) ? 0 : duration('sample-interval', v['sample-interval'], 'ms', 0);
  const settings = settingsFromFlags(v.set);
  const maxP95 = duration('max-p95', v['max-p95'], 'ms', 0);
  const maxP99 = duration('max-p99', v['max-p99'], 'ms', 0);
  for (const flag of ['json', 'markdown', 'html', 'csv'] as const) if (v[flag] !== undefined && v[flag].trim() === '') usage(`--${flag} needs a path${flag === 'json' ? ', or - for stdout' : ''}`);

  const sql = await sqlFromFlags(v, positionals);

  const jsonToStdout = v.json === '-';
  const out = (s: string) => (jsonToStdout ? io.stderr(s) : io.stdout(s));
  const showProgress = !v['no-progress'];
  const printer = progressPrinter(io);
  const logger = stderrLogger(io, v.verbose === true);

  let result: ProfileResult;
  try {
    result = await profile(
      {
        sql,
        connection: v.url !== undefined ? { url: v.url } : {},
        clients,
        requests,
        durationMs,
        warmupPerClient: warmup,
        baselineRuns,
        thresholdMs,
        statementTimeoutMs,
        maxErrors,
        allowWrites: v['allow-writes'] === true,
        settings,
        serverVcpus,
        serverMemoryKB,
        pool,
        rate,
        explain: v['no-explain'] !== true,
        sampleIntervalMs,
        params,
        prepared,
        seed,
        reconnect: v.reconnect === true,
        workers,
      },
      { signal: io.signal, logger, onProgress: showProgress ? printer.onProgress : undefined, environment: { env: io.env } },
    );
  } finally {
    printer.done();
  }

  if (v.json !== undefined) {
    const json = JSON.stringify(result, null, 2) + '\n';
    if (jsonToStdout) io.stdout(json);
    else writeOutput(v.json, json, 'JSON result');
  }
  if (v.markdown !== undefined) writeOutput(v.markdown, formatMarkdownReport(result), 'Markdown report');
  if (v.csv !== undefined) writeOutput(v.csv, formatTimelineCsv(result), 'timeline CSV');
  if (v.html !== undefined) writeOutput(v.html, buildHtmlReport(exportState(result, result.connection.host), loadReportAssets()), 'HTML report');
  out(formatTextReport(result) + '\n');

  if (result.status === 'cancelled') return EXIT.cancelled;
  const gates = checkGates(result, maxP95, maxP99);
  if (gates.length > 0) {
    for (const g of gates) io.stderr(`pgload: GATE FAILED: ${g}\n`);
    return EXIT.gate;
  }
  if (result.load.requests.failed > 0 || result.status !== 'completed') return EXIT.failures;
  return EXIT.ok;
}

const AB_HELP = `Usage: pgload ab (--sql TEXT | --file PATH [--statement N]) (--setting NAME=VALUE … | --sql-b TEXT | --file-b PATH) [options]

Runs two variants of a statement under the same load in alternating legs — A B, B A, A B, … — so that what
the machine does meanwhile hits both, then compares them as "pgload compare" does: percentiles with
intervals, the shift of the whole distribution, the hints only one side has (e.g. a sort spilling to disk
only with the smaller work_mem), and the plans.

B differs from A by:
  --setting NAME=VALUE     Session settings for B only (repeatable).                 e.g. --setting work_mem=64MB
  --sql-b TEXT / --file-b PATH [--statement-b N]   Another statement for B, e.g. the SQL your ORM emits (A)
                           against a hand-written rewrite (B); with --file-b, --statement-b picks one of its statements.

Load (per side, split over the legs):
  --clients N (default 10), --requests N or --duration TIME (default 10s), --warmup N
  --rounds N               Legs per side (default 4).                               e.g. --rounds 6
  --sql/--file/--statement/--url, --statement-timeout, --allow-writes, --set (both sides), --param, --prepared, --seed
  --no-explain             No EXPLAIN (plans and spill hints come from the first leg of each side).
  --max-regression PCT     Exit 3 when B is significantly worse than A by more than this.
  --json PATH|-            Write { kind: "ab", order, a, b, comparison } as JSON.

Example:
  pgload ab --file report.sql --setting work_mem=64MB --clients 20 --duration 30s
`;

const AB_OPTIONS = {
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
} satisfies ParseArgsConfig['options'];

async function abCommand(args: string[], io: CliIO): Promise<number> {
  const { values: v, positionals } = parseFlags(args, AB_OPTIONS, 'ab');
  if (v.help) {
    io.stdout(AB_HELP);
    return EXIT.ok;
  }
  if (v.url !== undefined && v.url.trim() === '') usage('--url is empty; give a URL like postgres://user@host:5432/dbname, or leave it out to use PG* variables');
  if (v['sql-b'] !== undefined && v['file-b'] !== undefined) usage('Give either --sql-b or --file-b, not both');
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  const clients = whole('clients', v.clients, 1, 10_000);
  const requests = whole('requests', v.requests, 1, 1_000_000_000);
  const durationMs = duration('duration', v.duration, 's', 0) ?? (requests === undefined ? 10_000 : undefined);
  const rounds = whole('rounds', v.rounds, 1, 50) ?? 4;
  const maxRegression = percentFlag('max-regression', v['max-regression']);
  const sql = await sqlFromFlags(v, positionals);
  let sqlB: string | undefined;
  if (v['sql-b'] !== undefined) {
    if (v['sql-b'].trim() === '') usage('--sql-b is empty; give the statement B runs');
    sqlB = v['sql-b'];
  } else if (v['file-b'] !== undefined) {
    sqlB = await pickStatement(readSqlFile(v['file-b'], 'file-b'), `--file-b ${v['file-b']}`, whole('statement-b', v['statement-b'], 1, 1_000_000));
  }
  const settingsB = settingsFromFlags(v.setting, 'setting');
  const logger = stderrLogger(io, v.verbose === true);
  const printer = progressPrinter(io);
  let result;
  try {
    result = await abTest(
      {
        base: {
          sql,
          connection: v.url !== undefined ? { url: v.url } : {},
          clients,
          requests,
          durationMs,
          warmupPerClient: whole('warmup', v.warmup, 0, 1_000_000),
          statementTimeoutMs: duration('statement-timeout', v['statement-timeout'], 'ms', 0),
          allowWrites: v['allow-writes'] === true,
          settings: settingsFromFlags(v.set),
          explain: v['no-explain'] !== true,
          ...paramsFromFlags(v),
        },
        b: { sql: sqlB, settings: settingsB },
        rounds,
      },
      {
        signal: io.signal,
        logger,
        environment: { env: io.env },
        onProgress: v['no-progress'] ? undefined : printer.onProgress,
        onLeg: (i, of, side) => !v['no-progress'] && io.stderr(`pgload: leg ${i} of ${of}: ${side}\n`),
      },
    );
  } finally {
    printer.done();
  }
  const jsonToStdout = v.json === '-';
  if (v.json !== undefined) {
    const json = JSON.stringify(result, null, 2) + '\n';
    if (jsonToStdout) io.stdout(json);
    else writeOutput(v.json, json, 'JSON result');
  }
  const out = jsonToStdout ? io.stderr : io.stdout;
  out(`A/B in ${result.order.length} alternating legs (${result.order.join(' ')}), ${describePlan(result.a)} per side\n`);
  if (sqlB) out(`  A: ${oneLine(sql, 100)}\n  B: ${oneLine(sqlB, 100)}\n`);
  out(formatComparison(result.comparison) + '\n');
  if (result.a.status === 'cancelled' || result.b.status === 'cancelled') return EXIT.cancelled;
  if (maxRegression !== undefined) {
    const failed = regressions(result.comparison, maxRegression);
    for (const f of failed) io.stderr(`pgload: REGRESSION (B against A): ${f}\n`);
    if (failed.length) return EXIT.gate;
  }
  return result.a.load.requests.failed + result.b.load.requests.failed > 0 ? EXIT.failures : EXIT.ok;
}

/** Runs the CLI with the given arguments; returns the exit code. Never throws. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const redact = makeRedactor([io.env.PGPASSWORD]);
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    if (command === 'run') return await runCommand(rest, io);
    if (command === 'sweep') return await sweepCommand(rest, io);
    if (command === 'pools') return await poolsCommand(rest, io);
    if (command === 'compare') return compareCommand(rest, io);
    if (command === 'check') return await checkCommand(rest, io);
    if (command === 'ab') return await abCommand(rest, io);
    usage(`Unknown command "${command}"; the commands are "run", "sweep", "pools", "compare", "check" and "ab" (see "pgload --help")`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`pgload: ${redact(err.message)}\n`);
      return EXIT.usage;
    }
    if (err instanceof PgloadError) {
      io.stderr(`pgload: ${redact(err.message)}\n`);
      if (err.kind === 'cancelled') return EXIT.cancelled;
      return EXIT.usage;
    }
    io.stderr(`pgload: unexpected error: ${redact(errorMessage(err))}\n`);
    return EXIT.failures;
  }
}
