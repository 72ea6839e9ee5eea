/**
 * The profiler: a baseline on one session, then N clients released together by a barrier.
 *
 * Order of a run: validate everything (options, SQL, safety, connection) → control session (server info,
 * free slots) → baseline (one cold, then warm single executions) → open N sessions (connect time measured
 * apart) → optional warm-up → barrier → load → close every session and check none is left on the server.
 *
 * Stopping is explicit: an AbortSignal (the user), `maxErrors` (bail-out), the end of the requests or the
 * duration. In-flight queries are cancelled on the server when the run is stopped early.
 */
import type { Client, QueryArrayConfig } from 'pg';
import type { CapturedPlan, ClientOverhead, ErrorGroup, ExecutionMode, GenericPlanCheck, ProfileResult, RunStatus, ServerCounters, ServerInfo, WaitSampling } from '../../shared/result';
import type { ProgressView } from '../../shared/protocol';
import {
  backendPid,
  clientTimeoutMs,
  closeSession,
  connectionSummary,
  describeTarget,
  openSession,
  resolveConnection,
  type OpenedSession,
  type ResolveEnvironment,
  type ResolvedConnection,
  type SessionSettings,
} from '../connection/connection';
import { asDriverError, codePointToUtf16, errorMessage, locate, PgloadError } from '../errors';
import { ErrorTally, errorIdentity, isSessionFatal } from '../errortally';
import { createHistogram, recordUs, type Histogram } from './histogram';
import { redactingLogger, silentLogger, type Logger } from '../logger';
import { normalizeOptions, type ProfileInput, type ProfileOptions } from '../options';
import { executionModeFor } from '../safety';
import { assertCapacity, cancelBackends, ensureGone, readCapacity, readServerInfo } from '../connection/server';
import { assembleResult, type LoadOutcome } from './assemble';
import { captureExplain } from '../insight/explain';
import { checkGenericPlan, CUSTOM_PLANS_BEFORE_GENERIC } from '../insight/genericplan';
import { parseMemoryKB, type PlanContext } from '../insight/plan';
import { WaitSampler } from '../insight/sampler';
import { counterDelta, snapshotCounters, type CounterSnapshot } from '../insight/serverstats';
import { OverheadMeter } from '../insight/overhead';
import * as os from 'node:os';
import { ensureParser, parseSingleStatement, type SqlStatement } from '../sql';
import { checkParams, makeSources, readCsvColumn, type ParamSpec, type ParamInput, type ValueSource } from './params';
import { oneLine } from '../../shared/text';
import { chooseIntervalMs, Timeline } from './timeline';
import { WireSession, type WireStatement } from '../connection/wire';
import { chooseWorkers, WorkerGroup } from './workers';
import { AppPool } from './appPool';
import { ClosedLoop } from './closedLoop';
import type { LoadClient, LoadDriver, LoadSink, Requests } from './driver';
import { OpenLoop } from './openLoop';
import { WorkerThreads } from './workerThreads';

type CheckedParam = ParamInput & { parsed: ParamSpec };

export type Progress = ProgressView;
export type Phase = Progress['phase'];

export interface RunContext {
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (p: Progress) => void;
  /** Where PG* variables and ~/.pgpass come from (tests pass their own). */
  environment?: ResolveEnvironment;
}

/** Everything that can be checked without a server: throws PgloadError for bad options, SQL or connection settings. */
export async function prepareRun(input: ProfileInput, environment?: ResolveEnvironment): Promise<PreparedRun> {
  const options = normalizeOptions(input);
  await ensureParser();
  const statement = parseSingleStatement(options.sql);
  const mode = executionModeFor(statement, options.allowWrites);
  const params = checkParams(options.params, statement.paramCount);
  const values = new Map<number, Array<string | null>>();
  for (const p of params) {
    if (p.parsed.kind === 'csv') values.set(p.index, readCsvColumn(p.parsed.file, p.parsed.column, `$${p.index}`));
    if (p.parsed.kind === 'sql') checkSamplingQuery(p.parsed.query, `$${p.index}`);
  }
  const connection = resolveConnection(options.connection, environment);
  return { options, statement, mode, connection, params, values };
}

export interface PreparedRun {
  options: ProfileOptions;
  statement: SqlStatement;
  mode: ExecutionMode;
  connection: ResolvedConnection;
  /** The statement's parameter generators, checked, in `$n` order. */
  params: CheckedParam[];
  /** Values read ahead for list-like generators (CSV now, sampling queries once connected). */
  values: Map<number, Array<string | null>>;
}

/** A sampling query must be one read-only SELECT: it runs on the user's database before the load. */
function checkSamplingQuery(query: string, label: string): void {
  let s: SqlStatement;
  try {
    s = parseSingleStatement(query);
  } catch (err) {
    throw new PgloadError('usage', `The sampling query for ${label} is not valid: ${errorMessage(err)}`);
  }
  if (s.kind !== 'query' || s.locksRows || s.paramCount > 0) {
    throw new PgloadError('usage', `The sampling query for ${label} must be a plain SELECT without parameters or row locks (it runs read-only before the load), got: ${oneLine(query, 80)}`);
  }
}

/**
 * The same statement, parameters (files read, once) and connection with other run options — a sweep step, an A/B leg:
 * nothing is parsed or read again. Setting requests or a duration replaces the other.
 */
export function withOptions(p: PreparedRun, changes: Partial<ProfileOptions>): PreparedRun {
  const base: Partial<ProfileOptions> = { ...p.options };
  if ('requests' in changes || 'durationMs' in changes) {
    delete base.requests;
    delete base.durationMs;
  }
  return { ...p, options: normalizeOptions({ ...base, ...changes } as ProfileInput) };
}

const isPrepared = (x: ProfileInput | PreparedRun): x is PreparedRun => 'statement' in x && 'mode' in x && 'options' in x;

/**
 * Runs a profile and returns the result object: from options (checked here) or from a run prepared before
 * (prepareRun, withOptions). Throws PgloadError when nothing could be measured.
 */
export async function profile(input: ProfileInput | PreparedRun, ctx: RunContext = {}): Promise<ProfileResult> {
  const prepared = isPrepared(input) ? input : await prepareRun(input, ctx.environment);
  return new Run(prepared, ctx).execute();
}

class Run {
  private readonly o: ProfileOptions;
  private readonly stmt: SqlStatement;
  private readonly mode: ExecutionMode;
  private readonly conn: ResolvedConnection;
  private readonly log: Logger;
  private readonly signal?: AbortSignal;
  private readonly onProgress?: (p: Progress) => void;
  private readonly sessions = new Set<OpenedSession>();
  private readonly pids = new Set<number>();
  private readonly errors: ErrorTally;
  private readonly sslDecided = { useSsl: true };
  private readonly query: QueryArrayConfig;
  private readonly wireStatement: WireStatement;
  /** Each session's request path, made on its first request. */
  private readonly wires = new WeakMap<OpenedSession, WireSession>();
  private readonly params: CheckedParam[];
  private readonly values: Map<number, Array<string | null>>;
  /** One value source per parameter (empty when the statement has none). */
  private sources: ValueSource[] = [];
  /** The first values drawn, for the result (so a user can see what was sent). */
  private readonly sample: Array<Array<string | null>> = [];
  private control?: OpenedSession;
  private usedSsl = false;
  private server?: ServerInfo;
  /** Extra sessions for EXPLAIN under load and wait sampling, when the server has room for them. */
  private insightSessions = false;
  private readonly insightNotes: string[] = [];
  private planAlone?: CapturedPlan;
  private genericPlan?: GenericPlanCheck;
  private planUnderLoad?: CapturedPlan;
  private waits: WaitSampling | null = null;
  private countersBefore?: CounterSnapshot;

  // Load state, read on the hot path.
  private stop = false;
  private cancelled = false;
  private bailed = false;
  private remaining: number | null = null;
  /** Also ends what waits outside the loops (users queued for a pooled session). */
  private onHalt?: () => void;
  /** Waits (reconnect backoff) to cut short when the run stops. */
  private readonly sleepers: Array<() => void> = [];
  private reconnects = 0;
  /** Spans from a lost session to the next successful request (ms since the barrier). */
  private readonly outages: Array<{ startMs: number; endMs: number | null; lostSessions: number }> = [];
  private loadClients: LoadClient[] = [];
  /** Worker threads running the clients, when the run uses more than one event loop. */
  private group?: WorkerGroup;
  private baselineClient?: LoadClient;
  private t0 = 0n;

  constructor(p: PreparedRun, ctx: RunContext) {
    this.o = p.options;
    this.stmt = p.statement;
    this.mode = p.mode;
    this.conn = p.connection;
    this.log = redactingLogger(ctx.logger ?? silentLogger, this.conn.redact);
    this.signal = ctx.signal;
    this.onProgress = ctx.onProgress;
    this.errors = new ErrorTally(this.conn.redact);
    this.params = p.params;
    this.values = p.values;
    // A named statement is parsed and planned once per session, then only bound and executed (pgbench -M prepared).
    this.query = { text: this.stmt.text, rowMode: 'array', ...(this.o.prepared ? { name: `pgload_${this.stmt.fingerprint}` } : {}) };
    this.wireStatement = { text: this.stmt.text, ...(this.o.prepared ? { name: `pgload_${this.stmt.fingerprint}` } : {}) };
  }

  /** The next request's parameter values (undefined without parameters). */
  private nextValues(): Array<string | null> | undefined {
    if (this.sources.length === 0) return undefined;
    const values = this.sources.map((next) => next());
    if (this.sample.length < 5) this.sample.push(values);
    return values;
  }

  /** The query of one request: the statement with fresh parameter values, when it has parameters. */
  private nextQuery(): QueryArrayConfig {
    const values = this.nextValues();
    return values ? { ...this.query, values } : this.query;
  }

  /** Runs each sampling query (`sql:` generators) once, read-only, and builds the value sources. */
  private async loadParamValues(client: Client): Promise<void> {
    for (const p of this.params) {
      if (p.parsed.kind !== 'sql') continue;
      const label = `$${p.index}`;
      let rows: unknown[][];
      try {
        // Values stay in the server's text form: they are sent back as text parameters.
        const r = await client.query({ text: p.parsed.query, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
        rows = r.rows;
      } catch (err) {
        const { code, message } = errorIdentity(err);
        throw new PgloadError('input', this.conn.redact(`The sampling query for ${label} failed: ${code} ${message}. Fix it and run again; nothing was measured.`), { cause: err });
      }
      if (rows.length === 0) {
        throw new PgloadError('input', `The sampling query for ${label} returned no rows (${oneLine(p.parsed.query, 80)}); it must return at least one value to draw from. Nothing was measured.`);
      }
      if (rows[0].length === 0) throw new PgloadError('input', `The sampling query for ${label} returns no columns; select the values to use as its first column.`);
      const cap = 1_000_000;
      if (rows.length > cap) this.log.warn(`The sampling query for ${label} returned ${rows.length} rows; the first ${cap} are used.`);
      this.values.set(p.index, rows.slice(0, cap).map((r) => (r[0] === null ? null : String(r[0]))));
      this.log.info(`parameter ${label}: ${rows.length} values sampled`);
    }
    this.sources = makeSources(this.params, this.values, this.o.seed);
  }

  private sessionSettings(): SessionSettings {
    return { statementTimeoutMs: Math.round(this.o.statementTimeoutMs), readOnly: this.mode === 'read-only', extra: this.o.settings, applicationName: this.o.applicationName };
  }

  private sessionSetting(name: string): string | undefined {
    const key = Object.keys(this.o.settings).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : this.o.settings[key];
  }

  /** Prepared, with parameters, and EXPLAIN on: the generic plan may differ from the plan for the values. */
  private checksGenericPlan(): boolean {
    return this.o.prepared && this.o.explain && this.stmt.paramCount > 0;
  }

  /** A server on this machine (loopback or a Unix socket): its CPUs and memory are this machine's. */
  private serverIsLocal(): boolean {
    return ['localhost', '127.0.0.1', '::1'].includes(this.conn.host) || this.conn.host.startsWith('/');
  }

  /** The server's memory for the work_mem advice: given, this machine's for a local server, else unknown (estimated there). */
  private serverMemory(): Pick<PlanContext, 'serverMemoryKB' | 'serverMemorySource'> {
    if (this.o.serverMemoryKB !== undefined) return { serverMemoryKB: this.o.serverMemoryKB, serverMemorySource: 'given' };
    if (this.serverIsLocal()) return { serverMemoryKB: os.totalmem() / 1024, serverMemorySource: 'local machine' };
    return { serverMemoryKB: null, serverMemorySource: null };
  }

  private progress(p: Omit<Progress, 'message'> & { message?: string }): void {
    if (!this.onProgress) return;
    try {
      this.onProgress({ message: '', ...p });
    } catch (err) {
      this.log.warn(`progress listener failed: ${errorMessage(err)}`);
    }
  }

  private checkAborted(): void {
    if (this.signal?.aborted) throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured.');
  }

  async execute(): Promise<ProfileResult> {
    const startedAt = new Date();
    const o = this.o;
    for (const w of this.conn.warnings) this.log.warn(w);
    this.log.info(
      `run: ${describeTarget(this.conn)} sslmode=${this.conn.sslmode} clients=${o.clients} ` +
        `${o.requests !== undefined ? `requests=${o.requests}` : `duration=${o.durationMs}ms`} warmup=${o.warmupPerClient} ` +
        `baselineRuns=${o.baselineRuns} statementTimeout=${o.statementTimeoutMs}ms mode=${this.mode} sql=${oneLine(this.stmt.text, 200)}`,
    );
    this.checkAborted();
    const onAbort = () => void this.abort();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.progress({ phase: 'connecting', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `connecting to ${describeTarget(this.conn)}` });
      this.control = await this.open({ statementTimeoutMs: 15_000, readOnly: true });
      this.usedSsl = this.control.ssl;
      const server = await readServerInfo(this.control.client);
      this.server = server;
      this.log.info(`server: PostgreSQL ${server.version}; ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      const capacity = await readCapacity(this.control.client);
      assertCapacity(capacity, o.clients, `${o.clients} clients`);
      await this.loadParamValues(this.control.client);
      const wantInsight = o.explain || o.sampleIntervalMs > 0;
      this.insightSessions = wantInsight && capacity.free >= o.clients + 2;
      if (wantInsight && !this.insightSessions) {
        this.insightNotes.push(`No plan under load and no wait sampling: they need 2 more connections than the ${o.clients} clients, and the server has ${capacity.free} free.`);
      }
      this.checkAborted();

      const baseline = await this.runBaseline();
      this.checkAborted();

      const load = await this.runLoad(baseline.hist.mean / 1000);
      const finishedAt = new Date();
      // The clients' sessions are closed (and gone) before the counters are read: a backend flushes its
      // statistics when it exits.
      const leftover = await this.closeWorkers();
      const counters = await this.countersAfter(server.versionNum, load.ok + load.failed);
      await this.cleanup();
      const status: RunStatus = this.cancelled ? 'cancelled' : this.bailed ? 'bailed-out' : load.lostAll ? 'clients-lost' : 'completed';
      const result = assembleResult({
        options: o,
        statement: this.stmt,
        mode: this.mode,
        connection: connectionSummary(this.conn, this.usedSsl),
        server,
        startedAt,
        finishedAt,
        status,
        statusDetail: status === 'completed' ? undefined : this.statusDetail(status),
        params: this.params.map((p, i) => ({ index: p.index, spec: p.spec, sample: this.sample.map((v) => v[i]) })),
        baseline,
        load,
        outages: this.outages,
        reconnects: this.reconnects,
        errors: this.errors.list(),
        plans: { alone: this.planAlone, underLoad: this.planUnderLoad, generic: this.genericPlan },
        waits: this.waits,
        counters: { ...counters, notes: [...this.insightNotes, ...counters.notes] },
        planContext: {
          blockSize: Number(server.settings.block_size) || 8192,
          // What the run's sessions had: the settings given for the run, else the server's.
          workMemKB: parseMemoryKB(this.sessionSetting('work_mem') ?? server.settings.work_mem) ?? 4096,
          hashMemMultiplier: Number(this.sessionSetting('hash_mem_multiplier') ?? server.settings.hash_mem_multiplier) || 1,
          sharedBuffersKB: parseMemoryKB(server.settings.shared_buffers) ?? 131072,
          clients: o.clients,
          ...this.serverMemory(),
        },
        leftover,
      });
      const loadStats = result.load.latency;
      this.log.info(
        `done: status=${status} ok=${load.ok} failed=${load.failed} qps=${result.load.throughputQps.toFixed(1)} ` +
          `p50=${loadStats.p50Ms.toFixed(2)}ms p95=${loadStats.p95Ms.toFixed(2)}ms leftoverSessions=${leftover}`,
      );
      return result;
    } catch (err) {
      await this.cleanup().catch((e) => this.log.warn(`cleanup after failure: ${errorMessage(e)}`));
      if (err instanceof PgloadError) {
        this.log.error(err.message);
        throw err;
      }
      if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured.', { cause: err });
      const e = asDriverError(err);
      this.log.error(`run failed: ${e.code ?? ''} ${errorMessage(err)}`);
      throw new PgloadError('connection', this.conn.redact(`The run failed: ${errorMessage(err)}`), { code: e.code, cause: err });
    } finally {
      this.signal?.removeEventListener('abort', onAbort);
    }
  }

  private statusDetail(status: RunStatus): string | undefined {
    const top = this.errors.list()[0];
    const topText = top ? `; most frequent: ${top.code} ${top.message} (${top.count}×)` : '';
    switch (status) {
      case 'cancelled':
        return 'Cancelled by the user; the figures cover the requests that finished before.';
      case 'bailed-out':
        return `Stopped after ${this.o.maxErrors} failed requests (max errors)${topText}`;
      case 'clients-lost':
        return `Every client lost its session before the planned requests were done${topText}`;
      default:
        return undefined;
    }
  }

  private async open(settings: SessionSettings): Promise<OpenedSession> {
    // Every session of the run carries its application name (control, sampler and EXPLAIN sessions too).
    const s = await openSession(this.conn, { applicationName: this.o.applicationName, ...settings }, this.sslDecided);
    this.sessions.add(s);
    const pid = backendPid(s.client);
    if (pid) this.pids.add(pid);
    return s;
  }

  private pidOf(s: OpenedSession): number {
    return backendPid(s.client);
  }

  /** Event loops for the clients: worker threads only for plain closed-loop clients (see ProfileOptions.workers). */
  private loopCount(): number {
    const o = this.o;
    const wanted = chooseWorkers(o.workers, o.clients, os.availableParallelism?.() ?? os.cpus().length);
    if (wanted <= 1) return 1;
    const why = o.pool ? 'the application-pool emulation' : o.rate ? 'a fixed arrival rate' : o.reconnect ? 'reconnecting clients' : this.mode === 'rolled-back' ? 'writes in rolled-back transactions' : undefined;
    if (!why) return wanted;
    if (o.workers !== 'auto') this.insightNotes.push(`${o.workers} event loops were asked for, and one was used: ${why} runs on one.`);
    return 1;
  }

  /**
   * One request: the statement (timed) — inside BEGIN … ROLLBACK when the mode says so (through node-postgres),
   * otherwise on the session's own request path (./wire). Returns µs, or throws.
   */
  private execOnce(session: OpenedSession): Promise<number> {
    if (this.mode === 'rolled-back') return this.execRolledBack(session.client);
    return this.wireOf(session).request(this.nextValues());
  }

  private async execRolledBack(client: Client): Promise<number> {
    const query = this.nextQuery();
    await client.query('BEGIN');
    try {
      const t = process.hrtime.bigint();
      await client.query(query);
      return Number(process.hrtime.bigint() - t) / 1000;
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  }

  /**
   * Requests back to back on one session until `after` says stop. On the wire path each next request is
   * written while the previous answer is handled (no promise per request); rolled-back writes go through
   * node-postgres one at a time.
   */
  private backToBack(session: OpenedSession, after: (us: number, failure: Error | undefined) => boolean): Promise<void> {
    if (this.mode !== 'rolled-back') return this.wireOf(session).loop(() => this.nextValues(), after);
    return (async () => {
      for (;;) {
        let us = 0;
        let failure: Error | undefined;
        try {
          us = await this.execRolledBack(session.client);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
        }
        if (!after(us, failure)) return;
      }
    })();
  }

  private wireOf(session: OpenedSession): WireSession {
    let wire = this.wires.get(session);
    if (!wire) {
      wire = new WireSession(session.client, this.wireStatement, clientTimeoutMs(this.o.statementTimeoutMs));
      this.wires.set(session, wire);
    }
    return wire;
  }

  /** The session's node-postgres client, with its socket given back by the request path if it had it. */
  private pgClient(session: OpenedSession): Client {
    this.wires.get(session)?.detach();
    this.wires.delete(session);
    return session.client;
  }

  private async runBaseline(): Promise<{ coldMs: number; hist: Histogram }> {
    const o = this.o;
    // A prepared statement with parameters may switch to its generic plan after five executions: the baseline runs
    // past that point, so the session shows which plan it ends up with.
    const warmRuns = this.checksGenericPlan() ? Math.max(o.baselineRuns, CUSTOM_PLANS_BEFORE_GENERIC) : o.baselineRuns;
    this.progress({ phase: 'baseline', done: 0, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `baseline: 1 cold + ${warmRuns} warm executions on one session` });
    const session = await this.open(this.sessionSettings());
    const c: LoadClient = { session, pid: this.pidOf(session), busy: false, alive: true };
    this.baselineClient = c;
    const hist = createHistogram();
    let coldMs = 0;
    try {
      for (let i = 0; i <= warmRuns; i++) {
        if (this.stop) break;
        c.busy = true;
        let us: number;
        try {
          us = await this.execOnce(session);
        } catch (err) {
          if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled during the baseline; nothing was measured under load.');
          throw this.statementFailed(err, i === 0 ? 'its first execution' : `warm execution ${i}`);
        } finally {
          c.busy = false;
        }
        if (i === 0) coldMs = us / 1000;
        else recordUs(hist, us);
      }
      if (o.explain && !this.stop) {
        this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'EXPLAIN ANALYZE alone' });
        c.busy = true;
        this.planAlone = await captureExplain(this.pgClient(session), this.stmt.text, this.server!.versionNum, 'alone', this.nextQuery().values as Array<string | null> | undefined);
        if (this.checksGenericPlan() && !this.stop) {
          this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'generic plan of the prepared statement' });
          this.genericPlan = await checkGenericPlan(this.pgClient(session), this.stmt.text, this.server!.versionNum, this.wireStatement.name!, this.nextValues() ?? []);
        }
        c.busy = false;
        if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled during the baseline; nothing was measured under load.');
      }
    } finally {
      this.baselineClient = undefined;
      await closeSession(session);
      this.sessions.delete(session);
    }
    this.log.info(`baseline: cold ${coldMs.toFixed(2)} ms, warm mean ${(hist.mean / 1000).toFixed(2)} ms over ${hist.totalCount} runs`);
    return { coldMs, hist };
  }

  private statementFailed(err: unknown, when: string): PgloadError {
    const e = asDriverError(err);
    const { code, message } = errorIdentity(err);
    let location;
    const pos = Number(e.position);
    if (Number.isInteger(pos) && pos > 0) {
      // The server counts characters (1-based) in the text we sent; map back into the user's SQL.
      const inStatement = codePointToUtf16(this.stmt.text, pos - 1);
      location = locate(this.o.sql, this.stmt.start + inStatement);
    }
    const at = location ? ` (line ${location.line}, column ${location.column})` : '';
    const hint = code === '25006' ? ' The statement writes (e.g. nextval() or a function that changes data); pgload runs queries read-only unless writes are allowed (--allow-writes: every request then runs in a transaction that is rolled back — but a sequence advanced by nextval() stays advanced, rollback does not undo it).' : code === '57014' ? ` It ran longer than the statement timeout (${this.o.statementTimeoutMs} ms); raise it or make the query faster.` : '';
    return new PgloadError('statement', this.conn.redact(`The statement failed on ${when}, before any load: ${code} ${message}${at}.${hint}`), {
      code,
      location,
      cause: err,
    });
  }

  private async runLoad(baselineMeanMs: number): Promise<LoadOutcome> {
    const o = this.o;
    const started = performance.now();
    this.progress({ phase: 'connecting', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `opening ${plural(o.clients, 'session')}` });
    const loops = this.loopCount();
    let shared: Int32Array | undefined;
    let connectTimes: number[];
    if (loops > 1) {
      const remaining = new SharedArrayBuffer(4);
      shared = new Int32Array(remaining);
      shared[0] = o.requests ?? -1;
      const connection: Partial<ResolvedConnection> = { ...this.conn };
      delete connection.redact;
      const group = new WorkerGroup(
        {
          connection: connection as Omit<ResolvedConnection, 'redact'>,
          settings: this.sessionSettings(),
          useSsl: this.sslDecided.useSsl,
          statement: this.wireStatement,
          clientTimeoutMs: clientTimeoutMs(o.statementTimeoutMs),
          warmupPerClient: o.warmupPerClient,
          thresholdUs: o.thresholdMs * 1000,
          params: this.params,
          values: this.values,
          remaining,
          batchMs: 50,
        },
        o.clients,
        loops,
        o.seed,
      );
      this.group = group;
      this.onHalt = () => group.stop();
      try {
        await group.open();
      } catch (err) {
        if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled while opening sessions; nothing was measured under load.');
        const pe = err instanceof PgloadError ? err : new PgloadError('connection', errorMessage(err));
        const failed = (err as { failedClients?: number }).failedClients;
        throw new PgloadError(pe.kind, `${failed ?? 'Some'} of ${o.clients} clients could not open a session, so the load did not start: ${pe.message}`, { code: pe.code });
      }
      for (const pid of group.pids) this.pids.add(pid);
      connectTimes = [...group.connectMs];
      for (const f of group.warmupFailures) this.errors.add(Object.assign(new Error(f.message), { code: f.code }), 'warmup', -1);
      this.log.info(`load: ${o.clients} sessions open on ${loops} event loops (worker threads) in ${(performance.now() - started).toFixed(0)} ms`);
    } else {
      connectTimes = await this.openClients();
      this.log.info(`load: ${o.clients} sessions open in ${(performance.now() - started).toFixed(0)} ms`);
      if (o.warmupPerClient > 0) {
        this.progress({ phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: this.errors.total, message: `warm-up: ${plural(o.warmupPerClient, 'request')} per client` });
        await Promise.all(this.loadClients.map((c) => this.warmup(c)));
      }
    }
    if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured under load.');

    // Insight sessions are opened before the barrier too, so that nothing connects while the load runs.
    let explainSession: OpenedSession | undefined;
    let samplerSession: OpenedSession | undefined;
    if (this.insightSessions) {
      try {
        if (o.explain) explainSession = await this.open(this.sessionSettings());
        if (o.sampleIntervalMs > 0) samplerSession = await this.open({ statementTimeoutMs: 5000, readOnly: true });
      } catch (err) {
        this.insightNotes.push(`The extra sessions for EXPLAIN under load and wait sampling could not be opened (${errorMessage(err)}); the run goes on without them.`);
      }
    }
    this.countersBefore = await snapshotCounters(this.control!.client, this.server!.versionNum);

    const hist = createHistogram();
    // Under load a request is slower than alone; twice the baseline is a fair first guess for the interval.
    const expectedMs = o.durationMs ?? (o.requests! / o.clients) * Math.max(0.05, baselineMeanMs) * 2;
    const timeline = new Timeline(o.intervalMs > 0 ? o.intervalMs : chooseIntervalMs(expectedMs));
    const counters = { ok: 0, failed: 0, over: 0 };
    this.remaining = o.requests ?? null;
    const thresholdUs = o.thresholdMs * 1000;
    const maxErrors = o.maxErrors;

    const sinceStartMs = () => Number(process.hrtime.bigint() - this.t0) / 1e6;
    const loadPids = this.group ? [...this.group.pids] : this.loadClients.map((c) => c.pid);
    const sampler = samplerSession ? new WaitSampler(samplerSession.client, loadPids, o.sampleIntervalMs, sinceStartMs, Math.max(1000, timeline.intervalMs)) : undefined;
    if (sampler) await sampler.calibrate().catch(() => undefined);

    // The barrier: every session is open (and warm); all clients start on the same tick.
    const meter = new OverheadMeter();
    this.t0 = process.hrtime.bigint();
    const t0Epoch = performance.timeOrigin + performance.now();
    let ticker: NodeJS.Timeout | undefined;
    // The live rate is measured over windows of at least a second: slow queries complete too rarely
    // for a per-tick rate to mean anything.
    const rate = { fromMs: 0, fromOk: 0, qps: 0 };
    const scheduleTicker = () => {
      ticker = setInterval(() => {
        const now = sinceStartMs();
        if (now - rate.fromMs >= 1000) {
          rate.qps = ((counters.ok - rate.fromOk) * 1000) / (now - rate.fromMs);
          rate.fromMs = now;
          rate.fromOk = counters.ok;
        }
        if (timeline.tick(now)) {
          clearInterval(ticker);
          scheduleTicker();
        }
        maybeExplain();
        this.progress({
          phase: 'load',
          done: counters.ok + counters.failed,
          total: o.requests ?? null,
          elapsedMs: now,
          plannedMs: o.durationMs ?? null,
          qps: rate.qps,
          p95Ms: hist.totalCount > 0 ? hist.getValueAtPercentile(95) / 1000 : null,
          errors: counters.failed,
        });
      }, timeline.intervalMs);
    };
    sampler?.start();
    // The plan under load is taken once the load is well under way (40 % of the planned requests or time).
    let explainUnderLoad: Promise<CapturedPlan> | undefined;
    const maybeExplain = () => {
      if (explainUnderLoad || !explainSession || this.stop) return;
      const done = counters.ok + counters.failed;
      const progress = o.requests !== undefined ? done / o.requests : sinceStartMs() / o.durationMs!;
      if (progress < 0.4) return;
      this.log.info(`EXPLAIN ANALYZE under load at ${(progress * 100).toFixed(0)} % of the run`);
      explainUnderLoad = captureExplain(explainSession.client, this.stmt.text, this.server!.versionNum, 'under-load', this.nextQuery().values as Array<string | null> | undefined);
    };
    /** Counts one failed request; returns true when the client's loop must end (our own cancel, or a lost session). */
    const onFailure = (failure: unknown, c: LoadClient | undefined, atMs = sinceStartMs()): boolean => {
      // Queries we cancelled ourselves (user stop, bail-out) are not the database's failures.
      if (this.stop && (this.cancelled || this.bailed) && errorIdentity(failure).code === '57014') return true;
      counters.failed++;
      timeline.error();
      this.errors.add(failure, 'load', atMs);
      if (maxErrors > 0 && counters.failed >= maxErrors && !this.stop) {
        this.bailed = true;
        this.halt();
        this.log.warn(`bail-out: ${counters.failed} failed requests (max errors ${maxErrors})`);
        void this.cancelInFlight();
      }
      if (c && (c.session.broken || isSessionFatal(failure))) {
        c.alive = false;
        this.log.warn(`client pid ${c.pid} lost its session: ${errorMessage(failure)}`);
        return true;
      }
      return false;
    };
    const sink: LoadSink = {
      sinceStartMs,
      stopping: () => this.stop,
      claim: () => {
        if (this.remaining === null) return true;
        if (this.remaining <= 0) return false;
        this.remaining--;
        return true;
      },
      succeeded: (us) => {
        recordUs(hist, us);
        timeline.record(us < 1 ? 1 : Math.round(us));
        counters.ok++;
        if (us > thresholdUs) counters.over++;
      },
      recorded: (h, ok, over) => {
        if (h) {
          hist.add(h);
          timeline.addHistogram(h);
        }
        counters.ok += ok;
        counters.over += over;
      },
      failed: onFailure,
      sessionsLost: (n, atMs) => {
        const open = this.outages[this.outages.length - 1];
        if (open && open.endMs === null) open.lostSessions += n;
        else this.outages.push({ startMs: atMs, endMs: null, lostSessions: n });
      },
      // The outage ends with the first request served on a session opened after it began: requests that were
      // already running when the server went down may still complete, and prove nothing.
      served: (c) => {
        const open = this.outages[this.outages.length - 1];
        if (open && open.endMs === null && c.reopenedAtMs !== undefined && c.reopenedAtMs >= open.startMs) open.endMs = sinceStartMs();
      },
    };
    const requests: Requests = { once: (s) => this.execOnce(s), backToBack: (s, after) => this.backToBack(s, after), reconnect: (c) => this.reconnect(c) };
    const driver: LoadDriver = this.group
      ? new WorkerThreads(this.group, t0Epoch)
      : o.rate
        ? new OpenLoop(this.loadClients, o.rate, requests)
        : o.pool
          ? new AppPool(this.loadClients, o.pool, requests)
          : new ClosedLoop(this.loadClients, requests, o.reconnect);
    this.onHalt = () => driver.stop();

    scheduleTicker();
    // At the end of the duration a closed loop stops; an open loop stops scheduling and serves its backlog.
    const durationTimer = o.durationMs !== undefined ? setTimeout(() => (driver.atDurationEnd === 'drain' ? driver.endDuration?.() : this.halt()), o.durationMs) : undefined;
    let wallMs: number;
    let client: ClientOverhead;
    try {
      await driver.run(sink);
    } finally {
      wallMs = sinceStartMs();
      const latencyNow = hist.totalCount > 0 ? { p50Ms: hist.getValueAtPercentile(50) / 1000, p99Ms: hist.getValueAtPercentile(99) / 1000 } : { p50Ms: 0, p99Ms: 0 };
      const threads = driver instanceof WorkerThreads && driver.delay ? { loops, delay: driver.delay } : undefined;
      client = meter.finish(counters.ok + counters.failed, latencyNow, threads);
      // Every timer and the sampler end here, whether the load finished, failed or was cancelled.
      clearInterval(ticker);
      clearTimeout(durationTimer);
      this.halt();
      await sampler?.stop();
    }
    if (sampler) {
      const local = this.serverIsLocal();
      const vcpus = o.serverVcpus ?? (local ? os.cpus().length : null);
      this.waits = sampler.result(wallMs, vcpus, o.serverVcpus !== undefined ? 'given' : local ? 'local machine' : null);
    }
    if (explainSession) {
      if (explainUnderLoad) {
        // A plan still running when the load ended is stopped: it would no longer be "under load".
        const timer = setTimeout(() => void cancelBackends(this.control!.client, [this.pidOf(explainSession!)]).catch(() => undefined), 2000);
        this.planUnderLoad = await explainUnderLoad;
        clearTimeout(timer);
      } else {
        this.planUnderLoad = { when: 'under-load', options: [], planningMs: null, executionMs: null, json: null, unavailable: this.cancelled ? 'The run was cancelled before the plan under load was taken.' : 'The load ended before the plan under load was taken (the run was too short); run longer to get it.' };
      }
    }
    const points = timeline.finish(wallMs);
    this.progress({ phase: 'closing', done: counters.ok + counters.failed, total: o.requests ?? null, elapsedMs: wallMs, plannedMs: o.durationMs ?? null, qps: 0, p95Ms: hist.totalCount > 0 ? hist.getValueAtPercentile(95) / 1000 : null, errors: counters.failed, message: 'closing sessions' });

    connectTimes.sort((a, b) => a - b);
    const unclaimed = shared ? Atomics.load(shared, 0) > 0 : this.remaining !== null && this.remaining > 0;
    const allLost = driver instanceof WorkerThreads ? driver.lost >= o.clients : this.loadClients.every((c) => !c.alive);
    const lostAll = allLost && (o.requests === undefined ? !this.cancelled && !this.bailed : unclaimed);
    return {
      hist,
      ok: counters.ok,
      failed: counters.failed,
      over: counters.over,
      wallMs,
      connect: { p50Ms: connectTimes[Math.floor((connectTimes.length - 1) / 2)] ?? 0, maxMs: connectTimes[connectTimes.length - 1] ?? 0 },
      timeline: points,
      lostAll,
      client,
      pool: driver instanceof AppPool ? driver.result(this.errors.list().filter((e) => e.code === 'POOL_TIMEOUT').reduce((a, e) => a + e.count, 0)) : undefined,
      openLoop: driver instanceof OpenLoop ? driver.result(counters.ok, wallMs) : undefined,
    };
  }

  /** Opens every client's session before timing starts; any failure ends the run with the reasons grouped. */
  private async openClients(): Promise<number[]> {
    const o = this.o;
    const settings = this.sessionSettings();
    const times: number[] = [];
    const failures = new Map<string, number>();
    let firstFailure: PgloadError | undefined;
    let next = 0;
    const worker = async () => {
      while (next < o.clients && !this.cancelled) {
        next++;
        try {
          const s = await this.open(settings);
          times.push(s.connectMs);
          this.loadClients.push({ session: s, pid: this.pidOf(s), busy: false, alive: true });
        } catch (err) {
          const pe = err instanceof PgloadError ? err : new PgloadError('connection', errorMessage(err));
          firstFailure ??= pe;
          const key = pe.message;
          failures.set(key, (failures.get(key) ?? 0) + 1);
        }
      }
    };
    // Open at most 16 at a time: a burst of hundreds of forks at once is a storm of its own.
    await Promise.all(Array.from({ length: Math.min(16, o.clients) }, worker));
    if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled while opening sessions; nothing was measured under load.');
    if (failures.size > 0) {
      const failed = [...failures.values()].reduce((a, b) => a + b, 0);
      const reasons = [...failures.entries()].map(([m, n]) => `${n}× ${m}`).join('; ');
      throw new PgloadError(firstFailure!.kind, `${failed} of ${o.clients} clients could not open a session, so the load did not start: ${reasons}`, {
        code: firstFailure!.code,
      });
    }
    return times;
  }

  private async warmup(c: LoadClient): Promise<void> {
    for (let i = 0; i < this.o.warmupPerClient && !this.stop; i++) {
      c.busy = true;
      try {
        await this.execOnce(c.session);
      } catch (err) {
        if (this.cancelled) return;
        this.errors.add(err, 'warmup', -1);
        if (c.session.broken || isSessionFatal(err)) {
          c.alive = false;
          return;
        }
      } finally {
        c.busy = false;
      }
    }
  }

  /** No new requests from now on. */
  private halt(): void {
    this.stop = true;
    this.onHalt?.();
    for (const wake of this.sleepers.splice(0)) wake();
  }

  /** Waits `ms`, or less when the run stops meanwhile. */
  private pause(ms: number): Promise<void> {
    if (this.stop) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.sleepers.push(done);
    });
  }

  /**
   * A client whose session was lost (server restart, terminated backend) opens a new one, retrying with
   * backoff (100 ms doubling to 2 s) until it succeeds or the run ends. Only with `reconnect` allowed.
   */
  private async reconnect(c: LoadClient): Promise<boolean> {
    this.sessions.delete(c.session);
    await closeSession(c.session, 500);
    let delay = 100;
    while (!this.stop) {
      try {
        const s = await this.open(this.sessionSettings());
        if (this.stop) {
          await closeSession(s);
          this.sessions.delete(s);
          return false;
        }
        c.session = s;
        c.pid = this.pidOf(s);
        c.alive = true;
        c.reopenedAtMs = Number(process.hrtime.bigint() - this.t0) / 1e6;
        this.reconnects++;
        this.log.info(`client reconnected as pid ${c.pid}`);
        return true;
      } catch (err) {
        this.log.debug(`reconnect failed (retrying in ${delay} ms): ${errorMessage(err)}`);
        await this.pause(delay);
        delay = Math.min(2000, delay * 2);
      }
    }
    return false;
  }

  /** The user's stop: no new requests, in-flight queries cancelled on the server. */
  private async abort(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.halt();
    this.log.info('cancel requested: stopping new requests and cancelling running queries');
    await this.cancelInFlight();
  }

  private async cancelInFlight(): Promise<void> {
    // A worker thread's sessions are all cancelled: which of them is mid-request is known only there, and a
    // cancel that reaches an idle session does nothing.
    const busy = [...this.loadClients, ...(this.baselineClient ? [this.baselineClient] : [])].filter((c) => c.busy && c.pid).map((c) => c.pid).concat(this.group?.pids ?? []);
    if (busy.length === 0 || !this.control || this.control.broken) return;
    try {
      await cancelBackends(this.control.client, busy);
    } catch (err) {
      this.log.warn(`could not cancel running queries: ${errorMessage(err)}`);
    }
  }

  /** Cancels what still runs and closes every session but the control session. */
  private async closeSessionsButControl(): Promise<void> {
    const sessions = [...this.sessions].filter((s) => s !== this.control);
    // Queries still running (e.g. after a failure elsewhere) are cancelled first so the backends can leave.
    await this.cancelInFlight();
    if (this.group) {
      // Worker threads close their own sessions; one that does not end in time is terminated (its sockets with it).
      const group = this.group;
      group.stop();
      await bounded(group.finished(), AFTER_LOAD_MS, 'ending the load workers').catch(() => group.terminate());
    }
    await Promise.all(sessions.map((s) => closeSession(s)));
    for (const s of sessions) this.sessions.delete(s);
  }

  /** The backends of this run's sessions, but the control session's. */
  private workerPids(): number[] {
    const controlPid = this.control ? this.pidOf(this.control) : -1;
    return [...this.pids].filter((p) => p !== controlPid);
  }

  /** Closes every session but the control session, and waits (on the server) until they are gone. */
  private async closeWorkers(): Promise<number> {
    await this.closeSessionsButControl();
    if (!this.control || this.control.broken) return 0;
    try {
      return await bounded(ensureGone(this.control.client, this.workerPids(), this.o.applicationName), AFTER_LOAD_MS, 'checking that the sessions closed');
    } catch (err) {
      if (err instanceof SilentServer) await this.dropControl();
      this.log.warn(`could not verify that all sessions closed: ${errorMessage(err)}`);
      return 0;
    }
  }

  /** The server's counters over the load; a control session lost meanwhile (a restart) is opened again. */
  private async countersAfter(versionNum: number, requests: number): Promise<ServerCounters> {
    if (!this.countersBefore) return { database: null, statement: null, notes: ['The server counters were not read.'] };
    try {
      if (!this.control || this.control.broken) {
        if (this.control) this.sessions.delete(this.control);
        this.control = await bounded(this.open({ statementTimeoutMs: 15_000, readOnly: true }), AFTER_LOAD_MS, 'opening a session for the counters');
      }
      const delta = counterDelta(this.countersBefore, await bounded(snapshotCounters(this.control.client, versionNum), AFTER_LOAD_MS, 'reading the counters'), requests);
      if (this.outages.length) delta.notes.push('Sessions were lost during the run (e.g. a server restart): the counters span it, and a crash may have reset them.');
      return delta;
    } catch (err) {
      if (err instanceof SilentServer) await this.dropControl();
      return { database: null, statement: null, notes: [`The server counters were not read after the load: ${errorMessage(err)}`] };
    }
  }

  /** A control session that stopped answering is closed (its socket destroyed), never queried again. */
  private async dropControl(): Promise<void> {
    if (!this.control) return;
    const c = this.control;
    this.control = undefined;
    this.sessions.delete(c);
    await closeSession(c, 200);
  }

  /** Closes every session; terminates any of ours still on the server; returns how many remain (0 expected). */
  private async cleanup(): Promise<number> {
    await this.closeSessionsButControl();
    const ours = this.workerPids();
    let leftover = 0;
    let control = this.control && !this.control.broken ? this.control : undefined;
    let temporary = false;
    try {
      if (!control && ours.length > 0) {
        // The control session is gone (e.g. the server restarted): a fresh one checks what is left.
        const opening = openSession(this.conn, { statementTimeoutMs: 15_000, readOnly: true, applicationName: this.o.applicationName }, this.sslDecided);
        control = await bounded(opening, AFTER_LOAD_MS, 'opening a session to check').catch(() => {
          // Opened after all (too late): closed, not left behind.
          void opening.then((s) => closeSession(s), () => undefined);
          return undefined;
        });
        temporary = control !== undefined;
      }
      if (control) leftover = await bounded(ensureGone(control.client, ours, this.o.applicationName), AFTER_LOAD_MS, 'checking that the sessions closed');
    } catch (err) {
      this.log.warn(`could not verify that all sessions closed: ${errorMessage(err)}`);
    } finally {
      if (this.control) {
        await closeSession(this.control);
        this.sessions.delete(this.control);
        this.control = undefined;
      }
      if (temporary && control) await closeSession(control);
    }
    if (leftover > 0) this.log.warn(`${leftover} pgload sessions were still on the server after the run`);
    return leftover;
  }
}

export type { ErrorGroup };

/** Each step after the load (checks, counters) gets this long: a server or network that went silent cannot hold the run. */
const AFTER_LOAD_MS = 5000;

class SilentServer extends Error {}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SilentServer(`no answer from the server within ${ms / 1000} s while ${what}`)), ms);
  });
  // The losing promise's later rejection is handled: it must not surface as an unhandled rejection.
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
