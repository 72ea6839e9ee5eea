/**
 * The ramp: closed-loop clients started in steps over the ramp time (k6's ramping executor), then all of them until
 * the duration ends. Every session is opened before the barrier, so the ramp adds load, not connections. Each stage
 * keeps its own figures (requests counted in the stage they ended in), so one run shows how throughput and latency
 * follow the clients.
 */
import type { RampResult, RampStage } from '../../../shared/result';
import { usageError } from '../../errors';
import { createHistogram, recordUs, type Histogram } from '../histogram';
import type { LoadClient, LoadSink, Requests } from '../driver';
import { closedLoopClient } from './closed';
import type { LoadEnd, LoadMode, ModeDriver } from './mode';

/** Steps of a ramp at most: enough to see a curve, few enough that each stage gathers requests. */
export const MAX_RAMP_STEPS = 10;

export const rampMode: LoadMode = {
  name: 'a ramp',
  selects: (o) => o.rampMs !== undefined,
  check(o) {
    const ramp = o.rampMs!;
    if (o.durationMs === undefined) throw usageError(`A ramp runs for a time: give a duration longer than the ramp (e.g. --duration ${Math.max(2 * ramp, 10_000) / 1000}s --ramp ${ramp / 1000}s), not a number of requests`);
    if (ramp >= o.durationMs) throw usageError(`The ramp (${ramp} ms) must end before the duration (${o.durationMs} ms) does: the last stage holds every client for the rest of the run`);
    if (o.clients < 2) throw usageError(`A ramp adds clients over time: give at least 2 clients, got ${o.clients}`);
  },
  concurrency: (o) => ({ count: o.clients, noun: 'clients' }),
  singleLoop: 'a ramp',
  reconnects: true,
  // The plan under load is taken once every client runs: 40 % into the time after the ramp.
  explainAtMs: (o) => o.rampMs! + 0.4 * (o.durationMs - o.rampMs!),
  resultOptions: (o) => ({ rampMs: o.rampMs }),
  driver: (clients, o, requests) => new Ramp(clients, o.rampMs!, requests, o.reconnect),
};

/** The ramp's steps for `clients` over `rampMs`: step k runs ⌈(k+1)·n/steps⌉ clients from k·rampMs/steps. */
export function rampSteps(clients: number, rampMs: number): Array<Pick<RampStage, 'clients' | 'fromMs' | 'toMs'>> {
  const steps = Math.min(clients, MAX_RAMP_STEPS);
  return Array.from({ length: steps }, (_, k) => ({ clients: Math.ceil(((k + 1) * clients) / steps), fromMs: (k * rampMs) / steps, toMs: ((k + 1) * rampMs) / steps }));
}

export class Ramp implements ModeDriver {
  readonly atDurationEnd = 'stop';
  private readonly steps: Array<Pick<RampStage, 'clients' | 'fromMs' | 'toMs'>>;
  /** Per stage (the steps, then the hold): the requests that ended in it. */
  private readonly ended: Array<{ hist: Histogram; ok: number; failed: number }>;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly clients: LoadClient[],
    private readonly rampMs: number,
    private readonly requests: Requests,
    private readonly reconnect: boolean,
  ) {
    this.steps = rampSteps(clients.length, rampMs);
    this.ended = Array.from({ length: this.steps.length + 1 }, () => ({ hist: createHistogram(), ok: 0, failed: 0 }));
  }

  run(sink: LoadSink): Promise<void> {
    const stageAt = (ms: number) => (ms >= this.rampMs ? this.steps.length : Math.min(this.steps.length - 1, Math.floor((ms * this.steps.length) / this.rampMs)));
    const staged: LoadSink = {
      ...sink,
      succeeded: (us) => {
        const s = this.ended[stageAt(sink.sinceStartMs())];
        recordUs(s.hist, us);
        s.ok++;
        sink.succeeded(us);
      },
      failed: (failure, client, atMs) => {
        this.ended[stageAt(atMs ?? sink.sinceStartMs())].failed++;
        return sink.failed(failure, client, atMs);
      },
    };
    return Promise.all(this.clients.map((c, i) => this.client(c, this.startOf(i), staged))).then(() => undefined);
  }

  stop(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  figures(end: LoadEnd): { ramp: RampResult } {
    const planned = [...this.steps, { clients: this.clients.length, fromMs: this.rampMs, toMs: end.wallMs }];
    const stages: RampStage[] = [];
    for (const [i, p] of planned.entries()) {
      if (p.fromMs >= end.wallMs) break;
      const toMs = Math.min(p.toMs, end.wallMs);
      const e = this.ended[i];
      const has = e.hist.totalCount > 0;
      stages.push({
        clients: p.clients,
        fromMs: p.fromMs,
        toMs,
        ok: e.ok,
        failed: e.failed,
        throughputQps: toMs > p.fromMs ? (e.ok * 1000) / (toMs - p.fromMs) : 0,
        p50Ms: has ? e.hist.getValueAtPercentile(50) / 1000 : null,
        p95Ms: has ? e.hist.getValueAtPercentile(95) / 1000 : null,
      });
    }
    return { ramp: { overMs: this.rampMs, stages } };
  }

  /** When client i starts: at the first step that runs more than i clients. */
  private startOf(i: number): number {
    return (this.steps.find((s) => s.clients > i) ?? this.steps[this.steps.length - 1]).fromMs;
  }

  private async client(c: LoadClient, startMs: number, sink: LoadSink): Promise<void> {
    if (startMs > 0 && !(await this.sleepUntil(startMs, sink))) return;
    await closedLoopClient(c, sink, this.requests, this.reconnect);
  }

  /** Waits until `ms` after the barrier; false when the run stopped first. */
  private sleepUntil(ms: number, sink: LoadSink): Promise<boolean> {
    return new Promise((resolve) => {
      if (sink.stopping()) return resolve(false);
      const done = (started: boolean) => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve(started && !sink.stopping());
      };
      const wake = () => done(false);
      const timer = setTimeout(() => done(true), Math.max(0, ms - sink.sinceStartMs()));
      this.sleepers.add(wake);
    });
  }
}
