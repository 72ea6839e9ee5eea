/**
 * pgload's own cost while it measures: the event loop's delay (a callback that should run now runs late,
 * and so does the timestamp of every response behind it) and the client process's CPU. When either is high,
 * the latencies include time spent queueing inside pgload, not in the database — the report says so.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ClientOverhead, Hint } from '../../shared/result';
import { formatMs, requestInflation } from '../../shared/format';

/**
 * The delay monitor's timer period. What it records is the time between two of its timer callbacks, so an idle
 * loop reads the period itself (p50 ≈ 10.2 ms here); pgload's own added delay is what lies above it.
 */
export const LOOP_RESOLUTION_MS = 10;
/**
 * A response that arrives while the loop is late is timed late by about the delay then, so the reported p50 may read
 * high by up to the delay's p50, and the reported p99 by up to the delay's p99. The delay matters when either could
 * move its percentile by more than a tenth at the median, a quarter in the tail (the monitor's p99 over a short run
 * is close to its maximum), and by more than a floor: a millisecond or two of scheduler jitter is the machine's, not
 * pgload's queueing.
 */
export const LOOP_DELAY_SHARE_OF_P50 = 0.1;
export const LOOP_DELAY_SHARE_OF_P99 = 0.25;
export const LOOP_DELAY_FLOOR_P50_MS = 1;
export const LOOP_DELAY_FLOOR_P99_MS = 2;
/** Client CPU above this share of one core per event loop marks the run client-bound whatever the delay. */
export const CPU_SHARE_BOUND = 0.85;

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How long the monitor watched (ms): over a very short load its p99 is only the worst of a handful of looks. */
  watchedMs: number;
}

/**
 * Below this much load the delay is reported but not judged. (Not a count of looks: a blocked loop looks seldom, and
 * each look it does take shows the block.)
 */
export const LOOP_DELAY_MIN_WATCH_MS = 500;

/** Starts measuring an event loop's added delay (this thread's). */
export function startLoopDelay(): { stop(): LoopDelay } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const started = performance.now();
  h.enable();
  return {
    stop() {
      h.disable();
      // In ns; with no sample (a very short run) every figure is 0.
      const added = (ns: number) => (h.count > 0 ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
      return { p50Ms: added(h.percentile(50)), p99Ms: added(h.percentile(99)), maxMs: added(h.max), watchedMs: performance.now() - started };
    },
  };
}

/** Whether the loop's added delay could have inflated the reported latencies materially (see the shares above). */
export function delayMatters(delay: Pick<LoopDelay, 'p50Ms' | 'p99Ms' | 'watchedMs'>, latency: { p50Ms: number; p99Ms: number }, roundTrips = 1): boolean {
  if (delay.watchedMs < LOOP_DELAY_MIN_WATCH_MS) return false;
  const added = requestInflation(delay, roundTrips);
  return added.p50Ms > Math.max(LOOP_DELAY_FLOOR_P50_MS, LOOP_DELAY_SHARE_OF_P50 * latency.p50Ms) || added.p99Ms > Math.max(LOOP_DELAY_FLOOR_P99_MS, LOOP_DELAY_SHARE_OF_P99 * latency.p99Ms);
}

export class OverheadMeter {
  private readonly loop = startLoopDelay();
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  /**
   * `latency`: the load's p50 and p99, against which the delay is judged. `workers`: the worker threads' own
   * loops, when they ran the clients (the worst loop's delay counts).
   */
  finish(requests: number, latency: { p50Ms: number; p99Ms: number }, workers?: { loops: number; delay: LoopDelay }, roundTrips = 1): ClientOverhead {
    const own = this.loop.stop();
    const wallMs = performance.now() - this.t0;
    const cpu = process.cpuUsage(this.cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const delay: LoopDelay = {
      p50Ms: Math.max(own.p50Ms, workers?.delay.p50Ms ?? 0),
      p99Ms: Math.max(own.p99Ms, workers?.delay.p99Ms ?? 0),
      maxMs: Math.max(own.maxMs, workers?.delay.maxMs ?? 0),
      watchedMs: own.watchedMs,
    };
    const cpuShare = wallMs > 0 ? cpuMs / wallMs : 0;
    const loops = workers?.loops ?? 1;
    return {
      cpuMs,
      cpuSystemMs: cpu.system / 1000,
      cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : 0,
      cpuShareOfOneCore: cpuShare,
      eventLoopDelayP50Ms: delay.p50Ms,
      eventLoopDelayP99Ms: delay.p99Ms,
      eventLoopDelayMaxMs: delay.maxMs,
      clientBound: delayMatters(delay, latency, roundTrips) || cpuShare / loops > CPU_SHARE_BOUND,
      loops,
      ...(roundTrips !== 1 ? { roundTripsPerRequest: roundTrips } : {}),
    };
  }
}

/** "the p50 (12.1 ms) may read up to 0.1 ms (0.5 %) high, the p99 (20.3 ms) up to 1.3 ms (6.6 %)". */
export function inflationText(o: ClientOverhead, latency: { p50Ms: number; p99Ms: number }): string {
  const pct = (d: number, l: number) => {
    const v = l > 0 ? (d * 100) / l : 0;
    return v < 0.1 ? '< 0.1 %' : `${v.toFixed(v < 10 ? 1 : 0)} %`;
  };
  const k = o.roundTripsPerRequest ?? 1;
  const added = requestInflation({ p50Ms: o.eventLoopDelayP50Ms ?? 0, p99Ms: o.eventLoopDelayP99Ms }, k);
  const trips = k > 1 ? ` (${Number(k.toFixed(1))} round trips per request, each can wait)` : '';
  return `the p50 (${formatMs(latency.p50Ms)}) may read up to ${formatMs(added.p50Ms)} (${pct(added.p50Ms, latency.p50Ms)}) high, the p99 (${formatMs(latency.p99Ms)}) up to ${formatMs(added.p99Ms)} (${pct(added.p99Ms, latency.p99Ms)})${trips}`;
}

/** The hint for a client-bound run: its figures include pgload's own queueing. */
export function overheadHint(o: ClientOverhead, clients: number, latency: { p50Ms: number; p99Ms: number }): Hint | null {
  if (!o.clientBound) return null;
  const why: string[] = [];
  if (delayMatters({ p50Ms: o.eventLoopDelayP50Ms ?? 0, p99Ms: o.eventLoopDelayP99Ms, watchedMs: Infinity }, latency, o.roundTripsPerRequest)) why.push(`its event loop ran callbacks late — by ${formatMs(o.eventLoopDelayP50Ms ?? 0)} at the median, ${formatMs(o.eventLoopDelayP99Ms)} at p99, ${formatMs(o.eventLoopDelayMaxMs)} at most`);
  const loops = o.loops ?? 1;
  const perLoop = o.cpuShareOfOneCore / loops;
  if (perLoop > CPU_SHARE_BOUND) why.push(`it used ${(o.cpuShareOfOneCore * 100).toFixed(0)} % of a CPU core${loops > 1 ? ` over ${loops} event loops` : ''} (${o.cpuUsPerRequest.toFixed(0)} µs per request)`);
  // Late callbacks with little CPU of our own: pgload was not busy, it was waiting for a CPU the machine gave to others.
  const starved = perLoop <= CPU_SHARE_BOUND;
  return {
    id: 'client-bound',
    severity: 'warning',
    title: 'pgload itself was a bottleneck',
    detail:
      `While measuring, ${starved ? 'pgload could not get a CPU in time' : 'pgload was busy'}: ${why.join(', and ')}` +
      `${starved ? ` while using only ${(o.cpuShareOfOneCore * 100).toFixed(0)} % of a core — the machine's CPUs were taken by other processes (a database server on the same machine, for one)` : ''}. ` +
      `Latencies then include time a response waited inside pgload, not only the database's: ${inflationText(o, latency)}.`,
    action: `Run pgload on another machine than the database, or with fewer clients than ${clients}${starved ? '' : ' or more event loops (--workers)'}; compare with the server's own figures (pg_stat_statements) before trusting the tail.`,
  };
}

/** The envelope's cost matters from this share of the statement's median time alone. */
export const ENVELOPE_SHARE_OF_P50 = 0.05;

/**
 * The read-only envelope (BEGIN READ ONLY … ROLLBACK, in the request's own round trip) when it is a visible part of a fast
 * statement's time: said, with its measured cost, rather than the guarantee weakened.
 */
export function envelopeHint(envelopeUs: number | undefined, baselineP50Ms: number, readOnly: boolean): Hint | null {
  if (envelopeUs === undefined || baselineP50Ms <= 0) return null;
  const share = envelopeUs / 1000 / baselineP50Ms;
  if (share < ENVELOPE_SHARE_OF_P50) return null;
  const us = `${Math.round(envelopeUs)} µs`;
  return {
    id: 'envelope-cost',
    severity: 'info',
    title: `pgload's envelope adds about ${us} to a request alone: ${Math.round(share * 100)} % of this statement's time`,
    detail:
      `Every request runs as ${readOnly ? 'BEGIN READ ONLY' : 'BEGIN'} … ROLLBACK in the same round trip, so that nothing the statement does can stay. ` +
      `Measured on the baseline session, one request at a time: empty requests took ${us} longer with it than without, against this statement's p50 of ${formatMs(baselineP50Ms)} alone. ` +
      'Under load the server does that work for every request too: where its CPUs are the bottleneck, the throughput reads lower than the application would see.',
    action: "For a statement this fast, compare pgload runs with each other (they all carry the envelope) rather than with the application's own figures; the application does not send it.",
  };
}
