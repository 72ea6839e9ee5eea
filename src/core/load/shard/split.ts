/**
 * A run split across processes: shard i of n runs the i-th of n equal shares of the load. Every option that is a
 * total (clients, requests, arrival rate, users, the error budget, background clients) is split so that the shares
 * add up exactly whatever n: share i is ⌊total·i/n⌋ − ⌊total·(i−1)/n⌋, each computed from the whole sequence, as
 * k6's execution segments do. What must run once per run (the baseline, EXPLAIN, wait sampling, the server's
 * counters) runs on shard 1 only.
 */
import type { ShardFacts } from '../../../shared/result';
import { usageError } from '../../errors';
import { createHash } from 'node:crypto';

/** How a shard was asked for (`--shard i/n`, `--run-id`, `--shard-wait`, `--start-at`). */
export interface ShardInput {
  /** 1-based. */
  index: number;
  count: number;
  /** Names the run the shards meet in; derived from the statement and the totals when absent. */
  runId?: string;
  /** How long a shard waits for the others once its sessions are open (default 2 min). */
  waitMs?: number;
  /** Release at this instant of the server's clock (ms since the epoch) instead of meeting. */
  startAtMs?: number;
}

/** The shard as the run uses it: its input resolved, with the whole run's totals. */
export interface ShardOptions extends Required<Omit<ShardInput, 'startAtMs'>> {
  startAtMs?: number;
  totals: ShardFacts['totals'];
  /** The release's offset from the agreed instant: a constant arrival rate's shards interleave their arrivals. */
  phaseMs: number;
}

export const MAX_SHARDS = 1000;
export const DEFAULT_SHARD_WAIT_MS = 120_000;
const RUN_ID = /^[A-Za-z0-9_.-]{1,20}$/;

/** Options already split carry the whole run's totals. */
export function isSplit(s: ShardInput | ShardOptions): s is ShardOptions {
  return 'totals' in s;
}

/** The shard a run's checked options hold, if any. */
export function splitShard(o: { shard?: ShardInput | ShardOptions }): ShardOptions | undefined {
  return o.shard && isSplit(o.shard) ? o.shard : undefined;
}

/** This shard's part of a total: the shares of all shards add up to `total` exactly. */
export function shareOf(total: number, index: number, count: number): number {
  return Math.floor((total * index) / count) - Math.floor((total * (index - 1)) / count);
}

/**
 * Reads `--shard`: "3/8", or "auto/8" for the number a Kubernetes Indexed Job gives its pod (JOB_COMPLETION_INDEX,
 * 0-based). Throws a usage error naming what to write.
 */
export function parseShard(text: string, env: Record<string, string | undefined>): { index: number; count: number } {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/i.exec(text);
  if (!m) throw usageError(`--shard ${text}: write the shard's number and the number of shards, like --shard 3/8 (or --shard auto/8 in a Kubernetes Indexed Job)`);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw usageError(`--shard ${text}: the number of shards must be 1 to ${MAX_SHARDS}`);
  let index: number;
  if (m[1].toLowerCase() === 'auto') {
    const raw = env.JOB_COMPLETION_INDEX;
    if (raw === undefined || !/^\d+$/.test(raw.trim())) {
      throw usageError(`--shard auto/${count} takes the shard's number from JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets (0-based), but it is ${raw === undefined ? 'not set' : `"${raw}"`}; set it, or give the number: --shard 1/${count}`);
    }
    index = Number(raw) + 1;
    if (index > count) throw usageError(`JOB_COMPLETION_INDEX=${raw} is past the last of ${count} shards (0 to ${count - 1}): make the Job's completions equal to the shard count`);
  } else {
    index = Number(m[1]);
    if (index < 1 || index > count) throw usageError(`--shard ${text}: shards are numbered 1 to ${count}`);
  }
  return { index, count };
}

/** A run id as given with --run-id: letters, digits, '.', '_', '-', at most 20 (it goes into application_name). */
export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw usageError(`--run-id ${id}: use 1 to 20 letters, digits, '.', '_' or '-' (it names the run on the server)`);
  return id;
}

/** What every shard of one run has in common, so that shards started with the same flags find each other. */
export function defaultRunId(parts: { sql: string; database?: string; count: number; totals: ShardFacts['totals']; durationMs?: number }): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/** The load options a split run changes: the totals, the seed, and what runs once. */
export interface Splittable {
  sql: string;
  clients: number;
  requests?: number;
  durationMs?: number;
  maxErrors: number;
  seed: number;
  explain: boolean;
  sampleIntervalMs: number;
  pool?: { users: number };
  rate?: { perSecond: number; distribution: 'constant' | 'poisson'; maxOutstanding: number; seed: number };
  connection: { database?: string };
}

/**
 * This shard's options: its share of every total, a seed of its own (shards drawing the same parameter values would
 * hit the same rows), insight only on shard 1. Throws a usage error when a share would be empty.
 */
export function splitOptions<T extends Splittable>(o: T, input: ShardInput, defaultRequests: number): T & { shard: ShardOptions } {
  const { index, count } = input;
  const requests = o.requests ?? (o.durationMs === undefined ? defaultRequests : undefined);
  const totals: ShardFacts['totals'] = { clients: o.clients, requests: requests ?? null, ratePerSecond: o.rate?.perSecond ?? null, users: o.pool?.users ?? null };
  const share = (total: number, what: string, flag: string): number => {
    const s = shareOf(total, index, count);
    if (s < 1) throw usageError(`Shard ${index} of ${count} would get none of the ${total} ${what}: give at least ${count} ${what} (${flag}) or use at most ${total} shards`);
    return s;
  };
  const out: T = { ...o };
  if (o.pool) out.pool = { ...o.pool, users: share(o.pool.users, 'users', '--users') };
  else out.clients = share(o.clients, 'clients', '--clients');
  if (requests !== undefined) out.requests = share(requests, 'requests', '--requests');
  if (o.maxErrors > 0) out.maxErrors = Math.max(1, shareOf(o.maxErrors, index, count));
  // A different stream of random values per shard, the same for the same shard of the same run.
  out.seed = (o.seed + (index - 1) * 0x9e3779b1) >>> 0;
  let phaseMs = 0;
  if (o.rate) {
    out.rate = { ...o.rate, perSecond: o.rate.perSecond / count, maxOutstanding: Math.max(1, shareOf(o.rate.maxOutstanding, index, count)), seed: out.seed };
    // Constant arrivals: shard i sends the i-th of every n arrivals, so all shards together send them evenly spaced.
    if (o.rate.distribution === 'constant') phaseMs = ((index - 1) * 1000) / o.rate.perSecond;
  }
  if (index > 1) {
    out.explain = false;
    out.sampleIntervalMs = 0;
  }
  const runId = input.runId !== undefined ? checkRunId(input.runId) : defaultRunId({ sql: o.sql, database: o.connection.database, count, totals, durationMs: o.durationMs });
  return { ...out, shard: { index, count, runId, waitMs: input.waitMs ?? DEFAULT_SHARD_WAIT_MS, ...(input.startAtMs !== undefined ? { startAtMs: input.startAtMs } : {}), totals, phaseMs } };
}

/** Milliseconds kept to hundredths in a shard's facts and their merge. */
export const hundredths = (ms: number): number => Math.round(ms * 100) / 100;

/** What a shard other than the first says about what it did not measure. */
export function onShardOne(shard: Pick<ShardOptions, 'index' | 'count'>): string {
  return `Shard ${shard.index} of ${shard.count}: the baseline, EXPLAIN, wait sampling and the server's counters run once per run, on shard 1.`;
}

/** A shard's facts for its result: its share's totals, its start on the server's clock, its raw intervals. */
export function shardFacts(
  shard: ShardOptions,
  start: { how: ShardFacts['start']['how']; plannedServerMs: number; phaseMs: number; releasedServerMs: number; clock: { offsetMs: number; uncertaintyMs: number }; waitedMs: number },
  record: { slots: ShardFacts['slots']; connectMs: number[] },
  insight: boolean,
): ShardFacts {
  const r2 = hundredths;
  return {
    index: shard.index,
    count: shard.count,
    runId: shard.runId,
    totals: shard.totals,
    start: {
      how: start.how,
      plannedServerMs: r2(start.plannedServerMs),
      phaseMs: r2(start.phaseMs),
      releasedServerMs: r2(start.releasedServerMs),
      clockOffsetMs: r2(start.clock.offsetMs),
      clockUncertaintyMs: r2(start.clock.uncertaintyMs),
      waitedMs: Math.round(start.waitedMs),
    },
    slots: record.slots,
    connectMs: record.connectMs.map(hundredths),
    insight,
  };
}
