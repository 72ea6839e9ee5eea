/**
 * `pgload capacity`: the largest demand — application users who pause between requests, or an arrival rate — whose
 * p95 meets a latency objective. A short back-to-back run through the same sessions first measures the statement
 * alone and the most those sessions can serve (the saturation); the search starts at half of it, brackets the
 * boundary and narrows it (capacitySearch.ts). Each step runs long enough for its p95 (≥ 10 objectives and
 * ≥ 200 requests, as the budget allows), and is judged only when its interval says so.
 */
import type { CapacityDemand, CapacityResult, CapacityStep, ProfileResult } from '../../shared/result';
import { PgloadError } from '../errors';
import type { Logger } from '../logger';
import type { ProfileInput } from '../options';
import { APP_POOL_LIMITS, RATE_LIMITS } from '../optionTable';
import type { ResolveEnvironment } from '../connection/connection';
import { decodeHistogram } from '../load/histogram';
import { prepareRun, profile, withOptions, type PreparedRun, type Progress } from '../load/runner';
import { resultHead } from '../version';
import { batchInterval, CapacitySearch, judge, quantileRanks } from './capacitySearch';
import { capacityAnswer } from './capacityAnswer';
import { demandOptions } from './appDemand';
import { demandWords } from '../../shared/report/capacity';

export interface CapacityOptions {
  /** The statement and what every step shares: connection, parameters, settings, timeouts… */
  base: ProfileInput;
  objectiveP95Ms: number;
  demand: CapacityDemand;
  /** The most users (or requests per second) the search tries. */
  max: number;
  budgetMs: number;
  /** Stop when the bracket is this close (relative, default 0.05). */
  precision?: number;
  /**
   * A run of the same load measured before the search (a diagnosis's application load, same pool and pause): judged
   * from its whole histogram and kept as a step, so the search and the report agree with it.
   */
  known?: { demand: number; run: ProfileResult; source: string };
}

export interface CapacityContext {
  signal?: AbortSignal;
  logger?: Logger;
  environment?: ResolveEnvironment;
  /** A step starts (the probe is step 0) and, as it runs, its progress. */
  onStep?: (index: number, demand: number | null, progress?: Progress) => void;
  /** A step was judged. */
  onJudged?: (step: CapacityStep) => void;
}

/** The least budget: the saturation probe and three steps. */
export const MIN_CAPACITY_BUDGET_MS = 20_000;
const PROBE_MS = 3_000;
const MIN_STEP_MS = 3_000;
/** Requests a step wants for its p95's interval to be narrow (ranks 184–197 of 200). */
const STEP_REQUESTS = 200;
/** Each step's start-up and drain, until measured. */
const STEP_OVERHEAD_MS = 1_500;
/** Batches of a step's measurement, for the spread of its p95 over time. */
const STEP_BATCHES = 5;

export async function capacity(o: CapacityOptions, ctx: CapacityContext = {}): Promise<CapacityResult> {
  checkCapacityOptions(o);
  const d = o.demand;
  const sessions = d.kind === 'users' ? d.poolSize + d.maxOverflow : d.sessions;
  // The load is the search's own: the base's clients, requests, duration, pool, rate and ramp do not apply.
  const base: ProfileInput = { ...o.base, clients: undefined, requests: undefined, durationMs: undefined, pool: undefined, rate: undefined, rampMs: undefined };
  // Everything a step could refuse (SQL, safety, options) is refused before anything runs.
  const prepared = await prepareRun({ ...base, ...demandOptions(o.demand, Math.min(o.max, sessions)), durationMs: 1000 }, ctx.environment);
  return new CapacityRun(o, ctx, prepared, sessions).run();
}

/** One search as it runs: the probe, then the steps the search asks for, within the budget. */
class CapacityRun {
  private readonly started = Date.now();
  private readonly notes: string[] = [];
  private readonly steps: CapacityStep[] = [];
  private status: CapacityResult['status'] = 'completed';
  private overheadMs = STEP_OVERHEAD_MS;
  private readonly min: number;

  constructor(
    private readonly o: CapacityOptions,
    private readonly ctx: CapacityContext,
    private readonly prepared: PreparedRun,
    private readonly sessions: number,
  ) {
    this.min = o.demand.kind === 'users' ? 1 : RATE_LIMITS.perSecond.min * 100;
  }

  async run(): Promise<CapacityResult> {
    const { o, min } = this;
    const d = o.demand;
    const probe = await this.probe();
    const alone = { p50Ms: probe.baseline.latency.p50Ms, p95Ms: probe.baseline.latency.p95Ms };
    const saturation = { sessions: probe.load.clients, throughputQps: probe.load.throughputQps, p95Ms: probe.load.latency.p95Ms };
    const search = new CapacitySearch({
      start: d.kind === 'users' ? (0.5 * saturation.throughputQps * (probe.baseline.latency.meanMs + d.thinkTimeMs)) / 1000 : 0.5 * saturation.throughputQps,
      min,
      max: o.max,
      precision: o.precision ?? 0.05,
      whole: d.kind === 'users',
      // Arrivals at the most the sessions serve back to back queue without end: no objective is met there.
      // Users beyond the most served × (objective + pause) wait longer than the objective on average (Little's law).
      ...(d.kind === 'rate' ? { ceiling: Math.round(saturation.throughputQps * 1000) / 1000 } : { upperGuess: (saturation.throughputQps * (o.objectiveP95Ms + d.thinkTimeMs)) / 1000 }),
    });
    if (o.known) {
      const k = { ...runStep(o.known.demand, o.known.run, o.objectiveP95Ms), source: o.known.source };
      this.steps.push(k);
      search.seed(k.demand, k.verdict);
    }
    // The statement alone already misses the objective at its median: no demand can meet it.
    if (alone.p50Ms > o.objectiveP95Ms) search.record(min, 'fails');
    else await this.search(search, alone.p50Ms, saturation.throughputQps);
    for (const c of search.contradictions()) this.notes.push(`${c.met} met the objective while ${c.failed} failed it: the steps disagree (noise, or the server's load changed during the search); the boundary below stands on the steps that agree.`);
    const boundary = search.boundary();
    const { answer, limitedBy } = capacityAnswer({ objective: { p95Ms: o.objectiveP95Ms }, demand: d, alone, saturation, steps: this.steps, boundary, precision: o.precision ?? 0.05, max: o.max });
    return {
      ...resultHead('capacity', this.prepared.statement),
      startedAt: new Date(this.started).toISOString(),
      finishedAt: new Date().toISOString(),
      status: this.status,
      connection: probe.connection,
      server: probe.server,
      objective: { p95Ms: o.objectiveP95Ms },
      demand: d,
      search: { min, max: o.max, precision: o.precision ?? 0.05, budgetMs: o.budgetMs, elapsedMs: Date.now() - this.started },
      alone,
      saturation,
      steps: this.steps,
      boundary,
      capacity: boundary.kind === 'below-minimum' ? null : boundary.meets,
      answer,
      limitedBy,
      notes: this.notes,
    };
  }

  /** The statement alone (the baseline) and back to back on every session: the most they serve. */
  private async probe(): Promise<ProfileResult> {
    const { ctx } = this;
    ctx.onStep?.(0, null);
    const clients = Math.min(this.sessions, this.o.demand.kind === 'users' ? this.o.max : this.sessions);
    const probe = await profile(withOptions(this.prepared, { clients, durationMs: PROBE_MS, pool: undefined, rate: undefined, explain: false, sampleIntervalMs: 0 }), {
      ...runCtx(ctx),
      onProgress: (p) => ctx.onStep?.(0, null, p),
    });
    if (probe.status === 'cancelled') throw new PgloadError('cancelled', 'The capacity search was cancelled during its first measurement; nothing to answer.');
    if (probe.load.requests.ok === 0) throw new PgloadError('statement', `No request succeeded (${probe.errors[0]?.message ?? probe.status}); nothing to search.`);
    return probe;
  }

  /** The steps the search asks for, until it has its boundary, the budget ends or the user cancels. */
  private async search(search: CapacitySearch, aloneP50Ms: number, saturationQps: number): Promise<void> {
    const { o, ctx, steps } = this;
    for (let demand = search.next(); demand !== null; demand = search.next()) {
      if (ctx.signal?.aborted) {
        this.status = 'cancelled';
        return;
      }
      const { warmMs, wantMs } = stepLength(o.demand, demand, aloneP50Ms, o.objectiveP95Ms, saturationQps);
      const left = o.budgetMs - (Date.now() - this.started) - this.overheadMs - warmMs;
      if (left < MIN_STEP_MS) {
        this.notes.push(`The budget ended the search after ${steps.length} step${steps.length === 1 ? '' : 's'}; a larger budget (--budget) narrows it further.`);
        this.status = 'partial';
        return;
      }
      const measureMs = Math.round(Math.min(wantMs, left));
      if (measureMs < 0.95 * wantMs) this.notes.push(`The step at ${demandWords(o.demand, demand)} was measured ${(measureMs / 1000).toFixed(1)} s of the ${(wantMs / 1000).toFixed(1)} s it wanted (the budget's end): its interval is wider.`);
      const step = await this.step(demand, warmMs, measureMs);
      if (!step) {
        this.status = 'cancelled';
        return;
      }
      steps.push(step);
      search.record(demand, step.verdict);
      ctx.onJudged?.(step);
    }
  }

  /** One step: its warm-up and measurement, judged; undefined when it was cancelled. */
  private async step(demand: number, warmMs: number, measureMs: number): Promise<CapacityStep | undefined> {
    const { ctx, o } = this;
    const index = this.steps.length + 1;
    ctx.onStep?.(index, demand);
    const t0 = Date.now();
    // Each step its own arrivals and pauses: one seed for all would replay the same calm (or stormy) stretch.
    const seed = (this.prepared.options.seed + index) >>> 0;
    const r = await profile(
      withOptions(this.prepared, { ...demandOptions(o.demand, demand, seed), durationMs: warmMs + measureMs, seed, steady: { fromMs: warmMs, batchMs: Math.max(100, Math.round(measureMs / STEP_BATCHES)) }, baselineRuns: 1, explain: false, sampleIntervalMs: 0 }),
      { ...runCtx(ctx), onProgress: (p) => ctx.onStep?.(index, demand, p) },
    );
    this.overheadMs = Math.min(5_000, Math.max(300, Date.now() - t0 - r.load.wallMs));
    return r.status === 'cancelled' ? undefined : stepOf(demand, r, o.objectiveP95Ms);
  }
}

/**
 * How long a step runs: a warm-up, not counted, while the queue builds up to its steady state, then the measurement.
 * Users (a closed system) settle within a few of their cycles (≥ 3 s, ≥ 10 objectives, ≥ 200 requests). Arrivals at a
 * rate, near saturation, forget their past slowly — its relaxation time is about 1 / (X·(1 − √ρ)²) (heavy-traffic
 * queueing) — so a p95 over less than many relaxation times samples one calm or one stormy stretch. The measurement
 * is ≥ 3 s, ≥ 10 objectives, ≥ 200 requests at the expected rate and ≥ 10 relaxation times (up to 60 s); the warm-up
 * a few objectives, a quarter of the measurement and 2 relaxation times (up to 30 s).
 */
export function stepLength(d: CapacityDemand, demand: number, aloneP50Ms: number, objectiveMs: number, saturationQps: number): { warmMs: number; wantMs: number } {
  // Users cycle through a latency (at most about the objective near the boundary) and a pause.
  const rate = d.kind === 'users' ? (demand * 1000) / (Math.max(aloneP50Ms, 0.5 * objectiveMs, 0.1) + d.thinkTimeMs) : demand;
  const served = Math.min(rate, saturationQps > 0 ? saturationQps : rate);
  const base = Math.max(MIN_STEP_MS, 10 * objectiveMs, (STEP_REQUESTS / Math.max(served, 1e-3)) * 1000);
  if (d.kind === 'users') {
    // A closed system settles within a few of its users' cycles (latency + pause), whatever the load.
    const cycleMs = 0.5 * objectiveMs + d.thinkTimeMs;
    return { warmMs: Math.round(Math.max(2_000, 3 * objectiveMs, 3 * cycleMs, 0.25 * base)), wantMs: base };
  }
  const rho = saturationQps > 0 ? Math.min(0.98, rate / saturationQps) : 0;
  const relaxMs = saturationQps > 0 ? 1000 / (saturationQps * (1 - Math.sqrt(rho)) ** 2) : 0;
  const wantMs = Math.max(base, Math.min(60_000, 10 * relaxMs));
  return { warmMs: Math.round(Math.max(2_000, 3 * objectiveMs, 0.25 * wantMs, Math.min(30_000, 2 * relaxMs))), wantMs };
}

function runCtx(ctx: CapacityContext) {
  return { signal: ctx.signal, logger: ctx.logger, environment: ctx.environment };
}

/** A step's figures, the 95 % interval of its p95 (from its histogram) and its verdict. */
export function stepOf(demand: number, r: ProfileResult, objectiveMs: number): CapacityStep {
  const s = r.load.steady;
  if (!s) throw new Error('a capacity step is measured in its steady state');
  return judgedStep(demand, s, s.batches, r, objectiveMs);
}

/** A whole run judged as a step (its warm-up included: no batches, the order statistics' interval only). */
export function runStep(demand: number, r: ProfileResult, objectiveMs: number): CapacityStep {
  const l = r.load;
  return judgedStep(demand, { hdr: r.hdr.load, ok: l.requests.ok, failed: l.requests.failed, wallMs: l.wallMs, throughputQps: l.throughputQps, latency: l.latency }, null, r, objectiveMs);
}

function judgedStep(
  demand: number,
  s: { hdr: string; ok: number; failed: number; wallMs: number; throughputQps: number; latency: { p50Ms: number; p95Ms: number } },
  batchList: NonNullable<ProfileResult['load']['steady']>['batches'] | null,
  r: ProfileResult,
  objectiveMs: number,
): CapacityStep {
  const h = decodeHistogram(s.hdr);
  const n = h.totalCount;
  const ranks = quantileRanks(n, 0.95);
  const at = (rank: number) => h.getValueAtPercentile((100 * rank) / n) / 1000;
  // The wider of two intervals: order statistics (independent requests) and batch means (a queue's correlated ones).
  const order = n > 0 ? { lowMs: at(ranks.low), highMs: ranks.high === null ? null : at(ranks.high) } : { lowMs: 0, highMs: null };
  const batches = batchList ? batchInterval(batchList) : null;
  const p95Interval = batches ? { lowMs: Math.min(order.lowMs, batches.lowMs), highMs: order.highMs === null ? null : Math.max(order.highMs, batches.highMs) } : { lowMs: order.lowMs, highMs: null };
  return {
    demand,
    wallMs: s.wallMs,
    ok: s.ok,
    failed: s.failed,
    throughputQps: s.throughputQps,
    p50Ms: s.latency.p50Ms,
    p95Ms: s.latency.p95Ms,
    p95Interval,
    // Failed requests (a pool timeout, a statement timeout) did not meet it either: a step with many is failing.
    verdict: s.failed > 0.05 * Math.max(1, s.ok + s.failed) ? 'fails' : judge(p95Interval, objectiveMs),
    poolWaitP95Ms: r.load.pool?.waitMs.p95Ms ?? null,
    dbP95Ms: r.load.pool?.dbMs.p95Ms ?? null,
  };
}

function checkCapacityOptions(o: CapacityOptions): void {
  const bad = (m: string) => {
    throw new PgloadError('usage', m);
  };
  if (!(o.objectiveP95Ms > 0)) bad(`The objective must be a p95 above 0 ms, like --max-p95 500ms; got ${o.objectiveP95Ms}`);
  if (!(o.budgetMs >= MIN_CAPACITY_BUDGET_MS)) bad(`A budget of ${Math.round(o.budgetMs / 1000)} s is too small: the search needs at least ${MIN_CAPACITY_BUDGET_MS / 1000} s (a first measurement and three steps); give --budget 2m or more for a narrow answer.`);
  const d = o.demand;
  if (d.kind === 'users') {
    if (!Number.isInteger(o.max) || o.max < 2 || o.max > APP_POOL_LIMITS.users.max) bad(`The most users to try (--max-users) must be a whole number from 2 to ${APP_POOL_LIMITS.users.max}, got ${o.max}`);
  } else if (!(o.max > RATE_LIMITS.perSecond.min * 100 && o.max <= RATE_LIMITS.perSecond.max)) {
    bad(`The highest rate to try (--max-rate) must be from ${RATE_LIMITS.perSecond.min * 100} to ${RATE_LIMITS.perSecond.max} per second, got ${o.max}`);
  }
  if (o.precision !== undefined && !(o.precision >= 0.01 && o.precision <= 0.5)) bad(`The precision must be from 1 % to 50 %, got ${o.precision * 100} %`);
}
