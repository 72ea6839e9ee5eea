/**
 * The open loop: requests arrive on a timer (constant or Poisson) whatever the responses, and wait for a free session
 * when all are busy. Latency counts from the intended start (coordinated omission corrected, as wrk2 does); the
 * uncorrected figure is kept beside it. At the end of the duration it stops scheduling and serves its backlog.
 */
import type { OpenLoopResult } from '../../shared/result';
import { createHistogram, latencyStats, recordUs } from './histogram';
import type { RateOptions } from '../options';
import { poissonGapMs, seededRandom } from './random';
import type { LoadClient, LoadDriver, LoadSink, Requests } from './driver';

export class OpenLoop implements LoadDriver {
  readonly atDurationEnd = 'drain';
  private scheduling = true;
  private late = 0;
  private dropped = 0;
  private readonly uncorrected = createHistogram();
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

  result(ok: number, wallMs: number): OpenLoopResult {
    const r = this.rate;
    return { targetQps: r.perSecond, distribution: r.distribution, achievedQps: wallMs > 0 ? (ok * 1000) / wallMs : 0, uncorrected: latencyStats(this.uncorrected), late: this.late, dropped: this.dropped, maxOutstanding: r.maxOutstanding };
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
              const correctedUs = (sink.sinceStartMs() - intendedMs) * 1000;
              sink.succeeded(Math.max(us, correctedUs));
              recordUs(this.uncorrected, us);
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
