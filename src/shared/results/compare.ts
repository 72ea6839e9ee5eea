/** Results that set runs side by side: a comparison, an A/B test, the checks of a check file. */
import type { PercentilePoint, Hint, ProfileResult } from '../result';
import type { CapacityResult } from './capacity';
import type { CapturedPlan } from './plan';

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
  /** The application's users behind the clients (sessions), when the run went through a pool. */
  users?: number;
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
  /** A capacity check's search. */
  capacity?: CapacityResult;
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
  /** B was the statement with indexes built for its legs (an index trial on a database marked for it). */
  indexTrial?: IndexTrialFacts;
}

/** An index trial: what was built before B's legs and dropped before A's, each build timed. */
export interface IndexTrialFacts {
  indexes: Array<{
    /** The statement as run, with its name and CONCURRENTLY. */
    sql: string;
    name: string;
    table: string;
    /** Each build's time (one per run of B legs, and one more when kept). */
    buildMs: number[];
    /** The built index's size (pg_relation_size). */
    sizeBytes: number | null;
    /** Still there after the trial (asked for), or dropped. */
    kept: boolean;
  }>;
  /** The database the trial built them in, as `user@host:port/database` (never a password). */
  target: string;
  /** An index pgload could not drop at the end (the session was lost), with the statement that drops it. */
  dropFailed?: string;
}
