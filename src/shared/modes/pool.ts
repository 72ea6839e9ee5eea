/** The application pool's part of the result and the report: users sharing pool_size + max_overflow sessions. */
import type { LatencyStats } from '../result';
import { formatCount, formatMs, formatQps } from '../numbers';
import type { ModeText } from './mode';

/** The pool as the run was asked for it (`options.pool`). */
export interface PoolSettings {
  /** Concurrent application users (each a closed loop: next request as soon as the last one answers). */
  users: number;
  /** Persistent connections (SQLAlchemy pool_size, HikariCP maximumPoolSize). */
  size: number;
  /** Extra connections when all are busy (SQLAlchemy max_overflow; 0 for a fixed pool). */
  maxOverflow: number;
  /** How long a request waits for a connection before failing (SQLAlchemy pool_timeout). */
  timeoutMs: number;
  /** Each user's pause between two requests, holding no connection (absent or 0: back to back). */
  thinkTimeMs?: number;
  /** How the pauses are drawn around that mean: exponential (as real users pause; the default) or constant. */
  thinkTimeDistribution?: ThinkTimeDistribution;
}

export type ThinkTimeDistribution = 'exponential' | 'constant';

/** What the pool measured (`load.pool`). */
export interface PoolResult extends PoolSettings {
  /** Database sessions the pool had (size + overflow, at most one per user). */
  sessions: number;
  maxInUse: number;
  /** Requests that gave up waiting for a connection (pool_timeout). */
  timeouts: number;
  /** Time from the request until it had a connection. */
  waitMs: LatencyStats;
  /** Time the statement took once it had one. */
  dbMs: LatencyStats;
  /** Both as HDR histograms (microseconds, compressed base64), so that runs in legs merge exactly. */
  hdr?: { wait: string; db: string };
  /** With a think time: the mean pause the users really took, ms, and the throughput it implies (Little's law). */
  think?: { meanMs: number; expectedQps: number };
}

export const poolText: ModeText = {
  describe(o, amount, warm) {
    if (!o.pool) return undefined;
    const overflow = o.pool.maxOverflow > 0 ? ` + ${o.pool.maxOverflow} overflow` : '';
    return `${o.pool.users} users${thinkWords(o.pool)} over a pool of ${o.pool.size}${overflow} (pool_timeout ${formatMs(o.pool.timeoutMs)}) × ${amount}${warm}`;
  },
  /** Where the time went: waiting for a connection vs the database. */
  lines(r) {
    const p = r.load.pool;
    if (!p) return [];
    const pair = (label: string, k: 'p50Ms' | 'p95Ms' | 'p99Ms') => `${label} ${formatMs(p.waitMs[k])} + ${formatMs(p.dbMs[k])}`;
    const share = r.load.latency.meanMs > 0 ? (p.waitMs.meanMs * 100) / r.load.latency.meanMs : 0;
    return [
      ...(p.think ? [littleLine(p.think, r.load.latency.meanMs, r.load.throughputQps, p.users)] : []),
      `Pool: ${p.sessions} database sessions (at most ${p.maxInUse} in use) for ${p.users} users · ${formatCount(p.timeouts)} timeouts`,
      `Wait + database: ${pair('p50', 'p50Ms')} · ${pair('p95', 'p95Ms')} · ${pair('p99', 'p99Ms')} · mean ${formatMs(p.waitMs.meanMs)} + ${formatMs(p.dbMs.meanMs)}`,
      share >= 50
        ? `${share.toFixed(0)} % of the time was waiting for a pooled connection: the latency is queueing in the application, not the query.`
        : `${(100 - share).toFixed(0)} % of the time was in the database: the latency is the query under this concurrency, not the pool.`,
    ];
  },
};

/** " pausing 5.00 s (exponential) between requests", or nothing for back-to-back users. */
export function thinkWords(p: PoolSettings): string {
  if (!p.thinkTimeMs) return '';
  return ` pausing ${formatMs(p.thinkTimeMs)} (${p.thinkTimeDistribution ?? 'exponential'}) between requests`;
}

/**
 * Little's law on the users: N users each pausing Z after a latency R send N / (R + Z) requests per second. The line
 * gives that figure beside the measured one, and says when they disagree (the run was too short to settle).
 */
function littleLine(t: { meanMs: number; expectedQps: number }, latencyMeanMs: number, measuredQps: number, users: number): string {
  const off = t.expectedQps > 0 ? Math.abs(measuredQps - t.expectedQps) / t.expectedQps : 0;
  return (
    `Demand: ${users} users ÷ (latency ${formatMs(latencyMeanMs)} + pause ${formatMs(t.meanMs)}, means) = ${formatQps(t.expectedQps)} q/s by Little's law; measured ${formatQps(measuredQps)} q/s` +
    (off > 0.1 ? ` — ${Math.round(off * 100)} % apart: the run was too short for the users to settle (make it longer)` : '')
  );
}
