/**
 * A background load: other statements the application runs at the same time (checkout writes while a report query
 * is profiled). It starts after the profiled statement's baseline — which stays alone — and runs through its whole
 * load; its figures are reported apart (`load.background`). Its writes obey the same rules as the profiled
 * statement's: refused kinds refused, DML only with writes allowed, and then every request rolled back.
 */
import type { BackgroundSummary, ProfileResult } from '../../shared/result';
import { PgloadError, errorMessage } from '../errors';
import type { ProfileInput } from '../options';
import type { ParamInput } from './params';
import { prepareRun, type PreparedRun } from './prepare';
import { profile } from './runner';
import type { RunContext } from './runState';
import { plural } from '../../shared/numbers';

export interface BackgroundInput {
  sql: string;
  /** Sessions running it back to back (default 2), or serving its rate. */
  clients?: number;
  /** A fixed arrival rate instead of clients back to back. */
  ratePerSecond?: number;
  params?: ParamInput[];
}

/** Sessions a background load runs on when none are given. */
export const DEFAULT_BACKGROUND_CLIENTS = 2;

/** Longer than any load: the background is stopped by the profiled run, not by its own budget. */
const OPEN_ENDED_MS = 24 * 3600 * 1000;

/** Checks the background statement before anything runs; its errors name it as the background's. */
export async function prepareBackground(main: ProfileInput, bg: BackgroundInput, environment?: RunContext['environment']): Promise<PreparedRun> {
  const clients = bg.clients ?? DEFAULT_BACKGROUND_CLIENTS;
  const input: ProfileInput = {
    sql: bg.sql,
    connection: main.connection,
    clients,
    durationMs: OPEN_ENDED_MS,
    rate: bg.ratePerSecond !== undefined ? { perSecond: bg.ratePerSecond, distribution: 'constant', maxOutstanding: Math.max(100, Math.ceil(bg.ratePerSecond * 10)), seed: (main.seed ?? 1) + 1 } : undefined,
    params: bg.params ?? [],
    allowWrites: main.allowWrites ?? false,
    statementTimeoutMs: main.statementTimeoutMs,
    // What it needs to run, nothing it would measure: one warm execution, no EXPLAIN, no sampling, no bail-out.
    baselineRuns: 1,
    explain: false,
    sampleIntervalMs: 0,
    maxErrors: 0,
    applicationName: main.applicationName,
    seed: (main.seed ?? 1) + 1,
  };
  try {
    return await prepareRun(input, environment);
  } catch (err) {
    if (err instanceof PgloadError) throw new PgloadError(err.kind, `The background statement: ${err.message}`, { code: err.code });
    throw err;
  }
}

/**
 * Profiles `main` with `bg` running beside its load; the result carries the background's figures in
 * `load.background` and says in its notes that the server counters include the background's work.
 */
export async function profileWithBackground(main: ProfileInput, bg: BackgroundInput, ctx: RunContext = {}): Promise<ProfileResult> {
  const preparedBg = await prepareBackground(main, bg, ctx.environment);
  const preparedMain = await prepareRun(main, ctx.environment);
  // Writes were allowed for the background: a profiled plain read keeps its READ ONLY transaction, as it runs alone,
  // so the two runs differ only by the background.
  if (!preparedMain.scripts && preparedMain.statement.kind === 'query' && !preparedMain.statement.locksRows) preparedMain.mode = 'read-only';
  const abort = new AbortController();
  let running: Promise<ProfileResult | Error> | undefined;
  let finished: ProfileResult | Error | undefined;
  let stoppedByUs = false;
  const result = await profile(preparedMain, {
    ...ctx,
    aroundLoad: {
      start: () =>
        new Promise<void>((resolve, reject) => {
          const onMainAbort = () => abort.abort();
          ctx.signal?.addEventListener('abort', onMainAbort, { once: true });
          running = profile(preparedBg, {
            signal: abort.signal,
            logger: ctx.logger,
            environment: ctx.environment,
            // Its sessions are open and about to be released: the profiled load may start.
            aroundLoad: {
              start: async () => resolve(),
              stop: async () => undefined,
            },
          }).then(
            (r) => (finished = r),
            (err: unknown) => (finished = err instanceof Error ? err : new Error(String(err))),
          );
          void running.then((v) => {
            ctx.signal?.removeEventListener('abort', onMainAbort);
            if (v instanceof Error) reject(new PgloadError(v instanceof PgloadError ? v.kind : 'connection', `The background statement could not run, so nothing was measured under load: ${errorMessage(v)}`));
            else resolve();
          });
        }),
      stop: async () => {
        stoppedByUs = finished === undefined;
        abort.abort();
        await running;
      },
    },
  });
  if (finished instanceof Error || finished === undefined) return result;
  const summary = summarize(finished, stoppedByUs);
  const counters = result.insight.counters;
  const notes = [
    ...counters.notes,
    `A background load ran beside this one (${summary.ratePerSecond !== null ? `${summary.ratePerSecond}/s` : plural(summary.clients, 'client')}, ${summary.throughputQps.toFixed(1)} q/s): the database's counters include its work; the latencies and waits are the profiled statement's alone.`,
  ];
  // pg_stat_statements' entry is the one whose calls grew most: with a busier background, that is the background's.
  let statement = counters.statement;
  const bgCalls = summary.requests.ok + summary.requests.failed;
  const mainCalls = result.load.requests.total;
  if (statement && Math.abs(statement.calls - bgCalls) < Math.abs(statement.calls - mainCalls)) {
    statement = null;
    notes.push("pg_stat_statements' figures for the statement are not shown: with the background running, its entry could not be told apart from the background's.");
  }
  return {
    ...result,
    load: { ...result.load, background: summary },
    insight: { ...result.insight, counters: { ...counters, statement, notes } },
  };
}

function summarize(r: ProfileResult, stoppedByUs: boolean): BackgroundSummary {
  return {
    sql: r.sql,
    clients: r.load.clients,
    ratePerSecond: r.options.rate?.perSecond ?? null,
    mode: r.options.executionMode,
    requests: { ok: r.load.requests.ok, failed: r.load.requests.failed },
    throughputQps: r.load.throughputQps,
    latency: r.load.latency,
    errors: r.errors.filter((e) => e.phase === 'load').slice(0, 5).map((e) => ({ code: e.code, message: e.message, count: e.count })),
    endedEarly: stoppedByUs ? null : `it ended before the profiled load did: ${r.statusDetail ?? r.status}`,
  };
}
