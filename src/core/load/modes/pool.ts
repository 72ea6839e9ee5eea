/**
 * Users sharing an application pool (SQLAlchemy's QueuePool, HikariCP): each request first waits for a session,
 * then runs; the wait and the time in the database are recorded apart.
 */
import type { PoolResult } from '../../../shared/result';
import { isSessionFatal } from '../../errorTally';
import { APP_POOL_LIMITS, THINK_TIME_LIMITS_MS } from '../../optionTable';
import { seededRandom } from '../random';
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
    const think = p.thinkTimeMs;
    if (think !== undefined && !(typeof think === 'number' && think >= THINK_TIME_LIMITS_MS.min && think <= THINK_TIME_LIMITS_MS.max)) {
      throw usageError(`think time must be from 0 to ${THINK_TIME_LIMITS_MS.max / 1000} s, got ${JSON.stringify(think)}`);
    }
    if (p.thinkTimeDistribution !== undefined && p.thinkTimeDistribution !== 'exponential' && p.thinkTimeDistribution !== 'constant') {
      throw usageError(`The think time's distribution must be exponential or constant, got ${JSON.stringify(p.thinkTimeDistribution)}`);
    }
    // The database sees at most one session per user, and never more than the pool allows.
    o.clients = Math.min(p.users, p.size + p.maxOverflow);
  },
  concurrency: (o) => ({ count: o.pool!.users, noun: 'users' }),
  singleLoop: 'the application-pool emulation',
  reconnects: false,
  explainAtMs: fortyPercent,
  resultOptions: (o) => ({ pool: { ...o.pool! } }),
  driver: (clients, o, requests) => new AppPool(clients, o.pool!, requests, o.seed),
};

export class AppPool implements ModeDriver {
  readonly atDurationEnd = 'stop';
  private readonly pool: SessionPool<LoadClient>;
  private readonly waitHist = createHistogram();
  private readonly dbHist = createHistogram();
  private readonly pauses: UserPauses;

  constructor(
    private readonly clients: LoadClient[],
    private readonly options: PoolOptions,
    private readonly requests: Requests,
    seed: number,
  ) {
    this.pool = new SessionPool(clients, options);
    this.pauses = new UserPauses(options.thinkTimeMs ?? 0, options.thinkTimeDistribution ?? 'exponential', seed);
  }

  run(sink: LoadSink): Promise<void> {
    return Promise.all(Array.from({ length: this.options.users }, () => this.user(sink))).then(() => undefined);
  }

  stop(): void {
    this.pool.close();
    this.pauses.stop();
  }

  figures(end: LoadEnd): { pool: PoolResult } {
    return { pool: this.result(end.errors.filter((e) => e.code === 'POOL_TIMEOUT').reduce((a, e) => a + e.count, 0)) };
  }

  /** The pool's figures for the result; `timeouts` comes from the run's errors. */
  private result(timeouts: number): PoolResult {
    const waitMs = latencyStats(this.waitHist);
    const dbMs = latencyStats(this.dbHist);
    const latency = waitMs.meanMs + dbMs.meanMs;
    const think = this.pauses.meanMs();
    return {
      ...this.options,
      sessions: this.clients.length,
      maxInUse: this.pool.maxInUse,
      timeouts,
      waitMs,
      dbMs,
      hdr: { wait: encodeHistogram(this.waitHist), db: encodeHistogram(this.dbHist) },
      ...(think !== null ? { think: { meanMs: think, expectedQps: latency + think > 0 ? (this.options.users * 1000) / (latency + think) : 0 } } : {}),
    };
  }

  private async user(sink: LoadSink): Promise<void> {
    const p = this.pool;
    // A user with a think time starts part-way through a pause, as users already at work would.
    await this.pauses.first();
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
      await this.pauses.pause();
    }
  }
}

/**
 * The users' pauses between requests: drawn from one seeded sequence (exponential around the mean, or the mean
 * itself), each ended at once when the run stops. Their mean is of every pause drawn after the first (those the stop
 * cut short included, at their drawn length: counting only the pauses that ended would leave out the longest ones),
 * each at least what it really slept (a timer runs late on a busy loop).
 */
export class UserPauses {
  private readonly random: () => number;
  private readonly sleeping = new Set<() => void>();
  private stopped = false;
  private count = 0;
  private totalMs = 0;

  constructor(
    private readonly meanMsWanted: number,
    private readonly distribution: 'exponential' | 'constant',
    seed: number,
  ) {
    this.random = seededRandom(seed ^ 0x5bd1e995);
  }

  /** The first pause: the rest of one already under way (exponential: memoryless; constant: uniform over it). */
  first(): Promise<void> {
    return this.sleep(this.distribution === 'constant' ? this.random() * this.meanMsWanted : this.draw(), false);
  }

  pause(): Promise<void> {
    if (this.meanMsWanted <= 0 || this.stopped) return Promise.resolve();
    const ms = this.draw();
    this.count++;
    this.totalMs += ms;
    return this.sleep(ms, true);
  }

  /** The measured mean pause, ms; null without a think time or before any pause ended. */
  meanMs(): number | null {
    return this.meanMsWanted > 0 && this.count > 0 ? this.totalMs / this.count : null;
  }

  stop(): void {
    this.stopped = true;
    for (const wake of [...this.sleeping]) wake();
  }

  private draw(): number {
    return this.distribution === 'constant' ? this.meanMsWanted : -Math.log(1 - this.random()) * this.meanMsWanted;
  }

  private sleep(ms: number, counted: boolean): Promise<void> {
    if (this.meanMsWanted <= 0 || this.stopped) return Promise.resolve();
    const t0 = performance.now();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeping.delete(done);
        // A timer that fired late: the pause was that much longer than drawn.
        if (counted && !this.stopped) this.totalMs += Math.max(0, performance.now() - t0 - ms);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeping.add(done);
    });
  }
}
