/**
 * Run options: defaults in one place, merged as {...DEFAULTS, ...given}, validated up front with a
 * specific sentence per problem. Every consumer (CLI flags, extension settings) ends up here.
 */
import type { ConnectionInput } from './connection/connection';
import type { PoolOptions } from './load/sessionPool';
import type { RateSettings } from '../shared/result';
import type { ParamInput } from './load/params';
import { checkOptionValue, MAX_CLIENTS, RUN_OPTION_TABLE } from './optionTable';
import { checkLoadMode } from './load/modes';
import { usageError } from './errors';
import { isSplit, splitOptions, type ShardInput, type ShardOptions } from './load/shard/split';
export { MAX_CLIENTS } from './optionTable';

const CLIENTS_ROW = RUN_OPTION_TABLE.find((r) => r.key === 'clients')!;

export interface ProfileOptions {
  sql: string;
  connection: ConnectionInput;
  /** Concurrent clients, each on its own session. */
  clients: number;
  /** Total requests across all clients. Exclusive with durationMs; when neither is given, DEFAULT_REQUESTS. */
  requests?: number;
  /** Run for this long instead of a number of requests. */
  durationMs?: number;
  /** Start the clients in steps over this time, then hold them all (a ramp; needs durationMs). */
  rampMs?: number;
  /** Requests per client run before the barrier and left out of the statistics. */
  warmupPerClient: number;
  /** Warm single executions after the cold one. */
  baselineRuns: number;
  /** Latency above which a request counts as slow (the over-threshold figure). */
  thresholdMs: number;
  statementTimeoutMs: number;
  /** Allows DML; it then runs inside a transaction that is always rolled back. */
  allowWrites: boolean;
  /** The run stops itself after this many failed requests (0 = never). */
  maxErrors: number;
  /** Timeline interval; 0 chooses one from the expected length of the run. */
  intervalMs: number;
  /**
   * The steady state: requests that end `fromMs` or more after the start are also counted apart (`load.steady`), so
   * that a queue's build-up at the start does not count (a capacity step), and in batches of `batchMs` (their p95s
   * vary as much as the queue does). Absent: not counted apart.
   */
  steady?: { fromMs: number; batchMs: number };
  /** Session settings for every session of the run (e.g. { work_mem: '64MB' }). */
  settings: Record<string, string>;
  /** Capture EXPLAIN ANALYZE alone and under load. */
  explain: boolean;
  /** Sample what the server's sessions wait on every this many ms (0: off). */
  sampleIntervalMs: number;
  /** The server's CPU count, when the user knows it (for "sessions active vs vCPUs"). */
  serverVcpus?: number;
  /** The server's memory in kB, when the user knows it (what work_mem × concurrency risks). */
  serverMemoryKB?: number;
  /**
   * The pool size a concurrency sweep of this statement measured (the editor passes its last sweep): hints about
   * too many concurrent queries then quote the measurement instead of a rule of thumb.
   */
  measuredPool?: { poolSize: number; saturated?: boolean; measuredAt: string };
  /** Emulate an application pool: `users` share `size` (+ `maxOverflow`) sessions; clients is then the session count. */
  pool?: PoolOptions;
  /** Open loop: requests arrive at this rate whatever the responses; `clients` sessions serve them. */
  rate?: RateOptions;
  /** Value generators for `$1 … $n`, one per parameter the statement uses. */
  params: ParamInput[];
  /** Run the statement as a named prepared statement (parse and plan once per session). */
  prepared: boolean;
  /** Seed of the run's random choices; the same seed gives the same parameter values (and arrivals). */
  seed: number;
  /** A client whose session is lost opens a new one (backoff 100 ms → 2 s) instead of stopping. */
  reconnect: boolean;
  /**
   * Event loops running the clients (worker threads, like pgbench -j): a number, or 'auto' (one per 32 clients
   * up to half the cores). Plain closed-loop clients only; an application pool, a fixed rate, reconnecting and
   * rolled-back writes run on one loop.
   */
  workers: number | 'auto';
  /** The sessions' application_name: how the server (pg_stat_activity) and a pooler tell them apart. */
  applicationName: string;
  /**
   * Requests that are scripts instead of one statement (see load/script.ts): one script run as a transaction
   * (`--transaction`), or several picked by weight per request (`--mix a.sql@70`). `sql` then holds them all, for the
   * result; each script's statements run in order, several as one transaction.
   */
  scripts?: ScriptInput[];
  /**
   * One shard of a run split across processes (`--shard i/n`): as asked for, then (once the options are checked) with
   * its share of the totals and how the shards meet; `splitShard` gives the latter.
   */
  shard?: ShardInput | ShardOptions;
}

/** One script of a run: its statements (SQL text), its weight among the scripts, and a name for the report. */
export interface ScriptInput {
  name: string;
  sql: string;
  weight: number;
}

/** A fixed arrival rate (the open loop). */
export type RateOptions = RateSettings;

export const DEFAULT_REQUESTS = 200;

export const DEFAULTS: Omit<ProfileOptions, 'sql' | 'connection'> = {
  clients: 10,
  warmupPerClient: 0,
  baselineRuns: 5,
  thresholdMs: 500,
  statementTimeoutMs: 30_000,
  allowWrites: false,
  maxErrors: 100,
  intervalMs: 0,
  settings: {},
  explain: true,
  sampleIntervalMs: 100,
  params: [],
  prepared: false,
  seed: 1,
  reconnect: false,
  workers: 'auto',
  applicationName: 'pgload',
};

/** Settings pgload sets on every session itself; a user setting them would undo its safety. */
const SESSION_LIMITS = new Set(['default_transaction_read_only', 'transaction_read_only', 'statement_timeout', 'idle_in_transaction_session_timeout', 'application_name']);

export type ProfileInput = Partial<ProfileOptions> & Pick<ProfileOptions, 'sql'>;

/** Merges with the defaults and validates; throws PgloadError('usage') naming the option and what to do. */
export function normalizeOptions(input: ProfileInput): ProfileOptions {
  const o: ProfileOptions = { ...DEFAULTS, connection: {}, ...stripUndefined(input) } as ProfileOptions;
  const bad = (msg: string): never => {
    throw usageError(msg);
  };
  if (typeof o.sql !== 'string') bad('No SQL was given; give one statement to profile');
  if (o.requests !== undefined && o.durationMs !== undefined) bad('Give either a number of requests or a duration, not both');
  // The options of the table, each against its row's kind and range (the ranges are written there only).
  for (const row of RUN_OPTION_TABLE) {
    const v = o[row.key];
    if (v === undefined) continue;
    const problem = checkOptionValue(row, v);
    if (problem) bad(problem);
  }
  // A shard of a split run takes its share of every total (once: options already split carry their totals).
  if (o.shard && !isSplit(o.shard)) Object.assign(o, splitOptions(o, o.shard, DEFAULT_REQUESTS));
  // The load mode's own options (an application pool sets the sessions it needs as clients).
  const mode = checkLoadMode(o);
  // An application pool sets the sessions it needs as clients: they are held to the same range.
  const clientsProblem = checkOptionValue(CLIENTS_ROW, o.clients);
  if (clientsProblem) bad(clientsProblem);
  if (o.requests === undefined && o.durationMs === undefined) o.requests = DEFAULT_REQUESTS;
  const concurrency = mode.concurrency(o);
  if (o.requests !== undefined && o.requests < concurrency.count) {
    bad(`${o.requests} requests cannot keep ${concurrency.count} ${concurrency.noun} busy; give at least as many requests as ${concurrency.noun}`);
  }
  if (typeof o.intervalMs !== 'number' || !(o.intervalMs >= 0)) bad(`interval (ms) must be 0 or more, got ${JSON.stringify(o.intervalMs)}`);
  if (o.steady !== undefined && !(o.steady.fromMs >= 0 && o.steady.batchMs >= 100 && o.durationMs !== undefined && o.steady.fromMs < o.durationMs)) {
    bad(`the steady state must start within the run's duration, in batches of 100 ms or more; got ${JSON.stringify(o.steady)} for ${o.durationMs ?? 'no duration'}`);
  }
  if (!Array.isArray(o.params) || o.params.some((p) => !p || typeof p.spec !== 'string' || !Number.isInteger(p.index))) {
    bad('params must be a list of { index, spec } generators, like { index: 1, spec: "int:1..100000" }');
  }
  if (o.measuredPool !== undefined && !(Number.isInteger(o.measuredPool.poolSize) && o.measuredPool.poolSize >= 1 && o.measuredPool.poolSize <= MAX_CLIENTS)) {
    bad(`measured pool size must be from 1 to ${MAX_CLIENTS}, got ${o.measuredPool.poolSize}`);
  }
  if (!o.settings || typeof o.settings !== 'object') bad('settings must be name → value pairs');
  for (const [name, value] of Object.entries(o.settings)) {
    if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i.test(name)) bad(`"${name}" is not a setting name; write it like work_mem=64MB`);
    if (typeof value !== 'string' || value === '' || value.length > 200 || /[\u0000-\u001f'"]/.test(value)) {
      bad(`The value of ${name} must be plain text without quotes, like work_mem=64MB`);
    }
    const pinned = PINNED_SETTINGS[name.toLowerCase()];
    if (pinned) bad(`${name} cannot be set: ${pinned}`);
    if (SESSION_LIMITS.has(name.toLowerCase())) bad(`${name} is set by pgload itself (use the ${name.toLowerCase() === 'application_name' ? 'application name' : 'statement timeout'} option instead)`);
  }
  return o;
}

/** Settings pgload fixes itself, because its guarantees rest on them. */
const PINNED_SETTINGS: Record<string, string> = {
  standard_conforming_strings: 'pgload keeps it on, so that the server reads string literals exactly as pgload parsed them (a backslash inside a literal could otherwise end it and start another statement)',
  default_transaction_read_only: 'pgload makes every request read-only itself unless writes are allowed (CLI: --allow-writes)',
  transaction_read_only: 'pgload makes every request read-only itself unless writes are allowed (CLI: --allow-writes)',
};

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
