/** `pgload pools`: application-pool configurations side by side, same statement and users. */
import { APP_POOL_LIMITS } from '../../core/optionTable';
import type { ParseArgsConfig } from 'node:util';
import type { ProfileResult } from '../../shared/result';
import { formatPoolComparison } from '../../shared/format';
import { profile } from '../../core/load/runner';
import { EXIT, CliIO, usage, progressPrinter, stderrLogger, emitJson, checkOutputPaths } from '../io';
import { COMMON_OPTIONS, parseCommand, duration, whole, sqlFromFlags, paramsFromFlags, settingsFromFlags, connectionFromFlags, commonRunFlags } from '../flags';

export const POOLS_HELP = `Usage: pgload pools (--sql TEXT | --file PATH [--statement N]) --users N --pool SIZE[+OVERFLOW] --pool SIZE[+OVERFLOW] [options]

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

export const POOLS_OPTIONS = {
  ...COMMON_OPTIONS,
  users: { type: 'string' },
  pool: { type: 'string', multiple: true },
  'pool-timeout': { type: 'string' },
  duration: { type: 'string' },
  requests: { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** `20+100` → size 20, overflow 100; `4` → a fixed pool of 4. */
export function parsePoolConfig(text: string): { size: number; maxOverflow: number } {
  const m = /^\s*(\d+)\s*(?:\+\s*(\d+)\s*)?$/.exec(text);
  if (!m || Number(m[1]) < 1) usage(`--pool ${text}: write the pool size and the overflow as SIZE+OVERFLOW (e.g. 20+100), or SIZE for a fixed pool`);
  return { size: Number(m![1]), maxOverflow: Number(m![2] ?? 0) };
}

export async function poolsCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, POOLS_OPTIONS, 'pools', POOLS_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  const connection = connectionFromFlags(v.url);
  const users = whole('users', v.users, APP_POOL_LIMITS.users.min, APP_POOL_LIMITS.users.max);
  if (users === undefined) usage('pgload pools needs --users N: the application users sharing the pool');
  const configs = (v.pool ?? []).map(parsePoolConfig);
  if (configs.length < 2 || configs.length > 4) usage(`Give two to four pool configurations to compare, like --pool 20+100 --pool 4 (got ${configs.length})`);
  if (v.requests !== undefined && v.duration !== undefined) usage('Give either --requests or --duration, not both');
  const requests = whole('requests', v.requests, 1, 1_000_000_000);
  const durationMs = duration('duration', v.duration, 's', 0) ?? (requests === undefined ? 10_000 : undefined);
  const timeoutMs = duration('pool-timeout', v['pool-timeout'], 's', 0) ?? 30_000;
  const common = commonRunFlags(v);
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
          connection,
          pool: { users: users!, size: c.size, maxOverflow: c.maxOverflow, timeoutMs },
          requests,
          durationMs,
          baselineRuns: 3,
          ...common,
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
  emitJson(io, v.json, { schemaVersion: 1, kind: 'pool-comparison', runs })(formatPoolComparison(runs) + '\n');
  if (runs.some((r) => r.status === 'cancelled')) return EXIT.cancelled;
  return runs.some((r) => r.load.requests.failed > 0 || r.status !== 'completed') ? EXIT.failures : EXIT.ok;
}
