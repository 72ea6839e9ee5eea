/**
 * A/B in one command: two variants of a statement — other session settings (`work_mem=64MB`) or other SQL
 * (the ORM's query against a rewrite) — run in alternating legs, A B B A A B …, so that whatever the machine
 * does meanwhile (a neighbour's load, a checkpoint, a warming cache) hits both, and a linear drift cancels out.
 * Each side's legs are merged exactly (HDR histograms added), then the sides are compared as `pgload compare`
 * does.
 */
import type { AbResult, ErrorGroup, PoolResult, ProfileResult, RunStatus } from '../../shared/result';
import { RESULT_SCHEMA_VERSION } from '../../shared/result';
import { compareResults } from './compare';
import { PgloadError } from '../errors';
import { decodeHistogram, encodeHistogram, latencyStats, logBuckets, percentileCurve } from '../load/histogram';
import type { ProfileInput } from '../options';
import { prepareRun, profile, withOptions, type RunContext } from '../load/runner';
import { VERSION } from '../version';

export interface AbOptions {
  /** Everything both sides share (SQL of A, connection, clients, requests or duration in total per side…). */
  base: ProfileInput;
  /** What B changes: its own SQL, extra session settings, prepared statements, or the application pool. */
  b: AbChange;
  /** Legs per side (default 4): A B B A A B B A. */
  rounds?: number;
}

export interface AbChange {
  sql?: string;
  settings?: Record<string, string>;
  prepared?: boolean;
  pool?: ProfileInput['pool'];
  /** B's sessions (arrivals at a rate served by fewer or more sessions). */
  clients?: number;
  /** B's label in the comparison (default: what it changes). */
  label?: string;
  /** A change made outside the sessions, around B's legs (`AbContext.beforeLeg`): indexes built, in words. */
  outside?: string;
}

/** B's label: what it changes, e.g. `B (work_mem=64MB)`, `B (prepared)`, `B (pool 2 + 0)`. */
export function changeLabel(b: AbChange): string {
  if (b.label) return b.label;
  const parts: string[] = [];
  if (b.sql) parts.push('rewrite');
  if (b.settings) parts.push(...Object.entries(b.settings).map(([k, v]) => `${k}=${v}`));
  if (b.prepared !== undefined) parts.push(b.prepared ? 'prepared' : 'unnamed');
  if (b.pool) parts.push(`pool ${b.pool.size} + ${b.pool.maxOverflow}`);
  if (b.clients !== undefined) parts.push(`${b.clients} sessions`);
  if (b.outside) parts.push(b.outside);
  return `B (${parts.join(', ')})`;
}

export interface AbContext extends RunContext {
  onLeg?: (leg: number, of: number, side: 'A' | 'B') => void;
  /** Called before each leg, after `onLeg`: makes the outside change for B (an index built) or undoes it for A. */
  beforeLeg?: (side: 'A' | 'B') => Promise<void>;
}

/** The order of the legs: A B, then B A, then A B … (an ABBA design). */
export function legOrder(rounds: number): Array<'A' | 'B'> {
  const out: Array<'A' | 'B'> = [];
  for (let i = 0; i < rounds; i++) out.push(...(i % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)));
  return out;
}

export async function abTest(o: AbOptions, ctx: AbContext = {}): Promise<AbResult> {
  const rounds = o.rounds ?? 4;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new PgloadError('usage', `rounds must be a whole number from 1 to 50, got ${rounds}`);
  const noChange =
    !o.b.sql && (!o.b.settings || Object.keys(o.b.settings).length === 0) && (o.b.prepared === undefined || o.b.prepared === (o.base.prepared ?? false)) && o.b.pool === undefined && o.b.clients === undefined && !o.b.outside;
  if (noChange) throw new PgloadError('usage', 'B is the same as A: give B other SQL (--sql-b / --file-b) or other settings (--setting NAME=VALUE)');
  const sideInput = (side: 'A' | 'B'): ProfileInput =>
    side === 'A'
      ? o.base
      : {
          ...o.base,
          sql: o.b.sql ?? o.base.sql,
          settings: { ...(o.base.settings ?? {}), ...(o.b.settings ?? {}) },
          ...(o.b.prepared !== undefined ? { prepared: o.b.prepared } : {}),
          ...(o.b.pool !== undefined ? { pool: o.b.pool } : {}),
          ...(o.b.clients !== undefined ? { clients: o.b.clients } : {}),
        };
  // Both variants are validated before the first leg runs.
  const prepared = { A: await prepareRun(sideInput('A'), ctx.environment), B: await prepareRun(sideInput('B'), ctx.environment) };
  const total = prepared.A.options;
  if (total.requests !== undefined && total.requests < rounds * total.clients) {
    throw new PgloadError('usage', `${total.requests} requests per side cannot be split into ${rounds} legs of ${total.clients} clients; give at least ${rounds * total.clients}, or fewer rounds`);
  }
  const per = (v: number | undefined) => (v === undefined ? undefined : v / rounds);
  const order = legOrder(rounds);
  const legs: Record<'A' | 'B', ProfileResult[]> = { A: [], B: [] };
  for (const [i, side] of order.entries()) {
    if (ctx.signal?.aborted) break;
    ctx.onLeg?.(i + 1, order.length, side);
    await ctx.beforeLeg?.(side);
    if (ctx.signal?.aborted) break;
    const first = legs[side].length === 0;
    const r = await profile(
      withOptions(prepared[side], {
        ...(total.requests !== undefined ? { requests: Math.floor(total.requests / rounds) } : { durationMs: per(total.durationMs) }),
        // EXPLAIN and wait sampling once per side (its first leg): the plans and hints, without slowing every leg.
        explain: first ? total.explain : false,
        sampleIntervalMs: first ? total.sampleIntervalMs : 0,
        baselineRuns: first ? total.baselineRuns : 1,
      }),
      ctx,
    );
    legs[side].push(r);
    if (r.status === 'cancelled') break;
  }
  if (legs.A.length === 0 || legs.B.length === 0) throw new PgloadError('cancelled', 'The A/B run was cancelled before both sides ran; nothing to compare.');
  const a = mergeLegs(legs.A);
  const b = mergeLegs(legs.B);
  const labelB = changeLabel(o.b);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'ab',
    tool: { name: 'pgload', version: VERSION },
    order: order.slice(0, legs.A.length + legs.B.length),
    rounds,
    a,
    b,
    comparison: compareResults(a, b, { labels: ['A', labelB] }),
  };
}

/** One side's legs as one result: histograms added exactly, counts summed, timelines laid end to end. */
export function mergeLegs(legs: ProfileResult[]): ProfileResult {
  const first = legs[0];
  if (legs.length === 1) return first;
  const hist = decodeHistogram(first.hdr.load);
  for (const l of legs.slice(1)) hist.add(decodeHistogram(l.hdr.load));
  const sum = (f: (r: ProfileResult) => number) => legs.reduce((n, r) => n + f(r), 0);
  const ok = sum((r) => r.load.requests.ok);
  const failed = sum((r) => r.load.requests.failed);
  const wallMs = sum((r) => r.load.wallMs);
  const over = sum((r) => r.load.overThreshold.count);
  const latency = latencyStats(hist);
  let offset = 0;
  const timeline = legs.flatMap((r) => {
    const shifted = r.timeline.map((p) => ({ ...p, tMs: p.tMs + offset }));
    offset += r.load.wallMs;
    return shifted;
  });
  const errors = new Map<string, ErrorGroup>();
  let legStart = 0;
  for (const r of legs) {
    for (const e of r.errors) {
      const k = `${e.code}|${e.message}|${e.phase}`;
      const seen = errors.get(k);
      if (seen) seen.count += e.count;
      else errors.set(k, { ...e, firstAtMs: e.firstAtMs + legStart });
    }
    legStart += r.load.wallMs;
  }
  const pool = mergePools(legs);
  const worst: RunStatus = legs.find((r) => r.status !== 'completed')?.status ?? 'completed';
  return {
    ...first,
    status: worst,
    statusDetail: legs.find((r) => r.status !== 'completed')?.statusDetail,
    finishedAt: legs[legs.length - 1].finishedAt,
    options: { ...first.options, requests: first.options.requests !== null ? sum((r) => r.options.requests ?? 0) : null, durationMs: first.options.durationMs !== null ? sum((r) => r.options.durationMs ?? 0) : null },
    load: {
      ...first.load,
      requests: { total: ok + failed, ok, failed },
      wallMs,
      throughputQps: wallMs > 0 ? (ok * 1000) / wallMs : 0,
      latency,
      overThreshold: { ...first.load.overThreshold, count: over, percent: ok > 0 ? (over * 100) / ok : 0 },
      slowdown: first.baseline.latency.meanMs > 0 && latency.count > 0 ? latency.meanMs / first.baseline.latency.meanMs : null,
      percentiles: percentileCurve(hist),
      ...(pool ? { pool } : {}),
    },
    timeline,
    histogram: logBuckets(hist),
    errors: [...errors.values()].sort((x, y) => y.count - x.count),
    hdr: { ...first.hdr, load: encodeHistogram(hist) },
    cleanup: legs.some((r) => r.cleanup.leftoverSessions === null) ? { leftoverSessions: null, note: legs.find((r) => r.cleanup.note)?.cleanup.note } : { leftoverSessions: Math.max(...legs.map((r) => r.cleanup.leftoverSessions ?? 0)) },
  };
}

/** The application pool's figures over the legs: its wait and database-time histograms added exactly. */
function mergePools(legs: ProfileResult[]): PoolResult | undefined {
  const pools = legs.map((r) => r.load.pool);
  const first = pools[0];
  if (!first || pools.some((p) => !p?.hdr)) return first;
  const wait = decodeHistogram(first.hdr!.wait);
  const db = decodeHistogram(first.hdr!.db);
  for (const p of pools.slice(1)) {
    wait.add(decodeHistogram(p!.hdr!.wait));
    db.add(decodeHistogram(p!.hdr!.db));
  }
  return {
    ...first,
    maxInUse: Math.max(...pools.map((p) => p!.maxInUse)),
    timeouts: pools.reduce((n, p) => n + p!.timeouts, 0),
    waitMs: latencyStats(wait),
    dbMs: latencyStats(db),
    hdr: { wait: encodeHistogram(wait), db: encodeHistogram(db) },
  };
}
