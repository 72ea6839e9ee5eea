/** `pgload diagnose`'s result: the planned phases, the measurements and the four answers. */
import type { ProfileResult } from '../result';
import type { SweepResult } from './sweep';
import type { AbResult } from './compare';
import type { CapacityResult } from './capacity';

/** The phases of `pgload diagnose`, in the order they run. */
export type DiagnosePhaseId = 'load' | 'sweep' | 'pools' | 'settings' | 'orm' | 'sql-b' | 'index' | 'capacity';

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

/** The figures an A/B compares. */
export type MeasuredFigure = 'p50' | 'p95' | 'p99' | 'qps';

/** How a setting A/B came out, as figures: B against A, in percent (negative latency = faster). */
export interface MeasuredChange {
  p50ChangePct: number;
  p95ChangePct: number;
  throughputChangePct: number;
  /** p99's change (absent in results written before it was kept). */
  p99ChangePct?: number;
  /** Some figure (p50, p95, p99 or throughput) differs beyond both runs' noise. */
  significant: boolean;
  /** Which figures did, and for which side: B 'better' or 'worse' (absent in results written before it was kept). */
  significantOn?: Partial<Record<MeasuredFigure, 'better' | 'worse'>>;
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
  /** The first line: the measured change that lowered p95 the most, or that none did. Absent in older results. */
  best?: {
    text: string;
    p95ChangePct: number | null;
    answer: number | null;
    /** The fix as a change to apply (the capacity phase searches again with it); absent when there is none. */
    change?: { settings?: Record<string, string>; prepared?: boolean; sqlB?: boolean; pool?: { size: number; maxOverflow: number }; indexes?: string[] };
  };
  /**
   * With an objective (--max-p95): the most demand whose p95 meets it, as the statement is and with the best measured
   * fix; `withFix.differs` only when the two brackets do not overlap.
   */
  capacity?: {
    text: string;
    capacity: number | null;
    withFix: { what: string; capacity: number | null; differs: boolean } | null;
    evidence: 'strong' | 'weak';
  };
  /**
   * The headline: what the server does at the application's demand — the rate the users sent, the server time a
   * request costs (from the sweep's best throughput), the utilization, what queueing does there, and Little's law on
   * the figures. Absent in results from before it was answered.
   */
  demand?: {
    text: string;
    rateQps: number;
    utilization: number | null;
    serviceMs: number | null;
    littleQps: number;
    /** No pause was given: the users were assumed to send back to back. */
    backToBack: boolean;
    /** The share of wait samples on CPU under the application's load (absent: not sampled). */
    cpuShare?: number;
    evidence: 'strong' | 'weak';
  };
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
  /** `measured`: its impact was measured (an index trial's p50 saved), not estimated from the plan. */
  query: Array<{ title: string; node?: string; evidence: string; action: string; sql?: string; impactMs: number | null; measured?: boolean }>;
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
  app: { users: number; poolSize: number; maxOverflow: number; poolTimeoutMs: number; serverVcpus: number | null; thinkTimeMs?: number; rateQps?: number; objectiveP95Ms?: number };
  /** The concurrency the setting, prepared and SQL A/Bs ran at (the recommended pool, when there is one). */
  abClients: number;
  phases: DiagnosePhase[];
  answers: DiagnoseAnswers;
  /** The measurements behind the answers. */
  runs: {
    load: ProfileResult;
    sweep: SweepResult | null;
    pools: AbResult | null;
    settings: AbResult[];
    orm: AbResult | null;
    sqlB: AbResult | null;
    /** The best index suggestion built for B's legs (--allow-index-trials, a database marked for it). */
    index?: AbResult | null;
    /** The capacity searches (--max-p95): as is, and with the best fix. */
    capacity?: { asIs: CapacityResult; withFix: CapacityResult | null } | null;
  };
  notes: string[];
}
