/**
 * A run's state and everything around its phases: the sessions it opens, the request path (wire protocol, or
 * node-postgres for a script's statements), parameter values, reconnects. runEnd.ts adds how a run ends (cancel,
 * closing, the checks after the load); runner.ts's Run adds the phases themselves: baseline, load, result.
 */

import type { Client, QueryArrayConfig } from 'pg';
import type { CapturedPlan, ExecutionMode, GenericPlanCheck, PoolerSummary, RunStatus, ServerInfo, WaitSampling } from '../../shared/result';
import type { ProgressView } from '../../shared/result';
import {
  backendPid,
  clientTimeoutMs,
  closeSession,
  openSession,
  type OpenedSession,
  type ResolveEnvironment,
  type ResolvedConnection,
  type SessionSettings,
  type SettingsRoute,
  transactionWrap,
  wrapStart,
  inRolledBackTransaction,
} from '../connection/connection';
import { loadModeOf } from './modes';
import { keepsPreparedStatements, openControlSession, openPoolerConsole, type PoolerConsole, type PoolerCounters } from '../connection/pooler';
import { randomBytes } from 'node:crypto';
import { errorMessage, PgloadError } from '../errors';
import { ErrorTally, errorIdentity, isSessionFatal } from '../errorTally';
import { redactingLogger, silentLogger, type Logger } from '../logger';
import { type ProfileOptions } from '../options';
import { type PlanContext } from '../insight/plan';
import type { IndexAdvice } from '../insight/indexes/advice';
import { type CounterSnapshot } from '../insight/serverStats';
import * as os from 'node:os';
import { type SqlStatement } from '../sql';
import { makeSources, type ValueSource } from './params';
import { oneLine } from '../../shared/text';
import { WireSession, type WireStatement } from '../connection/wire';
import { WorkerGroup } from './workers';
import { loadLoops } from './hostLoop';
import type { LoadClient } from './driver';
import type { CheckedParam, PreparedRun } from './prepare';
import { attributeToStatement, emptyScriptStats, pickByWeight, type PreparedScript } from './script';
import { recordUs } from './histogram';
import { seededRandom } from './random';
export type Progress = ProgressView;
export type Phase = Progress['phase'];

export interface RunContext {
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (p: Progress) => void;
  /** Where PG* variables and ~/.pgpass come from (tests pass their own). */
  environment?: ResolveEnvironment;
  /**
   * Something run beside the load (a background load): started after the baseline, right before the barrier, and
   * stopped when the load ends — however it ends.
   */
  aroundLoad?: { start(): Promise<void>; stop(): Promise<void> };
}


export abstract class RunState {
  /** A transaction or a mix: the scripts a request picks from. */
  protected readonly scripts?: PreparedScript[];
  protected aroundLoad?: RunContext['aroundLoad'];
  protected readonly o: ProfileOptions;

  protected readonly stmt: SqlStatement;

  protected readonly mode: ExecutionMode;

  protected readonly conn: ResolvedConnection;

  protected readonly log: Logger;

  protected readonly signal?: AbortSignal;

  protected readonly onProgress?: (p: Progress) => void;

  protected readonly sessions = new Set<OpenedSession>();

  protected readonly pids = new Set<number>();

  protected readonly errors: ErrorTally;

  protected readonly sslDecided = { useSsl: true };

  protected readonly query: QueryArrayConfig;

  protected readonly wireStatement: WireStatement;

  /** Each session's request path, made on its first request. */
  protected readonly wires = new WeakMap<OpenedSession, WireSession>();

  protected readonly params: CheckedParam[];

  protected readonly values: Map<number, Array<string | null>>;

  /** One value source per parameter (empty when the statement has none). */
  protected sources: ValueSource[] = [];

  /** The first values drawn, for the result (so a user can see what was sent). */
  protected readonly sample: Array<Array<string | null>> = [];

  protected control?: OpenedSession;

  protected usedSsl = false;

  protected server?: ServerInfo;

  /** Extra sessions for EXPLAIN under load and wait sampling, when the server has room for them. */
  protected insightSessions = false;

  protected readonly insightNotes: string[] = [];

  protected planAlone?: CapturedPlan;

  protected genericPlan?: GenericPlanCheck;

  /** Index candidates from the plan alone, and HypoPG's verdict on each (null: HypoPG is not installed). */
  protected indexAdvice?: IndexAdvice;

  protected planUnderLoad?: CapturedPlan;

  protected waits: WaitSampling | null = null;

  protected countersBefore?: CounterSnapshot;

  // Load state, read on the hot path.
  protected stop = false;

  protected cancelled = false;

  protected bailed = false;

  protected remaining: number | null = null;

  /** Also ends what waits outside the loops (users queued for a pooled session). */
  protected onHalt?: () => void;

  /** Waits (reconnect backoff) to cut short when the run stops. */
  protected readonly sleepers: Array<() => void> = [];

  protected reconnects = 0;

  /**
   * Set once the server stopped answering (a request got no answer within the statement timeout + margin, or a step
   * after the load timed out): every later step that needs an answer is skipped and sessions are dropped at once, so
   * that the run ends within the bound the report states.
   */
  protected silent = false;

  /** Spans from a lost session to the next successful request (ms since the barrier). */
  protected readonly outages: Array<{ startMs: number; endMs: number | null; lostSessions: number }> = [];

  protected loadClients: LoadClient[] = [];

  /** Worker threads running the clients, when the run uses more than one event loop. */
  protected group?: WorkerGroup;

  protected baselineClient?: LoadClient;

  protected t0 = 0n;

  /** How the session settings reach the server: at startup (a direct server), or past a pooler (./connection/pooler). */
  protected route: SettingsRoute = 'startup';

  /** A pooler in front of the server, once recognised: what the report says about it, and its admin console. */
  protected pooler?: { summary: PoolerSummary; console?: PoolerConsole; before?: PoolerCounters | null };

  constructor(p: PreparedRun, ctx: RunContext) {
    this.o = p.options;
    this.stmt = p.statement;
    this.mode = p.mode;
    this.conn = p.connection;
    this.log = redactingLogger(ctx.logger ?? silentLogger, this.conn.redact);
    this.signal = ctx.signal;
    this.onProgress = ctx.onProgress;
    this.aroundLoad = ctx.aroundLoad;
    this.errors = new ErrorTally(this.conn.redact);
    this.params = p.params;
    this.scripts = p.scripts;
    if (p.scripts) {
      this.scriptStats = emptyScriptStats(p.scripts);
      this.scriptRandom = seededRandom(p.options.seed + 7919);
    }
    this.values = p.values;
    // A named statement is parsed and planned once per session, then only bound and executed (pgbench -M prepared).
    this.query = { text: this.stmt.text, rowMode: 'array', queryMode: 'extended', ...(this.o.prepared ? { name: `pgload_${this.stmt.fingerprint}` } : {}) };
    this.wireStatement = { text: this.stmt.text, ...(this.o.prepared ? { name: `pgload_${this.stmt.fingerprint}` } : {}) };
  }

  /** The next request's parameter values (undefined without parameters). */
  protected nextValues(): Array<string | null> | undefined {
    if (this.sources.length === 0) return undefined;
    const values = this.sources.map((next) => next());
    if (this.sample.length < 5) this.sample.push(values);
    return values;
  }

  /** The query of one request: the statement with fresh parameter values, when it has parameters. */
  protected nextQuery(): QueryArrayConfig {
    const values = this.nextValues();
    return values ? { ...this.query, values } : this.query;
  }

  /** The `sql:` generators' queries (user SQL too: checked like the statement). */
  protected samplingQueries(): string[] {
    return this.params.flatMap((p) => (p.parsed.kind === 'sql' ? [p.parsed.query] : []));
  }

  /** Runs each sampling query (`sql:` generators) once, read-only, and builds the value sources. */
  protected async loadParamValues(client: Client): Promise<void> {
    for (const p of this.params) {
      if (p.parsed.kind !== 'sql') continue;
      const label = `$${p.index}`;
      const query = p.parsed.query;
      let rows: unknown[][];
      // The user's query like any other: one statement (extended protocol), in a read-only transaction rolled back.
      try {
        // Values stay in the server's text form: they are sent back as text parameters.
        const r = await inRolledBackTransaction(client, transactionWrap({ ...this.sessionSettings(), readOnly: true }), () =>
          client.query({ text: query, rowMode: 'array', queryMode: 'extended', types: { getTypeParser: () => (v: string) => v } }),
        );
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

  /** The settings of the sessions that run the statement (baseline and load). */
  protected sessionSettings(): SessionSettings {
    return { statementTimeoutMs: Math.round(this.o.statementTimeoutMs), readOnly: this.mode === 'read-only', extra: this.o.settings, applicationName: this.loadApplicationName(), route: this.route };
  }

  /**
   * The load sessions' application_name: the run's own through a pooler (the server sessions it lends carry it, so the
   * sampler and the leftover check find them by it), the user's otherwise.
   */
  protected loadApplicationName(): string {
    return this.pooler?.summary.applicationName ?? this.o.applicationName;
  }

  /**
   * The control session; through a pooler also the route of the run's settings, its admin console, and the checks a
   * pooler needs before anything runs (prepared statements).
   */
  protected async openControl(): Promise<OpenedSession> {
    const { session, detectedBy } = await openControlSession(this.conn, { statementTimeoutMs: 15_000, readOnly: true, applicationName: this.o.applicationName }, this.sslDecided);
    this.track(session);
    if (detectedBy === null) return session;
    this.route = 'transaction';
    const admin = await openPoolerConsole(this.conn, session.ssl);
    const reachable = 'client' in admin ? admin : undefined;
    if (reachable?.poolMode === 'session') this.route = 'set';
    if (reachable?.poolMode === 'statement') {
      await reachable.client.end().catch(() => undefined);
      throw new PgloadError(
        'usage',
        `${reachable.version} is in statement pooling: no transaction spans two statements there, so pgload cannot make its requests read-only or give them their settings (statement_timeout). ` +
          'Point pgload at a database entry in transaction or session pooling, or at PostgreSQL directly; nothing was run.',
      );
    }
    const tag = randomBytes(3).toString('hex');
    const name = reachable ? reachable.version : 'a connection pooler';
    this.pooler = {
      console: reachable,
      summary: {
        name,
        detectedBy,
        poolMode: reachable?.poolMode ?? null,
        ...(reachable ? {} : { consoleUnavailable: (admin as { unavailable: string }).unavailable }),
        settingsRoute: this.route === 'set' ? 'set' : 'transaction',
        // The control session itself was checked when it opened.
        readOnlyVerifiedSessions: 1,
        applicationName: `${this.o.applicationName.slice(0, 55)}/${tag}`,
        serverSessionsSeen: null,
        wait: null,
        notes: [],
      },
    };
    this.log.info(`pooler: ${name} (${detectedBy}); pool mode ${reachable?.poolMode ?? 'unknown'}; settings ${this.route === 'set' ? 'set after connecting' : 'inside each request\'s transaction'}`);
    if (this.o.prepared && this.route === 'transaction' && !keepsPreparedStatements(reachable)) {
      const why = reachable
        ? `${name} is in ${reachable.poolMode ?? 'an unknown'} pooling${reachable.pgbouncer ? ' and keeps named prepared statements across server sessions only from PgBouncer 1.21 with max_prepared_statements > 0' : ''}`
        : `pgload could not read the pooler's mode (its admin console: ${(admin as { unavailable: string }).unavailable}), so every request runs in a transaction of its own, and the next one may reach a server session that never saw the statement`;
      throw new PgloadError(
        'usage',
        `--prepared cannot run through this pooler: ${why}. Run without --prepared (each request then sends its statement unnamed with its parameters, as most ORMs do)` +
          `${reachable ? '' : ", or let pgload's user read the admin console (stats_users) if the pooler is in session pooling"}; nothing was run.`,
      );
    }
    return session;
  }

  protected sessionSetting(name: string): string | undefined {
    const key = Object.keys(this.o.settings).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : this.o.settings[key];
  }

  /** Prepared, with parameters, and EXPLAIN on: the generic plan may differ from the plan for the values (one server session needed). */
  protected checksGenericPlan(): boolean {
    return this.o.prepared && this.o.explain && this.stmt.paramCount > 0 && this.route !== 'transaction';
  }

  /**
   * Round trips inside one request's timed span, on average, each a response that can wait behind a late event loop:
   * a script's BEGIN, statements and ROLLBACK, each its own. One statement is one: its BEGIN, statement and ROLLBACK
   * travel as one pipeline.
   */
  roundTripsPerRequest(): number {
    if (!this.scripts) return 1;
    const begin = this.transactionStart().length;
    const total = this.scripts.reduce((a, sc) => a + sc.weight, 0);
    return this.scripts.reduce((a, sc) => a + (sc.weight / total) * (sc.statements.length + begin + 1), 0);
  }

  /** What begins a request's transaction on a session of the run: with the settings inside it when they travel that way. */
  protected transactionStart(settings = this.sessionSettings()): string[] {
    return wrapStart(transactionWrap(settings));
  }

  /** A server on this machine (loopback or a Unix socket): its CPUs and memory are this machine's. */
  protected serverIsLocal(): boolean {
    return ['localhost', '127.0.0.1', '::1'].includes(this.conn.host) || this.conn.host.startsWith('/');
  }

  /** The server's memory for the work_mem advice: given, this machine's for a local server, else unknown (estimated there). */
  protected serverMemory(): Pick<PlanContext, 'serverMemoryKB' | 'serverMemorySource'> {
    if (this.o.serverMemoryKB !== undefined) return { serverMemoryKB: this.o.serverMemoryKB, serverMemorySource: 'given' };
    if (this.serverIsLocal()) return { serverMemoryKB: os.totalmem() / 1024, serverMemorySource: 'local machine' };
    return { serverMemoryKB: null, serverMemorySource: null };
  }

  protected progress(p: Omit<Progress, 'message'> & { message?: string }): void {
    if (!this.onProgress) return;
    try {
      this.onProgress({ message: '', ...p });
    } catch (err) {
      this.log.warn(`progress listener failed: ${errorMessage(err)}`);
    }
  }

  protected checkAborted(): void {
    if (this.signal?.aborted) throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured.');
  }

  protected statusDetail(status: RunStatus): string | undefined {
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

  protected async open(settings: SessionSettings): Promise<OpenedSession> {
    // Every session of the run carries its application name (control, sampler and EXPLAIN sessions too).
    const s = await openSession(this.conn, { applicationName: this.o.applicationName, route: this.route, ...settings }, this.sslDecided);
    if (this.pooler && settings.readOnly) this.pooler.summary.readOnlyVerifiedSessions++;
    return this.track(s);
  }

  protected track(s: OpenedSession): OpenedSession {
    this.sessions.add(s);
    const pid = backendPid(s.client);
    if (pid) this.pids.add(pid);
    return s;
  }

  protected pidOf(s: OpenedSession): number {
    return backendPid(s.client);
  }

  /** Event loops for the clients, and whether they are worker threads (see ./hostLoop's loadLoops). */
  protected loopCount(): { loops: number; threads: boolean } {
    const o = this.o;
    const why = this.scripts ? 'a transaction or a mix' : this.pooler ? 'a run through a connection pooler' : (loadModeOf(o).singleLoop ?? (o.reconnect ? 'reconnecting clients' : undefined));
    const { loops, threads, note } = loadLoops(o.workers, o.clients, why);
    if (note) this.insightNotes.push(note);
    return { loops, threads };
  }

  /** One request: a script, or the statement in its envelope on the session's own request path (./wire). Returns µs, or throws. */
  protected execOnce(session: OpenedSession): Promise<number> {
    if (this.scripts) return this.execScript(session.client);
    return this.wireOf(session).request(this.nextValues());
  }

  /**
   * One request of a transaction or a mix: a script picked by weight, its statements in order, in one transaction that
   * ends in ROLLBACK (read-only unless writes are allowed). Each statement is timed apart; a failure names its
   * statement. Returns the request's µs (BEGIN to ROLLBACK).
   */
  protected async execScript(client: Client): Promise<number> {
    const scripts = this.scripts!;
    const si = scripts.length === 1 ? 0 : pickByWeight(scripts, this.scriptRandom());
    const sc = scripts[si];
    const values = this.nextValues();
    const started = process.hrtime.bigint();
    let failedAt = -1;
    try {
      await inRolledBackTransaction(client, transactionWrap(this.sessionSettings()), async () => {
        for (let i = 0; i < sc.statements.length; i++) {
          const st = sc.statements[i];
          const t = process.hrtime.bigint();
          try {
            await client.query({ text: st.text, rowMode: 'array', queryMode: 'extended', ...(st.paramCount > 0 && values ? { values: values.slice(0, st.paramCount) } : {}) });
          } catch (err) {
            failedAt = i;
            throw attributeToStatement(err, sc.statements.length > 1 || scripts.length > 1 ? `${scripts.length > 1 ? `${sc.name}, ` : ''}statement ${i + 1}` : undefined);
          }
          recordUs(this.scriptStats.statements[si][i], Number(process.hrtime.bigint() - t) / 1000);
        }
      });
    } catch (err) {
      this.scriptStats.failed[si]++;
      if (failedAt >= 0) this.scriptStats.statementFailed[si][failedAt]++;
      throw err;
    }
    const us = Number(process.hrtime.bigint() - started) / 1000;
    recordUs(this.scriptStats.requests[si], us);
    return us;
  }

  /** Per script and statement figures, counted from the barrier on (resetScriptStats). */
  protected scriptStats = emptyScriptStats([]);
  private scriptRandom: () => number = Math.random;

  /** Starts the per-statement figures afresh (the baseline and warm-up are not the load). */
  protected resetScriptStats(): void {
    if (this.scripts) this.scriptStats = emptyScriptStats(this.scripts);
  }

  /**
   * Requests back to back on one session until `after` says stop. On the wire path each next request is written while
   * the previous answer is handled (no promise per request); a script's statements go through node-postgres.
   */
  protected backToBack(session: OpenedSession, after: (us: number, failure: Error | undefined) => boolean): Promise<void> {
    if (!this.scripts) return this.wireOf(session).loop(() => this.nextValues(), after);
    return (async () => {
      for (;;) {
        let us = 0;
        let failure: Error | undefined;
        try {
          us = await this.execScript(session.client);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
        }
        if (!after(us, failure)) return;
      }
    })();
  }

  protected wireOf(session: OpenedSession): WireSession {
    let wire = this.wires.get(session);
    if (!wire) {
      wire = new WireSession(session.client, this.wireStatement, clientTimeoutMs(this.o.statementTimeoutMs), transactionWrap(this.sessionSettings()));
      this.wires.set(session, wire);
    }
    return wire;
  }

  /** The session's node-postgres client, with its socket given back by the request path if it had it. */
  protected pgClient(session: OpenedSession): Client {
    this.wires.get(session)?.detach();
    this.wires.delete(session);
    return session.client;
  }

  /** Opens every client's session before timing starts; any failure ends the run with the reasons grouped. */
  protected async openClients(): Promise<number[]> {
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
      throw new PgloadError(firstFailure!.kind, `${failed} of ${plural(o.clients, 'client')} could not open a session, so the load did not start: ${reasons}`, {
        code: firstFailure!.code,
      });
    }
    return times;
  }

  protected async warmup(c: LoadClient): Promise<void> {
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
  protected halt(): void {
    this.stop = true;
    this.onHalt?.();
    for (const wake of this.sleepers.splice(0)) wake();
  }

  /** Waits `ms`, or less when the run stops meanwhile. */
  protected pause(ms: number): Promise<void> {
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
  protected async reconnect(c: LoadClient): Promise<boolean> {
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
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

