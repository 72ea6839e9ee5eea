/**
 * Text and Markdown from a result object. Formatters only read the result: they never recompute statistics.
 */
import type { ProgressView } from './protocol';
import type { AbResult, CapturedPlan, CheckOutcome, Comparison, ComparisonMetric, ErrorGroup, Hint, LatencyStats, ProfileResult, SweepResult } from './result';

/** What the formatters read: the result, with or without its HDR encodings. */
export type ReportInput = Omit<ProfileResult, 'hdr'>;
import { mdBlock, mdCode, mdText, oneLine } from './text';
import { formatAgo, formatBytesShort, formatCount, formatMs, formatPercent, formatQps, plural } from './numbers';
import { describeLoad, modeLines } from './modes';
export { formatAgo, formatCount, formatMs, formatPercent, formatQps, formatRate } from './numbers';
export { describeLoad, modeLines } from './modes';






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


function statusLine(r: ReportInput): string | undefined {
  if (r.status === 'completed') return undefined;
  return `${r.status.toUpperCase()}: ${r.statusDetail ?? ''}`;
}

function target(r: ReportInput): string {
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

function serverLine(r: ReportInput): string {
  const s = r.server.settings;
  return `PostgreSQL ${r.server.version} · work_mem ${s.work_mem} · shared_buffers ${s.shared_buffers} · max_connections ${s.max_connections} · parallel workers/gather ${s.max_parallel_workers_per_gather} · jit ${s.jit}`;
}

function percentileLine(l: LatencyStats): string {
  return `p50 ${formatMs(l.p50Ms)} · p90 ${formatMs(l.p90Ms)} · p95 ${formatMs(l.p95Ms)} · p99 ${formatMs(l.p99Ms)} · p99.9 ${formatMs(l.p999Ms)}`;
}

function errorLines(errors: ErrorGroup[], max = 8): string[] {
  return errors.slice(0, max).map((e) => {
    const when = e.phase === 'load' ? `first at ${formatMs(e.firstAtMs)}` : `during ${e.phase}`;
    return `${formatCount(e.count)}× ${e.code} ${e.message} (${when})`;
  });
}

/** The terminal report, like a "Results Summary" but complete. */
export function formatTextReport(r: ReportInput): string {
  const L = r.load;
  const b = r.baseline.latency;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(18)}${value}`);
  lines.push(`pgload ${r.tool.version} — ${oneLine(r.sql, 100)}`);
  const st = statusLine(r);
  if (st) lines.push(`  ${st}`);
  const short = shortRunWarning(r);
  if (short) lines.push(`  NOTE: ${short}`);
  row('Target', target(r));
  const pooler = poolerLine(r);
  if (pooler) row('Pooler', pooler);
  row('Server', serverLine(r));
  row('Mode', modeText(r));
  const params = paramsLine(r);
  if (params) row('Parameters', params);
  lines.push('');
  lines.push('Baseline (1 client, one request at a time)');
  row('Cold (first run)', formatMs(r.baseline.coldMs));
  row('Warm', `mean ${formatMs(b.meanMs)} · p50 ${formatMs(b.p50Ms)} · p95 ${formatMs(b.p95Ms)} · max ${formatMs(b.maxMs)} (${b.count} runs)`);
  lines.push('');
  lines.push(`Under load (${describePlan(r)})`);
  row('Total time', formatMs(L.wallMs));
  row('Requests', `${formatCount(L.requests.total)} · ${formatCount(L.requests.ok)} ok · ${formatCount(L.requests.failed)} failed`);
  row('Throughput', `${formatQps(L.throughputQps)} ${L.statements ? 'requests/s' : 'queries/s'}`);
  row('Latency', `mean ${formatMs(L.latency.meanMs)} · min ${formatMs(L.latency.minMs)} · max ${formatMs(L.latency.maxMs)} · stddev ${formatMs(L.latency.stddevMs)}`);
  row('Percentiles', percentileLine(L.latency));
  row(`Over ${formatMs(L.overThreshold.thresholdMs)}`, `${formatCount(L.overThreshold.count)} (${formatPercent(L.overThreshold.percent)})`);
  row('Slowdown', L.slowdown === null ? '–' : `${L.slowdown.toFixed(1)}× the single-run mean`);
  row('Connect', `p50 ${formatMs(L.connectMs.p50Ms)} · max ${formatMs(L.connectMs.maxMs)} (not in latency)`);
  const own = clientLine(r);
  if (own) row('pgload itself', own);
  for (const line of outageLines(r)) row('Outage', line);
  for (const l of [...modeLines(r), ...backgroundLines(r)]) lines.push(`  ${l}`);
  const scripts = scriptLines(r);
  if (scripts.length > 0) {
    lines.push('', 'Scripts (each request picks one by weight)');
    for (const l of scripts) lines.push(`  ${l}`);
  }
  const statements = statementLines(r);
  if (statements.length > 0) {
    lines.push('', 'Statements (each timed apart, inside its request)');
    for (const l of statements) lines.push(`  ${l}`);
  }
  if (r.errors.length > 0) {
    lines.push('');
    lines.push('Errors');
    for (const e of errorLines(r.errors)) lines.push(`  ${e}`);
    if (r.errors.length > 8) lines.push(`  … ${r.errors.length - 8} more kinds`);
  }
  const top = topNodeLines(r);
  if (top.length > 0) {
    lines.push('');
    lines.push(`Where the time goes (plan ${leadPlan(r)!.when === 'under-load' ? 'under load' : 'alone'}, each node's own time)`);
    for (const l of top) lines.push(`  ${l}`);
  }
  if (r.hints.length > 0) {
    lines.push('');
    lines.push('Why');
    for (const h of r.hints) {
      lines.push(`  [${h.severity}] ${h.title}${h.node ? ` — ${h.node}` : ''}\n    ${h.detail}\n    → ${h.action}`);
      const saving = estimateText(h);
      if (saving) lines.push(`    (${saving})`);
      if (h.sql) lines.push(`    ${h.sql}`);
    }
  }
  lines.push(...serverLines(r).map((l) => (l === '' ? l : `  ${l}`)));
  if (r.load.silence) lines.push('', `WARNING: ${r.load.silence.text}`);
  if (r.cleanup.leftoverSessions === null) lines.push('', `WARNING: ${r.cleanup.note ?? "pgload could not check whether pgload's sessions are gone."}`);
  else if (r.cleanup.leftoverSessions > 0) {
    lines.push('');
    lines.push(`WARNING: ${r.cleanup.leftoverSessions} pgload sessions were still on the server after the run.`);
  }
  return lines.join('\n');
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


const mdCell = mdText;

/** A Markdown report for a pull request or a ticket. */
export function formatMarkdownReport(r: ReportInput): string {
  const L = r.load;
  const b = r.baseline.latency;
  const out: string[] = [];
  out.push(`## pgload: ${mdCell(oneLine(r.sql, 80))}`);
  out.push('');
  const st = statusLine(r);
  if (st) out.push(`> **${st}**`, '');
  const short = shortRunWarning(r);
  if (short) out.push(`> ${short}`, '');
  out.push(...mdBlock(r.sql, 'sql'), '');
  out.push(`- **Target:** ${mdCode(target(r))} — ${mdCell(serverLine(r))}`);
  const pooler = poolerLine(r);
  if (pooler) out.push(`- **Pooler:** ${mdCell(pooler)}`);
  out.push(`- **Run:** ${describePlan(r)}; ${modeText(r)}; started ${r.startedAt}`);
  const params = paramsLine(r);
  if (params) out.push(`- **Parameters:** ${mdCell(params)}`);
  const own = clientLine(r);
  if (own) out.push(`- **pgload itself:** ${mdCell(own)}`);
  out.push('');
  out.push('| | Baseline (1 client) | Under load |');
  out.push('|---|---:|---:|');
  const rowMd = (label: string, a: string, c: string) => out.push(`| ${label} | ${a} | ${c} |`);
  rowMd('mean', formatMs(b.meanMs), formatMs(L.latency.meanMs));
  rowMd('p50', formatMs(b.p50Ms), formatMs(L.latency.p50Ms));
  rowMd('p90', formatMs(b.p90Ms), formatMs(L.latency.p90Ms));
  rowMd('p95', formatMs(b.p95Ms), formatMs(L.latency.p95Ms));
  rowMd('p99', formatMs(b.p99Ms), formatMs(L.latency.p99Ms));
  rowMd('p99.9', formatMs(b.p999Ms), formatMs(L.latency.p999Ms));
  rowMd('max', formatMs(b.maxMs), formatMs(L.latency.maxMs));
  rowMd('requests', `${b.count} (+1 cold: ${formatMs(r.baseline.coldMs)})`, `${formatCount(L.requests.ok)} ok · ${formatCount(L.requests.failed)} failed`);
  out.push('');
  out.push(
    `**Throughput** ${formatQps(L.throughputQps)} queries/s · **total time** ${formatMs(L.wallMs)} · ` +
      `**over ${formatMs(L.overThreshold.thresholdMs)}** ${formatCount(L.overThreshold.count)} (${formatPercent(L.overThreshold.percent)}) · ` +
      `**slowdown** ${L.slowdown === null ? '–' : `${L.slowdown.toFixed(1)}×`} · **connect** p50 ${formatMs(L.connectMs.p50Ms)}, max ${formatMs(L.connectMs.maxMs)}`,
  );
  for (const l of [...modeLines(r), ...backgroundLines(r)]) out.push('', `- ${mdCell(l)}`);
  const scripts = scriptLines(r);
  if (scripts.length > 0) out.push('', '**Scripts** (each request picks one by weight)', '', ...scripts.map((l) => `- ${mdCell(l)}`));
  const statements = statementLines(r);
  if (statements.length > 0) out.push('', '**Statements** (each timed apart, inside its request)', '', ...statements.map((l) => `- ${mdCell(l)}`));
  if (r.errors.length > 0) {
    out.push('', '### Errors', '', '| count | code | message | when |', '|---:|---|---|---|');
    for (const e of r.errors.slice(0, 20)) {
      out.push(`| ${formatCount(e.count)} | ${mdCell(e.code)} | ${mdCell(e.message)} | ${e.phase === 'load' ? `first at ${formatMs(e.firstAtMs)}` : e.phase} |`);
    }
  }
  const top = topNodeLines(r);
  if (top.length > 0) {
    out.push('', `### Where the time goes (plan ${leadPlan(r)!.when === 'under-load' ? 'under load' : 'alone'})`, '');
    for (const l of top) out.push(`- ${mdCell(l)}`);
  }
  if (r.hints.length > 0) {
    out.push('', '### Why', '');
    for (const h of r.hints) {
      const saving = estimateText(h);
      out.push(`- **${h.severity}: ${mdCell(h.title)}**${h.node ? ` (${mdCell(h.node)})` : ''} — ${mdCell(h.detail)} → ${mdCell(h.action)}${h.sql ? ` ${mdCode(h.sql)}` : ''}${saving ? ` _(${mdCell(saving)})_` : ''}`);
    }
  }
  const server = serverLines(r);
  if (server.length > 0) {
    out.push('', '### Server side', '');
    for (const l of server.slice(2)) out.push(`- ${mdCell(l)}`);
  }
  out.push('', `<sub>pgload ${r.tool.version} · fingerprint ${r.fingerprint}</sub>`, '');
  return out.join('\n');
}


/** The CodeLens title for a statement's last result: `p50 12 ms · p95 48 ms · 50 clients · 3 min ago`. */
export function formatLensTitle(r: Pick<ProfileResult, 'load' | 'finishedAt' | 'status'>, now: number, stale: boolean): string {
  const parts = [`p50 ${formatMs(r.load.latency.p50Ms)}`, `p95 ${formatMs(r.load.latency.p95Ms)}`, `${r.load.clients} client${r.load.clients === 1 ? '' : 's'}`, formatAgo(r.finishedAt, now)];
  if (r.load.requests.failed > 0) parts.push(`${formatCount(r.load.requests.failed)} failed`);
  if (r.status !== 'completed') parts.push(r.status);
  return `${stale ? '$(history) stale: ' : ''}${parts.join(' · ')}`;
}

/** `pgload ab`: the legs, the two statements when they differ, then the comparison. */
export function formatAbReport(r: AbResult, sql?: { a: string; b: string }): string {
  const lines = [`A/B in ${r.order.length} alternating legs (${r.order.join(' ')}), ${describePlan(r.a)} per side`];
  if (sql) lines.push(`  A: ${oneLine(sql.a, 100)}`, `  B: ${oneLine(sql.b, 100)}`);
  lines.push(formatComparison(r.comparison));
  return lines.join('\n');
}

/** The live progress of the load, as every layer shows it: `500 / 1,000 requests · 105 q/s · p95 25.0 ms · 0 errors`. */
export function formatProgress(p: ProgressView): string {
  const count = p.total !== null ? `${formatCount(p.done)} / ${formatCount(p.total)} requests` : `${formatCount(p.done)} requests · ${formatMs(p.elapsedMs)} of ${formatMs(p.plannedMs)}`;
  return `${count} · ${formatProgressRate(p)} · ${p.errors} errors`;
}

/** The short form for a status bar: `105 q/s · p95 25.0 ms`. */
export function formatProgressRate(p: Pick<ProgressView, 'qps' | 'p95Ms'>): string {
  return `${formatQps(p.qps)} q/s · p95 ${formatMs(p.p95Ms)}`;
}

/** The status bar's words for where a run is: the phase, then the live rate once the load runs. */
export function statusForProgress(p: Pick<ProgressView, 'phase' | 'qps' | 'p95Ms'>): string {
  switch (p.phase) {
    case 'preparing':
    case 'connecting':
      return 'pgload connecting…';
    case 'baseline':
      return 'pgload baseline…';
    case 'closing':
      return 'pgload closing sessions…';
    case 'load':
      return `pgload ${formatProgressRate(p)}`;
  }
}


/** The sweep report: a table per step, the fitted law and the pool size to use. */
export function formatSweepReport(r: SweepResult): string {
  const lines: string[] = [];
  lines.push(`pgload ${r.tool.version} sweep — ${oneLine(r.sql, 100)}`);
  lines.push(`  ${r.connection.user}@${r.connection.host}:${r.connection.port}/${r.connection.database} · PostgreSQL ${r.server.version} · ${formatMs(r.stepDurationMs)} per step, 1 warm-up request per client excluded`);
  lines.push('');
  lines.push(`  ${'clients'.padStart(7)}  ${'queries/s'.padStart(10)}  ${'± noise'.padStart(8)}  ${'p50'.padStart(9)}  ${'p95'.padStart(9)}  ${'p99'.padStart(9)}  ${'failed'.padStart(6)}  ${'ran'.padStart(8)}  ${'USL fit'.padStart(10)}`);
  for (const s of r.steps) {
    const fitted = r.usl ? formatQps(r.usl.lambda * s.clients / (1 + r.usl.sigma * (s.clients - 1) + r.usl.kappa * s.clients * (s.clients - 1))) : '–';
    // ± two standard errors (batch means); '?' when the step had too few batches to tell.
    const noise = s.throughputSe === null ? '?' : `± ${formatQps(2 * s.throughputSe)}`;
    const ran = s.wallMs !== undefined ? `${formatMs(s.wallMs)}${s.extended === 'extended' ? '+' : s.extended === 'capped' ? '!' : ''}` : '–';
    lines.push(`  ${String(s.clients).padStart(7)}  ${formatQps(s.throughputQps).padStart(10)}  ${noise.padStart(8)}  ${formatMs(s.p50Ms).padStart(9)}  ${formatMs(s.p95Ms).padStart(9)}  ${formatMs(s.p99Ms).padStart(9)}  ${String(s.failed).padStart(6)}  ${ran.padStart(8)}  ${fitted.padStart(10)}`);
  }
  if (r.steps.some((s) => s.extended)) lines.push(`  (+ a step ran longer than planned to complete enough requests; ! it stopped at the step cap before that)`);
  lines.push('');
  if (r.usl) {
    lines.push(
      `  Universal Scalability Law: λ ${r.usl.lambda.toFixed(2)} q/s per client, σ ${r.usl.sigma.toFixed(4)} (contention), κ ${r.usl.kappa.toFixed(6)} (coherency), R² ${r.usl.r2.toFixed(3)}; ` +
        (r.usl.peakClients === null ? 'no peak' : `peak throughput at N* ≈ ${r.usl.peakClients.toFixed(1)} clients`),
    );
  }
  if (r.recommendation) lines.push(`  Pool size: ${r.recommendation.poolSize}${r.recommendation.saturated === false ? ' or more' : ''}. ${r.recommendation.reason}`);
  for (const n of r.notes) lines.push(`  Note: ${n}`);
  return lines.join('\n');
}

/** Application-pool configurations side by side (same statement, same users, one after the other). */
export function formatPoolComparison(runs: ReportInput[]): string {
  const lines: string[] = [];
  const first = runs[0];
  lines.push(`pgload ${first.tool.version} pools — ${oneLine(first.sql, 100)}`);
  const o = first.options;
  lines.push(`  ${o.pool?.users ?? first.load.clients} users · ${o.requests !== null ? `${formatCount(o.requests)} requests` : formatMs(o.durationMs)} per configuration, one after the other · ${target(first)}`);
  lines.push('');
  const head = ['pool', 'sessions', 'queries/s', 'p50', 'p95', 'p99', 'p95 wait', 'p95 db', 'wait %', 'timeouts', 'failed'];
  const rows = runs.map((r) => {
    const p = r.load.pool;
    const l = r.load.latency;
    const wait = p && l.meanMs > 0 ? `${((p.waitMs.meanMs * 100) / l.meanMs).toFixed(0)} %` : '–';
    return [
      p ? `${p.size}${p.maxOverflow ? ` + ${p.maxOverflow}` : ''}` : `${r.load.clients} clients`,
      String(p?.sessions ?? r.load.clients),
      formatQps(r.load.throughputQps),
      formatMs(l.p50Ms),
      formatMs(l.p95Ms),
      formatMs(l.p99Ms),
      p ? formatMs(p.waitMs.p95Ms) : '–',
      p ? formatMs(p.dbMs.p95Ms) : '–',
      wait,
      formatCount(p?.timeouts ?? 0),
      formatCount(r.load.requests.failed),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  lines.push(line(head));
  for (const r of rows) lines.push(line(r));
  lines.push('');
  for (const r of runs) {
    const p = r.load.pool;
    if (!p) continue;
    const share = r.load.latency.meanMs > 0 ? (p.waitMs.meanMs * 100) / r.load.latency.meanMs : 0;
    lines.push(
      `  ${p.size}${p.maxOverflow ? ` + ${p.maxOverflow}` : ''}: ${p.sessions} sessions for ${p.users} users; ${share >= 50 ? `${share.toFixed(0)} % of a request's time is waiting for a connection (queueing in the application)` : `${(100 - share).toFixed(0)} % of a request's time is in the database`}; the database's own p95 is ${formatMs(p.dbMs.p95Ms)}.`,
    );
  }
  const label = (r: ReportInput) => (r.load.pool ? `${r.load.pool.size}${r.load.pool.maxOverflow ? ` + ${r.load.pool.maxOverflow}` : ''}` : `${r.load.clients} clients`);
  const fastest = runs.reduce((a, b) => (b.load.throughputQps > a.load.throughputQps ? b : a));
  const steadiest = runs.reduce((a, b) => (b.load.latency.p95Ms < a.load.latency.p95Ms ? b : a));
  lines.push(
    `  Highest throughput: ${label(fastest)} (${formatQps(fastest.load.throughputQps)} q/s) · lowest p95: ${label(steadiest)} (${formatMs(steadiest.load.latency.p95Ms)}). ` +
      'When a smaller pool matches the throughput, the extra sessions of the larger one only queue inside the database.',
  );
  return lines.join('\n');
}

/** `pgload compare`: the figures side by side with their intervals, the verdict, hints and plans. */
export function formatComparison(c: Comparison): string {
  const [la, lb] = c.labels;
  const lines: string[] = [];
  lines.push(`pgload ${c.tool.version} compare — ${la} → ${lb}`);
  lines.push(`  ${la}: ${oneLine(c.a.sql, 90)} (${c.a.clients} clients, ${formatCount(c.a.requests)} requests, ${c.a.startedAt})`);
  lines.push(`  ${lb}: ${oneLine(c.b.sql, 90)} (${c.b.clients} clients, ${formatCount(c.b.requests)} requests, ${c.b.startedAt})`);
  lines.push('');
  const fmt = (m: ComparisonMetric, v: number) => (m.unit === 'ms' ? formatMs(v) : `${formatQps(v)} q/s`);
  const rows = c.metrics.map((m) => [
    m.name,
    fmt(m, m.a),
    `[${fmt(m, m.ciA[0])} – ${fmt(m, m.ciA[1])}]`,
    fmt(m, m.b),
    `[${fmt(m, m.ciB[0])} – ${fmt(m, m.ciB[1])}]`,
    `${m.change >= 0 ? '+' : '−'}${Math.abs(m.change * 100).toFixed(1)} %`,
    m.significant ? (m.better === 'b' ? `${lb} better` : `${la} better`) : 'within noise',
  ]);
  const head = ['', la, '95 % interval', lb, '95 % interval', 'change', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((x, i) => (i === 0 || i === cells.length - 1 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ')}`.trimEnd();
  lines.push(line(head));
  for (const r of rows) lines.push(line(r));
  lines.push('');
  lines.push(`  ${c.summary}`);
  for (const n of c.notes) lines.push(`  Note: ${n}`);
  if (c.hints.appeared.length || c.hints.disappeared.length) {
    lines.push('');
    for (const h of c.hints.appeared) lines.push(`  + hint in ${lb}: [${h.severity}] ${h.title}${h.node ? ` — ${h.node}` : ''}`);
    for (const h of c.hints.disappeared) lines.push(`  − hint gone in ${lb}: [${h.severity}] ${h.title}${h.node ? ` — ${h.node}` : ''}`);
  }
  if (c.plan) {
    lines.push('');
    for (const n of c.plan.notes) lines.push(`  Plan: ${n}`);
  }
  return lines.join('\n');
}

/** The timeline as CSV (one row per interval), for a spreadsheet or a plotting tool. */
export function formatTimelineCsv(r: ReportInput): string {
  const head = 't_ms,duration_ms,count,errors,qps,p50_ms,p95_ms,max_ms';
  const cell = (v: number | null) => (v === null || v === undefined ? '' : String(Math.round(v * 1000) / 1000));
  const rows = r.timeline.map((p) => [p.tMs, p.durationMs, p.count, p.errors, p.qps, p.p50Ms, p.p95Ms, p.maxMs].map(cell).join(','));
  return [head, ...rows].join('\n') + '\n';
}

/** `pgload check`: one row per check, then what failed. */
export function formatCheckReport(outcomes: CheckOutcome[], file: string): string {
  const lines: string[] = [`pgload check ${file}`, ''];
  const head = ['check', 'clients', 'p50', 'p95', 'p99', 'queries/s', 'failed', 'result'];
  const rows = outcomes.map((o) => {
    const r = o.result;
    return [
      oneLine(o.name, 40),
      r ? String(r.load.clients) : '–',
      r ? formatMs(r.load.latency.p50Ms) : '–',
      r ? formatMs(r.load.latency.p95Ms) : '–',
      r ? formatMs(r.load.latency.p99Ms) : '–',
      r ? formatQps(r.load.throughputQps) : '–',
      r ? formatCount(r.load.requests.failed) : '–',
      o.status === 'passed' ? 'PASS' : o.status === 'failed' ? 'FAIL' : 'ERROR',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`.trimEnd();
  lines.push(line(head), ...rows.map(line), '');
  for (const o of outcomes) for (const f of o.failures) lines.push(`  ${o.status === 'failed' ? 'FAIL' : 'ERROR'} ${o.name}: ${f}`);
  const count = (s: CheckOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  lines.push(`${count('passed')} passed, ${count('failed')} failed${count('error') ? `, ${count('error')} could not run` : ''}`);
  return lines.join('\n');
}

/** The same as a Markdown table, for a pull-request comment or a job summary. */
export function formatCheckMarkdown(outcomes: CheckOutcome[]): string {
  const out = ['| check | clients | p50 | p95 | p99 | q/s | budgets | result |', '|---|---:|---:|---:|---:|---:|---|---|'];
  for (const o of outcomes) {
    const r = o.result;
    const cells = [
      mdCell(o.name),
      r ? String(r.load.clients) : '–',
      r ? formatMs(r.load.latency.p50Ms) : '–',
      r ? formatMs(r.load.latency.p95Ms) : '–',
      r ? formatMs(r.load.latency.p99Ms) : '–',
      r ? formatQps(r.load.throughputQps) : '–',
      mdCell(o.budgets.join(', ')),
      o.status === 'passed' ? '✅ pass' : `❌ ${mdCell(o.failures.join('; '))}`,
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n') + '\n';
}
