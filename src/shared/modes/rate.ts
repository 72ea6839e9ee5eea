/** The fixed arrival rate's (open loop's) part of the result and the report. */
import type { LatencyStats } from '../result';
import { formatCount, formatMs, formatQps } from '../numbers';
import type { ModeText } from './mode';

/** The rate as the run was asked for it (`options.rate`). */
export interface RateSettings {
  perSecond: number;
  distribution: 'constant' | 'poisson';
  /** Requests queued or in flight at most; more are dropped (and counted). */
  maxOutstanding: number;
  /** Seed of the Poisson arrivals. */
  seed: number;
}

/** What the open loop measured (`load.openLoop`). */
export interface OpenLoopResult {
  targetQps: number;
  distribution: 'constant' | 'poisson';
  /** Successful requests per second actually achieved. */
  achievedQps: number;
  /** Latency from the moment the request was sent (what a closed-loop tool would report). */
  uncorrected: LatencyStats;
  /** Time each request waited for a free session (from its intended start until it was sent). */
  waitMs?: LatencyStats;
  /** Requests sent later than intended because every session was busy (> 1 ms late). */
  late: number;
  /** Requests not sent because max outstanding was reached. */
  dropped: number;
  maxOutstanding: number;
}

export const rateText: ModeText = {
  describe(o, amount, warm) {
    if (!o.rate) return undefined;
    return `${formatQps(o.rate.perSecond)} requests/s (${o.rate.distribution}) on ${o.clients} session${o.clients === 1 ? '' : 's'} × ${amount}${warm}`;
  },
  /** What was achieved, and latency from the intended start vs from sending. */
  lines(r) {
    const ol = r.load.openLoop;
    if (!ol) return [];
    const met = ol.achievedQps >= ol.targetQps * 0.95;
    const c = r.load.latency;
    const u = ol.uncorrected;
    return [
      `Arrivals: ${formatQps(ol.targetQps)}/s ${ol.distribution} · achieved ${formatQps(ol.achievedQps)}/s${met ? '' : ' — the rate could not be met; requests queued behind the busy sessions'} · ${formatCount(ol.late)} sent late · ${formatCount(ol.dropped)} dropped (max outstanding ${formatCount(ol.maxOutstanding)})`,
      `From the intended start (corrected): p50 ${formatMs(c.p50Ms)} · p95 ${formatMs(c.p95Ms)} · p99 ${formatMs(c.p99Ms)}; from sending (uncorrected): p50 ${formatMs(u.p50Ms)} · p95 ${formatMs(u.p95Ms)} · p99 ${formatMs(u.p99Ms)}`,
    ];
  },
};
