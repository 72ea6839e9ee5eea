/**
 * The application's demand as a diagnosis runs it: users who pause between requests through the application's pool,
 * or requests arriving at a rate (what its metrics show), each waiting for one of the pool's sessions.
 */
import type { ThinkTimeDistribution } from '../../shared/result';
import type { ProfileInput } from '../options';

export interface AppPoolSettings {
  users: number;
  poolSize: number;
  maxOverflow: number;
  poolTimeoutMs: number;
  /** Each user's pause between requests (absent or 0: back to back, a stampede). */
  thinkTimeMs?: number;
  thinkTimeDistribution?: ThinkTimeDistribution;
  /**
   * Or the demand as the application's metrics give it: requests per second arriving (Poisson) whatever the
   * responses, each waiting for one of the pool's sessions. `users` is then the sessions the pool opens.
   */
  rateQps?: number;
}

/** The sessions the application's pool opens at its demand: one per user at most, all of them for arrivals at a rate. */
export function appSessions(app: AppPoolSettings, pool: { size: number; maxOverflow: number }): number {
  return app.rateQps ? pool.size + pool.maxOverflow : Math.min(app.users, pool.size + pool.maxOverflow);
}

/** The application's demand on a pool as run options: its users through the pool, or its arrivals on the pool's sessions. */
export function demandRun(app: AppPoolSettings, pool: { size: number; maxOverflow: number }, seed = 1): Partial<ProfileInput> {
  if (app.rateQps) {
    const perSecond = app.rateQps;
    return { pool: undefined, clients: pool.size + pool.maxOverflow, rate: { perSecond, distribution: 'poisson', maxOutstanding: Math.max(100, Math.ceil(perSecond * 10)), seed } };
  }
  const { thinkTimeMs, thinkTimeDistribution } = app;
  return {
    rate: undefined,
    pool: { users: app.users, size: pool.size, maxOverflow: pool.maxOverflow, timeoutMs: app.poolTimeoutMs, ...(thinkTimeMs ? { thinkTimeMs, thinkTimeDistribution: thinkTimeDistribution ?? 'exponential' } : {}) },
  };
}
