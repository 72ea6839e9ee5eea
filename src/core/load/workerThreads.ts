/**
 * Plain closed-loop clients on worker threads, each with its own event loop and sessions (like pgbench -j). Their
 * latencies arrive every 50 ms as the value/count pairs of an HDR histogram and are added exactly; failures and lost
 * sessions are reported as on one loop.
 */
import { addPairs, createHistogram } from './histogram';
import type { LoopDelay } from '../insight/overhead';
import type { Batch, WorkerGroup } from './workers';
import type { LoadDriver, LoadSink } from './driver';

export class WorkerThreads implements LoadDriver {
  readonly atDurationEnd = 'stop';
  /** Sessions the threads lost (all of them lost ends the run as clients-lost). */
  lost = 0;
  /** The threads' own event-loop delay, once they ended. */
  delay: LoopDelay | undefined;

  constructor(
    private readonly group: WorkerGroup,
    /** The barrier, as an epoch time every thread can compare with its own clock. */
    private readonly t0Epoch: number,
  ) {}

  stop(): void {
    this.group.stop();
  }

  async run(sink: LoadSink): Promise<void> {
    // One histogram takes each batch in turn (the sink adds it into its own).
    const batch = createHistogram();
    this.group.go(this.t0Epoch, (b: Batch) => {
      if (b.pairs) {
        batch.reset();
        addPairs(batch, b.pairs);
      }
      sink.recorded(b.pairs ? batch : null, b.ok, b.over);
      for (const f of b.failures) sink.failed(Object.assign(new Error(f.message), { code: f.code }), undefined, f.atMs);
      if (b.lost > 0) {
        this.lost += b.lost;
        sink.sessionsLost(b.lost, b.failures[b.failures.length - 1]?.atMs ?? sink.sinceStartMs());
      }
    });
    this.delay = await this.group.finished();
  }
}
