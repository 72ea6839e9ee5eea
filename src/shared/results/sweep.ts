/** `pgload sweep`'s result: throughput and latency per concurrency step, the fitted law, the pool size to use. */
import type { RESULT_SCHEMA_VERSION} from '../result';
import { type ConnectionSummary, type ServerInfo } from '../result';

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
  /**
   * The step a cancel cut short: its figures are kept and shown, but the fitted curve and the pool size leave it out
   * (part of its clients' requests were never sent). Absent on a complete step.
   */
  partial?: true;
}

/**
 * The first step measured again after the last: whether the server ran at the same speed through the sweep. Steps
 * measured at different speeds (other load arriving, a cache warming, a CPU's clock changing) do not compare.
 */
export interface SweepRecheck {
  clients: number;
  /** The first step's throughput and its standard error (null: too few batches). */
  firstQps: number;
  firstSe: number | null;
  /** The same client count measured again after the last step. */
  againQps: number;
  againSe: number | null;
  /** How long the measurement again ran (ms), warm-up excluded. */
  wallMs?: number;
  /** (again − first) ÷ first, in %. */
  changePct: number;
  /** Whether the change is larger than the two measurements' joint noise (the same test the pool size uses). */
  beyondNoise: boolean;
  /**
   * 'held': within 5 %; 'unclear': more than 5 % but within the noise (the pool size stands, as weak evidence);
   * 'shifted': 5–10 % and beyond the noise (weak evidence too); 'drifted': more than 10 % and beyond the noise (no pool
   * size and no peak are claimed).
   */
  verdict: 'held' | 'unclear' | 'shifted' | 'drifted';
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
  /** `cancelled`: stopped before its last step (its figures are the steps measured). Absent in older results. */
  status?: 'completed' | 'cancelled';
  connection: ConnectionSummary;
  server: ServerInfo;
  stepDurationMs: number;
  steps: SweepStep[];
  usl: {
    lambda: number;
    sigma: number;
    kappa: number;
    r2: number;
    peakClients: number | null;
    /** The curve's measured error: fitted without the last step, its prediction of that step (null: fewer than 4 steps). */
    holdout?: { clients: number; fittedUpTo: number; predictedQps: number; measuredQps: number; errorPct: number } | null;
  } | null;
  /** The fitted curve at the measured client counts and between them, for the chart. */
  curve: Array<{ clients: number; throughputQps: number }>;
  recommendation: SweepRecommendation | null;
  /**
   * The first step measured again at the end. null: cancelled while it ran (every step was measured); absent: not run
   * (cancelled earlier, fewer than two steps, or an older result).
   */
  recheck?: SweepRecheck | null;
  /** Steps trimmed to the server's free connections, a poor fit, noisy data… */
  notes: string[];
}
