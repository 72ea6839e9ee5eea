/**
 * The load phase of a run, in named steps: open the sessions (worker threads or this loop) and the insight sessions,
 * start the background load, release every client at the barrier under the mode's driver, tick the live progress,
 * then stop the sampler, take the plan under load and hand the measurements to the result.
 */
import type { CapturedPlan, ClientOverhead, TimelinePoint } from '../../shared/result';
import { clientTimeoutMs, markInternal, type OpenedSession, type ResolvedConnection } from '../connection/connection';
import { CLIENT_TIMEOUT } from '../connection/wire';
import { errorMessage, PgloadError } from '../errors';
import { errorIdentity, isSessionFatal } from '../errorTally';
import { createHistogram, recordUs, type Histogram } from './histogram';
import { cancelBackends } from '../connection/server';
import type { LoadOutcome } from './assemble';
import { captureExplain } from '../insight/explain';
import { WaitSampler } from '../insight/sampler';
import { snapshotCounters } from '../insight/serverStats';
import { OverheadMeter } from '../insight/overhead';
import * as os from 'node:os';
import { chooseIntervalMs, Timeline } from './timeline';
import { WorkerGroup } from './workers';
import type { LoadClient, LoadSink, Requests } from './driver';
import { loadModeOf, type ModeDriver } from './modes';
import { WorkerThreads } from './workerThreads';
import { plural } from './runState';
import { AFTER_LOAD_MS, bounded, RunEnd } from './runEnd';
import { splitShard, type ShardOptions } from './shard/split';
import { meetShards, type ShardStart } from './shard/meet';

/** What the load phase counts as it goes, shared by the sink, the ticker and the end of the load. */
interface LoadTally {
  hist: Histogram;
  timeline: Timeline;
  counters: { ok: number; failed: number; over: number };
  sinceStartMs: () => number;
  /** The steady state's own count, when asked for (options.steady). */
  steady?: SteadyTally;
}

/** The load phase; runner.ts's Run adds the baseline and the whole run around it. */
export abstract class LoadPhase extends RunEnd {
  /** A shard's start as it happened: the agreed instant and its own release, both on the server's clock. */
  protected shardStart?: ShardStart & { releasedServerMs: number };
  /** A shard's timeline intervals as recorded and its sessions' connect times, for the merge. */
  protected shardRecord?: { slots: NonNullable<Timeline['raw']>; connectMs: number[] };

  protected async runLoad(baselineMeanMs: number): Promise<LoadOutcome> {
    const o = this.o;
    const started = performance.now();
    this.progress({ phase: 'connecting', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `opening ${plural(o.clients, 'session')}` });
    const { loops, threads } = this.loopCount();
    const { connectTimes, shared } = await this.openLoadSessions(loops, threads, started);
    if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled before the load started; nothing was measured under load.');

    const { explainSession, samplerSession } = await this.beforeBarrier();

    const hist = createHistogram();
    // Under load a request is slower than alone; twice the baseline is a fair first guess for the interval.
    const expectedMs = o.durationMs ?? (o.requests! / o.clients) * Math.max(0.05, baselineMeanMs) * 2;
    const shard = splitShard(o);
    const timeline = new Timeline(o.intervalMs > 0 ? o.intervalMs : chooseIntervalMs(expectedMs), shard !== undefined);
    const counters = { ok: 0, failed: 0, over: 0 };
    this.remaining = o.requests ?? null;

    const sinceStartMs = () => Number(process.hrtime.bigint() - this.t0) / 1e6;
    const tally: LoadTally = { hist, timeline, counters, sinceStartMs, ...(o.steady ? { steady: { ...o.steady, hist: createHistogram(), ok: 0, failed: 0, batches: [] } } : {}) };
    const sampler = samplerSession ? await this.newSampler(samplerSession, tally) : undefined;

    const meeting = shard ? await this.meetShards(shard) : undefined;
    const aroundStarted = await this.startAroundLoad();
    // The barrier: every session is open (and warm); all clients start on the same tick.
    const meter = new OverheadMeter();
    this.resetScriptStats();
    this.t0 = process.hrtime.bigint();
    const t0Epoch = performance.timeOrigin + performance.now();
    if (meeting) this.released(meeting, t0Epoch);
    sampler?.start();
    // The plan under load is taken once the load is well under way (40 % of the planned requests or time).
    let explainUnderLoad: Promise<CapturedPlan> | undefined;
    const mode = loadModeOf(o);
    // When the plan under load is due: 40 % of the requests, or the moment the mode says in a timed run (decided once).
    const explainAtMs = o.durationMs !== undefined ? mode.explainAtMs({ ...o, durationMs: o.durationMs }) : undefined;
    const maybeExplain = () => {
      if (explainUnderLoad || !explainSession || this.stop) return;
      const done = counters.ok + counters.failed;
      const progress = o.requests !== undefined ? done / o.requests : sinceStartMs() / o.durationMs!;
      if (explainAtMs === undefined ? progress < 0.4 : sinceStartMs() < explainAtMs) return;
      this.log.info(`EXPLAIN ANALYZE under load at ${(progress * 100).toFixed(0)} % of the run`);
      explainUnderLoad = captureExplain(explainSession.client, this.stmt.text, this.server!.versionNum, 'under-load', this.nextQuery().values as Array<string | null> | undefined, this.transactionStart());
    };
    const sink = this.loadSink(tally);
    const requests: Requests = { once: (s) => this.execOnce(s), backToBack: (s, after) => this.backToBack(s, after), reconnect: (c) => this.reconnect(c) };
    // Worker threads carry plain closed-loop clients; on one loop the mode the options select sends the load.
    const driver: ModeDriver = this.group ? new WorkerThreads(this.group, t0Epoch) : mode.driver(this.loadClients, o, requests);
    this.onHalt = () => driver.stop();

    const stopTicker = this.startTicker(tally, maybeExplain);
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
      stopTicker();
      clearTimeout(durationTimer);
      this.halt();
      // A silent server never answers the sample in flight: its session is dropped with the others instead.
      if (sampler) await bounded(sampler.stop(), this.silent ? 100 : AFTER_LOAD_MS, 'stopping the wait sampler').catch(() => undefined);
      if (aroundStarted) await this.aroundLoad!.stop();
    }
    await this.collectInsight(sampler, explainSession, explainUnderLoad, wallMs);
    const points = timeline.finish(wallMs);
    this.progress({ phase: 'closing', done: counters.ok + counters.failed, total: o.requests ?? null, elapsedMs: wallMs, plannedMs: o.durationMs ?? null, qps: 0, p95Ms: hist.totalCount > 0 ? hist.getValueAtPercentile(95) / 1000 : null, errors: counters.failed, message: 'closing sessions' });

    if (timeline.raw) this.shardRecord = { slots: timeline.raw, connectMs: [...connectTimes] };
    return this.outcome(tally, driver, { wallMs, client, points, connectTimes, shared });
  }

  /**
   * Insight sessions are opened before the barrier too, so that nothing connects while the load runs; the counters
   * (read once per run: by shard 1 of a split run) are read before it.
   */
  private async beforeBarrier(): Promise<{ explainSession?: OpenedSession; samplerSession?: OpenedSession }> {
    const sessions = await this.openInsightSessions();
    if (this.insightShard) this.countersBefore = await snapshotCounters(this.control!.client, this.server!.versionNum);
    await this.poolerCountersBefore();
    return sessions;
  }

  /** Shard 1 of a split run, or a run that is not split: it measures what runs once per run. */
  protected get insightShard(): boolean {
    return (splitShard(this.o)?.index ?? 1) === 1;
  }

  /** A shard's release, on the server's clock, against the instant it planned. */
  private released(meeting: ShardStart, t0Epoch: number): void {
    this.shardStart = { ...meeting, releasedServerMs: t0Epoch + meeting.clock.offsetMs };
    this.log.info(`shard released its clients ${(this.shardStart.releasedServerMs - meeting.plannedServerMs).toFixed(2)} ms after the planned instant`);
  }

  /** A shard waits for the others (or for --start-at) on its control session, then until the agreed instant. */
  private async meetShards(shard: ShardOptions): Promise<ShardStart> {
    if (this.pooler && shard.startAtMs === undefined) {
      throw new PgloadError('usage', `Shards meet in pg_stat_activity, and a connection pooler (${this.pooler.summary.name}) is in between: its sessions do not show where each shard is. Give all shards one instant with --start-at instead.`);
    }
    const waiting = (here: number[]) =>
      this.progress({ phase: 'connecting', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: `shard ${shard.index} of ${shard.count}: ${shard.startAtMs !== undefined ? 'waiting for --start-at' : `waiting for the other shards (ready: ${here.join(', ') || 'none yet'})`}` });
    waiting([shard.index]);
    const start = await meetShards(this.control!.client, shard, { signal: this.signal, onWaiting: waiting, log: (line) => this.log.info(line) });
    if (this.cancelled) throw new PgloadError('cancelled', 'The run was cancelled while its shard waited for the others; nothing was measured under load.');
    return start;
  }

  /** Opens the load's sessions, on worker threads or on this loop (and warms them); returns their connect times. */
  protected async openLoadSessions(loops: number, threads: boolean, started: number): Promise<{ connectTimes: number[]; shared?: Int32Array }> {
    const o = this.o;
    let shared: Int32Array | undefined;
    let connectTimes: number[];
    if (threads) {
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
        throw new PgloadError(pe.kind, `${failed ?? 'Some'} of ${plural(o.clients, 'client')} could not open a session, so the load did not start: ${pe.message}`, { code: pe.code });
      }
      for (const pid of group.pids) this.pids.add(pid);
      connectTimes = [...group.connectMs];
      for (const f of group.warmupFailures) this.errors.add(Object.assign(new Error(f.message), { code: f.code }), 'warmup', -1);
      this.log.info(`load: ${o.clients} sessions open on ${plural(loops, 'worker thread')} in ${(performance.now() - started).toFixed(0)} ms`);
    } else {
      connectTimes = await this.openClients();
      this.log.info(`load: ${o.clients} sessions open in ${(performance.now() - started).toFixed(0)} ms`);
      if (o.warmupPerClient > 0) {
        this.progress({ phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: this.errors.total, message: `warm-up: ${plural(o.warmupPerClient, 'request')} per client` });
        await Promise.all(this.loadClients.map((c) => this.warmup(c)));
      }
    }
    return { connectTimes, shared };
  }

  /** The sessions for EXPLAIN under load and wait sampling, when the server has room for them. */
  protected async openInsightSessions(): Promise<{ explainSession?: OpenedSession; samplerSession?: OpenedSession }> {
    const o = this.o;
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
    return { explainSession, samplerSession };
  }

  /** A background load starts now (after the baseline, which stays alone), and is running at the barrier. */
  protected async startAroundLoad(): Promise<boolean> {
    if (!this.aroundLoad) return false;
    this.progress({ phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: null, qps: 0, p95Ms: null, errors: 0, message: 'starting the background load' });
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
    return true;
  }

  /** After the load: what the sampler saw, and the plan under load (or why there is none). */
  protected async collectInsight(sampler: WaitSampler | undefined, explainSession: OpenedSession | undefined, explainUnderLoad: Promise<CapturedPlan> | undefined, wallMs: number): Promise<void> {
    const o = this.o;
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
  }

  /** The live progress, every timeline interval: the rate over a second or more, p95 so far; returns its stop. */
  protected startTicker({ hist, timeline, counters, sinceStartMs }: LoadTally, onTick: () => void): () => void {
    const o = this.o;
    // The live rate is measured over windows of at least a second: slow queries complete too rarely
    // for a per-tick rate to mean anything.
    const rate = { fromMs: 0, fromOk: 0, qps: 0 };
    let ticker: NodeJS.Timeout | undefined;
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
        onTick();
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
    scheduleTicker();
    return () => clearInterval(ticker);
  }

  /** What the drivers report to: counts, latencies into the histogram and timeline, failures, outages, the budget. */
  protected loadSink({ hist, timeline, counters, sinceStartMs, steady }: LoadTally): LoadSink {
    const thresholdUs = this.o.thresholdMs * 1000;
    const maxErrors = this.o.maxErrors;
    /** Counts one failed request; returns true when the client's loop must end (our own cancel, or a lost session). */
    const onFailure = (failure: unknown, c: LoadClient | undefined, atMs = sinceStartMs()): boolean => {
      // Queries we cancelled ourselves (user stop, bail-out) are not the database's failures.
      if (this.stop && (this.cancelled || this.bailed) && errorIdentity(failure).code === '57014') return true;
      counters.failed++;
      if (steady && atMs >= steady.fromMs) steady.failed++;
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
    return {
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
        if (steady) recordSteady(steady, sinceStartMs(), us);
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
  }

  /** The wait sampler on its session, calibrated: it watches the load's sessions (through a pooler, by application_name). */
  protected async newSampler(session: OpenedSession, { sinceStartMs, timeline }: LoadTally): Promise<WaitSampler> {
    const loadPids = this.group ? [...this.group.pids] : this.loadClients.map((c) => c.pid);
    // Through a pooler the process ids are the pooler's: the server sessions it lends are found by the run's application_name.
    const sampled = this.pooler ? { applicationName: this.loadApplicationName() } : { pids: loadPids };
    const sampler = new WaitSampler(session.client, sampled, this.o.sampleIntervalMs, sinceStartMs, Math.max(1000, timeline.intervalMs));
    await sampler.calibrate().catch(() => undefined);
    return sampler;
  }

  /** What the load phase measured, as the result is assembled from it; whether every client was lost. */
  protected outcome(
    { hist, counters, steady }: LoadTally,
    driver: ModeDriver,
    end: { wallMs: number; client: ClientOverhead; points: TimelinePoint[]; connectTimes: number[]; shared?: Int32Array },
  ): LoadOutcome {
    const o = this.o;
    const { wallMs, client, points, connectTimes, shared } = end;
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
      ...(steady ? { steady } : {}),
    };
  }
}

/** The steady state as it is counted: the whole of it, and by batch of time. */
export interface SteadyTally {
  fromMs: number;
  batchMs: number;
  hist: Histogram;
  ok: number;
  failed: number;
  batches: Histogram[];
}

function recordSteady(s: SteadyTally, atMs: number, us: number): void {
  if (atMs < s.fromMs) return;
  recordUs(s.hist, us);
  s.ok++;
  const i = Math.floor((atMs - s.fromMs) / s.batchMs);
  while (s.batches.length <= i) s.batches.push(createHistogram());
  recordUs(s.batches[i], us);
}
