/**
 * One load worker: a thread with its own event loop that opens its share of the clients' sessions and runs
 * their closed loops (one request at a time per session, through ./wire), like one thread of `pgbench -j`.
 * It reports to the main thread (./workers) in batches: an HDR histogram of the latencies since the last
 * batch (added there exactly), counts, and each failure. The main thread keeps everything else: the control
 * session, the barrier, the timeline, EXPLAIN, wait sampling, cancel, the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { backendPid, closeSession, openSession, transactionWrap, type OpenedSession, type ResolvedConnection, type SessionSettings } from '../connection/connection';
import { errorIdentity, isSessionFatal } from '../errorTally';
import { createHistogram, recordedPairs, recordUs } from './histogram';
import { makeSources, type ParamInput, type ParamSpec } from './params';
import { startLoopDelay, type LoopDelay } from '../insight/overhead';
import { makeRedactor } from '../connection/redact';
import { WireSession, type WireStatement } from '../connection/wire';
import { errorMessage, PgloadError } from '../errors';

export interface WorkerInit {
  index: number;
  connection: Omit<ResolvedConnection, 'redact'>;
  settings: SessionSettings;
  useSsl: boolean | undefined;
  statement: WireStatement;
  clientTimeoutMs: number;
  clients: number;
  warmupPerClient: number;
  thresholdUs: number;
  params: Array<ParamInput & { parsed: ParamSpec }>;
  values: Map<number, Array<string | null>>;
  seed: number;
  /** Requests left to claim, shared by every worker (Int32, -1 = a duration run). */
  remaining: SharedArrayBuffer;
  batchMs: number;
}

export type ToMain =
  | { type: 'opened'; pids: number[]; connectMs: number[] }
  | { type: 'open-failed'; failures: Array<{ message: string; kind: string; code?: string; count: number }> }
  | { type: 'ready'; warmupFailures: Array<{ code: string; message: string }> }
  | { type: 'batch'; pairs: Float64Array | null; ok: number; failed: number; over: number; failures: Array<{ code: string; message: string; atMs: number }>; lost: number; pidsLost: number[] }
  | { type: 'done'; delay: LoopDelay };

export type FromMain = { type: 'go'; t0: number } | { type: 'stop' };

/** Decides when to claim another request: the shared budget in a requests run; always in a duration run. */
function claimer(buf: SharedArrayBuffer): () => boolean {
  const left = new Int32Array(buf);
  if (Atomics.load(left, 0) < 0) return () => true;
  return () => Atomics.sub(left, 0, 1) > 0;
}

async function main(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const post = (m: ToMain) => port.postMessage(m);
  const conn: ResolvedConnection = { ...init.connection, redact: makeRedactor([init.connection.password]) };
  const sslDecided = init.useSsl === undefined ? undefined : { useSsl: init.useSsl };
  let stop = false;
  let goAt = 0;
  let started: (() => void) | undefined;
  const go = new Promise<void>((resolve) => (started = resolve));
  port.on('message', (m: FromMain) => {
    if (m.type === 'go') {
      goAt = m.t0;
      started!();
    } else if (m.type === 'stop') {
      stop = true;
      started!();
    }
  });

  // Open this worker's sessions, 8 at a time.
  const { sessions, connectMs, failures } = await openSessions(init, conn, sslDecided, () => stop);
  const closeAll = () => Promise.all(sessions.map((s) => closeSession(s)));
  if (failures.size > 0 || stop) {
    await closeAll();
    post(failures.size > 0 ? { type: 'open-failed', failures: [...failures.values()] } : { type: 'done', delay: { p50Ms: 0, p99Ms: 0, maxMs: 0, watchedMs: 0 } });
    return;
  }
  post({ type: 'opened', pids: sessions.map((s) => backendPid(s.client)), connectMs });

  const sources = makeSources(init.params, init.values, init.seed);
  const nextValues = () => (sources.length === 0 ? undefined : sources.map((s) => s()));
  const wires = sessions.map((s) => new WireSession(s.client, init.statement, init.clientTimeoutMs, transactionWrap(init.settings)));

  // Warm-up before the barrier; its failures are counted as warm-up, and a session lost in it takes no part.
  const { alive, warmupFailures } = await warmUp(init, sessions, wires, nextValues, () => stop);
  post({ type: 'ready', warmupFailures });
  await go;

  const delay = await runLoad(init, { sessions, wires, alive, nextValues, post, goAt, stopped: () => stop });
  await closeAll();
  post({ type: 'done', delay });
}

/** Opens a worker's sessions, 8 at a time, until all are open or the run stops; failures grouped by message. */
async function openSessions(init: WorkerInit, conn: ResolvedConnection, sslDecided: { useSsl: boolean } | undefined, stopped: () => boolean) {
  const sessions: OpenedSession[] = [];
  const connectMs: number[] = [];
  const failures = new Map<string, { message: string; kind: string; code?: string; count: number }>();
  let next = 0;
  const opener = async () => {
    while (next < init.clients && !stopped()) {
      next++;
      try {
        const s = await openSession(conn, init.settings, sslDecided);
        sessions.push(s);
        connectMs.push(s.connectMs);
      } catch (err) {
        const pe = err instanceof PgloadError ? err : new PgloadError('connection', errorMessage(err));
        const f = failures.get(pe.message) ?? { message: pe.message, kind: pe.kind, code: pe.code, count: 0 };
        f.count++;
        failures.set(pe.message, f);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, init.clients) }, opener));
  return { sessions, connectMs, failures };
}

/** The warm-up before the barrier: its failures are counted as warm-up, and a session lost in it takes no part. */
async function warmUp(init: WorkerInit, sessions: OpenedSession[], wires: WireSession[], nextValues: () => Array<string | null> | undefined, stopped: () => boolean) {
  const alive = sessions.map(() => true);
  const warmupFailures: Array<{ code: string; message: string }> = [];
  for (let i = 0; i < init.warmupPerClient && !stopped(); i++) {
    await Promise.all(
      wires.map((w, k) =>
        alive[k]
          ? w.request(nextValues()).then(
              () => undefined,
              (err: unknown) => {
                warmupFailures.push(errorIdentity(err));
                if (sessions[k].broken || isSessionFatal(err)) alive[k] = false;
              },
            )
          : undefined,
      ),
    );
  }
  return { alive, warmupFailures };
}

/** The load on this worker's sessions after the barrier; its figures go to the main thread in batches. Returns the loop's delay. */
async function runLoad(
  init: WorkerInit,
  ctx: { sessions: OpenedSession[]; wires: WireSession[]; alive: boolean[]; nextValues: () => Array<string | null> | undefined; post: (m: ToMain) => void; goAt: number; stopped: () => boolean },
): Promise<LoopDelay> {
  const { sessions, wires, alive, nextValues, post, goAt } = ctx;
  const loop = startLoopDelay();
  const claim = claimer(init.remaining);
  // One histogram, emptied after each batch (a new 90 kB one, deflated, 20 times a second, cost both threads more).
  const hist = createHistogram();
  let ok = 0;
  let failed = 0;
  let over = 0;
  let lost = 0;
  let pidsLost: number[] = [];
  let failuresNow: Array<{ code: string; message: string; atMs: number }> = [];
  const flush = () => {
    post({ type: 'batch', pairs: hist.totalCount > 0 ? recordedPairs(hist) : null, ok, failed, over, failures: failuresNow, lost, pidsLost });
    hist.reset();
    ok = failed = over = lost = 0;
    failuresNow = [];
    pidsLost = [];
  };
  const batches = setInterval(flush, init.batchMs);
  await Promise.all(
    wires.map((w, k) =>
      alive[k] && !ctx.stopped() && claim()
        ? w.loop(nextValues, (us, err) => {
            if (err === undefined) {
              recordUs(hist, us);
              ok++;
              if (us > init.thresholdUs) over++;
            } else {
              failed++;
              const { code, message } = errorIdentity(err);
              failuresNow.push({ code, message, atMs: performance.timeOrigin + performance.now() - goAt });
              if (sessions[k].broken || isSessionFatal(err)) {
                lost++;
                alive[k] = false;
                pidsLost.push(backendPid(sessions[k].client));
                return false;
              }
            }
            return !ctx.stopped() && claim();
          })
        : undefined,
    ),
  );
  clearInterval(batches);
  const delay = loop.stop();
  flush();
  return delay;
}

if (parentPort && workerData) {
  main(workerData as WorkerInit).catch((err: unknown) => {
    // Anything unexpected ends this worker with its reason; the main thread reports it and closes the run.
    parentPort!.postMessage({ type: 'open-failed', failures: [{ message: `A load worker failed: ${errorMessage(err)}`, kind: 'connection', count: 1 }] } satisfies ToMain);
  });
}
