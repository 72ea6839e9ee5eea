/**
 * The application's demand as a diagnosis runs it: users who pause between requests through the application's pool,
 * or requests arriving at a rate (what its metrics show), each waiting for one of the pool's sessions.
 */
import type { CapacityDemand, ThinkTimeDistribution } from '../../shared/result';
import type { ProfileInput } from '../options';
import { APP_POOL_LIMITS } from '../optionTable';

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

/** With a rate, the users stand for the sessions the pool may open (what the diagnosis reports as at once). */
export function usersForRate(poolSize: number, maxOverflow: number): number {
  return Math.min(APP_POOL_LIMITS.users.max, poolSize + maxOverflow);
}

/** A pool within the server's room: the size first, then what overflow fits. */
export function capPool(pool: { size: number; maxOverflow: number }, room: number): { size: number; maxOverflow: number } {
  const size = Math.max(1, Math.min(pool.size, room));
  return { size, maxOverflow: Math.max(0, Math.min(pool.maxOverflow, room - size)) };
}

/** The application's kind of demand on a pool: its users who pause, or its arrivals on the pool's sessions. */
export function appDemandKind(app: AppPoolSettings, pool: { size: number; maxOverflow: number }): CapacityDemand {
  if (app.rateQps) return { kind: 'rate', sessions: pool.size + pool.maxOverflow };
  return { kind: 'users', thinkTimeMs: app.thinkTimeMs ?? 0, thinkTimeDistribution: app.thinkTimeDistribution ?? 'exponential', poolSize: pool.size, maxOverflow: pool.maxOverflow, poolTimeoutMs: app.poolTimeoutMs };
}

/** An amount of a demand as run options: that many users through the pool, or that rate (Poisson) on the sessions. */
export function demandOptions(d: CapacityDemand, amount: number, seed = 1): Partial<ProfileInput> {
  if (d.kind === 'users') {
    const think = d.thinkTimeMs ? { thinkTimeMs: d.thinkTimeMs, thinkTimeDistribution: d.thinkTimeDistribution } : {};
    return { clients: undefined, rate: undefined, pool: { users: amount, size: d.poolSize, maxOverflow: d.maxOverflow, timeoutMs: d.poolTimeoutMs, ...think } };
  }
  return { clients: d.sessions, pool: undefined, rate: { perSecond: amount, distribution: 'poisson', maxOutstanding: Math.max(100, Math.ceil(amount * 10)), seed } };
}

/** The application's demand on a pool as run options: its users through the pool, or its arrivals on the pool's sessions. */
export function demandRun(app: AppPoolSettings, pool: { size: number; maxOverflow: number }, seed = 1): Partial<ProfileInput> {
  return demandOptions(appDemandKind(app, pool), app.rateQps ?? app.users, seed);
}
