/**
 * Users sharing an application pool (SQLAlchemy's QueuePool, HikariCP): each request first waits for a session,
 * then runs; the wait and the time in the database are recorded apart.
 */
import type { PoolResult } from '../../shared/result';
import { isSessionFatal } from '../errortally';
import { createHistogram, encodeHistogram, latencyStats, recordUs } from './histogram';
import { PoolClosed, SessionPool, type PoolOptions } from './pool';
import type { LoadClient, LoadDriver, LoadSink, Requests } from './driver';

export class AppPool implements LoadDriver {
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

  /** The pool's figures for the result; `timeouts` is counted by the run from its errors. */
  result(timeouts: number): PoolResult {
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
