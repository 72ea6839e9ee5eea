/** The application pool's part of the result and the report: users sharing pool_size + max_overflow sessions. */
import type { LatencyStats } from '../result';
import { formatCount, formatMs } from '../numbers';
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
}

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
}

export const poolText: ModeText = {
  describe(o, amount, warm) {
    if (!o.pool) return undefined;
    const overflow = o.pool.maxOverflow > 0 ? ` + ${o.pool.maxOverflow} overflow` : '';
    return `${o.pool.users} users over a pool of ${o.pool.size}${overflow} (pool_timeout ${formatMs(o.pool.timeoutMs)}) × ${amount}${warm}`;
  },
  /** Where the time went: waiting for a connection vs the database. */
  lines(r) {
    const p = r.load.pool;
    if (!p) return [];
    const pair = (label: string, k: 'p50Ms' | 'p95Ms' | 'p99Ms') => `${label} ${formatMs(p.waitMs[k])} + ${formatMs(p.dbMs[k])}`;
    const share = r.load.latency.meanMs > 0 ? (p.waitMs.meanMs * 100) / r.load.latency.meanMs : 0;
    return [
      `Pool: ${p.sessions} database sessions (at most ${p.maxInUse} in use) for ${p.users} users · ${formatCount(p.timeouts)} timeouts`,
      `Wait + database: ${pair('p50', 'p50Ms')} · ${pair('p95', 'p95Ms')} · ${pair('p99', 'p99Ms')} · mean ${formatMs(p.waitMs.meanMs)} + ${formatMs(p.dbMs.meanMs)}`,
      share >= 50
        ? `${share.toFixed(0)} % of the time was waiting for a pooled connection: the latency is queueing in the application, not the query.`
        : `${(100 - share).toFixed(0)} % of the time was in the database: the latency is the query under this concurrency, not the pool.`,
    ];
  },
};
