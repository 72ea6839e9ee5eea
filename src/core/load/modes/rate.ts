/**
 * The open loop: requests arrive on a timer (constant or Poisson) whatever the responses, and wait for a free session
 * when all are busy. Latency counts from the intended start (coordinated omission corrected, as wrk2 does); the
 * uncorrected figure is kept beside it. At the end of the duration it stops scheduling and serves its backlog.
 */
import type { OpenLoopResult } from '../../../shared/result';
import { createHistogram, latencyStats, recordUs } from '../histogram';
import type { RateOptions } from '../../options';
import { usageError } from '../../errors';
import { RATE_LIMITS } from '../../optionTable';
import { poissonGapMs, seededRandom } from '../random';
import type { LoadClient, LoadSink, Requests } from '../driver';
import { fortyPercent, type LoadEnd, type LoadMode, type ModeDriver } from './mode';

export const rateMode: LoadMode = {
  name: 'a fixed arrival rate',
  selects: (o) => o.rate !== undefined,
  check(o) {
    const r = o.rate!;
    const { perSecond, maxOutstanding, seed } = RATE_LIMITS;
    if (typeof r.perSecond !== 'number' || !(r.perSecond >= perSecond.min)) throw usageError(`rate (per second) must be a number of at least ${perSecond.min}, got ${JSON.stringify(r.perSecond)}`);
    if (r.perSecond > perSecond.max) throw usageError(`rate must be at most ${perSecond.max.toLocaleString('en-US')} per second, got ${r.perSecond}`);
    if (r.distribution !== 'constant' && r.distribution !== 'poisson') throw usageError('The arrival distribution must be constant or poisson');
    for (const [name, v, lim] of [['max outstanding', r.maxOutstanding, maxOutstanding], ['seed', r.seed, seed]] as const) {
      if (!Number.isInteger(v) || v < lim.min || v > lim.max) throw usageError(`${name} must be a whole number from ${lim.min} to ${lim.max}, got ${JSON.stringify(v)}`);
    }
  },
  // One arrival at a time is enough to start: the budget needs no request per session.
  concurrency: () => ({ count: 1, noun: 'clients' }),
  singleLoop: 'a fixed arrival rate',
  reconnects: false,
  explainAtMs: fortyPercent,
  resultOptions: (o) => ({ rate: { ...o.rate! } }),
  driver: (clients, o, requests) => new OpenLoop(clients, o.rate!, requests),
};

export class OpenLoop implements ModeDriver {
  readonly atDurationEnd = 'drain';
  private scheduling = true;
  private late = 0;
  private dropped = 0;
  private readonly uncorrected = createHistogram();
  private readonly waited = createHistogram();
  private wake: (() => void) | undefined;

  constructor(
    private readonly clients: LoadClient[],
    private readonly rate: RateOptions,
    private readonly requests: Requests,
  ) {}

  endDuration(): void {
    this.scheduling = false;
  }

  stop(): void {
    this.wake?.();
  }

  figures(end: LoadEnd): { openLoop: OpenLoopResult } {
    return { openLoop: this.result(end.ok, end.wallMs) };
  }

  private result(ok: number, wallMs: number): OpenLoopResult {
    const r = this.rate;
    return { targetQps: r.perSecond, distribution: r.distribution, achievedQps: wallMs > 0 ? (ok * 1000) / wallMs : 0, uncorrected: latencyStats(this.uncorrected), waitMs: latencyStats(this.waited), late: this.late, dropped: this.dropped, maxOutstanding: r.maxOutstanding };
  }

  run(sink: LoadSink): Promise<void> {
    const r = this.rate;
    return new Promise<void>((resolve) => {
      const random = seededRandom(r.seed);
      const gap = () => (r.distribution === 'poisson' ? poissonGapMs(random, r.perSecond) : 1000 / r.perSecond);
      const idle = this.clients.filter((c) => c.alive);
      const queue: number[] = [];
      let inFlight = 0;
      let nextAt = 0;
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finishIfDone = () => {
        if (finished || inFlight > 0) return;
        if (sink.stopping() || (!this.scheduling && queue.length === 0) || idle.length === 0) {
          finished = true;
          clearTimeout(timer);
          resolve();
        }
      };
      const send = (c: LoadClient, intendedMs: number) => {
        inFlight++;
        c.busy = true;
        if (sink.sinceStartMs() - intendedMs > 1) this.late++;
        this.requests
          .once(c.session)
          .then(
            (us) => {
              const correctedUs = Math.max(us, (sink.sinceStartMs() - intendedMs) * 1000);
              sink.succeeded(correctedUs);
              recordUs(this.uncorrected, us);
              recordUs(this.waited, correctedUs - us);
            },
            (err: unknown) => {
              if (sink.failed(err, c)) c.alive = false;
            },
          )
          .finally(() => {
            c.busy = false;
            inFlight--;
            if (c.alive && !c.session.broken) idle.push(c);
            pump();
            finishIfDone();
          });
      };
      const pump = () => {
        while (!sink.stopping() && idle.length > 0 && queue.length > 0) send(idle.pop()!, queue.shift()!);
      };
      const schedule = () => {
        const now = sink.sinceStartMs();
        while (!sink.stopping() && this.scheduling && nextAt <= now) {
          if (!sink.claim()) {
            this.scheduling = false;
            break;
          }
          if (queue.length + inFlight >= r.maxOutstanding) this.dropped++;
          else queue.push(nextAt);
          nextAt += gap();
        }
        pump();
        if (!sink.stopping() && this.scheduling) timer = setTimeout(schedule, Math.max(0, nextAt - sink.sinceStartMs()));
        else finishIfDone();
      };
      this.wake = () => {
        clearTimeout(timer);
        finishIfDone();
      };
      schedule();
    });
  }
}
