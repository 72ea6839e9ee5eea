/**
 * The one result object of a pgload run. Plain JSON, versioned: the CLI report, `--json`,
 * the webview, the CodeLens cache and every export read it; none of them recompute statistics.
 * Its parts are in ./results/ (plans and waits, sweep, comparisons, diagnosis, top) and ./modes/ (each load mode's
 * options and figures); this file re-exports them, so one import gives every result type.
 *
 * Times are milliseconds (floating point) unless a name says otherwise.
 * This file holds types only: it is imported with `import type` by the core, the CLI,
 * the extension and the webview.
 */

import type { PoolResult, PoolSettings } from './modes/pool';
import type { OpenLoopResult, RateSettings } from './modes/rate';
import type { RampResult } from './modes/ramp';
import type { CapturedPlan, ServerInsight } from './results/plan';
import type { MergedShards, ShardFacts } from './results/shard';
export type { PlanNodeTime, CapturedPlan, PlanDiffRow, PlanNodeFigures, PlanDiff, WaitShare, WaitSampling, ServerCounters, ServerInsight, GenericPlanCheck } from './results/plan';
export type { SweepStep, SweepRecommendation, SweepRecheck, SweepResult } from './results/sweep';
export type { ComparisonMetric, Comparison, ComparedRun, ComparedPlan, CheckOutcome, AbResult, IndexTrialFacts } from './results/compare';
export type { DiagnosePhaseId, DiagnosePhase, MeasuredChange, MeasuredFigure, PoolFigures, DiagnoseAnswers, DiagnoseResult } from './results/diagnose';
export type { ParamSuggestion, TopStatement, TopResult } from './results/top';
export type { CapacityDemand, CapacityVerdict, CapacityStep, CapacityBoundary, CapacityResult } from './results/capacity';
export type { ShardFacts, MergedShards, ShardStartHow } from './results/shard';

export type { PoolResult, PoolSettings, ThinkTimeDistribution } from './modes/pool';
export type { OpenLoopResult, RateSettings } from './modes/rate';
export type { RampResult, RampStage } from './modes/ramp';

export const RESULT_SCHEMA_VERSION = 1 as const;

export type StatementKind = 'query' | 'dml' | 'ddl' | 'utility' | 'transaction';

/** How each request was executed on the server. */
export type ExecutionMode =
  /** `BEGIN READ ONLY; <statement>; ROLLBACK` for every request: the server refuses any write. */
  | 'read-only'
  /** `BEGIN; <statement>; ROLLBACK` for every request (writes allowed): nothing it changes is kept. */
  | 'rolled-back';

export type RunStatus =
  /** Every planned request ran (some may have failed). */
  | 'completed'
  /** The user stopped the run; the figures cover what ran until then. */
  | 'cancelled'
  /** The run stopped itself after too many errors (`maxErrors`). */
  | 'bailed-out'
  /** Every client lost its connection before the planned requests were done. */
  | 'clients-lost';

export interface LatencyStats {
  count: number;
  minMs: number;
  meanMs: number;
  stddevMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One point of the latency percentile curve (p0 … p100), ready for a chart. */
export interface PercentilePoint {
  percentile: number;
  ms: number;
}

/** One bucket of the latency histogram; buckets are log-spaced. */
export interface HistogramBucket {
  fromMs: number;
  toMs: number;
  count: number;
}

/** One interval of the load phase. `tMs` is the interval's start, counted from the barrier release. */
export interface TimelinePoint {
  tMs: number;
  durationMs: number;
  count: number;
  errors: number;
  qps: number;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface ErrorGroup {
  /** SQLSTATE when the server sent one, else a client-side code such as `ECONNRESET` or `CONNECTION_LOST`. */
  code: string;
  message: string;
  count: number;
  phase: 'baseline' | 'warmup' | 'load';
  /** Milliseconds after the barrier release (negative: before it, during warm-up). */
  firstAtMs: number;
}

export type HintSeverity = 'info' | 'warning' | 'critical';

/**
 * Every kind of hint pgload gives, once: compare, check and the panel tell hints apart by this id (and the node),
 * so two different findings never share one.
 */
export const HINT_IDS = [
  'sort-spill',
  'hash-batches',
  'hashagg-spill',
  'node-spill',
  'temp-io',
  'work-mem-advice',
  'workers-not-launched',
  'row-misestimate',
  'filter-removes-most',
  'loop-amplification',
  'memoize-evictions',
  'lossy-bitmap',
  'cache-misses',
  'jit-time',
  'planning-time',
  'generic-plan',
  'cpu-saturation',
  'temp-file-waits',
  'lock-waits',
  'lwlock-waits',
  'sessions-idle',
  'idle-in-transaction',
  'rollback-round-trips',
  'client-bound',
  'envelope-cost',
  'exists-hash-semi',
  'offset-pagination',
  'distinct-sort',
  'per-row-subplan',
  'index-suggestion',
] as const;
export type HintId = (typeof HINT_IDS)[number];

export interface Hint {
  id: HintId;
  severity: HintSeverity;
  title: string;
  detail: string;
  /** The plan node it concerns, e.g. `Sort #3`, when it concerns one. */
  node?: string;
  action: string;
  /** SQL the user can copy, e.g. `SET LOCAL work_mem = '64MB'`. */
  sql?: string;
  /**
   * What acting on it could save at most: its node's share of the plan's time × the mean request latency under load
   * (the node's time cannot shrink below 0); for an index checked with HypoPG (`basis: 'planner-cost'`), the share by
   * which the planner's cost falls, since an index changes the plan beyond its node. Hints are ranked by it; absent
   * when the hint has no node or no timing.
   */
  estimate?: { share: number; perRequestMs: number; plan: 'alone' | 'under-load'; basis?: 'node' | 'planner-cost' };
  /**
   * Index suggestions: how the index was checked — HypoPG's hypothetical index, the planner's cost without and with it
   * and the plan it would get — or null when it could not be checked (HypoPG not installed).
   */
  verified?: IndexVerified | null;
}

/** An index checked with HypoPG: the planner's cost without and with it, and what it would change. */
export interface IndexVerified {
  method: 'hypopg';
  costBefore: number;
  costAfter: number;
  /** The first nodes of the plan it would get. */
  planShape: string;
  /** HypoPG's estimate of the index's size (for a pair, both). */
  sizeBytes?: number;
  /** Where the plan changes: "the EXISTS's Seq Scan on order_lines becomes an Index Only Scan". */
  change?: string;
  /** A pair: the cost with the first index alone. */
  costWithFirst?: number;
}

export interface ConnectionSummary {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: string;
  /** Whether the sessions actually used TLS. */
  ssl: boolean;
  /** A connection pooler between pgload and PostgreSQL, when one was recognised (absent: a direct server). */
  pooler?: PoolerSummary;
}

export type PoolMode = 'session' | 'transaction' | 'statement';

/** What pgload found out about a pooler, and what it changed in the run. */
export interface PoolerSummary {
  /** "PgBouncer 1.18.0" from its admin console, else "a connection pooler". */
  name: string;
  /** How it was recognised, in words (the startup parameter it refused, the process ids that differ). */
  detectedBy: string;
  /** From the admin console (SHOW POOLS); null when it could not be read. */
  poolMode: PoolMode | null;
  /** Why the admin console could not be read, when it could not. */
  consoleUnavailable?: string;
  /** How the session settings reached the server: set after connecting (set_config), or inside every request's transaction. */
  settingsRoute: 'set' | 'transaction';
  /** Sessions whose read-only state was checked on the server (SHOW transaction_read_only) before the load. */
  readOnlyVerifiedSessions: number;
  /** The load's application_name: the wait sampling and the leftover check go by it (process ids are the pooler's). */
  applicationName: string;
  /** Distinct server processes seen serving the run's requests (wait sampling); null without sampling. */
  serverSessionsSeen: number | null;
  /** The pooler's own queue over the load, from SHOW STATS; null when the console could not be read. */
  wait: { totalMs: number; transactions: number; meanPerTransactionMs: number } | null;
  /** What this means for the figures, one sentence each. */
  notes: string[];
}

export interface ResultOptions {
  clients: number;
  /** Total requests across all clients (request mode), or null in duration mode. */
  requests: number | null;
  /** Run length in duration mode, or null in request mode. */
  durationMs: number | null;
  /** Warm-up requests per client, run before the barrier and excluded from the statistics. */
  warmupPerClient: number;
  baselineRuns: number;
  thresholdMs: number;
  statementTimeoutMs: number;
  allowWrites: boolean;
  maxErrors: number;
  executionMode: ExecutionMode;
  /** Session settings given for the run (e.g. work_mem), applied to every session. */
  settings: Record<string, string>;
  /** The emulated application pool, when the run used one. */
  pool?: PoolSettings;
  /** The fixed arrival rate, when the run used one. */
  rate?: RateSettings;
  /** With a ramp: clients were added in steps over this time, then held (load.ramp has each stage). */
  rampMs?: number;
  /** Generators of `$1 … $n` (as written, e.g. `int:1..100000`) and the first values drawn, when the statement has parameters. */
  params?: Array<{ index: number; spec: string; sample: Array<string | null> }>;
  /** The statement ran as a named prepared statement (parsed and planned once per session, like pgbench -M prepared). */
  prepared?: boolean;
  /** Seed of the run's random choices (parameter values, Poisson arrivals): the same seed repeats them. */
  seed?: number;
  /** Event loops asked for (`auto` or a number); what ran is `load.client.loops`. */
  workers?: number | 'auto';
}

export interface ServerInfo {
  version: string;
  versionNum: number;
  /** The role pgload's sessions run as (results before 0.3 lack it). */
  role?: { name: string; superuser: boolean };
  settings: {
    work_mem: string;
    max_connections: string;
    shared_buffers: string;
    max_parallel_workers_per_gather: string;
    jit: string;
    [name: string]: string;
  };
}

export interface BaselineResult {
  /** The first execution on a fresh session (catalog and plan caches cold). */
  coldMs: number;
  /** The warm single executions that follow, one at a time on the same session. */
  latency: LatencyStats;
  /**
   * What pgload's envelope (BEGIN READ ONLY … ROLLBACK in the request's round trip) adds to a request on this server,
   * in µs: the median of empty requests with it minus the median without, alternating on the baseline session.
   * Absent in results from before it was measured, or when the measurement failed.
   */
  envelopeUs?: number;
}

/** The requests that ended after the run's first `fromMs` (its steady state), counted apart. */
export interface SteadyState {
  fromMs: number;
  ok: number;
  failed: number;
  /** From `fromMs` to the last response. */
  wallMs: number;
  throughputQps: number;
  latency: LatencyStats;
  /** Their HDR histogram (µs, compressed base64). */
  hdr: string;
  /** The same requests in consecutive batches of `batchMs`: how much the p95 varies over time. */
  batchMs: number;
  batches: Array<{ ok: number; p95Ms: number }>;
}

export interface LoadResult {
  clients: number;
  requests: { total: number; ok: number; failed: number };
  /** From the barrier release to the last response. */
  wallMs: number;
  throughputQps: number;
  /** With `steadyFromMs`: the requests after the start-up, apart. */
  steady?: SteadyState;
  latency: LatencyStats;
  overThreshold: { thresholdMs: number; count: number; percent: number };
  /** Load mean ÷ baseline warm mean. */
  slowdown: number | null;
  /** Time to open each client's session, measured before timing starts and never mixed into latency. */
  connectMs: { p50Ms: number; maxMs: number };
  percentiles: PercentilePoint[];
  /** With an emulated application pool: how the latency splits into waiting for a connection and the database. */
  pool?: PoolResult;
  /** With a fixed arrival rate: `latency` counts from each request's intended start; this holds the rest. */
  openLoop?: OpenLoopResult;
  /** With a ramp: each stage's clients and figures. */
  ramp?: RampResult;
  /** pgload's own cost during the load: when it is high, the latencies include client-side queueing. */
  client?: ClientOverhead;
  /** Windows from a lost session (server restart, terminated backend) to the next successful request. */
  outages?: Array<{ startMs: number; endMs: number; lostSessions: number; recovered: boolean }>;
  /** Sessions opened again after being lost (with `reconnect`). */
  reconnects?: number;
  /** Other statements run beside the load (`--background`): their own figures, apart from the profiled statement's. */
  background?: BackgroundSummary;
  /**
   * The server stopped answering during the run (a network that stopped forwarding, a hung server): when pgload noticed
   * (ms since the load started), and the bound it keeps after a silence — a request waits the statement timeout plus
   * pgload's margin, every later step is skipped — with the sentence the report prints.
   */
  silence?: { detectedAtMs: number; boundMs: number; text: string };
  /** A transaction or a mix: each statement's own latency under load, its part of the request, its failures. */
  statements?: StatementFigures[];
  /** A mix: each script's requests and latency (a transaction has one script). */
  scripts?: ScriptFigures[];
}

/** One statement of a transaction or a mix, under load. */
export interface StatementFigures {
  /** 1-based, in its script. */
  index: number;
  script: string;
  sql: string;
  latency: LatencyStats;
  /** Its mean as a part of its script's mean request (BEGIN and ROLLBACK take the rest). */
  shareOfRequest: number;
  /** Requests that failed on this statement. */
  failed: number;
  /** EXPLAIN ANALYZE of the statement alone (with the baseline's values), or null without EXPLAIN. */
  planAlone: CapturedPlan | null;
}

/** One script of a run: how often it was picked and how its requests went. */
export interface ScriptFigures {
  name: string;
  weight: number;
  /** The part of the requests that ran it. */
  share: number;
  /** Its statements run as one transaction (BEGIN … ROLLBACK, like every request). */
  transaction: boolean;
  statements: number;
  requests: { ok: number; failed: number };
  throughputQps: number;
  latency: LatencyStats;
}

/** The background load of a run: what ran beside the profiled statement, measured apart. */
export interface BackgroundSummary {
  sql: string;
  /** Sessions it ran on. */
  clients: number;
  /** Its fixed arrival rate, or null for clients back to back. */
  ratePerSecond: number | null;
  mode: 'read-only' | 'rolled-back';
  requests: { ok: number; failed: number };
  throughputQps: number;
  latency: LatencyStats;
  /** Its most frequent errors, e.g. a lock timeout. */
  errors: Array<{ code: string | null; message: string; count: number }>;
  /** It ended before the profiled load did (its errors stopped it): why. */
  endedEarly: string | null;
}

export interface ClientOverhead {
  /** CPU time of the pgload process during the load (user + system). */
  cpuMs: number;
  /** Of which in the kernel (system time: sockets, timers); absent in results from before it was kept. */
  cpuSystemMs?: number;
  cpuUsPerRequest: number;
  /** CPU time ÷ wall time: 1 is one core busy all the time. */
  cpuShareOfOneCore: number;
  /**
   * How much later than due the event loop ran its callbacks — the delay pgload itself added (the monitor's own
   * 10 ms period subtracted): p50, p99 and max. A response that arrived then was timed that much late.
   */
  eventLoopDelayP50Ms?: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /**
   * The added delay's p99 above 10 % of the load's median latency (and above 1 ms), or CPU > 85 % of a core per
   * loop: the figures include pgload's own queueing.
   */
  clientBound: boolean;
  /** Event loops that ran the clients (worker threads; 1 = one loop: the main one, or a worker thread in the editor), and the worst loop's delay above. */
  loops?: number;
  /**
   * Round trips one request makes, on average (BEGIN, each statement, ROLLBACK of a script; 1 on the pipelined
   * path): each response can wait behind a late loop, so the delay counts once per round trip. Absent: 1.
   */
  roundTripsPerRequest?: number;
}

export interface ProfileResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: 'pgload'; version: string };
  status: RunStatus;
  /** A sentence saying why the run ended early, when it did. */
  statusDetail?: string;
  sql: string;
  fingerprint: string;
  statementKind: StatementKind;
  startedAt: string;
  finishedAt: string;
  connection: ConnectionSummary;
  options: ResultOptions;
  server: ServerInfo;
  baseline: BaselineResult;
  load: LoadResult;
  timeline: TimelinePoint[];
  histogram: HistogramBucket[];
  errors: ErrorGroup[];
  hints: Hint[];
  /** EXPLAIN plans, what the server waited on, and its counters over the run. */
  insight: ServerInsight;
  /** HDR histograms (microseconds) as compressed base64, for exact merging and comparison later. */
  hdr: { unit: 'us'; baseline: string; load: string };
  /** Sessions of this run still on the server after it closed them (should always be 0). */
  /**
   * pgload's sessions still on the server after the run (0 expected; those found were ended), or null when the check
   * could not reach the server (a silent network): `note` then says so.
   */
  cleanup: { leftoverSessions: number | null; note?: string };
  /** A shard of a run split across processes (`--shard i/n`): its share, its start and its raw intervals. */
  shard?: ShardFacts;
  /** The merge of a split run's shards (`pgload merge`): the figures above are all shards' requests together. */
  shards?: MergedShards;
}

/** A run's live progress, as the core reports it and the panel shows it. */
export interface ProgressView {
  phase: 'preparing' | 'connecting' | 'baseline' | 'load' | 'closing';
  /** Requests done in the load phase so far (successful and failed). */
  done: number;
  /** Planned requests (request mode) or null (duration mode). */
  total: number | null;
  /** Milliseconds since the barrier (load), else since the phase started. */
  elapsedMs: number;
  /** Planned length in duration mode, else null. */
  plannedMs: number | null;
  /** Successful requests per second over the last second or more. */
  qps: number;
  /** p95 of the whole load so far, in ms (null before the first response). */
  p95Ms: number | null;
  errors: number;
  /** A phase change worth a line ("opening 50 sessions"), or '' for a plain update. */
  message: string;
  /**
   * Where a run of several steps is (a sweep's steps, a diagnosis's phases), set by the editor, which knows the plan:
   * the step (1-based) of how many, what it does, the time left for all the steps still to run and the share of the
   * planned time done (both null when a step has no planned length).
   */
  stage?: { index: number; of: number; label: string; leftMs: number | null; fraction: number | null };
}
