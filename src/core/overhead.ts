/**
 * pgload's own cost while it measures: the event loop's delay (a callback that should run now runs late,
 * and so does the timestamp of every response behind it) and the client process's CPU. When either is high,
 * the latencies include time spent queueing inside pgload, not in the database — the report says so.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ClientOverhead, Hint } from '../shared/result';
import { formatMs } from './format';

/** Event-loop delay p99 above this, or client CPU above this share of one core, marks the run client-bound. */
export const LOOP_DELAY_P99_BOUND_MS = 20;
export const CPU_SHARE_BOUND = 0.85;

export class OverheadMeter {
  private readonly loop: IntervalHistogram;
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  constructor() {
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
  }

  /** `workers`: the worker threads' own loops, when they ran the clients (their worst delay counts). */
  finish(requests: number, workers?: { loops: number; delayP99Ms: number; delayMaxMs: number }): ClientOverhead {
    this.loop.disable();
    const wallMs = performance.now() - this.t0;
    const cpu = process.cpuUsage(this.cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    // The histogram is in ns; with no sample (a very short run) every figure is 0.
    const has = this.loop.count > 0;
    const delayP99Ms = Math.max(has ? this.loop.percentile(99) / 1e6 : 0, workers?.delayP99Ms ?? 0);
    const delayMaxMs = Math.max(has ? this.loop.max / 1e6 : 0, workers?.delayMaxMs ?? 0);
    const cpuShare = wallMs > 0 ? cpuMs / wallMs : 0;
    const loops = workers?.loops ?? 1;
    return {
      cpuMs,
      cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : 0,
      cpuShareOfOneCore: cpuShare,
      eventLoopDelayP99Ms: delayP99Ms,
      eventLoopDelayMaxMs: delayMaxMs,
      clientBound: delayP99Ms > LOOP_DELAY_P99_BOUND_MS || cpuShare / loops > CPU_SHARE_BOUND,
      loops,
    };
  }
}

/** The hint for a client-bound run: its figures include pgload's own queueing. */
export function overheadHint(o: ClientOverhead, clients: number, p50Ms: number): Hint | null {
  if (!o.clientBound) return null;
  const why: string[] = [];
  if (o.eventLoopDelayP99Ms > LOOP_DELAY_P99_BOUND_MS) why.push(`its event loop ran callbacks up to ${o.eventLoopDelayP99Ms.toFixed(1)} ms late (p99; max ${o.eventLoopDelayMaxMs.toFixed(1)} ms)`);
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
      `Latencies (p50 ${formatMs(p50Ms)}) then include time a response waited inside pgload, not only the database's.`,
    action: `Run pgload on another machine than the database, or with fewer clients than ${clients}${starved ? '' : ' or more event loops (--workers)'}; compare with the server's own figures (pg_stat_statements) before trusting the tail.`,
  };
}
