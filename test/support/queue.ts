/**
 * A queue simulated exactly, for tests whose right answer follows from queueing theory: Poisson arrivals at a rate,
 * c servers each taking a fixed time (M/D/c), first come first served. Seeded: the same inputs give the same figures.
 */
import { seededRandom } from '../../src/core/load/random';

/** The q-quantile of the time in the system (waiting + service), ms, over `n` arrivals after a warm-up. */
export function mdcSojournQuantile(ratePerSecond: number, servers: number, serviceMs: number, q: number, n = 200_000, seed = 7): number {
  const random = seededRandom(seed);
  const free = new Array<number>(servers).fill(0);
  const warmup = Math.floor(n / 10);
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < n + warmup; i++) {
    t += (-Math.log(1 - random()) * 1000) / ratePerSecond;
    // The server that frees first takes the next arrival (FCFS with identical service times).
    let k = 0;
    for (let j = 1; j < servers; j++) if (free[j] < free[k]) k = j;
    const start = Math.max(t, free[k]);
    free[k] = start + serviceMs;
    if (i >= warmup) times.push(free[k] - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.min(times.length - 1, Math.floor(q * times.length))];
}

/** The arrival rate at which the M/D/c's q-quantile of the time in the system equals `objectiveMs` (bisection). */
export function mdcRateFor(objectiveMs: number, servers: number, serviceMs: number, q = 0.95): number {
  let lo = 0.01;
  let hi = (servers * 1000) / serviceMs - 1e-6;
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (mdcSojournQuantile(mid, servers, serviceMs, q, 60_000) <= objectiveMs) lo = mid;
    else hi = mid;
  }
  return lo;
}
