/**
 * Users sharing an application pool (SQLAlchemy's QueuePool, HikariCP): each request first waits for a session,
 * then runs; the wait and the time in the database are recorded apart.
 */
import type { PoolResult } from '../../../shared/result';
import { isSessionFatal } from '../../errorTally';
import { APP_POOL_LIMITS } from '../../optionTable';
import { usageError } from '../../errors';
import { createHistogram, encodeHistogram, latencyStats, recordUs } from '../histogram';
import { PoolClosed, SessionPool, type PoolOptions } from '../sessionPool';
import type { LoadClient, LoadSink, Requests } from '../driver';
import { fortyPercent, type LoadEnd, type LoadMode, type ModeDriver } from './mode';

export const poolMode: LoadMode = {
  name: 'an application pool',
  selects: (o) => o.pool !== undefined,
  check(o) {
    const p = o.pool!;
    const names: Record<keyof typeof APP_POOL_LIMITS, string> = { users: 'users', size: 'pool size', maxOverflow: 'max overflow', timeoutMs: 'pool timeout (ms)' };
    for (const key of Object.keys(APP_POOL_LIMITS) as Array<keyof typeof APP_POOL_LIMITS>) {
      const { min, max } = APP_POOL_LIMITS[key];
      const v = p[key];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw usageError(`${names[key]} must be a whole number, got ${JSON.stringify(v)}`);
      if (v < min || v > max) throw usageError(`${names[key]} must be from ${min} to ${max}, got ${v}`);
    }
    // The database sees at most one session per user, and never more than the pool allows.
    o.clients = Math.min(p.users, p.size + p.maxOverflow);
  },
  concurrency: (o) => ({ count: o.pool!.users, noun: 'users' }),
  singleLoop: 'the application-pool emulation',
  reconnects: false,
  explainAtMs: fortyPercent,
  resultOptions: (o) => ({ pool: { ...o.pool! } }),
  driver: (clients, o, requests) => new AppPool(clients, o.pool!, requests),
};

export class AppPool implements ModeDriver {
  readonly atDurationEnd = 'stop';
  private readonly pool: SessionPool<LoadClient>;
  private readonly waitHist = createHistogram();
  private readonly dbHist = createHistogram();

  constructor(
    private readonly clients: LoadClient[],
    private readonly options: PoolOptions,
    private readonly requests: Requests,
  ) {
    this.pool = new SessionPool(clients, options);
  }

  run(sink: LoadSink): Promise<void> {
    return Promise.all(Array.from({ length: this.options.users }, () => this.user(sink))).then(() => undefined);
  }

  stop(): void {
    this.pool.close();
  }

  figures(end: LoadEnd): { pool: PoolResult } {
    return { pool: this.result(end.errors.filter((e) => e.code === 'POOL_TIMEOUT').reduce((a, e) => a + e.count, 0)) };
  }

  /** The pool's figures for the result; `timeouts` comes from the run's errors. */
  private result(timeouts: number): PoolResult {
    return { ...this.options, sessions: this.clients.length, maxInUse: this.pool.maxInUse, timeouts, waitMs: latencyStats(this.waitHist), dbMs: latencyStats(this.dbHist), hdr: { wait: encodeHistogram(this.waitHist), db: encodeHistogram(this.dbHist) } };
  }

  private async user(sink: LoadSink): Promise<void> {
    const p = this.pool;
    while (!sink.stopping() && sink.claim()) {
      // A free session means no pool wait at all; only a request that queues is timed waiting.
      let c = p.tryAcquire();
      let waitUs = 0;
      if (c === undefined) {
        const t0 = process.hrtime.bigint();
        try {
          c = await p.acquire();
        } catch (err) {
          if (err instanceof PoolClosed) break;
          if (sink.failed(err, undefined)) break;
          continue;
        }
        waitUs = Number(process.hrtime.bigint() - t0) / 1000;
      }
      c.busy = true;
      let us = 0;
      let failure: unknown;
      try {
        us = await this.requests.once(c.session);
      } catch (err) {
        failure = err;
      }
      c.busy = false;
      const broken = failure !== undefined && (c.session.broken || isSessionFatal(failure));
      p.release(c, !broken);
      if (failure === undefined) {
        sink.succeeded(waitUs + us);
        recordUs(this.waitHist, waitUs);
        recordUs(this.dbHist, us);
      } else if (sink.failed(failure, broken ? c : undefined)) break;
    }
  }
}
