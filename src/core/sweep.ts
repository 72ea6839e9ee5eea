/**
 * The concurrency sweep: the statement at 1, 2, 4, … clients for a fixed time each (warm-up excluded),
 * throughput and latency per step, the Universal Scalability Law fitted to the throughput, and the pool size
 * that gets within 5 % of the best throughput at the lowest latency.
 */
import type { ProfileResult, SweepResult, SweepStep } from '../shared/result';
import { RESULT_SCHEMA_VERSION } from '../shared/result';
import { closeSession, connectionSummary, openSession, resolveConnection, type ConnectionInput, type ResolveEnvironment } from './connection';
import { PgloadError } from './errors';
import type { Logger } from './logger';
import { prepareRun, profile, type Progress } from './runner';
import type { ParamInput } from './params';
import { readCapacity, readServerInfo } from './server';
import { fitUsl, uslThroughput } from './usl';
import { VERSION } from './version';

export interface SweepOptions {
  sql: string;
  connection: ConnectionInput;
  /** Client counts to run; default powers of two up to maxClients. */
  steps?: number[];
  maxClients: number;
  stepDurationMs: number;
  statementTimeoutMs?: number;
  allowWrites?: boolean;
  settings?: Record<string, string>;
  /** Generators of `$1 … $n`, prepared statements and the seed, as for a run. */
  params?: ParamInput[];
  prepared?: boolean;
  seed?: number;
}

export interface SweepContext {
  signal?: AbortSignal;
  logger?: Logger;
  onStep?: (step: number, of: number, clients: number, progress?: Progress) => void;
  environment?: ResolveEnvironment;
}

export function defaultSteps(maxClients: number): number[] {
  const steps: number[] = [];
  for (let n = 1; n <= maxClients; n *= 2) steps.push(n);
  if (steps[steps.length - 1] !== maxClients) steps.push(maxClients);
  return steps;
}

/** Standard error of a step's throughput: the spread of its full-length timeline intervals. */
export function throughputStandardError(timeline: ProfileResult['timeline']): number {
  if (timeline.length < 3) return 0;
  const full = timeline.filter((p) => p.durationMs >= 0.5 * timeline[0].durationMs).map((p) => p.qps);
  if (full.length < 3) return 0;
  const mean = full.reduce((a, b) => a + b, 0) / full.length;
  const variance = full.reduce((a, b) => a + (b - mean) ** 2, 0) / (full.length - 1);
  return Math.sqrt(variance / full.length);
}

/**
 * Among the steps that reach the peak, the one with the lowest p95 (fewest clients on a tie). A step reaches the
 * peak when its throughput is within 5 % of the best, or not significantly below that (two standard errors):
 * on a busy machine a lucky step must not push the pool size up.
 */
export function recommendPoolSize(steps: SweepStep[]): { poolSize: number; reason: string } | null {
  const usable = steps.filter((s) => s.ok > 0);
  if (usable.length === 0) return null;
  const best = usable.reduce((a, b) => (b.throughputQps > a.throughputQps ? b : a));
  const near = usable.filter((s) => s.throughputQps + 2 * Math.hypot(s.throughputSe, best.throughputSe) >= best.throughputQps * 0.95);
  const pick = near.reduce((a, b) => (b.p95Ms < a.p95Ms || (b.p95Ms === a.p95Ms && b.clients < a.clients) ? b : a));
  const fmt = (q: number) => (q >= 100 ? Math.round(q).toLocaleString('en-US') : q.toFixed(1));
  return {
    poolSize: pick.clients,
    reason:
      `${pick.clients} concurrent ${pick.clients === 1 ? 'query gives' : 'queries give'} ${fmt(pick.throughputQps)} q/s, within 5 % (or the measurement noise) of the best measured (${fmt(best.throughputQps)} q/s at ${best.clients}), ` +
      `with p95 ${pick.p95Ms.toFixed(1)} ms${best.clients !== pick.clients ? ` instead of ${best.p95Ms.toFixed(1)} ms` : ''}. ` +
      `More concurrent queries than that only queue: size the application's pool (pool_size + max_overflow) so that no more run at once.`,
  };
}

export async function sweep(o: SweepOptions, ctx: SweepContext = {}): Promise<SweepResult> {
  // Everything a step would refuse (SQL, safety, generators, connection settings) is refused before the first.
  const { statement } = await prepareRun({ sql: o.sql, connection: o.connection, allowWrites: o.allowWrites, settings: o.settings, params: o.params, prepared: o.prepared, seed: o.seed }, ctx.environment);
  if (!Number.isInteger(o.maxClients) || o.maxClients < 1) throw new PgloadError('usage', `The sweep's maximum clients must be a whole number of at least 1, got ${o.maxClients}`);
  if (!(o.stepDurationMs >= 500)) throw new PgloadError('usage', `Each sweep step must last at least 500ms, got ${o.stepDurationMs}ms`);
  let steps = [...new Set(o.steps ?? defaultSteps(o.maxClients))].sort((a, b) => a - b);
  if (steps.length === 0 || steps.some((n) => !Number.isInteger(n) || n < 1)) throw new PgloadError('usage', 'Sweep steps must be whole numbers of clients, at least 1, like 1,2,4,8');
  const notes: string[] = [];
  const conn = resolveConnection(o.connection, ctx.environment);
  const startedAt = new Date();
  // One look at the server: its version and how many sessions fit.
  const control = await openSession(conn, { statementTimeoutMs: 10_000, readOnly: true });
  let server;
  let ssl = control.ssl;
  try {
    server = await readServerInfo(control.client);
    const capacity = await readCapacity(control.client);
    const fit = steps.filter((n) => n <= capacity.free);
    if (fit.length < steps.length) {
      notes.push(`Steps above ${capacity.free} clients were left out: the server has ${capacity.free} free connections (${capacity.limitedBy}).`);
      steps = fit;
    }
    ssl = control.ssl;
  } finally {
    await closeSession(control);
  }
  if (steps.length === 0) throw new PgloadError('capacity', 'The server has no free connection for the sweep; close other sessions first.');

  const measured: SweepStep[] = [];
  for (let i = 0; i < steps.length; i++) {
    if (ctx.signal?.aborted) {
      notes.push(`Cancelled after ${measured.length} of ${steps.length} steps.`);
      break;
    }
    const clients = steps[i];
    ctx.onStep?.(i + 1, steps.length, clients);
    let r: ProfileResult;
    try {
      r = await profile(
        {
          sql: statement.text,
          connection: o.connection,
          clients,
          durationMs: o.stepDurationMs,
          warmupPerClient: 1,
          baselineRuns: 1,
          explain: false,
          sampleIntervalMs: 0,
          statementTimeoutMs: o.statementTimeoutMs,
          allowWrites: o.allowWrites,
          settings: o.settings,
          params: o.params,
          prepared: o.prepared,
          seed: o.seed,
          maxErrors: 0,
        },
        { signal: ctx.signal, logger: ctx.logger, environment: ctx.environment, onProgress: (p) => ctx.onStep?.(i + 1, steps.length, clients, p) },
      );
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') {
        notes.push(`Cancelled during the step with ${clients} clients.`);
        break;
      }
      throw err;
    }
    measured.push({
      clients,
      throughputQps: r.load.throughputQps,
      throughputSe: throughputStandardError(r.timeline),
      p50Ms: r.load.latency.p50Ms,
      p95Ms: r.load.latency.p95Ms,
      p99Ms: r.load.latency.p99Ms,
      ok: r.load.requests.ok,
      failed: r.load.requests.failed,
    });
    if (r.status === 'cancelled') {
      notes.push(`Cancelled during the step with ${clients} clients; that step is partial.`);
      break;
    }
  }

  const fit = fitUsl(measured.map((s) => ({ clients: s.clients, throughput: s.throughputQps })));
  const maxN = measured.length ? measured[measured.length - 1].clients : 0;
  if (!fit) notes.push('Fewer than three steps: no scalability curve was fitted.');
  else if (fit.r2 < 0.9) notes.push(`The scalability law fits poorly (R² ${fit.r2.toFixed(2)}): the throughput was too noisy or shaped otherwise; trust the measured steps over the curve.`);
  if (fit && fit.peakClients !== null && fit.peakClients > maxN) notes.push(`No peak within the range measured: the fitted peak is at ${Math.round(fit.peakClients)} clients, beyond ${maxN}.`);
  if (fit && fit.peakClients === null) notes.push('No peak within range: throughput kept growing with clients (κ = 0).');
  const curve: SweepResult['curve'] = [];
  if (fit) {
    for (let n = 1; n <= maxN; n = n < 8 ? n + 1 : Math.ceil(n * 1.25)) curve.push({ clients: n, throughputQps: uslThroughput(n, fit) });
    if (curve[curve.length - 1]?.clients !== maxN) curve.push({ clients: maxN, throughputQps: uslThroughput(maxN, fit) });
  }
  const failedSteps = measured.filter((s) => s.failed > 0);
  if (failedSteps.length) notes.push(`Requests failed at ${failedSteps.map((s) => `${s.clients} clients (${s.failed})`).join(', ')}: those steps' figures count only the successful ones.`);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'sweep',
    tool: { name: 'pgload', version: VERSION },
    sql: statement.text,
    fingerprint: statement.fingerprint,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    connection: connectionSummary(conn, ssl),
    server: server!,
    stepDurationMs: o.stepDurationMs,
    steps: measured,
    usl: fit,
    curve,
    recommendation: recommendPoolSize(measured),
    notes,
  };
}
