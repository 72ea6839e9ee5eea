/**
 * The diagnosis's capacity phase (`--max-p95`): the largest demand of the application's kind — its users who pause,
 * or its arrival rate — whose p95 meets the objective, searched as `pgload capacity` searches it, first as the
 * statement is and then, when the budget holds both, with the best measured fix applied. The two capacities are said
 * to differ only when their brackets do not overlap.
 */
import { TrialIndexes, type IndexTrialContext } from './indexTrial';
import type { CapacityBoundary, CapacityDemand, CapacityResult, DiagnoseAnswers, ProfileResult, SweepRecheck } from '../../shared/result';
import { formatMs, formatQps } from '../../shared/format';
import { recheckChange, recheckRates } from '../../shared/report/compare';
import type { ProfileInput } from '../options';
import { APP_POOL_LIMITS, RATE_LIMITS } from '../optionTable';
import { appDemandKind, capPool, type AppPoolSettings } from './appDemand';
import { capacity, MIN_CAPACITY_BUDGET_MS, type CapacityContext } from './capacity';

/** A measured fix as the capacity search applies it (from the best-fix answer). */
export type FixChange = NonNullable<NonNullable<DiagnoseAnswers['best']>['change']>;

/** The application's demand as the search grows it, on the pool as emulated (or the pool the fix recommends). */
export function capacityDemand(app: AppPoolSettings, pool: { size: number; maxOverflow: number }): { demand: CapacityDemand; max: number } {
  // As far as `pgload capacity` looks by default (the search stops at what the sessions serve, or at the objective).
  const max = app.rateQps ? Math.min(RATE_LIMITS.perSecond.max, Math.max(10_000, 4 * app.rateQps)) : Math.min(APP_POOL_LIMITS.users.max, Math.max(1_000, 4 * app.users));
  return { demand: appDemandKind(app, pool), max };
}

export interface CapacityPhaseInput {
  base: ProfileInput;
  sqlB?: string;
  app: AppPoolSettings;
  pool: { size: number; maxOverflow: number };
  /** The sessions the server has room for: the search's pools are capped to it (a probe opens every session). */
  room: number;
  objectiveP95Ms: number;
  budgetMs: number;
  /** The best measured fix, when there is one; searched again with it when the budget holds two searches. */
  fix: { what: string; change: FixChange } | null;
  /** The application's load the diagnosis measured (its users through this pool, or its rate): a step already judged. */
  load?: ProfileResult;
}

export interface CapacityPhaseOutput {
  asIs: CapacityResult;
  withFix: CapacityResult | null;
  /** Why the search with the fix did not run (no fix, or no budget for it). */
  fixNote: string | null;
  /** The sessions the pool was capped to (the server's room), or null when it fit. */
  cappedTo: number | null;
}

export async function capacityPhase(x: CapacityPhaseInput, ctx: CapacityContext & Pick<IndexTrialContext, 'confirmRemote'>): Promise<CapacityPhaseOutput> {
  const both = x.fix !== null && x.budgetMs >= 2 * MIN_CAPACITY_BUDGET_MS;
  const t0 = Date.now();
  const asIsBudget = both ? x.budgetMs / 2 : x.budgetMs;
  const pool = capPool(x.pool, x.room);
  const cappedTo = pool.size + pool.maxOverflow < x.pool.size + x.pool.maxOverflow ? pool.size + pool.maxOverflow : null;
  const { demand, max } = capacityDemand(x.app, pool);
  // The application's load is a step of this search when it ran the same: its users opened no more sessions than the
  // capped pool has (same size), or its arrivals had the same sessions.
  const same = x.app.rateQps ? cappedTo === null : pool.size === x.pool.size && x.app.users <= pool.size + pool.maxOverflow;
  const known = x.load && same ? { demand: x.app.rateQps ?? x.app.users, run: x.load, source: "the diagnosis's application load" } : undefined;
  const asIs = await capacity({ base: x.base, objectiveP95Ms: x.objectiveP95Ms, demand, max, budgetMs: Math.max(MIN_CAPACITY_BUDGET_MS, asIsBudget), ...(known ? { known } : {}) }, ctx);
  if (!x.fix) return { asIs, withFix: null, fixNote: 'no change measured here lowered p95 significantly, so there was no fix to search with', cappedTo };
  const left = x.budgetMs - (Date.now() - t0);
  if (!both || left < MIN_CAPACITY_BUDGET_MS || ctx.signal?.aborted) {
    return { asIs, withFix: null, fixNote: `the ${Math.round(Math.max(0, left) / 1000)} s left could not hold a second search (${MIN_CAPACITY_BUDGET_MS / 1000} s at least) with ${x.fix.what}`, cappedTo };
  }
  const c = x.fix.change;
  const base: ProfileInput = {
    ...x.base,
    ...(c.settings ? { settings: { ...(x.base.settings ?? {}), ...c.settings } } : {}),
    ...(c.prepared ? { prepared: true } : {}),
    ...(c.sqlB && x.sqlB !== undefined ? { sql: x.sqlB } : {}),
  };
  const fixed = capacityDemand(x.app, capPool(c.pool ?? x.pool, x.room));
  const search = () => capacity({ base, objectiveP95Ms: x.objectiveP95Ms, demand: fixed.demand, max: fixed.max, budgetMs: left }, ctx);
  // An index measured in the index phase (a database marked for trials) is built again for this search, then dropped.
  const withFix = c.indexes ? await withIndexes(x.base, c.indexes, ctx, search) : await search();
  return { asIs, withFix, fixNote: null, cappedTo };
}

async function withIndexes<T>(base: ProfileInput, indexes: string[], ctx: CapacityContext & IndexTrialContext, body: () => Promise<T>): Promise<T> {
  const trial = await TrialIndexes.open(base.connection, indexes, true, ctx);
  try {
    await trial.build();
    return await body();
  } finally {
    await trial.finish(false);
  }
}

/** The fix in words: "work_mem = 8MB", "pool_size = 4, max_overflow = 0", "prepared statements", "your alternative SQL". */
export function fixWords(c: FixChange): string {
  const parts: string[] = [];
  if (c.settings) parts.push(...Object.entries(c.settings).map(([k, v]) => `${k} = ${v}`));
  if (c.pool) parts.push(`pool_size = ${c.pool.size}, max_overflow = ${c.pool.maxOverflow}`);
  if (c.prepared) parts.push('prepared statements');
  if (c.sqlB) parts.push('your alternative SQL');
  if (c.indexes) parts.push(c.indexes.length === 1 ? 'the suggested index' : 'the suggested indexes');
  return parts.join(', ');
}

/** The lowest and highest the capacity can be from a boundary: [meets, fails), or open where the search found no end. */
function range(b: CapacityBoundary): { low: number; high: number } {
  switch (b.kind) {
    case 'bracketed':
      return { low: b.meets, high: b.fails };
    case 'below-minimum':
      return { low: 0, high: b.fails };
    case 'above-maximum':
      return { low: b.meets, high: Infinity };
    case 'unresolved':
      return { low: b.meets ?? 0, high: b.fails ?? Infinity };
  }
}

function amountWords(v: number, kind: CapacityDemand['kind']): string {
  return kind === 'users' ? String(v) : formatQps(v);
}

/** A capacity in words: "37 users", "58.6 requests/s", or that no demand was found to meet the objective. */
export function capacityWords(v: number | null, kind: CapacityDemand['kind']): string {
  return v === null ? 'no demand found to meet it' : `${amountWords(v, kind)} ${kind === 'users' ? 'users' : 'requests/s'}`;
}

/**
 * What the sweep's speed check says about the capacity's steps: the server's speed moved beyond the noise during the
 * same diagnosis (shifted or drifted), so steps measured at different times — the capacity's too — compare less well.
 */
function speedWords(speed: SweepRecheck | null | undefined): string {
  if (!speed || (speed.verdict !== 'shifted' && speed.verdict !== 'drifted')) return '';
  return ` The evidence is weak: the server's speed changed during this diagnosis (the sweep's speed check: ${recheckRates(speed)}, ${recheckChange(speed)}), and the steps here were also measured at different times.`;
}

/**
 * The capacity answer: the capacity as is, and with the fix — more, less, or not told apart (brackets that overlap).
 * `speed`: the sweep's speed check in the same diagnosis, when there was one.
 */
export function capacityPhaseAnswer(out: Omit<CapacityPhaseOutput, 'cappedTo'>, fixWhat: string | null, speed: SweepRecheck | null = null): NonNullable<DiagnoseAnswers['capacity']> {
  const a = out.asIs;
  const moved = speedWords(speed);
  const n = (v: number) => amountWords(v, a.demand.kind);
  const bracket = (r: { low: number; high: number }) =>
    r.low > 0 && r.high < Infinity ? `${n(r.low)}–${n(r.high)}` : r.high < Infinity ? `below ${n(r.high)}` : r.low > 0 ? `${n(r.low)} or more` : 'not bounded';
  const head = `Within p95 ≤ ${formatMs(a.objective.p95Ms)}: ${a.answer}`;
  const weak = a.status !== 'completed' || a.boundary.kind === 'unresolved' || moved !== '';
  if (!out.withFix || !fixWhat) {
    return { text: `${head}${out.fixNote ? ` Not searched with a fix: ${out.fixNote}.` : ''}${moved}`, capacity: a.capacity, withFix: null, evidence: weak ? 'weak' : 'strong' };
  }
  const f = out.withFix;
  const r0 = range(a.boundary);
  const r1 = range(f.boundary);
  const apart = r1.low >= r0.high || r0.low >= r1.high;
  const verdict = !apart
    ? `the two brackets overlap (${bracket(r0)} as it is, ${bracket(r1)} with it), so no difference in capacity can be claimed`
    : r1.low >= r0.high
      ? `more than the ${capacityWords(a.capacity, a.demand.kind)} as it is, beyond both searches' precision`
      : `less than the ${capacityWords(a.capacity, a.demand.kind)} as it is: the fix that lowered p95 at your demand does not raise what meets the objective`;
  return {
    text: `${head} With ${fixWhat}: ${capacityWords(f.capacity, a.demand.kind)} — ${verdict}. ${f.answer}${moved}`,
    capacity: a.capacity,
    withFix: { what: fixWhat, capacity: f.capacity, differs: apart },
    evidence: weak || f.status !== 'completed' ? 'weak' : 'strong',
  };
}
