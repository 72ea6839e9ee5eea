/**
 * The result object, put together once from what a run measured: the only shape that leaves the engine (CLI, JSON,
 * panel, CodeLens, exports). Hints are derived here from the plans, the waits and pgload's own overhead.
 */
import type { CapturedPlan, ClientOverhead, ConnectionSummary, ErrorGroup, ExecutionMode, GenericPlanCheck, Hint, ProfileResult, RunStatus, ServerCounters, ServerInfo, SteadyState, TimelinePoint, WaitSampling } from '../../shared/result';
import { RESULT_SCHEMA_VERSION } from '../../shared/result';
import { genericPlanHint } from '../insight/genericPlan';
import { encodeHistogram, latencyStats, logBuckets, percentileCurve, type Histogram } from './histogram';
import type { ProfileOptions } from '../options';
import { loadModeOf, type ModeFigures } from './modes';
import type { SteadyTally } from './loadPhase';
import { envelopeHint, overheadHint } from '../insight/overhead';
import { analyzePlan, combineHints, diffPlans, type PlanContext } from '../insight/plan';
import { nodeTimes } from '../insight/nodeTime';
import { concurrencyHints } from '../insight/concurrency';
import { indexHints, type IndexAdvice } from '../insight/indexes/advice';
import type { SqlStatement } from '../sql';
import { VERSION } from '../version';
import { waitHints } from '../insight/waitHints';

/** What the load phase measured. */
export interface LoadOutcome {
  hist: Histogram;
  ok: number;
  failed: number;
  over: number;
  wallMs: number;
  connect: { p50Ms: number; maxMs: number };
  timeline: TimelinePoint[];
  lostAll: boolean;
  client: ClientOverhead;
  /** The load mode's own figures (an application pool's split, an open loop's arrivals, a ramp's stages). */
  modeFigures: ModeFigures;
  /** The requests after the start-up, when asked for. */
  steady?: SteadyTally;
}

export interface RunFacts {
  options: ProfileOptions;
  statement: SqlStatement;
  mode: ExecutionMode;
  connection: ConnectionSummary;
  server: ServerInfo;
  startedAt: Date;
  finishedAt: Date;
  status: RunStatus;
  statusDetail: string | undefined;
  params: Array<{ index: number; spec: string; sample: Array<string | null> }>;
  baseline: { coldMs: number; hist: Histogram; envelopeUs?: number };
  load: LoadOutcome;
  outages: Array<{ startMs: number; endMs: number | null; lostSessions: number }>;
  reconnects: number;
  errors: ErrorGroup[];
  plans: { alone?: CapturedPlan; underLoad?: CapturedPlan; generic?: GenericPlanCheck };
  indexAdvice?: IndexAdvice;
  waits: WaitSampling | null;
  counters: ServerCounters;
  planContext: PlanContext;
  leftover: number | null;
  silence?: NonNullable<ProfileResult['load']['silence']>;
}

/** Every hint of the run: the plans' (each once; those only under load marked), the waits', the generic plan's, pgload's own. */
export function runHints(f: RunFacts): Hint[] {
  const { alone, underLoad, generic } = f.plans;
  const hints: Hint[] = [
    ...combineHints(alone ? analyzePlan(alone, f.planContext) : [], underLoad ? analyzePlan(underLoad, f.planContext) : []),
    ...waitHints(f.waits, {
      clients: f.options.clients,
      measuredPool: f.options.measuredPool,
      transaction: f.options.scripts ? { roundTrips: f.load.client.roundTripsPerRequest ?? 1, clientBound: f.load.client.clientBound } : undefined,
    }),
    ...concurrencyHints(alone ?? underLoad, f.statement),
    ...(f.indexAdvice ? indexHints(f.indexAdvice) : []),
  ];
  const genericHint = genericPlanHint(generic);
  if (genericHint) hints.push(genericHint);
  const clientHint = overheadHint(f.load.client, f.options.clients, latencyStats(f.load.hist));
  if (clientHint) hints.push(clientHint);
  const envelope = envelopeHint(f.baseline.envelopeUs, latencyStats(f.baseline.hist).p50Ms, f.mode === 'read-only');
  if (envelope) hints.push(envelope);
  return rankHints(hints, f.plans, f.load.hist.totalCount > 0 ? f.load.hist.mean / 1000 : 0);
}

/**
 * Hints ranked by what they could save: a hint on a node gets that node's share of the plan (under load when that
 * plan was taken, else alone) × the mean request latency under load; those first, largest first; the rest after,
 * by severity.
 */
export function rankHints(hints: Hint[], plans: RunFacts['plans'], meanLoadMs: number): Hint[] {
  const sources = (['under-load', 'alone'] as const)
    .map((when) => ({ when, nodes: (when === 'alone' ? plans.alone : plans.underLoad)?.nodes }))
    .filter((x) => x.nodes)
    .map((x) => ({ when: x.when, byLabel: new Map(x.nodes!.map((n) => [n.node, n])) }));
  const ranked = hints.map((h) => {
    if (!h.node || meanLoadMs <= 0) return h;
    // An index changes the plan beyond its node: what the planner's cost says it saves.
    const v = h.verified;
    if (v && v.costBefore > 0) {
      const share = Math.max(0, 1 - v.costAfter / v.costBefore);
      return { ...h, estimate: { share, perRequestMs: Math.round(share * meanLoadMs * 1000) / 1000, plan: 'alone' as const, basis: 'planner-cost' as const } };
    }
    for (const s of sources) {
      const n = s.byLabel.get(h.node);
      if (n) return { ...h, estimate: { share: n.share, perRequestMs: Math.round(n.share * meanLoadMs * 1000) / 1000, plan: s.when } };
    }
    return h;
  });
  const order = { critical: 0, warning: 1, info: 2 } as const;
  return ranked.sort((a, b) => {
    if (a.estimate && b.estimate) return b.estimate.perRequestMs - a.estimate.perRequestMs || order[a.severity] - order[b.severity];
    if (a.estimate || b.estimate) return a.estimate ? -1 : 1;
    return order[a.severity] - order[b.severity];
  });
}

/** The plan with every node's own time (./insight/nodeTime), computed once for the result and the hints. */
function withNodeTimes(p: CapturedPlan | undefined): CapturedPlan | undefined {
  return p?.json?.Plan ? { ...p, nodes: nodeTimes(p.json.Plan as Record<string, unknown>) } : p;
}

export function assembleResult(facts: RunFacts): ProfileResult {
  const f: RunFacts = { ...facts, plans: { ...facts.plans, alone: withNodeTimes(facts.plans.alone), underLoad: withNodeTimes(facts.plans.underLoad) } };
  const o = f.options;
  const load = f.load;
  const loadStats = latencyStats(load.hist);
  const baseStats = latencyStats(f.baseline.hist);
  const plans = [f.plans.alone, f.plans.underLoad].filter((p): p is CapturedPlan => p !== undefined);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'pgload', version: VERSION },
    status: f.status,
    ...(f.statusDetail !== undefined ? { statusDetail: f.statusDetail } : {}),
    sql: f.statement.text,
    fingerprint: f.statement.fingerprint,
    statementKind: f.statement.kind,
    startedAt: f.startedAt.toISOString(),
    finishedAt: f.finishedAt.toISOString(),
    connection: f.connection,
    options: {
      clients: o.clients,
      requests: o.requests ?? null,
      durationMs: o.durationMs ?? null,
      warmupPerClient: o.warmupPerClient,
      baselineRuns: o.baselineRuns,
      thresholdMs: o.thresholdMs,
      statementTimeoutMs: o.statementTimeoutMs,
      allowWrites: o.allowWrites,
      maxErrors: o.maxErrors,
      executionMode: f.mode,
      settings: o.settings,
      ...loadModeOf(o).resultOptions(o),
      ...(f.params.length ? { params: f.params } : {}),
      ...(o.prepared ? { prepared: true } : {}),
      seed: o.seed,
      workers: o.workers,
    },
    server: f.server,
    baseline: { coldMs: f.baseline.coldMs, latency: baseStats, ...(f.baseline.envelopeUs !== undefined ? { envelopeUs: f.baseline.envelopeUs } : {}) },
    load: {
      clients: o.clients,
      requests: { total: load.ok + load.failed, ok: load.ok, failed: load.failed },
      wallMs: load.wallMs,
      throughputQps: load.wallMs > 0 ? (load.ok * 1000) / load.wallMs : 0,
      ...(load.steady ? { steady: steadyState(load.steady, load.wallMs) } : {}),
      latency: loadStats,
      overThreshold: { thresholdMs: o.thresholdMs, count: load.over, percent: load.ok > 0 ? (load.over * 100) / load.ok : 0 },
      slowdown: baseStats.meanMs > 0 && loadStats.count > 0 ? loadStats.meanMs / baseStats.meanMs : null,
      connectMs: load.connect,
      percentiles: percentileCurve(load.hist),
      ...load.modeFigures,
      client: load.client,
      ...(f.silence ? { silence: f.silence } : {}),
      ...(f.outages.length ? { outages: f.outages.map((x) => ({ ...x, endMs: x.endMs ?? load.wallMs, recovered: x.endMs !== null })), reconnects: f.reconnects } : {}),
    },
    timeline: load.timeline,
    histogram: logBuckets(load.hist),
    errors: f.errors,
    hints: runHints(f),
    insight: {
      plans,
      planDiff: diffPlans(f.plans.alone, f.plans.underLoad, f.planContext.blockSize),
      waits: f.waits,
      counters: f.counters,
      ...(f.plans.generic ? { genericPlan: f.plans.generic } : {}),
    },
    hdr: { unit: 'us', baseline: encodeHistogram(f.baseline.hist), load: encodeHistogram(load.hist) },
    cleanup:
      f.leftover === null
        ? { leftoverSessions: null, note: "pgload could not check whether pgload's sessions are gone: the server stopped answering. The server ends any left at its idle_in_transaction_session_timeout (set by pgload for its sessions) or when their connections close." }
        : { leftoverSessions: f.leftover },
  };
}

/** The steady state's figures: its requests from `fromMs` to the end of the load. */
function steadyState(s: NonNullable<LoadOutcome['steady']>, wallMs: number): SteadyState {
  const span = Math.max(0, wallMs - s.fromMs);
  return {
    fromMs: s.fromMs,
    ok: s.ok,
    failed: s.failed,
    wallMs: span,
    throughputQps: span > 0 ? (s.ok * 1000) / span : 0,
    latency: latencyStats(s.hist),
    hdr: encodeHistogram(s.hist),
    batchMs: s.batchMs,
    batches: s.batches.map((h) => ({ ok: h.totalCount, p95Ms: h.totalCount > 0 ? h.getValueAtPercentile(95) / 1000 : 0 })),
  };
}
