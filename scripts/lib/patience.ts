/**
 * How long the tests wait for a server they start (PostgreSQL, PgBouncer, code-server): its usual time on a quiet
 * machine, longer in proportion to how busy the machine is (the 1-minute load average per core), at most ten times.
 * A CI machine running other jobs then gets the time it needs instead of a false "did not start".
 */
import * as os from 'node:os';

export function startWaitMs(quietMs: number): number {
  const perCore = os.loadavg()[0] / Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  return Math.round(quietMs * Math.min(10, Math.max(1, perCore)));
}

/** "within 30 s (load average 3.2 on 2 cores)": what a "did not start" message says it waited. */
export function waitedText(ms: number): string {
  return `within ${Math.round(ms / 1000)} s (load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism?.() ?? os.cpus().length} cores)`;
}
