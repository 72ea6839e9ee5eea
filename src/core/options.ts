/**
 * Run options: defaults in one place, merged as {...DEFAULTS, ...given}, validated up front with a
 * specific sentence per problem. Every consumer (CLI flags, extension settings) ends up here.
 */
import type { ConnectionInput } from './connection/connection';
import type { PoolOptions } from './load/pool';
import type { ParamInput } from './load/params';
import { PgloadError } from './errors';
import { checkApplicationName } from './optiontable';
import { SERVER_MEMORY_RANGE_KB } from './units';

export interface ProfileOptions {
  sql: string;
  connection: ConnectionInput;
  /** Concurrent clients, each on its own session. */
  clients: number;
  /** Total requests across all clients. Exclusive with durationMs; when neither is given, DEFAULT_REQUESTS. */
  requests?: number;
  /** Run for this long instead of a number of requests. */
  durationMs?: number;
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
}

/** One script of a run: its statements (SQL text), its weight among the scripts, and a name for the report. */
export interface ScriptInput {
  name: string;
  sql: string;
  weight: number;
}

export interface RateOptions {
  perSecond: number;
  distribution: 'constant' | 'poisson';
  /** Requests queued or in flight at most; more are dropped (and counted). */
  maxOutstanding: number;
  /** Seed of the Poisson arrivals. */
  seed: number;
}

export const DEFAULT_REQUESTS = 200;
export const MAX_CLIENTS = 10_000;

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
    throw new PgloadError('usage', msg);
  };
  if (typeof o.sql !== 'string') bad('No SQL was given; give one statement to profile');
  const whole = (name: string, v: unknown, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) bad(`${name} must be a whole number, got ${JSON.stringify(v)}`);
    if ((v as number) < min || (v as number) > max) bad(`${name} must be from ${min} to ${max}, got ${v}`);
  };
  const positive = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${name} must be a number, got ${JSON.stringify(v)}`);
    if ((v as number) < min) bad(`${name} must be at least ${min}, got ${v}`);
  };
  if (o.pool) {
    whole('users', o.pool.users, 1, 100_000);
    whole('pool size', o.pool.size, 1, MAX_CLIENTS);
    whole('max overflow', o.pool.maxOverflow, 0, MAX_CLIENTS);
    positive('pool timeout (ms)', o.pool.timeoutMs, 1);
    // The database sees at most one session per user, and never more than the pool allows.
    o.clients = Math.min(o.pool.users, o.pool.size + o.pool.maxOverflow);
  }
  if (o.rate) {
    if (o.pool) bad('Give either an application pool or a fixed rate, not both');
    positive('rate (per second)', o.rate.perSecond, 0.01);
    if (o.rate.perSecond > 1_000_000) bad(`rate must be at most 1,000,000 per second, got ${o.rate.perSecond}`);
    if (o.rate.distribution !== 'constant' && o.rate.distribution !== 'poisson') bad('The arrival distribution must be constant or poisson');
    whole('max outstanding', o.rate.maxOutstanding, 1, 10_000_000);
    whole('seed', o.rate.seed, 0, 2 ** 32 - 1);
  }
  whole('clients', o.clients, 1, MAX_CLIENTS);
  if (o.requests !== undefined && o.durationMs !== undefined) {
    bad('Give either a number of requests or a duration, not both');
  }
  if (o.requests !== undefined) whole('requests', o.requests, 1, 1_000_000_000);
  if (o.durationMs !== undefined) positive('duration (ms)', o.durationMs, 100);
  if (o.requests === undefined && o.durationMs === undefined) o.requests = DEFAULT_REQUESTS;
  const concurrency = o.pool ? o.pool.users : o.rate ? 1 : o.clients;
  if (o.requests !== undefined && o.requests < concurrency) {
    bad(`${o.requests} requests cannot keep ${concurrency} ${o.pool ? 'users' : 'clients'} busy; give at least as many requests as ${o.pool ? 'users' : 'clients'}`);
  }
  whole('warmup', o.warmupPerClient, 0, 1_000_000);
  whole('baseline runs', o.baselineRuns, 1, 10_000);
  positive('threshold (ms)', o.thresholdMs, 0.001);
  positive('statement timeout (ms)', o.statementTimeoutMs, 1);
  whole('statement timeout (ms)', Math.round(o.statementTimeoutMs), 1, 2_147_483_647);
  whole('max errors', o.maxErrors, 0, 1_000_000_000);
  positive('interval (ms)', o.intervalMs, 0);
  if (typeof o.allowWrites !== 'boolean') bad('allowWrites must be true or false');
  if (typeof o.explain !== 'boolean') bad('explain must be true or false');
  positive('sample interval (ms)', o.sampleIntervalMs, 0);
  if (o.sampleIntervalMs > 0 && o.sampleIntervalMs < 10) bad(`sample interval (ms) must be 0 (off) or at least 10, got ${o.sampleIntervalMs}`);
  if (typeof o.prepared !== 'boolean') bad('prepared must be true or false');
  if (typeof o.reconnect !== 'boolean') bad('reconnect must be true or false');
  if (o.reconnect && (o.pool || o.rate)) bad('Reconnecting works with plain clients (--clients), not with an application pool or a fixed rate');
  whole('seed', o.seed, 0, 2 ** 32 - 1);
  if (o.workers !== 'auto') whole('workers', o.workers, 1, 64);
  if (typeof o.applicationName !== 'string') bad('applicationName must be text');
  const nameProblem = checkApplicationName(o.applicationName);
  if (nameProblem) bad(`The application name ${JSON.stringify(o.applicationName)} cannot be used: ${nameProblem}`);
  if (!Array.isArray(o.params) || o.params.some((p) => !p || typeof p.spec !== 'string' || !Number.isInteger(p.index))) {
    bad('params must be a list of { index, spec } generators, like { index: 1, spec: "int:1..100000" }');
  }
  if (o.serverVcpus !== undefined) whole('server vCPUs', o.serverVcpus, 1, 4096);
  if (o.measuredPool !== undefined) whole('measured pool size', o.measuredPool.poolSize, 1, MAX_CLIENTS);
  if (o.serverMemoryKB !== undefined) {
    positive('server memory (kB)', o.serverMemoryKB, SERVER_MEMORY_RANGE_KB.min);
    if (o.serverMemoryKB > SERVER_MEMORY_RANGE_KB.max) bad(`server memory must be at most 64TB, got ${o.serverMemoryKB} kB`);
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
