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
import type { CapturedPlan, ErrorGroup, PoolerSummary, ProfileResult, RunStatus, ServerCounters, ServerInfo } from '../../shared/result';
import { clientTimeoutMs, closeSession, connectionSummary, describeTarget, type OpenedSession, transactionWrap } from '../connection/connection';
import { measureEnvelopeUs } from '../connection/wire';
import { asDriverError, codePointToUtf16, errorMessage, locate, PgloadError } from '../errors';
import { errorIdentity } from '../errorTally';
import { createHistogram, recordUs, type Histogram } from './histogram';
import type { ProfileInput } from '../options';
import { assertCapacity, readCapacity, readServerInfo, superuserNote } from '../connection/server';
import { assembleResult, type LoadOutcome, type RunFacts } from './assemble';
import { captureExplain } from '../insight/explain';
import { checkEscapes } from '../escapes';
import { checkGenericPlan, CUSTOM_PLANS_BEFORE_GENERIC } from '../insight/genericPlan';
import { parseMemoryKB } from '../insight/plan';
import { adviseIndexes } from '../insight/indexes/advice';
import { oneLine } from '../../shared/text';
import type { LoadClient } from './driver';
import { isPrepared, prepareRun, type PreparedRun } from './prepare';
import { plural, type RunContext } from './runState';
import { scriptFigures } from './script';
import { LoadPhase } from './loadPhase';
import { onShardOne, shardFacts, splitShard } from './shard/split';

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

class Run extends LoadPhase {
  /** A transaction's or a mix's plans alone, per script and statement. */
  protected readonly statementPlans: CapturedPlan[][] = [];

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
      const server = await this.openAndCheck();
      this.checkAborted();

      const baseline = await this.runBaseline();
      this.checkAborted();

      const load = await this.runLoad(baseline.hist.mean / 1000);
      const finishedAt = new Date();
      const silence = this.silenceDuringLoad();
      // The clients' sessions are closed (and gone) before the counters are read: a backend flushes its
      // statistics when it exits.
      const closed = await this.closeWorkers();
      const counters = await this.countersAfter(server.versionNum, load.ok + load.failed, this.planAlone?.queryId);
      const pooler = await this.finishPoolerSummary(load.ok, load.hist.totalCount > 0 ? load.hist.mean / 1000 : 0, load.wallMs);
      const left = await this.cleanup();
      const leftover = closed === null || left === null ? null : closed;
      const status: RunStatus = this.cancelled ? 'cancelled' : this.bailed ? 'bailed-out' : load.lostAll ? 'clients-lost' : 'completed';
      const result = this.result({ server, startedAt, finishedAt, status, baseline, load, counters, pooler, leftover, silence });
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

  protected async runBaseline(): Promise<{ coldMs: number; hist: Histogram; envelopeUs?: number }> {
    const o = this.o;
    // A prepared statement with parameters may switch to its generic plan after five executions: the baseline runs
    // past that point, so the session shows which plan it ends up with.
    const warmRuns = this.checksGenericPlan() ? Math.max(o.baselineRuns, CUSTOM_PLANS_BEFORE_GENERIC) : o.baselineRuns;
    // A split run's baseline is shard 1's: the others would run theirs beside it, and it would not be alone.
    if (!this.insightShard) return { coldMs: 0, hist: createHistogram() };
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
        this.planAlone = await captureExplain(this.pgClient(session), this.stmt.text, this.server!.versionNum, 'alone', this.nextQuery().values as Array<string | null> | undefined, this.transactionStart(), true);
        await this.adviseIndexes(session, warmRuns);
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
  protected async measureEnvelope(session: OpenedSession): Promise<number | undefined> {
    this.wires.get(session)?.detach();
    this.wires.delete(session);
    try {
      return await measureEnvelopeUs(session.client, transactionWrap(this.sessionSettings()), clientTimeoutMs(this.o.statementTimeoutMs));
    } catch (err) {
      this.log.warn(`the envelope's cost could not be measured: ${errorMessage(err)}`);
      return undefined;
    }
  }

  protected statementFailed(err: unknown, when: string): PgloadError {
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

  /** The control session: the server, what the statements reach in the catalog, its free connections, the parameter values. */
  private async openAndCheck(): Promise<ServerInfo> {
    const o = this.o;
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
  if (capacity) assertCapacity(capacity, o.clients, plural(o.clients, 'client'));
  await this.loadParamValues(this.control.client);
  this.insightSessions = wantInsight && (!capacity || capacity.free >= o.clients + 2);
  if (wantInsight && capacity && !this.insightSessions) {
    this.insightNotes.push(`No plan under load and no wait sampling: they need 2 more connections than the ${plural(o.clients, 'client')}, and the server has ${capacity.free} free.`);
  }
    return server;
  }

  /** The result object from what the run measured; a transaction's or a mix's own figures added. */
  private result(f: {
    server: ServerInfo;
    startedAt: Date;
    finishedAt: Date;
    status: RunStatus;
    baseline: RunFacts['baseline'];
    load: LoadOutcome;
    counters: ServerCounters;
    pooler: PoolerSummary | undefined;
    leftover: number | null;
    silence: RunFacts['silence'];
  }): ProfileResult {
    const o = this.o;
    const { server, startedAt, finishedAt, status, baseline, load, counters, pooler, leftover, silence } = f;
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
    const shard = splitShard(o);
    if (shard && this.shardStart && this.shardRecord) {
      result.shard = shardFacts(shard, this.shardStart, this.shardRecord, this.insightShard);
      if (!this.insightShard) result.insight.counters.notes = [onShardOne(shard)];
    }
    return result;
  }

  /** Index candidates from the plan alone, less those the tables have, searched with HypoPG when it is there. */
  private async adviseIndexes(session: OpenedSession, warmRuns: number): Promise<void> {
    if (this.stop) return;
    try {
      this.indexAdvice =
        (await adviseIndexes({
          client: this.pgClient(session),
          sql: this.stmt.text,
          values: this.nextQuery().values as Array<string | null> | undefined,
          plan: this.planAlone,
          begin: this.transactionStart(),
          notes: this.insightNotes,
          stopped: () => !!this.stop,
          searching: (n) =>
            this.progress({ phase: 'baseline', done: warmRuns + 1, total: warmRuns + 1, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `checking ${plural(n, 'index candidate')} with HypoPG` }),
        })) ?? undefined;
    } catch (err) {
      this.insightNotes.push(`The index candidates could not be checked: ${errorMessage(err)}`);
    }
  }
}
