/** `pgload capacity`'s result: the largest demand that meets a latency objective, and the steps that bracket it. */
import type { ConnectionSummary, ServerInfo } from '../result';
import type { ThinkTimeDistribution } from '../modes/pool';

/** What grows from step to step: application users (who pause between requests, through the pool), or an arrival rate. */
export type CapacityDemand =
  | { kind: 'users'; thinkTimeMs: number; thinkTimeDistribution: ThinkTimeDistribution; poolSize: number; maxOverflow: number; poolTimeoutMs: number }
  | { kind: 'rate'; sessions: number };

/** A step's verdict, said only when the interval of its p95 is on one side of the objective. */
export type CapacityVerdict = 'meets' | 'fails' | 'unclear';

export interface CapacityStep {
  /** Users, or requests per second. */
  demand: number;
  wallMs: number;
  ok: number;
  failed: number;
  throughputQps: number;
  p50Ms: number;
  p95Ms: number;
  /** The 95 % interval of the p95 (order statistics of the step's requests); high is null when too few requests bound it. */
  p95Interval: { lowMs: number; highMs: number | null };
  verdict: CapacityVerdict;
  /** With an application pool: the p95 of waiting for a connection, and of the time in the database. */
  poolWaitP95Ms: number | null;
  dbP95Ms: number | null;
  /** Measured before the search rather than by it (a diagnosis's application load), in words. */
  source?: string;
}

/** Where the boundary is: between two steps, below the first, above the search's limit, or not told apart from noise. */
export type CapacityBoundary =
  | { kind: 'bracketed'; meets: number; fails: number }
  | { kind: 'below-minimum'; fails: number }
  | { kind: 'above-maximum'; meets: number }
  | { kind: 'unresolved'; meets: number | null; fails: number | null };

export interface CapacityResult {
  schemaVersion: 1;
  kind: 'capacity';
  tool: { name: 'pgload'; version: string };
  sql: string;
  fingerprint: string;
  startedAt: string;
  finishedAt: string;
  status: 'completed' | 'partial' | 'cancelled';
  connection: ConnectionSummary;
  server: ServerInfo;
  objective: { p95Ms: number };
  demand: CapacityDemand;
  /** The search's range and the precision it stops at (relative: 0.05 = 5 %). */
  search: { min: number; max: number; precision: number; budgetMs: number; elapsedMs: number };
  /** The statement alone (the first step's baseline) and the most this pool served back to back (the saturation probe). */
  alone: { p50Ms: number; p95Ms: number };
  saturation: { sessions: number; throughputQps: number; p95Ms: number } | null;
  steps: CapacityStep[];
  boundary: CapacityBoundary;
  /** The capacity found (the largest demand that met the objective), null when none did. */
  capacity: number | null;
  /** The answer, one paragraph with its figures; what limits the capacity; the notes on the evidence. */
  answer: string;
  limitedBy: string | null;
  notes: string[];
}
