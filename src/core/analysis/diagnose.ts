/**
 * `pgload diagnose`: one planned set of measurements that answers the four questions people ask — is my pool right,
 * which server settings, how does this query hold up under concurrency, would raw SQL beat the ORM.
 *
 * The phases are planned within the time budget before anything runs (each has a floor below which it would measure
 * nothing worth reading); time a phase does not use is shared by the phases still to run, an overrun is taken from the next optional one. Each phase
 * reuses an existing measurement: a profile through the application's pool, a concurrency sweep, and A/Bs in
 * alternating legs (pool against pool, setting against none, prepared against unnamed, SQL against SQL). The answers
 * are built from those results only (answers.ts).
 */
import type { AbResult, DiagnoseAnswers, DiagnosePhase, DiagnosePhaseId, DiagnoseResult, ProfileResult, SweepResult } from '../../shared/result';
import { closeSession, resolveConnection, type ResolveEnvironment } from '../connection/connection';
import { openControlSession } from '../connection/pooler';
import { readCapacity } from '../connection/server';
import { PgloadError } from '../errors';
import type { Logger } from '../logger';
import type { ProfileInput } from '../options';
import { APP_POOL_LIMITS, RATE_LIMITS } from '../optionTable';
import { prepareRun, profile, withOptions, type PreparedRun, type Progress } from '../load/runner';
import { resultHead } from '../version';
import { formatMs } from '../../shared/format';
import { abTest, type AbChange } from './ab';
import { appSessions, capPool, demandRun, type AppPoolSettings } from './appDemand';
import { appDemandWords } from '../../shared/report/diagnose';
import { MIN_CAPACITY_BUDGET_MS } from './capacity';
import { capacityPhase, capacityPhaseAnswer, capacityWords, fixWords } from './diagnoseCapacity';
import { buildAnswers, settingCandidates } from './answers';
import { indexTrial } from './indexTrial';
import { indexStatements } from '../../shared/hintSql';
import { defaultSteps, sweep } from './sweep';

/** A phase's notes; `cut` marks it cut short by the budget (the diagnosis is then partial). */
type Note = ((text: string) => void) & { cut: (text: string) => void };

export type { AppPoolSettings } from './appDemand';

export interface DiagnoseOptions {
  /** The statement and everything every phase shares: connection, parameters, seed, settings, timeouts, vCPUs… */
  base: ProfileInput;
  app: AppPoolSettings;
  budgetMs: number;
  /** The user's alternative SQL (a hand-written rewrite of what the ORM sends). */
  sqlB?: string;
  /** The latency objective (--max-p95): adds the capacity phase. */
  objectiveP95Ms?: number;
  /** A database marked for index trials (--allow-index-trials): adds the phase that builds the best index suggestion. */
  allowIndexTrials?: boolean;
}

export interface DiagnoseContext {
  signal?: AbortSignal;
  logger?: Logger;
  environment?: ResolveEnvironment;
  /** The plan, once, before anything runs. */
  onPlan?: (phases: DiagnosePhase[]) => void;
  /** A phase starts (1-based), with the time it has. */
  onPhase?: (phase: DiagnosePhase, index: number, of: number, budgetMs: number) => void;
  onProgress?: (p: Progress) => void;
  /** Asked before an index is built on a server that is not this machine (the index phase). */
  confirmRemote?: (target: string) => Promise<boolean>;
}

export const PHASE_LABELS: Record<DiagnosePhaseId, string> = {
  load: "Baseline, EXPLAIN and the application's load through its pool",
  sweep: 'Concurrency sweep to the saturation point',
  pools: 'Your pool against the recommended one, same users (A B B A)',
  settings: 'A/B of each setting the hints suggest (A B B A)',
  orm: 'Unnamed statements with parameters (as ORMs send) against prepared (A B B A)',
  'sql-b': 'Your alternative SQL against the statement (A B B A)',
  index: 'The best index suggestion, built on this database for B (A B B A)',
  capacity: 'Capacity within the objective, as is and with the best measured fix',
};

/** The least each phase needs to measure anything worth reading, and its share of the rest of the budget. */
const PHASE_FLOOR_MS: Record<DiagnosePhaseId, number> = { load: 8_000, sweep: 12_000, pools: 10_000, settings: 10_000, orm: 8_000, 'sql-b': 8_000, index: 10_000, capacity: MIN_CAPACITY_BUDGET_MS };
// The pool comparison gets the largest share: its legs run the application's users, and each ends a latency late.
// A capacity search is two searches when there is a fix to search with.
const PHASE_SHARE: Record<DiagnosePhaseId, number> = { load: 0.16, sweep: 0.2, pools: 0.28, settings: 0.2, orm: 0.16, 'sql-b': 0.16, index: 0.2, capacity: 0.8 };
/** Legs of every A/B: A B B A. */
const AB_ROUNDS = 2;
/** A leg or a sweep step shorter than this measures start-up more than the statement. */
const MIN_LEG_MS = 1_000;
/** How much longer than planned a sweep step may run to count enough requests. */
const STEP_STRETCH = 1.2;
/** At most this many settings are tried (work_mem, parallel workers, JIT…). */
const MAX_SETTINGS = 3;

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The phases and their time, before anything runs; refuses a budget below what the phases need. */
function phaseIds(withSqlB: boolean, withCapacity: boolean, withIndex: boolean): DiagnosePhaseId[] {
  return ['load', 'sweep', 'pools', 'settings', 'orm', ...(withSqlB ? (['sql-b'] as const) : []), ...(withIndex ? (['index'] as const) : []), ...(withCapacity ? (['capacity'] as const) : [])];
}

/** The least budget a diagnosis with these phases takes. */
export function diagnosisFloorMs(withSqlB: boolean, withCapacity: boolean, withIndex = false): number {
  return phaseIds(withSqlB, withCapacity, withIndex).reduce((n, id) => n + PHASE_FLOOR_MS[id], 0);
}

export function planDiagnosis(budgetMs: number, withSqlB: boolean, withCapacity = false, withIndex = false): DiagnosePhase[] {
  const ids = phaseIds(withSqlB, withCapacity, withIndex);
  const floor = diagnosisFloorMs(withSqlB, withCapacity, withIndex);
  if (!Number.isFinite(budgetMs) || budgetMs < floor) {
    throw new PgloadError(
      'usage',
      `A budget of ${secs(budgetMs)} is too small for a diagnosis: its phases need at least ${secs(floor)} (${ids.map((id) => `${id} ${secs(PHASE_FLOOR_MS[id])}`).join(', ')}). ` +
        `Give a budget of ${secs(floor)} or more (4m measures more firmly); nothing was run.`,
    );
  }
  const shares = ids.reduce((n, id) => n + PHASE_SHARE[id], 0);
  const spare = budgetMs - floor;
  return ids.map((id) => ({ id, label: PHASE_LABELS[id], plannedMs: Math.round(PHASE_FLOOR_MS[id] + (spare * PHASE_SHARE[id]) / shares), actualMs: null, status: 'planned' }));
}

/** The phases that answer the first question (the pool): an earlier overrun is not taken from them. */
const KEPT_PHASES: ReadonlySet<DiagnosePhaseId> = new Set(['load', 'sweep', 'pools']);

/**
 * A phase's time: its plan plus its share of what the phases before it left over (in proportion to its plan among the
 * phases still to run, so that a skipped phase's time is not all taken by the next). An overrun is taken from the
 * next phase, except from those that answer the pool question: they keep their plan and the debt passes on to the
 * optional phases after them (settings, ORM, the alternative SQL, capacity). `passOnMs` is carried past this phase.
 */
export function phaseBudget(id: DiagnosePhaseId, plannedMs: number, carryMs: number, restPlannedMs: number): { budgetMs: number; passOnMs: number } {
  if (carryMs < 0) return KEPT_PHASES.has(id) ? { budgetMs: plannedMs, passOnMs: carryMs } : { budgetMs: plannedMs + carryMs, passOnMs: 0 };
  const share = restPlannedMs > plannedMs ? (carryMs * plannedMs) / restPlannedMs : carryMs;
  return { budgetMs: plannedMs + share, passOnMs: carryMs - share };
}

/** The clients the sweep goes up to: past the server's cores the throughput of a CPU-bound query stops growing. */
export function sweepCeiling(sessions: number, serverVcpus: number | undefined): number {
  return Math.max(1, Math.min(sessions, serverVcpus ? Math.max(8, 4 * serverVcpus) : 32));
}

export async function diagnose(o: DiagnoseOptions, ctx: DiagnoseContext = {}): Promise<DiagnoseResult> {
  checkApp(o);
  const phases = planDiagnosis(o.budgetMs, o.sqlB !== undefined, o.objectiveP95Ms !== undefined, o.allowIndexTrials === true);
  const base: ProfileInput = { ...o.base, clients: undefined, requests: undefined, durationMs: undefined, pool: undefined, rate: undefined };
  // Everything that can be refused without a server is refused before the plan is printed: SQL, safety, options.
  const app = o.app;
  const prepared = await prepareRun({ ...base, ...demandRun(app, { size: app.poolSize, maxOverflow: app.maxOverflow }, o.base.seed), durationMs: 1000 }, ctx.environment);
  if (o.sqlB !== undefined) await prepareRun({ ...base, sql: o.sqlB, durationMs: 1000 }, ctx.environment);
  ctx.onPlan?.(phases.map((p) => ({ ...p })));
  return new Diagnosis(o, ctx, phases, base, prepared).run();
}

/** The application's pool and the alternative SQL, refused with the option to fix before anything runs. */
function checkApp(o: DiagnoseOptions): void {
  const app = o.app;
  const whole = (name: string, v: number, { min, max }: { min: number; max: number }) => {
    if (!Number.isInteger(v) || v < min) throw new PgloadError('usage', `${name} must be a whole number of at least ${min}, got ${v}`);
    if (v > max) throw new PgloadError('usage', `${name} must be at most ${max}, got ${v}`);
  };
  whole('The application users (--users)', app.users, APP_POOL_LIMITS.users);
  whole('The pool size (--pool-size)', app.poolSize, APP_POOL_LIMITS.size);
  whole('The pool overflow (--max-overflow)', app.maxOverflow, APP_POOL_LIMITS.maxOverflow);
  if (app.rateQps !== undefined) {
    if (!(app.rateQps >= RATE_LIMITS.perSecond.min * 100 && app.rateQps <= RATE_LIMITS.perSecond.max)) throw new PgloadError('usage', `The application's rate must be from ${RATE_LIMITS.perSecond.min * 100} to ${RATE_LIMITS.perSecond.max} requests per second, got ${app.rateQps}`);
    if (app.thinkTimeMs) throw new PgloadError('usage', 'Give the demand as users who pause (--think-time) or as a rate (--rate), not both');
  }
  if (!(app.poolTimeoutMs >= APP_POOL_LIMITS.timeoutMs.min && app.poolTimeoutMs <= APP_POOL_LIMITS.timeoutMs.max)) throw new PgloadError('usage', `The pool timeout must be from ${APP_POOL_LIMITS.timeoutMs.min} ms to ${APP_POOL_LIMITS.timeoutMs.max / 1000} s, got ${app.poolTimeoutMs} ms`);
  if (o.objectiveP95Ms !== undefined && !(o.objectiveP95Ms > 0 && o.objectiveP95Ms <= 3_600_000)) throw new PgloadError('usage', `The objective must be a p95 above 0 ms and at most an hour, like --max-p95 500ms; got ${o.objectiveP95Ms}`);
  if (o.sqlB !== undefined && o.sqlB.trim() === '') throw new PgloadError('usage', 'The alternative SQL is empty; give the statement to compare against, or leave it out');
}

/**
 * Which A/Bs ran at a concurrency pgload chose because the sweep gave no pool size: the settings' A/B runs at the
 * application's load whatever the sweep found; prepared statements, the alternative SQL and the index trial at `abClients`.
 */
export function noPoolSizeNote(abClients: number, sqlB: boolean, indexTrial: boolean): string {
  const which = ['prepared statements against unnamed', ...(sqlB ? ['your alternative SQL'] : []), ...(indexTrial ? ['the index trial'] : [])];
  return `Without a measured pool size, the A/B${which.length > 1 ? 's' : ''} of ${which.join(', ')} ran at ${abClients} concurrent queries (at most 8 when the sweep gives no pool size); the settings' A/B ran at your application's load.`;
}

/** One diagnosis as it runs: its phases in order, the time they carry over, and the runs they keep. */
class Diagnosis {
  private readonly app: AppPoolSettings;
  private readonly log: Logger | undefined;
  private readonly notes: string[] = [];
  private readonly started = Date.now();
  /** The pool as emulated (the application's, capped to the server's free connections), and the sessions it opens. */
  private current: { size: number; maxOverflow: number };
  private sessionsWanted: number;
  /** Time the phases so far left over (or overran). */
  private carry = 0;
  /** What a run costs outside its measured load (connecting, the baseline, EXPLAIN, closing), for planning the legs. */
  private legOverheadMs = 1_500;
  /** The sessions the server has room for (its free connections less two), once read; unbounded behind a pooler. */
  private room = Infinity;
  private partial = false;
  private cancelled = false;
  private readonly runs: DiagnoseResult['runs'] = { load: undefined as unknown as ProfileResult, sweep: null, pools: null, settings: [], orm: null, sqlB: null };
  /** The latency at n concurrent queries, from the application's load (set once it ran). */
  private latencyAt: (n: number) => number = () => 0;

  constructor(
    private readonly o: DiagnoseOptions,
    private readonly ctx: DiagnoseContext,
    private readonly phases: DiagnosePhase[],
    private readonly base: ProfileInput,
    private readonly prepared: PreparedRun,
  ) {
    this.app = o.app;
    this.log = ctx.logger;
    this.current = { size: this.app.poolSize, maxOverflow: this.app.maxOverflow };
    this.sessionsWanted = appSessions(this.app, { size: this.app.poolSize, maxOverflow: this.app.maxOverflow });
  }

  async run(): Promise<DiagnoseResult> {
    const { o, app } = this;
    const startedAt = new Date(this.started).toISOString();
    await this.fitPoolToServer();
    const load = await this.loadPhase();
    const rec = (await this.sweepPhase())?.recommendation ?? null;
    const currentSessions = appSessions(app, this.current);
    await this.poolsPhase(rec, currentSessions, load);
    // The A/Bs of settings and of the ORM's way of sending run at the concurrency the server can use.
    const abClients = Math.max(1, Math.min(currentSessions, rec?.poolSize ?? Math.min(8, currentSessions)));
    const closedLoop: ProfileInput = { ...this.base, clients: abClients, baselineRuns: 1 };
    if (!rec) this.notes.push(noPoolSizeNote(abClients, o.sqlB !== undefined, o.allowIndexTrials === true));
    const candidates = await this.settingsPhase(load);
    // 5. Unnamed with parameters (what most ORMs send) against prepared statements.
    this.runs.orm =
      (await this.phase('orm', async (budgetMs, note) =>
        this.ab(budgetMs, { ...closedLoop, prepared: false, explain: false, sampleIntervalMs: 0 }, { prepared: true, label: 'prepared' }, note, this.latencyAt(abClients)),
      )) ?? null;
    // 6. The user's alternative SQL.
    if (o.sqlB !== undefined) {
      this.runs.sqlB =
        (await this.phase('sql-b', async (budgetMs, note) => this.ab(budgetMs, { ...closedLoop, sampleIntervalMs: 0 }, { sql: o.sqlB, label: 'your alternative SQL' }, note, this.latencyAt(abClients)))) ?? null;
    }
    // 7. The best index suggestion, built for B's legs, where the database is marked for index trials.
    if (o.allowIndexTrials) this.runs.index = (await this.phase('index', async (budgetMs, note) => this.indexPhase(budgetMs, closedLoop, load, note, abClients))) ?? null;

    const { phases, runs, notes } = this;
    const answers = buildAnswers({ app, emulated: this.current, load, sweep: runs.sweep, pools: runs.pools, settings: runs.settings, candidates, orm: runs.orm, sqlB: runs.sqlB, index: runs.index ?? null, abClients, phases, settingsLoad: this.demandWords() });
    if (o.objectiveP95Ms !== undefined) await this.capacityPhase(o.objectiveP95Ms, answers);
    const elapsedMs = Date.now() - this.started;
    if (this.cancelled) notes.push('The diagnosis was cancelled: the answers below stand on the phases that ran, and say which are missing.');
    for (const p of phases) if (p.status === 'cut') notes.push(`${p.label}: cut short by the budget — ${p.note ?? ''}.`);
    return {
      ...resultHead('diagnose', this.prepared.statement),
      ...(o.sqlB !== undefined ? { sqlB: o.sqlB } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
      status: this.partial || this.cancelled ? 'partial' : 'completed',
      budgetMs: o.budgetMs,
      elapsedMs,
      app: {
        users: app.users,
        poolSize: app.poolSize,
        maxOverflow: app.maxOverflow,
        poolTimeoutMs: app.poolTimeoutMs,
        serverVcpus: o.base.serverVcpus ?? null,
        ...(app.thinkTimeMs ? { thinkTimeMs: app.thinkTimeMs } : {}),
        ...(app.rateQps ? { rateQps: app.rateQps } : {}),
        ...(o.objectiveP95Ms !== undefined ? { objectiveP95Ms: o.objectiveP95Ms } : {}),
      },
      abClients,
      phases,
      answers,
      runs,
      notes,
    };
  }

  /** The pool the server can hold: a pool larger than its free connections is capped (and said). */
  private async fitPoolToServer(): Promise<void> {
    const { app, prepared } = this;
    const conn = resolveConnection(prepared.options.connection, this.ctx.environment);
    const { session, detectedBy } = await openControlSession(conn, { statementTimeoutMs: 10_000, readOnly: true, applicationName: prepared.options.applicationName });
    try {
      if (detectedBy !== null) {
        this.notes.push(`A connection pooler stands in front of the server (${detectedBy}): the sessions below are the pooler's; past its pool size requests wait in the pooler's queue.`);
        return;
      }
      const capacity = await readCapacity(session.client);
      // Two more for EXPLAIN under load and the wait sampler.
      const room = capacity.free - 2;
      this.room = room;
      if (room < 1) throw new PgloadError('capacity', `The server has ${capacity.free} free connections (${capacity.limitedBy}); a diagnosis needs at least 3. Close other sessions first; nothing was run.`);
      if (this.sessionsWanted > room) {
        const { size, maxOverflow: overflow } = capPool({ size: app.poolSize, maxOverflow: app.maxOverflow }, room);
        this.notes.push(
          `Your pool allows ${app.poolSize} + ${app.maxOverflow} = ${app.poolSize + app.maxOverflow} sessions and ${app.rateQps ? 'its arrivals' : `${app.users} users`} would open ${this.sessionsWanted}; the server has ${capacity.free} free connections (${capacity.limitedBy}). ` +
            `pgload emulated ${size} + ${overflow} = ${size + overflow} (two connections kept for EXPLAIN and the wait sampler). On this server your application would get "too many clients" errors past that.`,
        );
        this.current = { size, maxOverflow: overflow };
        this.sessionsWanted = appSessions(app, this.current);
      }
    } finally {
      await closeSession(session);
    }
  }

  /** The application's load as the answers name it: "100 users pausing 5.00 s over your pool (20 + 100)". */
  private demandWords(): string {
    const { rateQps, thinkTimeMs } = this.app;
    return `${appDemandWords(this.app)}${rateQps || thinkTimeMs ? '' : ' back to back'} over your pool (${this.current.size} + ${this.current.maxOverflow})`;
  }

  private demandOn(p: { size: number; maxOverflow: number }): Partial<ProfileInput> {
    return demandRun(this.app, p, this.prepared.options.seed);
  }

  private runContext() {
    return { signal: this.ctx.signal, logger: this.log, environment: this.ctx.environment, onProgress: this.ctx.onProgress };
  }

  /** Runs one phase within its time (planned + what earlier phases left); a failure is noted, a cancel ends the diagnosis. */
  private async phase<T>(id: DiagnosePhaseId, body: (budgetMs: number, note: Note) => Promise<T | 'skip'>): Promise<T | undefined> {
    const { phases, ctx } = this;
    const i = phases.findIndex((p) => p.id === id);
    const p = phases[i];
    const rest = phases.slice(i).reduce((n, q) => n + q.plannedMs, 0);
    const { budgetMs, passOnMs } = phaseBudget(id, p.plannedMs, this.carry, rest);
    if (this.cancelled || ctx.signal?.aborted) {
      p.status = 'cancelled';
      p.note = 'not run: the diagnosis was cancelled';
      this.cancelled = true;
      return undefined;
    }
    ctx.onPhase?.({ ...p }, i + 1, phases.length, budgetMs);
    this.log?.info(`diagnose: phase ${id} with ${budgetMs} ms`);
    const t0 = Date.now();
    const notes: string[] = [];
    let cut = false;
    const note = Object.assign((t: string) => void notes.push(t), {
      cut: (t: string) => {
        cut = true;
        notes.push(t);
      },
    });
    try {
      const value = await body(budgetMs, note);
      if (cut) this.partial = true;
      p.status = cut ? 'cut' : value === 'skip' ? 'skipped' : 'done';
      return value === 'skip' ? undefined : value;
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') {
        p.status = 'cancelled';
        this.cancelled = true;
        this.partial = true;
        notes.push('cancelled while it ran');
        return undefined;
      }
      // The application's load is what every answer stands on: without it there is nothing to answer.
      if (id === 'load') throw err;
      p.status = 'failed';
      this.partial = true;
      notes.push(`failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    } finally {
      p.actualMs = Date.now() - t0;
      this.carry = budgetMs - p.actualMs + passOnMs;
      if (notes.length) p.note = notes.join('; ');
    }
  }

  /** 1. Baseline, EXPLAIN and the application's load at its concurrency, through its pool. */
  private async loadPhase(): Promise<ProfileResult> {
    const load = await this.phase('load', async (budgetMs) => {
      const r = await profile(withOptions(this.prepared, { ...this.demandOn(this.current), durationMs: Math.max(3_000, Math.round(budgetMs * 0.65 - 2_000)) }), this.runContext());
      this.legOverheadMs = Math.min(5_000, Math.max(300, (Date.parse(r.finishedAt) - Date.parse(r.startedAt) - r.load.wallMs) * 0.5));
      return r;
    });
    if (!load) throw new PgloadError('cancelled', 'The diagnosis was cancelled before the application load ran; nothing to answer.');
    this.runs.load = load;
    if (load.status === 'cancelled') {
      this.cancelled = true;
      this.partial = true;
    }
    if (load.load.requests.ok === 0) throw new PgloadError('statement', `No request succeeded under the application's load (${load.errors[0]?.message ?? load.statusDetail ?? load.status}); nothing to answer.`);
    // A leg ends a latency after its planned time (the requests in flight finish): Little's law with the throughput the
    // application's load reached gives the latency at n concurrent queries, never below the statement alone.
    const aloneMs = load.baseline.latency.meanMs;
    const satQps = Math.max(load.load.throughputQps, 1e-3);
    this.latencyAt = (n: number) => 1.2 * Math.max(aloneMs, (n * 1000) / satQps);
    return load;
  }

  /** An A/B within a phase's time: ABBA legs, each side's total load what the time allows after each leg's start-up and drain. */
  private async ab(budgetMs: number, input: ProfileInput, b: AbChange, note: Note, drainMs: number, run: (input: ProfileInput, rounds: number) => Promise<AbResult> = (base, rounds) => abTest({ base, b, rounds }, this.runContext())): Promise<AbResult | 'skip'> {
    // A B B A when the time holds it; else A then B once (a drift during the phase is then not cancelled out).
    const legTime = (legs: number) => (budgetMs - legs * (this.legOverheadMs + drainMs)) / legs;
    const rounds = legTime(2 * AB_ROUNDS) >= MIN_LEG_MS ? AB_ROUNDS : 1;
    const legs = 2 * rounds;
    const legMs = legTime(legs);
    if (legMs < MIN_LEG_MS) {
      const short = 2 * (this.legOverheadMs + drainMs + MIN_LEG_MS) - budgetMs;
      note.cut(
        `the ${secs(budgetMs)} left could not hold 2 legs of at least ${secs(MIN_LEG_MS)} each (each also starts its sessions and waits ${secs(drainMs)} for the requests in flight); about ${secs(short)} more budget would`,
      );
      return 'skip';
    }
    if (rounds === 1) note.cut(`ran A then B once: the ${secs(budgetMs)} left could not hold A B B A`);
    const t0 = Date.now();
    const r = await run({ ...input, durationMs: Math.round(legMs * rounds) }, rounds);
    const measured = r.a.load.wallMs + r.b.load.wallMs;
    this.legOverheadMs = Math.min(5_000, Math.max(300, (Date.now() - t0 - measured) / legs));
    if (r.a.status === 'cancelled' || r.b.status === 'cancelled') {
      this.cancelled = true;
      note('cancelled; the legs so far are kept');
    }
    return r;
  }

  /**
   * 7. The best index suggestion HypoPG checked (the first of the load's ranked hints), built before B's legs and
   * dropped before A's and at the end, at the A/Bs' concurrency. Without one there is nothing to build.
   */
  private async indexPhase(budgetMs: number, closedLoop: ProfileInput, load: ProfileResult, note: Note, abClients: number): Promise<AbResult | 'skip'> {
    const best = load.hints.find((h) => h.id === 'index-suggestion' && h.verified && h.sql);
    const indexes = indexStatements(best?.sql);
    if (!best || !indexes) {
      note('no index suggestion was checked with HypoPG (not installed, or no index would lower the cost), so none was built');
      return 'skip';
    }
    return this.ab(budgetMs, { ...closedLoop, sampleIntervalMs: 0 }, { outside: 'the suggested index' }, note, this.latencyAt(abClients), (base, rounds) =>
      indexTrial({ base, indexes, allowIndexTrials: true, rounds, label: `+ ${indexes.length === 1 ? 'the suggested index' : 'the suggested indexes'}` }, { ...this.runContext(), confirmRemote: this.ctx.confirmRemote }),
    );
  }

  /** 2. The sweep, to where throughput stops growing. */
  private async sweepPhase(): Promise<SweepResult | undefined> {
    const { prepared, ctx } = this;
    const result = await this.phase<SweepResult>('sweep', async (budgetMs, note) => {
      let steps = defaultSteps(sweepCeiling(this.sessionsWanted, this.o.base.serverVcpus));
      // Each step: its start-up, its planned time (up to 1.2 × when extended to count enough requests), its drain.
      // The sweep measures its first step again after the last (the speed check): the budget holds it too.
      const stepTime = (plan: number[]) => {
        const list = [...plan, plan[0]];
        return (budgetMs - list.reduce((n, c) => n + this.legOverheadMs + this.latencyAt(c), 0)) / (STEP_STRETCH * list.length);
      };
      let stepMs = stepTime(steps);
      while (stepMs < MIN_LEG_MS && steps.length > 3) {
        steps = steps.slice(0, -1);
        stepMs = stepTime(steps);
      }
      if (stepMs < MIN_LEG_MS) {
        note.cut(`the ${secs(budgetMs)} left could not hold 3 steps of ${secs(MIN_LEG_MS)}`);
        return 'skip';
      }
      const t0 = Date.now();
      const po = prepared.options;
      const r = await sweep(
        {
          sql: prepared.statement.text,
          connection: po.connection,
          steps,
          maxClients: steps[steps.length - 1],
          stepDurationMs: Math.round(stepMs),
          // A slow step may run a fifth longer to count enough requests; the budget holds no more.
          maxStepMs: Math.round(stepMs * STEP_STRETCH),
          statementTimeoutMs: po.statementTimeoutMs,
          allowWrites: po.allowWrites,
          applicationName: po.applicationName,
          settings: po.settings,
          params: po.params,
          prepared: po.prepared,
          seed: po.seed,
        },
        { signal: ctx.signal, logger: this.log, environment: ctx.environment, onStep: (_i, _of, _clients, p) => p && ctx.onProgress?.(p) },
      );
      const measured = r.steps.reduce((n, s) => n + (s.wallMs ?? 0), 0) + (r.recheck?.wallMs ?? 0);
      this.legOverheadMs = Math.min(5_000, Math.max(300, (Date.now() - t0 - measured) / Math.max(1, r.steps.length + (r.recheck ? 1 : 0))));
      if (r.status === 'cancelled') {
        this.cancelled = true;
        note('cancelled; the steps so far are kept');
      }
      return r;
    });
    this.runs.sweep = result ?? null;
    return result;
  }

  /**
   * 7. The capacity within the objective, as is and with the best measured fix (the budget permitting): the best fix's
   * line then says what it buys in capacity.
   */
  private async capacityPhase(objectiveP95Ms: number, answers: DiagnoseAnswers): Promise<void> {
    const best = answers.best;
    const fix = best?.change && best.answer !== null ? { what: fixWords(best.change), change: best.change } : null;
    const out = await this.phase('capacity', async (budgetMs, note) => {
      const { ctx } = this;
      const r = await capacityPhase(
        { base: this.base, sqlB: this.o.sqlB, app: this.app, pool: this.current, room: this.room, objectiveP95Ms, budgetMs, fix, load: this.runs.load },
        { signal: ctx.signal, logger: this.log, environment: ctx.environment, confirmRemote: ctx.confirmRemote, onStep: (_i, _d, p) => p && ctx.onProgress?.(p) },
      );
      if (r.cappedTo !== null) note(`the search's pool was capped to ${r.cappedTo} sessions, the server's free connections less two`);
      const searches = [r.asIs, ...(r.withFix ? [r.withFix] : [])];
      if (searches.some((c) => c.status === 'cancelled')) {
        this.cancelled = true;
        note('cancelled; the steps so far are kept');
      } else if (searches.some((c) => c.status === 'partial')) note.cut('the budget ended a search before its precision');
      return r;
    });
    if (!out) return;
    this.runs.capacity = { asIs: out.asIs, withFix: out.withFix };
    answers.capacity = capacityPhaseAnswer(out, fix?.what ?? null, this.runs.sweep?.recheck);
    const w = answers.capacity.withFix;
    if (best && w) {
      const kind = out.asIs.demand.kind;
      best.text +=
        out.asIs.capacity === null && w.capacity === null
          ? ` Capacity within p95 ≤ ${formatMs(objectiveP95Ms)}: neither search found a demand that meets it, as it is or with it (see the capacity answer).`
          : ` Capacity within p95 ≤ ${formatMs(objectiveP95Ms)}: ${capacityWords(out.asIs.capacity, kind)} as it is, ${capacityWords(w.capacity, kind)} with it${w.differs ? '' : ' — the searches cannot tell these apart'}.`;
    }
  }

  /** 3. The current pool against the recommended one, same users. */
  private async poolsPhase(rec: SweepResult['recommendation'], currentSessions: number, load: ProfileResult): Promise<void> {
    this.runs.pools =
      (await this.phase('pools', async (budgetMs, note) => {
        if (!rec) {
          note('the sweep gave no pool size to compare with');
          return 'skip';
        }
        if (rec.poolSize >= currentSessions) {
          note(`the recommended pool (${rec.poolSize}) is not smaller than the ${currentSessions} sessions your pool opens for ${this.app.rateQps ? 'its arrivals' : `${this.app.users} users`}: nothing to compare`);
          return 'skip';
        }
        const smaller = this.demandOn({ size: rec.poolSize, maxOverflow: 0 });
        const b = smaller.pool ? { pool: smaller.pool } : { clients: smaller.clients };
        return this.ab(budgetMs, { ...this.base, ...this.demandOn(this.current), explain: false, sampleIntervalMs: 0, baselineRuns: 1 }, { ...b, label: `pool ${rec.poolSize} + 0` }, note, 1.2 * load.load.latency.p95Ms);
      })) ?? null;
  }

  /**
   * 4. Each setting the hints suggest, measured at the load where the hints showed: the application's users through
   * its pool (a spill under concurrency does not show at one or two queries). Returns the candidates.
   */
  private async settingsPhase(load: ProfileResult) {
    const atDemand: ProfileInput = { ...this.base, ...this.demandOn(this.current), sampleIntervalMs: 0, baselineRuns: 1 };
    const candidates = settingCandidates(load).slice(0, MAX_SETTINGS);
    await this.phase('settings', async (budgetMs, note) => {
      if (candidates.length === 0) {
        note('no hint suggested a setting to try');
        return 'skip';
      }
      const t0 = Date.now();
      for (const [i, c] of candidates.entries()) {
        if (this.cancelled) break;
        const share = (budgetMs - (Date.now() - t0)) / (candidates.length - i);
        const r = await this.ab(share, atDemand, { settings: { [c.name]: c.value } }, note, 1.2 * load.load.latency.p95Ms);
        if (r !== 'skip') this.runs.settings.push(r);
      }
      return this.runs.settings.length ? this.runs.settings : 'skip';
    });
    return candidates;
  }
}
