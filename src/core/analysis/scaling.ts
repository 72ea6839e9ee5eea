/**
 * How much a step's throughput can be trusted, and the pool size the steps support. Pure: used by the sweep,
 * by compare and by the reports, without loading the runner.
 *
 * Noise: requests complete in waves (all clients released together, each waits a whole latency), so the rate
 * over an interval shorter than a few latencies swings between 0 and twice the mean; its spread says nothing of
 * the measurement's precision. The standard error comes from batch means instead: the step's timeline is cut
 * into consecutive batches, each several latencies long, and the spread of the batches' rates is used.
 */
import type { SweepRecheck, SweepRecommendation, SweepStep, TimelinePoint } from '../../shared/result';
import { formatMs, formatRate } from '../../shared/format';
import { plural } from '../../shared/numbers';
import { recheckWords } from '../../shared/report/compare';

/** A batch spans at least this many p95 latencies … */
export const BATCH_LATENCIES = 3;
/**
 * … and this many mean latencies: in a batch of B latencies the clients' last requests fall in or out of it, a
 * rounding of up to ± 1/(2B) of its rate; at 6 latencies that is ± 8 %, which averaging over the batches shrinks.
 */
export const BATCH_MEAN_LATENCIES = 6;
/** More batches than this only make each one shorter (coarser). */
export const MAX_BATCHES = 10;
/** Below this many batches the noise cannot be estimated. */
export const MIN_BATCHES = 3;
/** A step is long enough when it completed this many requests per client … */
export const MIN_REQUESTS_PER_CLIENT = 20;
/** … and lasted this many p95 latencies. */
export const MIN_P95_SPANS = 10;
/** Steps within this fraction of the best throughput are as good as the best, whatever the noise. */
export const PRACTICAL_EQUIVALENCE = 0.05;

export interface ThroughputNoise {
  /** Standard error of the mean rate, q/s; null when there were too few batches to tell. */
  se: number | null;
  batches: number;
  batchMs: number;
}

/**
 * Batch-means standard error of a run's throughput (successful requests per second): the timeline is cut into
 * k equal batches (3 ≤ k ≤ 10), each at least 3 p95 and 6 mean latencies long; a batch's rate is measured from
 * its first completions to its last.
 */
export function throughputNoise(timeline: TimelinePoint[], p95Ms: number, meanMs = p95Ms): ThroughputNoise {
  const intervalMs = timeline.length > 0 ? Math.max(...timeline.map((p) => p.durationMs)) : 0;
  const minBatchMs = Math.max(intervalMs, BATCH_LATENCIES * p95Ms, BATCH_MEAN_LATENCIES * meanMs);
  const totalMs = timeline.reduce((a, p) => a + p.durationMs, 0);
  const k = Math.min(MAX_BATCHES, Math.floor(totalMs / Math.max(1e-9, minBatchMs)), timeline.length);
  if (!(k >= MIN_BATCHES)) return { se: null, batches: Math.max(0, k), batchMs: minBatchMs };
  const rates: number[] = [];
  for (let b = 0; b < k; b++) {
    const from = Math.round((b * timeline.length) / k);
    const to = Math.round(((b + 1) * timeline.length) / k);
    // From the end of the batch's first interval with completions to the end of its last: counting whole
    // gaps between completions, not where the batch's edges happen to cut the waves of a closed loop.
    let first = -1;
    let last = -1;
    for (let i = from; i < to; i++) {
      if (timeline[i].count > 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    let count = 0;
    let span = 0;
    for (let i = first < last ? first + 1 : from; i < (first < last ? last + 1 : to); i++) {
      count += timeline[i].count;
      span += timeline[i].durationMs;
    }
    if (span > 0) rates.push((count * 1000) / span);
  }
  const mean = rates.reduce((a, r) => a + r, 0) / rates.length;
  const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / (rates.length - 1);
  return { se: Math.sqrt(variance / rates.length), batches: rates.length, batchMs: totalMs / k };
}

/**
 * The spread of the full-length timeline intervals' rates as a standard error: too large when an interval is
 * shorter than a few latencies, so only a conservative stand-in where batch means cannot be had.
 */
export function intervalStandardError(timeline: TimelinePoint[]): number {
  if (timeline.length < 3) return 0;
  const full = timeline.filter((p) => p.durationMs >= 0.5 * timeline[0].durationMs).map((p) => p.qps);
  if (full.length < 3) return 0;
  const mean = full.reduce((a, b) => a + b, 0) / full.length;
  const variance = full.reduce((a, b) => a + (b - mean) ** 2, 0) / (full.length - 1);
  return Math.sqrt(variance / full.length);
}

/** A run's throughput standard error: batch means, or the conservative interval spread when there are too few batches. */
export function throughputSe(timeline: TimelinePoint[], p95Ms: number, meanMs: number): number {
  return throughputNoise(timeline, p95Ms, meanMs).se ?? intervalStandardError(timeline);
}

/** Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (1 … ∞). */
export function tQuantile975(df: number): number {
  const table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086];
  if (df < 1) return Infinity;
  if (df <= table.length) return table[Math.floor(df) - 1];
  if (df <= 30) return 2.042;
  if (df <= 60) return 2.0;
  return 1.96;
}

/** How long a step must run to be measured: ≥ 20 completed requests per client and ≥ 10 p95 latencies. */
export function stepDurationNeededMs(clients: number, meanMs: number, p95Ms: number): number {
  return Math.max(MIN_REQUESTS_PER_CLIENT * meanMs, MIN_P95_SPANS * p95Ms);
}

/** Whether a measured step is long enough (see stepDurationNeededMs). */
export function stepIsEnough(s: { clients: number; ok: number; wallMs: number; p95Ms: number }): boolean {
  return s.ok >= MIN_REQUESTS_PER_CLIENT * s.clients && s.wallMs >= MIN_P95_SPANS * s.p95Ms;
}

/**
 * A step's throughput noise when batch means could not estimate it (too few latencies in the step): the count's own
 * noise (√ok) plus where the step's edges cut the clients' waves (up to half the clients' requests either way), over
 * its length. Conservative on purpose: a step too short to measure must not look significantly better than another.
 */
export function fallbackThroughputSe(s: Pick<SweepStep, 'clients' | 'ok' | 'wallMs'>): number {
  const seconds = (s.wallMs ?? 0) / 1000;
  return seconds > 0 ? (s.clients / 2 + Math.sqrt(s.ok)) / seconds : Infinity;
}

/**
 * Is `a` significantly below `b`? Welch-style: the difference against the joint noise, with t for the fewer batches;
 * a step without a batch estimate brings its fallback noise (and the normal quantile).
 */
function significantlyBelow(a: SweepStep, b: SweepStep): boolean {
  const unknown = a.throughputSe === null || b.throughputSe === null;
  const se = Math.hypot(a.throughputSe ?? fallbackThroughputSe(a), b.throughputSe ?? fallbackThroughputSe(b));
  const q = unknown ? 1.96 : tQuantile975(Math.max(1, Math.min(a.batches ?? MIN_BATCHES, b.batches ?? MIN_BATCHES) - 1));
  return b.throughputQps - a.throughputQps > q * se;
}

const relativeNoise = (s: SweepStep) => (s.throughputSe === null ? Infinity : (2 * s.throughputSe) / Math.max(1e-9, s.throughputQps));

/**
 * The pool size the steps support: the fewest concurrent queries whose throughput is as good as the best measured —
 * within 5 % of it, or significantly below neither it nor any other step. When the largest step is still significantly gaining on the one
 * before, nothing has saturated: the answer is a lower bound and says to sweep higher.
 */
export function recommendPoolSize(steps: SweepStep[]): SweepRecommendation | null {
  const usable = steps.filter((s) => s.ok > 0).sort((a, b) => a.clients - b.clients);
  if (usable.length === 0) return null;
  const best = usable.reduce((a, b) => (b.throughputQps > a.throughputQps ? b : a));
  // As good as the best: within 5 % of it, or below it within the noise — and then below no step measured beyond the
  // noise either (a step whose gap to the best is hidden by that step's unknown noise is not "as good" when a nearer
  // step, with a known noise, is significantly faster).
  const equivalent = (s: SweepStep) => s.throughputQps >= best.throughputQps * (1 - PRACTICAL_EQUIVALENCE) || usable.every((t) => !significantlyBelow(s, t));
  const pick = usable.find(equivalent) ?? best;
  const top = usable[usable.length - 1];
  const beforeTop = usable.length >= 2 ? usable[usable.length - 2] : undefined;
  const weakSteps = usable.filter((s) => s.throughputSe === null || relativeNoise(s) > 0.15 || s.extended === 'capped');
  const weak = weakSteps.length > 0;
  const weakText = weak
    ? ` The evidence is weak: ${weakSteps
        .map((s) => `${plural(s.clients, 'client')} (${s.throughputSe === null ? `too few batches to estimate the noise` : s.extended === 'capped' ? 'stopped at the step cap before enough requests' : `± ${Math.round(relativeNoise(s) * 100)} %`})`)
        .join(', ')}; run longer steps (--step-duration) for a firmer answer.`
    : '';
  const p95 = (s: SweepStep) => formatMs(s.p95Ms);
  // Still rising: the largest step is the best and significantly (and more than 5 %) above the one before it.
  if (pick === top && beforeTop && top === best && significantlyBelow(beforeTop, top) && top.throughputQps > beforeTop.throughputQps * (1 + PRACTICAL_EQUIVALENCE)) {
    return {
      poolSize: top.clients,
      saturated: false,
      evidence: weak ? 'weak' : 'strong',
      reason:
        `No saturation up to ${top.clients} clients: throughput still rises (${formatRate(beforeTop.throughputQps, beforeTop.throughputSe)} at ${beforeTop.clients} → ${formatRate(top.throughputQps, top.throughputSe)} at ${top.clients}) — sweep higher (--max-clients ${top.clients * 2}) to find where it stops. ` +
        `A pool of ${top.clients} is the least this statement can use; the server has not shown its limit yet.${weakText}`,
    };
  }
  let why: string;
  // What more sessions than the pick do: at the best measured they only queue; below it they add too little to tell.
  let beyond = 'only queue';
  if (pick === best) {
    const below = usable.filter((s) => s.clients < pick.clients);
    const prev = below[below.length - 1];
    why = `${pick.clients} concurrent ${pick.clients === 1 ? 'query gives' : 'queries give'} the best throughput measured, ${formatRate(pick.throughputQps, pick.throughputSe)}` + (prev ? `; fewer are significantly slower (${formatRate(prev.throughputQps, prev.throughputSe)} at ${prev.clients})` : '') + '.';
  } else {
    const within = pick.throughputQps >= best.throughputQps * (1 - PRACTICAL_EQUIVALENCE);
    const shortfall = (1 - pick.throughputQps / best.throughputQps) * 100;
    why =
      `${pick.clients} concurrent ${pick.clients === 1 ? 'query gives' : 'queries give'} ${formatRate(pick.throughputQps, pick.throughputSe)}; the best measured is ${formatRate(best.throughputQps, best.throughputSe)} at ${best.clients}` +
      (within
        ? ` — within 5 % of it (${shortfall <= 0 ? 'no less' : `${shortfall.toFixed(1)} % less`}).`
        : ` — ${shortfall.toFixed(1)} % less, which is not significantly below it: the difference is within the measurement noise.`) +
      ` p95 is ${p95(pick)} at ${pick.clients} instead of ${p95(best)} at ${best.clients}.`;
    beyond = within ? 'add less than 5 % throughput' : 'add no throughput these steps can tell from the noise';
  }
  return {
    poolSize: pick.clients,
    saturated: true,
    evidence: weak ? 'weak' : 'strong',
    reason: `${why} More concurrent queries than ${pick.clients} ${beyond}: size the application's pool (pool_size + max_overflow) so that no more run at once.${weakText}`,
  };
}

/** A change of the re-measured first step beyond this fraction (and beyond the noise) makes the steps incomparable. */
export const RECHECK_DRIFT = 0.1;

/**
 * The first step against itself measured again after the last: held (within 5 %), unclear (more, but within the noise),
 * shifted (5–10 % and beyond the noise) or drifted (more). 5 % is the margin the pool size treats as equal; 10 % twice it.
 */
export function recheckVerdict(first: SweepStep, again: SweepStep): SweepRecheck {
  const change = (again.throughputQps - first.throughputQps) / Math.max(1e-9, first.throughputQps);
  const beyondNoise = significantlyBelow(first, again) || significantlyBelow(again, first);
  const size = Math.abs(change);
  const verdict = size <= PRACTICAL_EQUIVALENCE ? 'held' : !beyondNoise ? 'unclear' : size <= RECHECK_DRIFT ? 'shifted' : 'drifted';
  return { clients: first.clients, firstQps: first.throughputQps, firstSe: first.throughputSe, againQps: again.throughputQps, againSe: again.throughputSe, wallMs: again.wallMs, changePct: change * 100, beyondNoise, verdict };
}

/**
 * The pool size a sweep's steps support. A step cut short by a cancel (`partial`) keeps its figures in the table but
 * sizes nothing; a cancelled sweep needs two complete steps to compare, and what it recommends from them is weak
 * evidence that says why (the steps above were never measured; `'recheck'`: all were, but not the first again, so the
 * speed was not checked). A recheck that drifted withholds the pool size; one that shifted, or was too noisy to tell,
 * makes it weak evidence.
 */
export function sweepRecommendation(steps: SweepStep[], cancelled: boolean | 'recheck', recheck: SweepRecheck | null = null): SweepRecommendation | null {
  const complete = steps.filter((s) => !s.partial);
  // Steps measured at different speeds: none of them is "as good as the best" of the others.
  if (recheck?.verdict === 'drifted') return null;
  const rec = !cancelled || complete.length >= 2 ? recommendPoolSize(complete) : null;
  if (!rec) return null;
  if (cancelled) {
    const last = complete[complete.length - 1].clients;
    const what = cancelled === 'recheck' ? `while measuring ${plural(complete[0].clients, 'client')} again after the last step: whether the server's speed held was not checked` : `after ${complete.length} complete steps: nothing above ${plural(last, 'client')} was measured`;
    return { ...rec, evidence: 'weak', reason: `${rec.reason} The sweep was cancelled ${what}.` };
  }
  if (recheck?.verdict === 'shifted' || recheck?.verdict === 'unclear') return { ...rec, evidence: 'weak', reason: `${rec.reason} ${recheckWords(recheck)}` };
  return rec;
}

