/** Reports over several runs or steps: a sweep, pool configurations side by side, a comparison, an A/B test, check outcomes, and the timeline as CSV. */
import type { AbResult, CheckOutcome, Comparison, ComparisonMetric, SweepRecheck, SweepResult } from '../result';
import { oneLine } from '../text';
import { formatBytesShort, formatCount, formatMs, formatQps, formatRate, plural, upperFirst } from '../numbers';
import { type ReportInput, describePlan, target } from './lines';
import { mdCell } from './text';

/** `pgload ab`: the legs, the two statements when they differ, then the comparison. */
export function formatAbReport(r: AbResult, sql?: { a: string; b: string }): string {
  const lines = [`A/B in ${r.order.length} alternating legs (${r.order.join(' ')}), ${describePlan(r.a)} per side`];
  if (sql) lines.push(`  A: ${oneLine(sql.a, 100)}`, `  B: ${oneLine(sql.b, 100)}`);
  if (r.indexTrial) lines.push(...indexTrialLines(r.indexTrial));
  lines.push(formatComparison(r.comparison));
  return lines.join('\n');
}

/** An index trial in words: each index, its builds, its size, and whether it is still there. */
export function indexTrialLines(t: NonNullable<AbResult['indexTrial']>): string[] {
  const out = [`Index trial on ${t.target} (allowed for this database): built before B's legs, dropped before A's.`];
  for (const x of t.indexes) {
    const builds = x.buildMs.length ? `built ${x.buildMs.length === 1 ? 'once' : `${x.buildMs.length} times`} in ${x.buildMs.map((m) => formatMs(m)).join(', ')}` : 'never built (the trial stopped first)';
    out.push(`  ${x.sql}: ${builds}${x.sizeBytes !== null ? `, ${formatBytesShort(x.sizeBytes)}` : ''}; ${x.kept ? 'kept, as asked' : 'dropped at the end'}.`);
  }
  if (t.dropFailed) out.push(`  NOT DROPPED: ${t.dropFailed}.`);
  return out;
}


/** The sweep report: a table per step, the fitted law and the pool size to use. */
/** How far the scalability curve may miss a step it was not fitted on before it may extrapolate beyond the steps. */
export const HOLDOUT_TOLERANCE_PCT = 10;

/** The curve's measured error on a step it was not fitted on, in words. */
export function holdoutWords(h: { clients: number; fittedUpTo: number; predictedQps: number; measuredQps: number; errorPct: number }): string {
  return `fitted on the steps up to ${h.fittedUpTo} clients, the curve predicted ${h.predictedQps.toFixed(1)} q/s at ${h.clients}, measured ${h.measuredQps.toFixed(1)} (error ${h.errorPct >= 0 ? '+' : '−'}${Math.abs(h.errorPct).toFixed(1)} %)`;
}

/**
 * What the curve may claim about its peak: the clients (within the steps, or beyond them when its measured error
 * allows), or why not — a poor fit, no peak at all, or a peak beyond the steps its error does not allow claiming.
 */
export function peakClaim(r: Pick<SweepResult, 'usl' | 'steps' | 'recheck'>): number | 'poor' | 'none' | 'unclaimed' | 'drifted' | null {
  const u = r.usl;
  if (!u) return null;
  // Steps measured at different speeds: the curve through them is no law of the statement's.
  if (r.recheck?.verdict === 'drifted') return 'drifted';
  if (u.r2 < 0.9) return 'poor';
  if (u.peakClients === null) return 'none';
  const beyond = u.peakClients > (r.steps.at(-1)?.clients ?? 0);
  return beyond && !(u.holdout && Math.abs(u.holdout.errorPct) <= HOLDOUT_TOLERANCE_PCT) ? 'unclaimed' : u.peakClients;
}

function peakText(c: ReturnType<typeof peakClaim>): string {
  if (typeof c === 'number') return `peak throughput at N* ≈ ${c.toFixed(1)} clients`;
  if (c === 'drifted') return "no peak is claimed: the server's speed changed during the sweep";
  return c === 'poor' ? 'the fit is too poor to place a peak' : c === 'unclaimed' ? 'no peak within the steps (beyond them is not claimed: see the note)' : 'no peak';
}

/**
 * The speed check as a line of its own, beside the pool size: held, unclear or shifted, or not done (a cancel). Null when
 * there is none, or when it drifted: then it is the reason there is no pool size, said in its place.
 */
export function speedCheckLine(r: Pick<SweepResult, 'recheck' | 'steps'>): string | null {
  if (r.recheck === null) return `Speed check: not done — the sweep was cancelled while measuring ${plural(r.steps[0]?.clients ?? 1, 'client')} again after the last step.`;
  if (!r.recheck || r.recheck.verdict === 'drifted') return null;
  return `Speed check: ${recheckFinding(r.recheck)}`;
}

/** The first step measured again at the end, in one sentence that says what it lets the sweep claim. */
export function recheckWords(r: SweepRecheck): string {
  const finding = recheckFinding(r);
  return r.verdict === 'drifted' ? `No pool size: ${finding}` : upperFirst(finding);
}

/** The speed check's change, signed to one decimal: "−15.3 %". */
export const recheckChange = (r: SweepRecheck): string => `${r.changePct >= 0 ? '+' : '−'}${Math.abs(r.changePct).toFixed(1)} %`;

/** The speed check's two rates, for a sentence about another answer: "1 client gave 13.1 q/s after its last step against 15.4 q/s at its start". */
export const recheckRates = (r: SweepRecheck): string => `${plural(r.clients, 'client')} gave ${formatQps(r.againQps)} q/s after its last step against ${formatQps(r.firstQps)} q/s at its start`;

/**
 * What the measurement again found and what it means, as a clause that can follow a label ("Speed check: …", "No pool
 * size: …") or, capitalised, stand alone.
 */
export function recheckFinding(r: SweepRecheck): string {
  const pct = recheckChange(r);
  const measured = `${plural(r.clients, 'client')} gave ${formatRate(r.againQps, r.againSe)} against ${formatRate(r.firstQps, r.firstSe)} at the start (${pct}`;
  if (r.verdict === 'held') return `measured again after the last step, ${measured}, within 5 %): the server's speed held through the sweep.`;
  if (r.verdict === 'unclear')
    return `measured again after the last step, ${measured}, within the noise): the steps are too noisy to tell whether the server's speed held, so the pool size is weak evidence; longer steps (--step-duration) tell.`;
  if (r.verdict === 'shifted')
    return `measured again after the last step, ${measured}, beyond the noise): the server's speed shifted by more than 5 % during the sweep, so the steps compare less well and the pool size is weak evidence.`;
  return (
    `the server's speed changed during the sweep. Measured again after the last step, ${measured}, beyond the noise), ` +
    `so steps measured at different times do not compare (other load on the server, a cache that warmed up, a CPU's clock). Run the sweep again when the server is steady.`
  );
}

/** What a step cut short by a cancel is, in the text report's footnote and the panel's tooltip. */
export const PARTIAL_STEP = 'cut short by the cancel: shown, but neither fitted nor used for the pool size';

export function formatSweepReport(r: SweepResult): string {
  const lines: string[] = [];
  lines.push(`pgload ${r.tool.version} sweep — ${oneLine(r.sql, 100)}`);
  lines.push(`  ${r.connection.user}@${r.connection.host}:${r.connection.port}/${r.connection.database} · PostgreSQL ${r.server.version} · ${formatMs(r.stepDurationMs)} per step, 1 warm-up request per client excluded`);
  lines.push('');
  lines.push(`  ${'clients'.padStart(7)}  ${'queries/s'.padStart(10)}  ${'± noise'.padStart(8)}  ${'p50'.padStart(9)}  ${'p95'.padStart(9)}  ${'p99'.padStart(9)}  ${'failed'.padStart(6)}  ${'ran'.padStart(8)}  ${'USL fit'.padStart(10)}`);
  for (const s of r.steps) {
    const fitted = r.usl && !s.partial ? formatQps(r.usl.lambda * s.clients / (1 + r.usl.sigma * (s.clients - 1) + r.usl.kappa * s.clients * (s.clients - 1))) : '–';
    // ± two standard errors (batch means); '?' when the step had too few batches to tell.
    const noise = s.throughputSe === null ? '?' : `± ${formatQps(2 * s.throughputSe)}`;
    const ran = s.wallMs !== undefined ? `${formatMs(s.wallMs)}${s.extended === 'extended' ? '+' : s.extended === 'capped' ? '!' : ''}` : '–';
    lines.push(`  ${`${s.clients}${s.partial ? '*' : ''}`.padStart(7)}  ${formatQps(s.throughputQps).padStart(10)}  ${noise.padStart(8)}  ${formatMs(s.p50Ms).padStart(9)}  ${formatMs(s.p95Ms).padStart(9)}  ${formatMs(s.p99Ms).padStart(9)}  ${String(s.failed).padStart(6)}  ${ran.padStart(8)}  ${fitted.padStart(10)}`);
  }
  if (r.steps.some((s) => s.extended)) lines.push(`  (+ a step ran longer than planned to complete enough requests; ! it stopped at the step cap before that)`);
  if (r.steps.some((s) => s.partial)) lines.push(`  (* ${PARTIAL_STEP})`);
  lines.push('');
  if (r.usl) {
    lines.push(
      `  Universal Scalability Law: λ ${r.usl.lambda.toFixed(2)} q/s per client, σ ${r.usl.sigma.toFixed(4)} (contention), κ ${r.usl.kappa.toFixed(6)} (coherency), R² ${r.usl.r2.toFixed(3)}; ` +
        // A curve that fits poorly claims no peak: the steps are the answer (see the note).
        peakText(peakClaim(r)),
    );
    if (r.usl.holdout) lines.push(`  The curve's measured error: ${holdoutWords(r.usl.holdout)}.`);
  }
  if (r.recommendation) lines.push(`  Pool size: ${r.recommendation.poolSize}${r.recommendation.saturated === false ? ' or more' : ''}. ${r.recommendation.reason}`);
  const check = speedCheckLine(r);
  if (check) lines.push(`  ${check}`);
  else if (r.recheck) lines.push(`  ${recheckWords(r.recheck)}`);
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
      p ? `${p.size}${p.maxOverflow ? ` + ${p.maxOverflow}` : ''}` : plural(r.load.clients, 'client'),
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
  const label = (r: ReportInput) => (r.load.pool ? `${r.load.pool.size}${r.load.pool.maxOverflow ? ` + ${r.load.pool.maxOverflow}` : ''}` : plural(r.load.clients, 'client'));
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
  lines.push(`  ${la}: ${oneLine(c.a.sql, 90)} (${plural(c.a.clients, 'client')}, ${formatCount(c.a.requests)} requests, ${c.a.startedAt})`);
  lines.push(`  ${lb}: ${oneLine(c.b.sql, 90)} (${plural(c.b.clients, 'client')}, ${formatCount(c.b.requests)} requests, ${c.b.startedAt})`);
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
