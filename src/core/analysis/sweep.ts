/**
 * The concurrency sweep: the statement at 1, 2, 4, … clients (warm-up excluded), throughput and latency per step,
 * the Universal Scalability Law fitted to the throughput, and the pool size the measurements support (scaling.ts).
 * A step runs for the planned time, then longer when it has not yet completed ≥ 20 requests per client and lasted
 * ≥ 10 p95 latencies (up to the step cap), so that slow statements are measured, not sampled. After the last step the
 * first is measured again: steps measured while the server's speed changed do not compare, and the sweep says so.
 */
import type { ProfileResult, ServerInfo, SweepRecheck, SweepResult, SweepStep } from '../../shared/result';
import { closeSession, connectionSummary, resolveConnection, type ConnectionInput, type ResolveEnvironment } from '../connection/connection';
import { openControlSession } from '../connection/pooler';
import { PgloadError } from '../errors';
import type { Logger } from '../logger';
import { mergeLegs } from './ab';
import { prepareRun, profile, withOptions, type PreparedRun, type Progress } from '../load/runner';
import { recheckVerdict, stepDurationNeededMs, stepIsEnough, sweepRecommendation, throughputNoise } from './scaling';
import type { ParamInput } from '../load/params';
import { readCapacity, readServerInfo } from '../connection/server';
import { fitUsl, uslThroughput } from './usl';
import { holdoutWords, HOLDOUT_TOLERANCE_PCT } from '../../shared/report/compare';
import { resultHead } from '../version';
import { plural } from '../../shared/numbers';

export interface SweepOptions {
  sql: string;
  connection: ConnectionInput;
  /** Client counts to run; default powers of two up to maxClients. */
  steps?: number[];
  maxClients: number;
  stepDurationMs: number;
  statementTimeoutMs?: number;
  allowWrites?: boolean;
  /** The sessions' application_name (default pgload). */
  applicationName?: string;
  settings?: Record<string, string>;
  /** Generators of `$1 … $n`, prepared statements and the seed, as for a run. */
  params?: ParamInput[];
  prepared?: boolean;
  seed?: number;
  /** The longest a step may run when it is extended (default: 10 × stepDurationMs, at least 60 s). */
  maxStepMs?: number;
}

export interface SweepContext {
  signal?: AbortSignal;
  logger?: Logger;
  /** A step starts (no progress) or reports progress; `again`: it is the speed check, the first step measured again. */
  onStep?: (step: number, of: number, clients: number, progress?: Progress, again?: boolean) => void;
  environment?: ResolveEnvironment;
}

/**
 * Whether a sweep of these steps ends with the speed check (its first step measured again after the last): steps
 * measured while the server's speed changed do not compare, and the sweep then says so instead of sizing a pool.
 */
export const rechecks = (steps: number[]): boolean => steps.length >= 2;

export function defaultSteps(maxClients: number): number[] {
  const steps: number[] = [];
  for (let n = 1; n <= maxClients; n *= 2) steps.push(n);
  if (steps[steps.length - 1] !== maxClients) steps.push(maxClients);
  return steps;
}

type Holdout = NonNullable<NonNullable<SweepResult['usl']>['holdout']>;

/**
 * The curve's measured error: fitted on every step but the last (at least three), its prediction of the last step
 * against what that step measured. Null with fewer than four steps.
 */
export function holdoutCheck(points: Array<{ clients: number; throughputQps: number }>): Holdout | null {
  if (points.length < 4) return null;
  const last = points[points.length - 1];
  const fit = fitUsl(points.slice(0, -1).map((s) => ({ clients: s.clients, throughput: s.throughputQps })));
  if (!fit || !(last.throughputQps > 0)) return null;
  const predictedQps = uslThroughput(last.clients, fit);
  return { clients: last.clients, fittedUpTo: points[points.length - 2].clients, predictedQps, measuredQps: last.throughputQps, errorPct: (100 * (predictedQps - last.throughputQps)) / last.throughputQps };
}

/**
 * What the fitted scalability curve lets the sweep say. Its peak (or its having none) is a claim only when the curve fits
 * the steps: with a poor fit the note says to trust the steps, and nothing is claimed from the curve.
 */
export function fitNotes(fit: ReturnType<typeof fitUsl>, maxN: number, holdout: Holdout | null = null): string[] {
  if (!fit) return ['Fewer than three steps: no scalability curve was fitted.'];
  if (fit.r2 < 0.9) return [`The scalability law fits poorly (R² ${fit.r2.toFixed(2)}): the throughput was too noisy or shaped otherwise; trust the measured steps over the curve.`];
  if (fit.peakClients !== null && fit.peakClients > maxN) {
    // Beyond the steps is an extrapolation: said only when the curve predicted a step it was not fitted on.
    if (holdout && Math.abs(holdout.errorPct) <= HOLDOUT_TOLERANCE_PCT) return [`No peak within the range measured: the fitted peak is at ${Math.round(fit.peakClients)} clients, beyond ${maxN} (an extrapolation; ${holdoutWords(holdout)}).`];
    return [`No peak within the range measured; where the curve would peak beyond ${maxN} clients is not claimed: ${holdout ? holdoutWords(holdout) : 'too few steps to test the curve on one it was not fitted on'}.`];
  }
  if (fit.peakClients === null) return ['No peak within range: throughput kept growing with clients (κ = 0).'];
  return [];
}

export async function sweep(o: SweepOptions, ctx: SweepContext = {}): Promise<SweepResult> {
  const prepared = await prepareSweep(o, ctx);
  const statement = prepared.statement;
  if (!Number.isInteger(o.maxClients) || o.maxClients < 1) throw new PgloadError('usage', `The sweep's maximum clients must be a whole number of at least 1, got ${o.maxClients}`);
  if (!(o.stepDurationMs >= 500)) throw new PgloadError('usage', `Each sweep step must last at least 500ms, got ${o.stepDurationMs}ms`);
  let steps = [...new Set(o.steps ?? defaultSteps(o.maxClients))].sort((a, b) => a - b);
  if (steps.length === 0 || steps.some((n) => !Number.isInteger(n) || n < 1)) throw new PgloadError('usage', 'Sweep steps must be whole numbers of clients, at least 1, like 1,2,4,8');
  const notes: string[] = [];
  const conn = resolveConnection(o.connection, ctx.environment);
  const startedAt = new Date();
  // One look at the server: its version and how many sessions fit.
  const look = await lookAtServer(conn, o.applicationName, steps, notes);
  steps = look.steps;
  if (steps.length === 0) throw new PgloadError('capacity', 'The server has no free connection for the sweep; close other sessions first.');

  const measured: SweepStep[] = [];
  let cancelledAt: string | null = null;
  const maxStepMs = o.maxStepMs ?? Math.max(60_000, 10 * o.stepDurationMs);
  const rechecking = rechecks(steps);
  const of = steps.length + (rechecking ? 1 : 0);
  for (let i = 0; i < steps.length; i++) {
    if (ctx.signal?.aborted) {
      cancelledAt = `Cancelled after ${measured.length} of ${steps.length} steps.`;
      break;
    }
    const clients = steps[i];
    const { legs, extended, cancelled } = await measureStep(o, ctx, prepared, { clients, index: i, of, maxStepMs });
    if (cancelled && legs.length === 0) {
      cancelledAt = `Cancelled during the step with ${plural(clients, 'client')}.`;
      break;
    }
    const r = mergeLegs(legs);
    const step = stepFigures(clients, r, extended);
    measured.push(step);
    if (cancelled || r.status === 'cancelled') {
      cancelledAt = `Cancelled during the step with ${plural(clients, 'client')}: that step is partial, shown but neither fitted nor used for the pool size.`;
      step.partial = true;
      break;
    }
  }
  // The first step again: did the server run at one speed from the first step to the last? (null: cancelled in it)
  let recheck: SweepResult['recheck'];
  let cancelledIn: boolean | 'recheck' = cancelledAt !== null;
  if (rechecking && !cancelledAt && !ctx.signal?.aborted) {
    recheck = await measureAgain(o, ctx, prepared, measured[0], { index: steps.length, of, maxStepMs });
    if (recheck === null) {
      cancelledAt = `Cancelled while measuring ${plural(measured[0].clients, 'client')} again after the last step: every step was measured, but whether the server's speed held was not checked.`;
      cancelledIn = 'recheck';
    }
  }
  if (cancelledAt) notes.push(cancelledAt);
  const { fit, curve } = fitAndNotes(measured, o.stepDurationMs, notes, recheck?.verdict === 'drifted');
  return {
    ...resultHead('sweep', statement),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    status: cancelledAt ? 'cancelled' : 'completed',
    connection: connectionSummary(conn, look.ssl),
    server: look.server,
    stepDurationMs: o.stepDurationMs,
    steps: measured,
    usl: fit,
    curve,
    recommendation: sweepRecommendation(measured, cancelledIn, recheck ?? null),
    ...(recheck !== undefined ? { recheck } : {}),
    notes,
  };
}

/**
 * Everything a step would refuse (SQL, safety, generators, connection settings) is refused before the first: parsed,
 * checked and its parameter files read once; every step reuses it with its own clients and length.
 */
function prepareSweep(o: SweepOptions, ctx: SweepContext): Promise<PreparedRun> {
  return prepareRun(
    {
      sql: o.sql,
      connection: o.connection,
      warmupPerClient: 1,
      baselineRuns: 1,
      explain: false,
      sampleIntervalMs: 0,
      statementTimeoutMs: o.statementTimeoutMs,
      allowWrites: o.allowWrites,
      applicationName: o.applicationName,
      settings: o.settings,
      params: o.params,
      prepared: o.prepared,
      seed: o.seed,
      maxErrors: 0,
    },
    ctx.environment,
  );
}

/** One look at the server: its version, TLS, and the steps that fit its free connections (said in the notes). */
async function lookAtServer(conn: ReturnType<typeof resolveConnection>, applicationName: string | undefined, wanted: number[], notes: string[]): Promise<{ steps: number[]; server: ServerInfo; ssl: boolean }> {
  let steps = wanted;
  const { session: control, detectedBy } = await openControlSession(conn, { statementTimeoutMs: 10_000, readOnly: true, applicationName });
  let server;
  let ssl = control.ssl;
  try {
    server = await readServerInfo(control.client);
    // Through a pooler the clients hold the pooler's connections: the server's free slots do not limit the steps.
    const capacity = detectedBy === null ? await readCapacity(control.client) : undefined;
    const fit = capacity ? steps.filter((n) => n <= capacity.free) : steps;
    if (capacity && fit.length < steps.length) {
      notes.push(`Steps above ${capacity.free} clients were left out: the server has ${capacity.free} free connections (${capacity.limitedBy}).`);
      steps = fit;
    }
    if (detectedBy !== null) notes.push(`A connection pooler stands in front of the server (${detectedBy}): past its pool size, more clients wait in the pooler's queue rather than run in PostgreSQL, and the curve shows that queue.`);
    ssl = control.ssl;
  } finally {
    await closeSession(control);
  }
  return { steps, server: server!, ssl };
}

/** One step of the sweep: its planned time, then more legs while it has too few requests to measure (up to the cap). */
async function measureStep(
  o: SweepOptions,
  ctx: SweepContext,
  prepared: PreparedRun,
  step: { clients: number; index: number; of: number; maxStepMs: number; again?: boolean },
): Promise<{ legs: ProfileResult[]; extended: SweepStep['extended']; cancelled: boolean }> {
  const { clients, maxStepMs, again } = step;
  ctx.onStep?.(step.index + 1, step.of, clients, undefined, again);
  const runStep = (durationMs: number, stepSignal: AbortSignal | undefined) =>
    profile(withOptions(prepared, { clients, durationMs }), { signal: stepSignal, logger: ctx.logger, environment: ctx.environment, onProgress: (p) => ctx.onStep?.(step.index + 1, step.of, clients, p, again) });
  const legs: ProfileResult[] = [];
  let extended: SweepStep['extended'] = null;
  let cancelled = false;
  try {
    legs.push(await runStep(o.stepDurationMs, ctx.signal));
    // Too short to measure (slow statement, many clients): run on until the step has enough, up to the cap.
    let merged = legs[0];
    while (merged.status === 'completed' && !ctx.signal?.aborted && !stepIsEnough({ clients, ok: merged.load.requests.ok, wallMs: merged.load.wallMs, p95Ms: merged.load.latency.p95Ms })) {
      const needMs = stepDurationNeededMs(clients, merged.load.latency.meanMs, merged.load.latency.p95Ms) * 1.1 - merged.load.wallMs;
      const roomMs = maxStepMs - merged.load.wallMs;
      if (roomMs < 500) {
        extended = 'capped';
        break;
      }
      extended = 'extended';
      const moreMs = Math.min(roomMs, Math.max(500, needMs));
      ctx.logger?.info(`sweep step ${clients}: ${merged.load.requests.ok} requests in ${Math.round(merged.load.wallMs)} ms is too few; running ${Math.round(moreMs)} ms more`);
      legs.push(await runStep(moreMs, ctx.signal));
      merged = mergeLegs(legs);
      if (moreMs === roomMs && !stepIsEnough({ clients, ok: merged.load.requests.ok, wallMs: merged.load.wallMs, p95Ms: merged.load.latency.p95Ms })) {
        extended = 'capped';
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof PgloadError && err.kind === 'cancelled')) throw err;
    cancelled = true;
  }
  return { legs, extended, cancelled };
}

/** The first step measured again after the last, against itself (null: cancelled before it was measured). */
async function measureAgain(o: SweepOptions, ctx: SweepContext, prepared: PreparedRun, first: SweepStep, at: { index: number; of: number; maxStepMs: number }): Promise<SweepRecheck | null> {
  const again = await measureStep(o, ctx, prepared, { clients: first.clients, ...at, again: true });
  const merged = again.legs.length ? mergeLegs(again.legs) : null;
  if (again.cancelled || !merged || merged.status === 'cancelled') return null;
  return recheckVerdict(first, stepFigures(first.clients, merged, again.extended));
}

/** A step's figures from its merged legs, with the throughput's noise (batch means). */
function stepFigures(clients: number, r: ProfileResult, extended: SweepStep['extended']): SweepStep {
  const noise = throughputNoise(r.timeline, r.load.latency.p95Ms, r.load.latency.meanMs);
  return {
    clients,
    throughputQps: r.load.throughputQps,
    throughputSe: noise.se,
    batches: noise.batches,
    wallMs: r.load.wallMs,
    extended,
    p50Ms: r.load.latency.p50Ms,
    p95Ms: r.load.latency.p95Ms,
    p99Ms: r.load.latency.p99Ms,
    ok: r.load.requests.ok,
    failed: r.load.requests.failed,
  };
}

/**
 * The scalability law fitted to the complete steps (a step cut short by a cancel is left out) and its curve, with what
 * the steps and the fit let the notes say.
 */
function fitAndNotes(steps: SweepStep[], stepDurationMs: number, notes: string[], drifted: boolean): { fit: ReturnType<typeof fitUsl>; curve: SweepResult['curve'] } {
  const measured = steps.filter((s) => !s.partial);
  const longer = measured.filter((s) => s.extended);
  if (longer.length > 0) {
    notes.push(
      `Steps run longer than ${Math.round(stepDurationMs / 100) / 10} s to complete ≥ 20 requests per client and ≥ 10 p95 latencies: ` +
        longer.map((s) => `${s.clients} client${s.clients === 1 ? '' : 's'} ${((s.wallMs ?? 0) / 1000).toFixed(1)} s${s.extended === 'capped' ? ' (stopped at the cap)' : ''}`).join(', ') +
        '.',
    );
  }

  const fitted = fitUsl(measured.map((s) => ({ clients: s.clients, throughput: s.throughputQps })));
  const holdout = holdoutCheck(measured);
  const fit = fitted ? { ...fitted, holdout } : null;
  const maxN = measured.length ? measured[measured.length - 1].clients : 0;
  // Steps measured at different speeds: the curve is drawn, but what it says of a peak is not claimed (see the recheck).
  if (!drifted) notes.push(...fitNotes(fit, maxN, holdout));
  const curve: SweepResult['curve'] = [];
  if (fit) {
    for (let n = 1; n <= maxN; n = n < 8 ? n + 1 : Math.ceil(n * 1.25)) curve.push({ clients: n, throughputQps: uslThroughput(n, fit) });
    if (curve[curve.length - 1]?.clients !== maxN) curve.push({ clients: maxN, throughputQps: uslThroughput(maxN, fit) });
  }
  const failedSteps = steps.filter((s) => s.failed > 0);
  if (failedSteps.length) notes.push(`Requests failed at ${failedSteps.map((s) => `${plural(s.clients, 'client')} (${s.failed})`).join(', ')}: those steps' figures count only the successful ones.`);
  return { fit, curve };
}
