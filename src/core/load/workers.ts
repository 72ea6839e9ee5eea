/**
 * The main thread's side of the load workers (./loadWorker): several event loops, each with its share of the
 * clients, when one loop would be the bottleneck (like `pgbench -j`). Their latencies arrive as HDR
 * histograms and are added exactly; their sessions' pids join the run's (cancel, wait sampling, the check
 * that none is left).
 */
import type { LoopDelay } from '../insight/overhead';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PgloadError, type PgloadErrorKind } from '../errors';
import type { FromMain, ToMain, WorkerInit } from './loadWorker';

/** Clients per event loop above which another loop helps, and the most loops `auto` picks. */
const CLIENTS_PER_LOOP = 32;
const MAX_AUTO = 16;

/**
 * How many event loops: the number asked for (at most one per client), or for `auto` one per 32 clients up to
 * half the cores — the other half is left to the database when it runs on the same machine, and one loop
 * keeps up with a few thousand requests per second per core.
 */
export function chooseWorkers(requested: number | 'auto', clients: number, cores: number): number {
  if (requested !== 'auto') return Math.max(1, Math.min(requested, clients));
  return Math.max(1, Math.min(Math.floor(cores / 2), Math.ceil(clients / CLIENTS_PER_LOOP), MAX_AUTO));
}

/** Clients per worker: as even as can be, the first ones taking one more. */
export function shareClients(clients: number, workers: number): number[] {
  return Array.from({ length: workers }, (_, i) => Math.floor(clients / workers) + (i < clients % workers ? 1 : 0));
}

function workerEntry(): { file: string; execArgv?: string[] } {
  const bundled = path.join(__dirname, 'loadWorker.js');
  if (fs.existsSync(bundled)) return { file: bundled };
  // From the sources (tests run TypeScript through tsx): the worker loads tsx's require hook too.
  return { file: path.join(__dirname, 'loadWorker.ts'), execArgv: ['--require', require.resolve('tsx/cjs')] };
}

export interface Batch {
  /** The latencies since the last batch, as recordedPairs() gives them. */
  pairs: Float64Array | null;
  ok: number;
  failed: number;
  over: number;
  failures: Array<{ code: string; message: string; atMs: number }>;
  lost: number;
  pidsLost: number[];
}

export class WorkerGroup {
  readonly pids: number[] = [];
  readonly connectMs: number[] = [];
  readonly warmupFailures: Array<{ code: string; message: string }> = [];
  private readonly workers: Worker[] = [];
  private readonly ended: Array<Promise<LoopDelay>> = [];
  private onBatch: (b: Batch) => void = () => undefined;
  private readonly opened: Array<Promise<void>> = [];
  private stopped = false;

  constructor(base: Omit<WorkerInit, 'index' | 'clients' | 'seed'>, clients: number, workers: number, seed: number) {
    const entry = workerEntry();
    shareClients(clients, workers).forEach((n, index) => {
      const w = new Worker(entry.file, { workerData: { ...base, index, clients: n, seed: (seed + index * 7919) >>> 0 } satisfies WorkerInit, ...(entry.execArgv ? { execArgv: entry.execArgv } : {}) });
      this.workers.push(w);
      let ready: () => void;
      let refuse: (e: Error) => void;
      this.opened.push(
        new Promise<void>((resolve, reject) => {
          ready = resolve;
          refuse = reject;
        }),
      );
      this.ended.push(
        new Promise((resolve) => {
          let result: LoopDelay = { p50Ms: 0, p99Ms: 0, maxMs: 0, watchedMs: 0 };
          w.on('message', (m: ToMain) => {
            switch (m.type) {
              case 'opened':
                this.pids.push(...m.pids);
                this.connectMs.push(...m.connectMs);
                break;
              case 'open-failed': {
                const total = m.failures.reduce((a, f) => a + f.count, 0);
                const reasons = m.failures.map((f) => `${f.count}× ${f.message}`).join('; ');
                const first = m.failures[0];
                refuse(Object.assign(new PgloadError((first?.kind as PgloadErrorKind) ?? 'connection', reasons, { code: first?.code }), { failedClients: total }));
                void w.terminate();
                break;
              }
              case 'ready':
                this.warmupFailures.push(...m.warmupFailures);
                ready();
                break;
              case 'batch':
                this.onBatch(m);
                break;
              case 'done':
                result = m.delay;
                // Its sessions are closed: the thread has nothing left to do.
                void w.terminate();
                break;
            }
          });
          w.on('error', (err) => refuse(new PgloadError('connection', `A load worker failed: ${err.message}`)));
          w.on('exit', () => {
            refuse(new PgloadError('connection', 'A load worker ended before its sessions were open'));
            resolve(result);
          });
        }),
      );
    });
  }

  /** Every worker's sessions open and warm; throws with the reasons of those that could not open. */
  async open(): Promise<void> {
    const outcomes = await Promise.allSettled(this.opened);
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as PgloadError & { failedClients?: number });
    if (failed.length > 0) {
      this.stop();
      await this.finished();
      throw failed[0];
    }
  }

  /** The barrier: every worker starts its loops now (`t0` in epoch ms, the time failures are counted from). */
  go(t0: number, onBatch: (b: Batch) => void): void {
    this.onBatch = onBatch;
    this.post({ type: 'go', t0 });
  }

  /** No new requests; running ones finish, then each worker closes its sessions and ends. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.post({ type: 'stop' });
  }

  /** Resolves when every worker has ended (sessions closed), with the worst event-loop delay among them. */
  async finished(): Promise<LoopDelay> {
    const all = await Promise.all(this.ended);
    return { p50Ms: Math.max(0, ...all.map((r) => r.p50Ms)), p99Ms: Math.max(0, ...all.map((r) => r.p99Ms)), maxMs: Math.max(0, ...all.map((r) => r.maxMs)), watchedMs: Math.min(...all.map((r) => r.watchedMs)) };
  }

  /** Ends every worker at once (their sockets close with them): for workers that did not end when asked. */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private post(m: FromMain): void {
    for (const w of this.workers) w.postMessage(m);
  }
}
