/** A run's server-side insight in the result: plans (alone, under load, generic), the plan diff, waits, counters. */

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
  /** The statement's query identifier (EXPLAIN VERBOSE, PostgreSQL 14+), the key of its pg_stat_statements entry. */
  queryId?: string;
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
