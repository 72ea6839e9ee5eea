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
import type { CapturedPlan, ClientOverhead, ErrorGroup, ProfileResult, RunStatus } from '../../shared/result';
import {
  clientTimeoutMs,
  closeSession,
  connectionSummary,
  describeTarget,
  markInternal,
  type OpenedSession,
  type ResolvedConnection,
  transactionWrap,
} from '../connection/connection';
import { CLIENT_TIMEOUT, measureEnvelopeUs } from '../connection/wire';
import { asDriverError, codePointToUtf16, errorMessage, locate, PgloadError } from '../errors';
import { errorIdentity, isSessionFatal } from '../errortally';
import { createHistogram, recordUs, type Histogram } from './histogram';
import { type ProfileInput } from '../options';
import { assertCapacity, cancelBackends, readCapacity, readServerInfo, superuserNote } from '../connection/server';
import { assembleResult, type LoadOutcome } from './assemble';
import { captureExplain } from '../insight/explain';
import { checkEscapes } from '../escapes';
import { checkGenericPlan, CUSTOM_PLANS_BEFORE_GENERIC } from '../insight/genericplan';
import { parseMemoryKB } from '../insight/plan';
import { WaitSampler } from '../insight/sampler';
import { checkWithHypopg, indexCandidates, withoutExistingIndexes } from '../insight/indexadvice';
import { snapshotCounters } from '../insight/serverstats';
import { OverheadMeter } from '../insight/overhead';
import * as os from 'node:os';
import { oneLine } from '../../shared/text';
import { chooseIntervalMs, Timeline } from './timeline';
import { WorkerGroup } from './workers';
import type { LoadClient, LoadSink, Requests } from './driver';
import { loadModeOf, type ModeDriver } from './modes';
import { WorkerThreads } from './workerThreads';
import { isPrepared, prepareRun, type PreparedRun } from './prepare';
import { plural, type RunContext } from './runState';
import { AFTER_LOAD_MS, bounded, RunEnd } from './runEnd';
import { scriptFigures } from './script';
export { prepareRun, withOptions, type PreparedRun } from './prepare';
export type { Progress, Phase, RunContext } from './runState';
export type { ErrorGroup };

/**
 * Runs a profile and returns the result object: from options (checked here) or from a run prepared before
 * (prepareRun, withOptions). Throws PgloadError when nothing could be measured.
 */
export async function profile(input: ProfileInput | PreparedRun, ctx: RunContext = {}): Promise<ProfileResult> {
  const prepared = isPrepared(input) ? input : await prepareRun(input, ctx.environment);
  return new Run(prepared, ctx).execute();
}

class Run extends RunEnd {
  /** A transaction's or a mix's plans alone, per script and statement. */
  private readonly statementPlans: CapturedPlan[][] = [];

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
      this.control = await this.openControl();
      this.usedSsl = this.control.ssl;
      const server = await readServerInfo(this.control.client);
      this.server = server;
      // What the statements reach in the catalog: nothing may act outside the transaction a ROLLBACK ends.
      await checkEscapes(this.control.client, [...(this.scripts ? this.scripts.flatMap((sc) => sc.statements.map((st) => st.text)) : [this.stmt.text]), ...this.samplingQueries()]);
      if (server.role?.superuser) this.insightNotes.push(superuserNote(server.role.name));
      this.log.info(`server: PostgreSQL ${server.version}; ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      const wantInsight = o.explain || o.sampleIntervalMs > 0;
      // Through a pooler the clients hold the pooler's connections, not the server's: its slots do not limit them.
      const capacity = this.pooler ? undefined : await readCapacity(this.control.client);
      if (capacity) assertCapacity(capacity, o.clients, `${o.clients} clients`);
      await this.loadParamValues(this.control.client);
      this.insightSessions = wantInsight && (!capacity || capacity.free >= o.clients + 2);
      if (wantInsight && capacity && !this.insightSessions) {
        this.insightNotes.push(`No plan under load and no wait sampling: they need 2 more connections than the ${o.clients} clients, and the server has ${capacity.free} free.`);
      }
      this.checkAborted();

      const baseline = await this.runBaseline();
      this.checkAborted();

      const load = await this.runLoad(baseline.hist.mean / 1000);
      const finishedAt = new Date();
      const silence = this.silenceDuringLoad();
      // The clients' sessions are closed (and gone) before the counters are read: a backend flushes its
      // statistics when it exits.
      const closed = await this.closeWorkers();
      const counters = await this.countersAfter(server.versionNum, load.ok + load.failed);
      const pooler = await this.finishPoolerSummary(load.ok, load.hist.totalCount > 0 ? load.hist.mean / 1000 : 0, load.wallMs);
      const left = await this.cleanup();
      const leftover = closed === null || left === null ? null : closed;
      const status: RunStatus = this.cancelled ? 'cancelled' : this.bailed ? 'bailed-out' : load.lostAll ? 'clients-lost' : 'completed';
      const result = assembleResult({
        options: o,
        statement: this.stmt,
        mode: this.mode,
        connection: { ...connectionSummary(this.conn, this.usedSsl), ...(pooler ? { pooler } : {}) },
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
        indexAdvice: this.indexAdvice,
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
        silence,
      });
      if (this.scripts) {
        const figures = scriptFigures(this.scripts, this.scriptStats, result.load.wallMs, this.statementPlans);
        result.load.statements = figures.statements;
        if (this.scripts.length > 1) result.load.scripts = figures.scripts;
        // pg_stat_statements counts statements, not requests: the entry it would show is one of several.
        if (result.insight.counters.statement) {
          result.insight.counters.statement = null;
          result.insight.counters.notes.push("pg_stat_statements' per-statement figures are left out for a transaction or a mix: each statement's own latency is in the statements above.");
        }
      }
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

  private async runBaseline(): Promise<{ coldMs: number; hist: Histogram; envelopeUs?: number }> {
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
    let envelopeUs: number | undefined;
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
      if (!this.stop && !this.scripts) envelopeUs = await this.measureEnvelope(session);
      if (o.explain && !this.stop && this.scripts) {
        // A transaction or a mix: each statement's plan alone, with the same values a request would give it.
        this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'EXPLAIN ANALYZE of each statement alone' });
        c.busy = true;
        const values = this.nextValues();
        for (const [si, sc] of this.scripts.entries()) {
          for (const st of sc.statements) {
            if (this.stop) break;
            const plan = await captureExplain(this.pgClient(session), st.text, this.server!.versionNum, 'alone', st.paramCount > 0 ? values?.slice(0, st.paramCount) : undefined, this.transactionStart());
            (this.statementPlans[si] ??= []).push(plan);
          }
        }
        c.busy = false;
        if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled during the baseline; nothing was measured under load.');
      } else if (o.explain && !this.stop) {
        this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'EXPLAIN ANALYZE alone' });
        c.busy = true;
        this.planAlone = await captureExplain(this.pgClient(session), this.stmt.text, this.server!.versionNum, 'alone', this.nextQuery().values as Array<string | null> | undefined, this.transactionStart());
        let candidates = indexCandidates(this.planAlone);
        if (candidates.length > 0 && !this.stop) {
          try {
            candidates = await withoutExistingIndexes(this.pgClient(session), candidates, this.insightNotes);
          } catch (err) {
            // Unsure what exists, suggest nothing: an index the table already has would be a wrong answer.
            this.insightNotes.push(`No index is suggested: the table's existing indexes could not be read (${errorMessage(err)}).`);
            candidates = [];
          }
        }
        if (candidates.length > 0 && !this.stop) {
          this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `checking ${plural(candidates.length, 'index candidate')} with HypoPG` });
          try {
            const checked = await checkWithHypopg(this.pgClient(session), this.stmt.text, this.nextQuery().values as Array<string | null> | undefined, candidates, this.transactionStart());
            this.indexAdvice = { candidates, checked };
            if (checked) this.insightNotes.push(...checked.notes);
          } catch (err) {
            this.insightNotes.push(`The index candidates could not be checked: ${errorMessage(err)}`);
          }
        }
        if (this.checksGenericPlan() && !this.stop) {
          this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'generic plan of the prepared statement' });
          this.genericPlan = await checkGenericPlan(this.pgClient(session), this.stmt.text, this.server!.versionNum, this.wireStatement.name!, this.nextValues() ?? [], this.transactionStart());
        }
        c.busy = false;
        if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled during the baseline; nothing was measured under load.');
      }
    } finally {
      this.baselineClient = undefined;
      await closeSession(session);
      this.sessions.delete(session);
    }
    this.log.info(`baseline: cold ${coldMs.toFixed(2)} ms, warm mean ${(hist.mean / 1000).toFixed(2)} ms over ${hist.totalCount} runs${envelopeUs === undefined ? '' : `; envelope ${envelopeUs.toFixed(0)} µs`}`);
    return { coldMs, hist, envelopeUs };
  }

  /** What the read-only envelope costs a request here (empty requests with and without it); undefined if it failed. */
  private async measureEnvelope(session: OpenedSession): Promise<number | undefined> {
    this.wires.get(session)?.detach();
    this.wires.delete(session);
    try {
      return await measureEnvelopeUs(session.client, transactionWrap(this.sessionSettings()), clientTimeoutMs(this.o.statementTimeoutMs));
    } catch (err) {
      this.log.warn(`the envelope's cost could not be measured: ${errorMessage(err)}`);
      return undefined;
    }
  }

  private statementFailed(err: unknown, when: string): PgloadError {
    const e = asDriverError(err);
    const { code, message } = errorIdentity(err);
    let location;
    const pos = Number(e.position);
    if (Number.isInteger(pos) && pos > 0 && !this.scripts) {
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
        // The EXPLAIN session has the statement's settings and the plain application name (the sampler must not count it).
        // A transaction or a mix has each statement's plan alone; under load a single plan would not say which request it was.
        if (o.explain && !this.scripts) explainSession = await this.open({ ...this.sessionSettings(), applicationName: o.applicationName });
        if (o.sampleIntervalMs > 0) samplerSession = await this.open({ statementTimeoutMs: 5000, readOnly: true });
        // What they send is pgload's own (EXPLAIN, sampling): marked for pgload top.
        for (const s of [explainSession, samplerSession]) if (s) markInternal(s.client);
      } catch (err) {
        this.insightNotes.push(`The extra sessions for EXPLAIN under load and wait sampling could not be opened (${errorMessage(err)}); the run goes on without them.`);
      }
    }
    this.countersBefore = await snapshotCounters(this.control!.client, this.server!.versionNum);
    await this.poolerCountersBefore();

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
    // Through a pooler the process ids are the pooler's: the server sessions it lends are found by the run's application_name.
    const sampled = this.pooler ? { applicationName: this.loadApplicationName() } : { pids: loadPids };
    const sampler = samplerSession ? new WaitSampler(samplerSession.client, sampled, o.sampleIntervalMs, sinceStartMs, Math.max(1000, timeline.intervalMs)) : undefined;
    if (sampler) await sampler.calibrate().catch(() => undefined);

    // A background load starts now (after the baseline, which stays alone), and is running at the barrier.
    let aroundStarted = false;
    if (this.aroundLoad) {
      this.progress({ phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'starting the background load' });
      aroundStarted = true;
      try {
        await this.aroundLoad.start();
      } catch (err) {
        await this.aroundLoad.stop().catch(() => undefined);
        throw err;
      }
      if (this.cancelled) {
        await this.aroundLoad.stop().catch(() => undefined);
        throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured under load.');
      }
    }
    // The barrier: every session is open (and warm); all clients start on the same tick.
    const meter = new OverheadMeter();
    this.resetScriptStats();
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
    const mode = loadModeOf(o);
    const maybeExplain = () => {
      if (explainUnderLoad || !explainSession || this.stop) return;
      const done = counters.ok + counters.failed;
      const progress = o.requests !== undefined ? done / o.requests : sinceStartMs() / o.durationMs!;
      if (o.requests !== undefined ? progress < 0.4 : sinceStartMs() < mode.explainAtMs({ ...o, durationMs: o.durationMs! })) return;
      this.log.info(`EXPLAIN ANALYZE under load at ${(progress * 100).toFixed(0)} % of the run`);
      explainUnderLoad = captureExplain(explainSession.client, this.stmt.text, this.server!.versionNum, 'under-load', this.nextQuery().values as Array<string | null> | undefined, this.transactionStart());
    };
    /** Counts one failed request; returns true when the client's loop must end (our own cancel, or a lost session). */
    const onFailure = (failure: unknown, c: LoadClient | undefined, atMs = sinceStartMs()): boolean => {
      // Queries we cancelled ourselves (user stop, bail-out) are not the database's failures.
      if (this.stop && (this.cancelled || this.bailed) && errorIdentity(failure).code === '57014') return true;
      counters.failed++;
      timeline.error();
      this.errors.add(failure, 'load', atMs);
      // No answer within the statement timeout + margin: from here on nothing waits for the server (see silenceDuringLoad).
      if (errorIdentity(failure).code === CLIENT_TIMEOUT) this.silent = true;
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
    // Worker threads carry plain closed-loop clients; on one loop the mode the options select sends the load.
    const driver: ModeDriver = this.group ? new WorkerThreads(this.group, t0Epoch) : mode.driver(this.loadClients, o, requests);
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
      const threads = driver.delay ? { loops, delay: driver.delay } : undefined;
      client = meter.finish(counters.ok + counters.failed, latencyNow, threads, this.roundTripsPerRequest());
      // Every timer and the sampler end here, whether the load finished, failed or was cancelled.
      clearInterval(ticker);
      clearTimeout(durationTimer);
      this.halt();
      // A silent server never answers the sample in flight: its session is dropped with the others instead.
      if (sampler) await bounded(sampler.stop(), this.silent ? 100 : AFTER_LOAD_MS, 'stopping the wait sampler').catch(() => undefined);
      if (aroundStarted) await this.aroundLoad!.stop();
    }
    if (sampler) {
      const local = this.serverIsLocal();
      const vcpus = o.serverVcpus ?? (local ? os.cpus().length : null);
      this.waits = sampler.result(wallMs, vcpus, o.serverVcpus !== undefined ? 'given' : local ? 'local machine' : null);
      if (this.pooler) this.pooler.summary.serverSessionsSeen = sampler.serverSessions();
    }
    if (explainSession) {
      if (explainUnderLoad && this.silent) {
        this.planUnderLoad = { when: 'under-load', options: [], planningMs: null, executionMs: null, json: null, unavailable: 'The server stopped answering during the load.' };
      } else if (explainUnderLoad) {
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
    const allLost = driver.lost !== undefined ? driver.lost >= o.clients : this.loadClients.every((c) => !c.alive);
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
      modeFigures: driver.figures?.({ ok: counters.ok, wallMs, errors: this.errors.list() }) ?? {},
    };
  }
}
