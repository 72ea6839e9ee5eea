/**
 * The one result object of a pgload run. Plain JSON, versioned: the CLI report, `--json`,
 * the webview, the CodeLens cache and every export read it; none of them recompute statistics.
 *
 * Times are milliseconds (floating point) unless a name says otherwise.
 * This file holds types only: it is imported with `import type` by the core, the CLI,
 * the extension and the webview.
 */

import type { PoolResult, PoolSettings } from './modes/pool';
import type { OpenLoopResult, RateSettings } from './modes/rate';
import type { RampResult } from './modes/ramp';
export type { PoolResult, PoolSettings } from './modes/pool';
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
   * (the node's time cannot shrink below 0). Hints are ranked by it; absent when the hint has no node or no timing.
   */
  estimate?: { share: number; perRequestMs: number; plan: 'alone' | 'under-load' };
  /**
   * Index suggestions: how the index was checked — HypoPG's hypothetical index, the planner's cost without and with it
   * and the plan it would get — or null when it could not be checked (HypoPG not installed).
   */
  verified?: { method: 'hypopg'; costBefore: number; costAfter: number; planShape: string } | null;
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

export interface LoadResult {
  clients: number;
  requests: { total: number; ok: number; failed: number };
  /** From the barrier release to the last response. */
  wallMs: number;
  throughputQps: number;
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
  /** Event loops that ran the clients (worker threads; 1 = the main loop), and the worst loop's delay above. */
  loops?: number;
  /**
   * Round trips one request makes, on average (BEGIN, each statement, ROLLBACK of a script; 1 on the pipelined
   * path): each response can wait behind a late loop, so the delay counts once per round trip. Absent: 1.
   */
  roundTripsPerRequest?: number;
}

/** One plan node's own time: without its children's, loops and parallel workers accounted for. */
export interface PlanNodeTime {
  /** `Seq Scan on orders #5`, as the hints name nodes. */
  node: string;
  exclusiveMs: number;
  /** Of the plan's execution, 0–1 (the shares of a plan add up to 1). */
  share: number;
  /** What it does, in words ("scans all 1,199,952 rows of purchase_lines and keeps 3 to check the EXISTS"). */
  what: string;
  /** 0 for the root; a child is one deeper than its parent (the plan's tree in depth-first order). */
  depth: number;
  /** The planner's estimate and what happened, per loop (as EXPLAIN shows them), and the loops. */
  rows: { estimated: number; actual: number; loops: number };
  /** The node's own buffers (EXPLAIN counts a node's children in; they are taken out): blocks hit, read, temp. */
  blocks: { hit: number; read: number; temp: number };
}

/** One captured EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON), or why there is none. */
export interface CapturedPlan {
  /** `alone`: in the baseline; `under-load`: on an extra session while all clients were running. */
  when: 'alone' | 'under-load';
  /** The EXPLAIN options used (those the server's version has). */
  options: string[];
  planningMs: number | null;
  executionMs: number | null;
  /** The server's JSON output, first element (with `Plan`, `Planning Time`, `JIT`, `Settings`…). */
  json: Record<string, unknown> | null;
  /** Why there is no plan (e.g. the statement cannot be explained, or the user cancelled). */
  unavailable?: string;
  /** Where the time went: every node's own time and share, in the plan's order (depth first). */
  nodes?: PlanNodeTime[];
}

/** One row of the plan comparison, alone vs under load, for nodes at the same place in both plans. */
export interface PlanDiffRow {
  node: string;
  alone: PlanNodeFigures;
  underLoad: PlanNodeFigures;
}

export interface PlanNodeFigures {
  totalMs: number;
  rows: number;
  loops: number;
  workersLaunched: number | null;
  tempBlocks: number;
  sharedReadBlocks: number;
}

export interface PlanDiff {
  sameShape: boolean;
  /** Sentences for what changed: shape, workers, temp files, reads, the slowest-growing node. */
  notes: string[];
  rows: PlanDiffRow[];
}

/** Share of samples per wait (CPU = active with no wait event). */
export interface WaitShare {
  event: string;
  samples: number;
  share: number;
  /** Average number of sessions in this state. */
  avgSessions: number;
}

export interface WaitSampling {
  intervalMs: number;
  samples: number;
  shares: WaitShare[];
  /** Per sampling window: sessions per wait (top waits only, the rest as `other`). */
  timeline: Array<{ tMs: number; counts: Record<string, number> }>;
  /** Average sessions active on the server (not idle). */
  avgActive: number;
  /** The server's CPUs when known (a flag or setting, or this machine for a local server). */
  serverVcpus: number | null;
  vcpusSource: 'given' | 'local machine' | null;
  /**
   * The server time the sampler's queries used, as a share of the server's capacity over the run (its CPUs,
   * or one when unknown): samples × the cost of one sample measured on the quiet server before the load.
   */
  overheadPct: number;
}

export interface ServerCounters {
  /** pg_stat_database deltas for the target database over the load phase. */
  database: Record<'temp_files' | 'temp_bytes' | 'blks_read' | 'blks_hit' | 'xact_commit' | 'xact_rollback' | 'deadlocks', number> | null;
  /** pg_stat_statements deltas for this statement, when the extension is there. */
  statement: {
    calls: number;
    meanExecMs: number;
    stddevExecMs: number | null;
    tempBlksRead: number;
    tempBlksWritten: number;
    sharedBlksRead: number;
    sharedBlksHit: number;
  } | null;
  /** Why something above is missing ("pg_stat_statements is not installed…"). */
  notes: string[];
}

export interface ServerInsight {
  plans: CapturedPlan[];
  planDiff: PlanDiff | null;
  waits: WaitSampling | null;
  counters: ServerCounters;
  /** With prepared statements and parameters: the generic plan against the plan for the values. */
  genericPlan?: GenericPlanCheck;
}

/**
 * A prepared statement's two plans for the same values (EXPLAIN ANALYZE EXECUTE with plan_cache_mode forced each
 * way), and which the baseline session used after its executions (pg_prepared_statements, PostgreSQL 14+).
 */
export interface GenericPlanCheck {
  used: { genericPlans: number; customPlans: number } | null;
  generic: CapturedPlan | null;
  custom: CapturedPlan | null;
  unavailable?: string;
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
}

/** One step of a concurrency sweep. */
export interface SweepStep {
  clients: number;
  throughputQps: number;
  /**
   * Standard error of the step's throughput from batch means (batches of ≥ 3 p95 latencies); null when the step
   * had too few batches to estimate it.
   */
  throughputSe: number | null;
  /** How many batches the noise was estimated from. */
  batches?: number;
  /** How long the step ran (ms), warm-up excluded. */
  wallMs?: number;
  /**
   * null: the planned step length sufficed; 'extended': it ran longer to complete ≥ 20 requests per client and
   * ≥ 10 p95 latencies; 'capped': it stopped at the step cap before that.
   */
  extended?: 'extended' | 'capped' | null;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
}

export interface SweepRecommendation {
  poolSize: number;
  /** One sentence with the numbers behind it: why this size, and how firm that is. */
  reason: string;
  /** false: throughput still rose at the largest step, so poolSize is a lower bound (sweep higher). */
  saturated?: boolean;
  /** 'weak' when a step's noise is unknown, above ± 15 %, or a step hit its cap. */
  evidence?: 'strong' | 'weak';
}

/** `pgload sweep`: throughput and latency against concurrency, the USL fit and the pool size to use. */
export interface SweepResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  kind: 'sweep';
  tool: { name: 'pgload'; version: string };
  sql: string;
  fingerprint: string;
  startedAt: string;
  finishedAt: string;
  connection: ConnectionSummary;
  server: ServerInfo;
  stepDurationMs: number;
  steps: SweepStep[];
  usl: { lambda: number; sigma: number; kappa: number; r2: number; peakClients: number | null } | null;
  /** The fitted curve at the measured client counts and between them, for the chart. */
  curve: Array<{ clients: number; throughputQps: number }>;
  recommendation: SweepRecommendation | null;
  /** Steps trimmed to the server's free connections, a poor fit, noisy data… */
  notes: string[];
}

/** One figure of a comparison: both values, their 95 % intervals, and whether the change is real. */
export interface ComparisonMetric {
  name: 'p50' | 'p95' | 'p99' | 'qps';
  unit: 'ms' | 'q/s';
  a: number;
  b: number;
  /** (b − a) / a. */
  change: number;
  ciA: [number, number];
  ciB: [number, number];
  /** Outside both intervals and at least the noise floor (10 % by default). */
  significant: boolean;
  /** Which run is better on this figure, when the difference is significant. */
  better: 'a' | 'b' | null;
}

/** Two results compared (`pgload compare`, the panel's Compare view). */
export interface Comparison {
  schemaVersion: 1;
  kind: 'comparison';
  tool: { name: 'pgload'; version: string };
  labels: [string, string];
  a: ComparedRun;
  b: ComparedRun;
  sameStatement: boolean;
  /** What makes the runs less comparable (other concurrency, settings, server…). */
  notes: string[];
  metrics: ComparisonMetric[];
  /** Mann–Whitney U of B's latencies against A's; Cliff's δ > 0 means B is slower. */
  distribution: { u: number; z: number; p: number; cliffsDelta: number; shifted: boolean } | null;
  verdict: 'faster' | 'slower' | 'no-significant-difference';
  summary: string;
  hints: { appeared: Hint[]; disappeared: Hint[]; kept: Hint[] };
  plan: { a: ComparedPlan; b: ComparedPlan; sameShape: boolean; notes: string[] } | null;
  percentiles: { a: PercentilePoint[]; b: PercentilePoint[] };
}

export interface ComparedRun {
  sql: string;
  fingerprint: string;
  startedAt: string;
  clients: number;
  requests: number;
  settings: Record<string, string>;
  server: string;
}

export interface ComparedPlan {
  when: CapturedPlan['when'];
  shape: string;
  executionMs: number | null;
}

/** One check of `pgload check`: its budgets, what broke them, and the run's result. */
export interface CheckOutcome {
  name: string;
  /** `error`: the check could not run or ended early. */
  status: 'passed' | 'failed' | 'error';
  failures: string[];
  budgets: string[];
  result?: ProfileResult;
}

/** `pgload ab`: two variants run in alternating legs, each side merged, and their comparison. */
export interface AbResult {
  schemaVersion: 1;
  kind: 'ab';
  tool: { name: 'pgload'; version: string };
  /** The legs in the order they ran, e.g. A B B A A B B A. */
  order: Array<'A' | 'B'>;
  rounds: number;
  a: ProfileResult;
  b: ProfileResult;
  comparison: Comparison;
}

/** The phases of `pgload diagnose`, in the order they run. */
export type DiagnosePhaseId = 'load' | 'sweep' | 'pools' | 'settings' | 'orm' | 'sql-b';

/** One phase of a diagnosis: what was planned before anything ran, and what happened. */
export interface DiagnosePhase {
  id: DiagnosePhaseId;
  label: string;
  plannedMs: number;
  /** How long it took (null until it ran). */
  actualMs: number | null;
  /** `cut`: the budget left was too small, so it was skipped or shortened; `skipped`: nothing to measure (said in `note`). */
  status: 'planned' | 'done' | 'cut' | 'skipped' | 'cancelled' | 'failed';
  note?: string;
}

/** How a setting A/B came out, as figures: B against A, in percent (negative latency = faster). */
export interface MeasuredChange {
  p50ChangePct: number;
  p95ChangePct: number;
  throughputChangePct: number;
  /** The difference is outside both runs' noise (the comparison's verdict). */
  significant: boolean;
  /** Requests per side, and the comparison's one-sentence summary. */
  requests: { a: number; b: number };
  summary: string;
}

export interface PoolFigures {
  size: number;
  maxOverflow: number;
  p95Ms: number;
  throughputQps: number;
  poolWaitP95Ms: number;
  /** Time in the database at p95 (once a request has its connection). */
  dbP95Ms: number;
}

export interface DiagnoseAnswers {
  pool: {
    current: PoolFigures;
    recommended: (PoolFigures & { poolSize: number }) | null;
    saturationClients: number | null;
    text: string;
    evidence: 'strong' | 'weak';
  } | null;
  settings: Array<{
    name: string;
    value: string;
    sql: string;
    scope: 'query' | 'server';
    measured: MeasuredChange | null;
    /** What the setting costs in memory at the pool sizes, when it is a memory setting. */
    memory: string | null;
    /** Whether it helped: measured, significant and faster. */
    helps: boolean;
    text: string;
  }>;
  query: Array<{ title: string; node?: string; evidence: string; action: string; sql?: string; impactMs: number | null }>;
  orm: {
    prepared: MeasuredChange | null;
    alternative: MeasuredChange | null;
    text: string;
    cannotSee: string;
  } | null;
}

/** `pgload diagnose`: the four questions answered from one planned set of measurements. */
export interface DiagnoseResult {
  schemaVersion: 1;
  kind: 'diagnose';
  tool: { name: 'pgload'; version: string };
  sql: string;
  fingerprint: string;
  sqlB?: string;
  startedAt: string;
  finishedAt: string;
  /** `partial`: cancelled, or a phase cut short by the budget — the answers say which. */
  status: 'completed' | 'partial';
  budgetMs: number;
  elapsedMs: number;
  app: { users: number; poolSize: number; maxOverflow: number; poolTimeoutMs: number; serverVcpus: number | null };
  /** The concurrency the setting, prepared and SQL A/Bs ran at (the recommended pool, when there is one). */
  abClients: number;
  phases: DiagnosePhase[];
  answers: DiagnoseAnswers;
  /** The measurements behind the answers. */
  runs: { load: ProfileResult; sweep: SweepResult | null; pools: AbResult | null; settings: AbResult[]; orm: AbResult | null; sqlB: AbResult | null };
  notes: string[];
}

/** A value generator suggested for a normalized constant (`$n`) of a top statement; the user confirms or edits it. */
export interface ParamSuggestion {
  index: number;
  /** The generator (as --param takes it), or null when nothing says what to use. */
  spec: string | null;
  /** Where it comes from: `schema.table.column`, `LIMIT`, `OFFSET`, or null. */
  source: string | null;
  why: string;
}

/** One statement of `pgload top`: pg_stat_statements' figures since its last reset. */
export interface TopStatement {
  queryid: string;
  /** Normalized: constants replaced by `$1 …`. */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  stddevMs: number;
  rows: number;
  rowsPerCall: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
  /** Buffer cache hits over all block reads (null when it read none). */
  hitRatio: number | null;
  tempBlksRead: number;
  tempBlksWritten: number;
  /** Its part of the database's total execution time in pg_stat_statements. */
  shareOfTotal: number;
  /** How pgload can profile it: read-only, rolled back (a write: needs writes allowed), or not at all. */
  profile: 'read-only' | 'rolled-back' | 'refused';
  profileNote: string;
  params: ParamSuggestion[];
}

/** `pgload top`: the server's top statements from pg_stat_statements. */
export interface TopResult {
  schemaVersion: 1;
  kind: 'top';
  tool: { name: 'pgload'; version: string };
  startedAt: string;
  target: string;
  database: string;
  serverVersionNum: number;
  order: 'total' | 'mean' | 'temp' | 'calls';
  limit: number;
  /** When pg_stat_statements was last reset (PostgreSQL 14+), else null. */
  statsSince: string | null;
  totalExecMs: number;
  statements: TopStatement[];
  notes: string[];
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
}
