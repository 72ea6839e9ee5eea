/** The facts of one run, a line each, as every report (terminal, Markdown, panel) says them. */
import type { CapturedPlan, ErrorGroup, Hint, LatencyStats, ProfileResult } from '../result';
import { oneLine } from '../text';
import { formatBytesShort, formatCount, formatMs, formatPercent, formatQps, plural } from '../numbers';
import { describeLoad } from '../modes';

/** What the formatters read: the result, with or without its HDR encodings. */
export type ReportInput = Omit<ProfileResult, 'hdr'>;






export function describePlan(r: ReportInput): string {
  const o = r.options;
  const what = o.requests !== null ? `${formatCount(o.requests)} requests` : `${formatMs(o.durationMs)}`;
  const warm = o.warmupPerClient > 0 ? `, ${o.warmupPerClient} warm-up per client excluded` : '';
  return describeLoad(o, what, warm);
}

/** A transaction's or a mix's statements under load, one line each: where the request's time goes. */
export function statementLines(r: ReportInput): string[] {
  const st = r.load.statements;
  if (!st || st.length === 0) return [];
  const many = new Set(st.map((x) => x.script)).size > 1;
  return st.map(
    (x) =>
      `${many ? `${x.script} ` : ''}#${x.index} ${oneLine(x.sql, 60)} — p50 ${formatMs(x.latency.p50Ms)} · p95 ${formatMs(x.latency.p95Ms)} · ${formatPercent(x.shareOfRequest * 100)} of its request${x.failed ? ` · ${formatCount(x.failed)} failed here` : ''}`,
  );
}

/** A mix's scripts: how often each ran and how its requests went. */
export function scriptLines(r: ReportInput): string[] {
  const sc = r.load.scripts;
  if (!sc || sc.length === 0) return [];
  return sc.map(
    (x) =>
      `${x.name} @${x.weight}: ${formatPercent(x.share * 100)} of requests · ${formatQps(x.throughputQps)} q/s · p50 ${formatMs(x.latency.p50Ms)} · p95 ${formatMs(x.latency.p95Ms)} · ${formatCount(x.requests.ok)} ok · ${formatCount(x.requests.failed)} failed${x.transaction ? ` (${x.statements} statements, one transaction)` : ''}`,
  );
}

/** The background load's own figures, apart from the profiled statement's. */
export function backgroundLines(r: ReportInput): string[] {
  const bg = r.load.background;
  if (!bg) return [];
  const how = bg.ratePerSecond !== null ? `${bg.ratePerSecond}/s on ${bg.clients} session${bg.clients === 1 ? '' : 's'}` : `${bg.clients} client${bg.clients === 1 ? '' : 's'}`;
  const lines = [
    `Background: ${oneLine(bg.sql, 80)} (${how}${bg.mode === 'rolled-back' ? ', each rolled back' : ''})`,
    `Background figures: ${formatQps(bg.throughputQps)} queries/s · p50 ${formatMs(bg.latency.p50Ms)} · p95 ${formatMs(bg.latency.p95Ms)} · ${formatCount(bg.requests.ok)} ok · ${formatCount(bg.requests.failed)} failed`,
  ];
  for (const e of bg.errors) lines.push(`Background error: ${e.count} × ${e.code ? `${e.code} ` : ''}${oneLine(e.message, 100)}`);
  if (bg.endedEarly) lines.push(`Background: ${bg.endedEarly}`);
  return lines;
}



/** Windows where sessions were lost (a restart, terminated backends), and how the run came back. */
export function outageLines(r: ReportInput): string[] {
  return (r.load.outages ?? []).map(
    (o) =>
      `${formatMs(o.startMs)} → ${formatMs(o.endMs)} after the start (${formatMs(o.endMs - o.startMs)}): ${o.lostSessions} session${o.lostSessions === 1 ? '' : 's'} lost` +
      (o.recovered ? `, requests succeeding again after it (${r.load.reconnects ?? 0} reconnects in the run)` : ', not recovered before the end (run with --reconnect to connect again)'),
  );
}

/**
 * How much pgload's late event loop could add to a request of `roundTrips` round trips: each response may wait about
 * the median delay; the tail request one p99 delay and the median on its other trips.
 */
export function requestInflation(delay: { p50Ms: number; p99Ms: number }, roundTrips = 1): { p50Ms: number; p99Ms: number } {
  const k = Math.max(1, roundTrips);
  return { p50Ms: k * delay.p50Ms, p99Ms: delay.p99Ms + (k - 1) * delay.p50Ms };
}

/** pgload's own cost during the load, and whether it was the bottleneck. */
export function clientLine(r: ReportInput): string | undefined {
  const c = r.load.client;
  if (!c) return undefined;
  const loops = (c.loops ?? 1) > 1 ? ` · ${c.loops} event loops (worker threads)` : '';
  const pct = (d: number, l: number) => {
    const v = l > 0 ? (d * 100) / l : 0;
    return v < 0.1 ? '< 0.1' : v.toFixed(v < 10 ? 1 : 0);
  };
  const added = requestInflation({ p50Ms: c.eventLoopDelayP50Ms ?? 0, p99Ms: c.eventLoopDelayP99Ms }, c.roundTripsPerRequest);
  const trips = (c.roundTripsPerRequest ?? 1) > 1 ? `; ${Number(c.roundTripsPerRequest!.toFixed(1))} round trips per request` : '';
  const delay = `event-loop delay added p50 ${formatMs(c.eventLoopDelayP50Ms ?? 0)} / p99 ${formatMs(c.eventLoopDelayP99Ms)} (latency p50 may read ${pct(added.p50Ms, r.load.latency.p50Ms)} %, p99 ${pct(added.p99Ms, r.load.latency.p99Ms)} % high${trips})`;
  return `${c.cpuUsPerRequest.toFixed(0)} µs CPU per request · ${(c.cpuShareOfOneCore * 100).toFixed(0)} % of a core${loops} · ${delay}${c.clientBound ? ' — CLIENT-BOUND: latencies include pgload\'s own queueing' : ''}`;
}

/** "$1 int:1..100000 (e.g. 4711, 17) · prepared statement · seed 42", or undefined for a plain run. */
export function paramsLine(r: ReportInput): string | undefined {
  const o = r.options;
  if (!o.params?.length && !o.prepared) return undefined;
  const parts = (o.params ?? []).map((p) => {
    const shown = p.sample.slice(0, 3).map((v) => (v === null ? 'NULL' : oneLine(v, 20)));
    return `$${p.index} ${p.spec}${shown.length ? ` (e.g. ${shown.join(', ')})` : ''}`;
  });
  parts.push(o.prepared ? 'prepared statement' : 'unnamed statement (parsed every time)');
  if (o.params?.length && o.seed !== undefined) parts.push(`seed ${o.seed}`);
  return parts.join(' · ');
}

/** Below these a run's waits and timeline say little: a handful of samples, a few intervals. */
export const SHORT_RUN = { wallMs: 2_000, waitSamples: 20, intervals: 5 } as const;

/**
 * A run too short to trust its waits or its timeline: one sentence saying how short, in the result's own figures, and
 * what to do; undefined for a run long enough.
 */
export function shortRunWarning(r: Pick<ReportInput, 'load' | 'timeline' | 'insight' | 'status'>, where: 'cli' | 'editor' = 'cli'): string | undefined {
  if (r.status === 'cancelled') return undefined;
  const samples = r.insight.waits?.samples;
  const short = r.load.wallMs < SHORT_RUN.wallMs || r.timeline.length < SHORT_RUN.intervals || (samples !== undefined && samples < SHORT_RUN.waitSamples);
  if (!short) return undefined;
  const parts = [`${plural(r.timeline.length, 'timeline interval')}`, ...(samples !== undefined ? [plural(samples, 'wait sample')] : [])];
  return (
    `This run lasted ${formatMs(r.load.wallMs)} (${parts.join(', ')}): too short to trust its waits and its timeline, though its percentiles stand. ` +
    (where === 'editor' ? 'Run it for 10 s or more (the pgload.durationSeconds setting).' : 'Run it for 10 s or more (--duration 10s, or the pgload.durationSeconds setting).')
  );
}


export function statusLine(r: ReportInput): string | undefined {
  if (r.status === 'completed') return undefined;
  return `${r.status.toUpperCase()}: ${r.statusDetail ?? ''}`;
}

export function target(r: ReportInput): string {
  const c = r.connection;
  return `${c.user}@${c.host}:${c.port}/${c.database}${c.ssl ? ' (TLS)' : ''}`;
}

/** How each request ran: in a READ ONLY transaction, or a read-write one; rolled back either way. */
export function modeText(r: Pick<ReportInput, 'options' | 'connection'>): string {
  if (r.options.executionMode !== 'read-only') return 'each request in a transaction that is rolled back';
  return `each request in a READ ONLY transaction, rolled back${r.connection.pooler?.settingsRoute === 'transaction' ? ' (through the pooler)' : ''}`;
}

/** The pooler between pgload and PostgreSQL in one line: what it is, its mode, how the settings went, its queue. */
export function poolerLine(r: Pick<ReportInput, 'connection'>): string | undefined {
  const p = r.connection.pooler;
  if (!p) return undefined;
  const parts = [
    p.name,
    p.poolMode ? `${p.poolMode} pooling` : 'pool mode unknown (admin console not readable)',
    p.settingsRoute === 'set' ? 'settings set after connecting' : 'settings inside each request\'s transaction',
  ];
  if (p.readOnlyVerifiedSessions > 0) parts.push(`read-only checked on ${formatCount(p.readOnlyVerifiedSessions)} sessions`);
  if (p.wait) parts.push(`${formatMs(p.wait.meanPerTransactionMs)} per transaction waiting in the pooler`);
  if (p.serverSessionsSeen !== null) parts.push(`${formatCount(p.serverSessionsSeen)} server sessions seen serving the load`);
  return `${parts.join(' · ')} — recognised because ${p.detectedBy}`;
}

/** What acting on a hint could save, in words, from its estimate (its node's share × the latency under load). */
export function estimateText(h: Hint): string | undefined {
  const e = h.estimate;
  if (!e) return undefined;
  if (e.basis === 'planner-cost') return `could save about ${formatMs(e.perRequestMs)} per request — the planner's cost falls by ${formatPercent(e.share * 100)} (an estimate)`;
  return `could save up to ${formatMs(e.perRequestMs)} per request — its node is ${formatPercent(e.share * 100)} of the plan's time${e.plan === 'under-load' ? ' under load' : ' alone'}`;
}

/** The plan whose node times the report leads with: under load when it was taken, else alone. */
export function leadPlan(r: Pick<ReportInput, 'insight'>): CapturedPlan | undefined {
  const plans = r.insight?.plans ?? [];
  return plans.find((p) => p.when === 'under-load' && p.nodes?.length) ?? plans.find((p) => p.when === 'alone' && p.nodes?.length);
}

/** The nodes that took most of the time (≥ 5 %, at most `max`), one line each. */
export function topNodeLines(r: Pick<ReportInput, 'insight'>, max = 3): string[] {
  const plan = leadPlan(r);
  if (!plan?.nodes) return [];
  return [...plan.nodes]
    .sort((a, b) => b.share - a.share)
    .filter((n) => n.share >= 0.05)
    .slice(0, max)
    .map((n) => `${formatPercent(n.share * 100)} ${n.node} (${formatMs(n.exclusiveMs)}): ${n.what}`);
}

/**
 * The lead plan as a tree, one node a line with its own time and share — so that a finding's "Aggregate #3" can be
 * found in the terminal as in the Plan tab. Nodes under 1 % of the time that no finding names are left out (counted).
 */
export function planTreeLines(r: Pick<ReportInput, 'insight'>, referenced: readonly string[] = []): string[] {
  const plan = leadPlan(r);
  if (!plan?.nodes) return [];
  // A node a finding names is always shown, however little time it took.
  const shown = plan.nodes.filter((n) => n.share >= 0.01 || n.depth === 0 || referenced.includes(n.node));
  const lines = shown.map((n) => `${'  '.repeat(n.depth)}${n.node} — ${formatMs(n.exclusiveMs)} own, ${formatPercent(n.share * 100)}`);
  const hidden = plan.nodes.length - shown.length;
  return [`Plan (${plan.when === 'under-load' ? 'under load' : 'alone'}; each node's own time):`, ...lines.map((l) => `  ${l}`), ...(hidden ? [`  (${hidden} node${hidden === 1 ? '' : 's'} under 1 % not shown)`] : [])];
}

export function serverLine(r: ReportInput): string {
  const s = r.server.settings;
  return `PostgreSQL ${r.server.version} · work_mem ${s.work_mem} · shared_buffers ${s.shared_buffers} · max_connections ${s.max_connections} · parallel workers/gather ${s.max_parallel_workers_per_gather} · jit ${s.jit}`;
}

export function percentileLine(l: LatencyStats): string {
  return `p50 ${formatMs(l.p50Ms)} · p90 ${formatMs(l.p90Ms)} · p95 ${formatMs(l.p95Ms)} · p99 ${formatMs(l.p99Ms)} · p99.9 ${formatMs(l.p999Ms)}`;
}

export function errorLines(errors: ErrorGroup[], max = 8): string[] {
  return errors.slice(0, max).map((e) => {
    const when = e.phase === 'load' ? `first at ${formatMs(e.firstAtMs)}` : `during ${e.phase}`;
    return `${formatCount(e.count)}× ${e.code} ${e.message} (${when})`;
  });
}

/** The server side of the run: waits, counters, plans — as plain lines (the first is a heading). */
export function serverLines(r: ReportInput): string[] {
  const i = r.insight;
  if (!i) return [];
  const out: string[] = ['', 'Server side'];
  const w = i.waits;
  if (w && w.samples > 0) {
    const top = w.shares
      .filter((s) => s.share >= 0.01)
      .slice(0, 6)
      .map((s) => `${s.event} ${(s.share * 100).toFixed(0)} %`)
      .join(' · ');
    out.push(`Waits (${formatCount(w.samples)} samples every ${w.intervalMs} ms): ${top}`);
    out.push(
      `Active sessions: ${w.avgActive.toFixed(1)} on average${w.serverVcpus ? ` on ${w.serverVcpus} vCPUs (${w.vcpusSource})` : ' (server vCPUs unknown: --server-vcpus N)'} · sampling used ${w.overheadPct < 0.1 ? '< 0.1' : w.overheadPct.toFixed(1)} % of the server's capacity`,
    );
  }
  const d = i.counters.database;
  if (d) {
    out.push(
      `Database during the load: ${formatCount(d.temp_files)} temp files (${formatBytesShort(d.temp_bytes)}) · blocks read ${formatCount(d.blks_read)}, hit ${formatCount(d.blks_hit)} · ${formatCount(d.xact_commit)} commits, ${formatCount(d.xact_rollback)} rollbacks${d.deadlocks ? ` · ${d.deadlocks} deadlocks` : ''}`,
    );
  }
  const st = i.counters.statement;
  if (st) {
    out.push(
      `pg_stat_statements: ${formatCount(st.calls)} calls · mean ${formatMs(st.meanExecMs)}${st.stddevExecMs !== null ? ` ± ${formatMs(st.stddevExecMs)}` : ''} in the server · temp blocks ${formatCount(st.tempBlksWritten)} written, ${formatCount(st.tempBlksRead)} read · shared blocks ${formatCount(st.sharedBlksRead)} read, ${formatCount(st.sharedBlksHit)} hit`,
    );
  }
  for (const p of i.plans) {
    const label = p.when === 'alone' ? 'Plan alone' : 'Plan under load';
    out.push(p.unavailable ? `${label}: not available — ${p.unavailable}` : `${label}: planning ${formatMs(p.planningMs)} · execution ${formatMs(p.executionMs)}`);
  }
  if (i.planDiff) for (const n of i.planDiff.notes) out.push(`Alone vs under load: ${n}`);
  for (const n of r.connection.pooler?.notes ?? []) out.push(`Pooler: ${n}`);
  for (const n of i.counters.notes) out.push(`Note: ${n}`);
  return out.length > 2 ? out : [];
}
