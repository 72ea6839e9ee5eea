/**
 * A diagnosis as text and Markdown: the plan of its phases, then the four answers with their evidence, then the
 * measurements behind them. Reads the result only.
 */
import type { DiagnosePhase, DiagnoseResult, MeasuredChange, MeasuredFigure } from '../result';
import { formatMs, formatQps } from '../numbers';
import { formatSweepReport } from './compare';
import { planTreeLines } from './lines';
import { mdBlock, mdCode, mdText, oneLine } from '../text';

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** The phases and their time: printed before anything runs, and again (with what happened) in the report. */
export function formatDiagnosePlan(phases: DiagnosePhase[], budgetMs: number): string {
  const lines = [`Plan (budget ${secs(budgetMs)}):`];
  for (const [i, p] of phases.entries()) {
    const done = p.actualMs === null ? '' : ` → ${secs(p.actualMs)} ${p.status}${p.note ? ` (${p.note})` : ''}`;
    lines.push(`  ${i + 1}. ${p.label.padEnd(78)} ${secs(p.plannedMs).padStart(6)}${done}`);
  }
  return lines.join('\n');
}

const pool = (size: number, overflow: number) => `${size} + ${overflow}`;

/** The application's demand as the diagnosis ran it: "100 users pausing 5.50 s" or "17 requests/s arriving". */
export function appDemandWords(app: Pick<DiagnoseResult['app'], 'users' | 'thinkTimeMs' | 'rateQps'>): string {
  if (app.rateQps) return `${formatQps(app.rateQps)} requests/s arriving`;
  return `${app.users} users${app.thinkTimeMs ? ` pausing ${formatMs(app.thinkTimeMs)}` : ''}`;
}

export function formatDiagnoseReport(r: DiagnoseResult): string {
  const a = r.answers;
  const lines: string[] = [];
  lines.push(`pgload ${r.tool.version} diagnose — ${oneLine(r.sql, 100)}`);
  lines.push(
    `  ${appDemandWords(r.app)} on a pool of ${pool(r.app.poolSize, r.app.maxOverflow)} · ${r.runs.load.connection.host}:${r.runs.load.connection.port}/${r.runs.load.connection.database} · PostgreSQL ${r.runs.load.server.version} · ` +
      `took ${secs(r.elapsedMs)} of a ${secs(r.budgetMs)} budget${r.status === 'partial' ? ' · PARTIAL: see the phases' : ''}`,
  );
  lines.push('');
  if (a.best) lines.push(a.best.text, '');
  if (a.demand) {
    lines.push(`At your demand${a.demand.evidence === 'weak' ? ' (weak evidence)' : ''}:`);
    lines.push(`   ${a.demand.text}`);
    lines.push('');
  }
  if (a.capacity) lines.push(`Capacity${a.capacity.evidence === 'weak' ? ' (weak evidence)' : ''}:`, `   ${a.capacity.text}`, '');
  lines.push('1. Are my pool settings right?');
  lines.push(`   ${a.pool ? a.pool.text : 'Not answered.'}`);
  if (a.pool?.recommended) {
    const c = a.pool.current;
    const p = a.pool.recommended;
    lines.push(`   ${''.padEnd(16)}${'p95'.padStart(10)}${'q/s'.padStart(10)}${'pool wait p95'.padStart(15)}${'in database p95'.padStart(17)}`);
    lines.push(`   ${`yours ${pool(c.size, c.maxOverflow)}`.padEnd(16)}${formatMs(c.p95Ms).padStart(10)}${formatQps(c.throughputQps).padStart(10)}${formatMs(c.poolWaitP95Ms).padStart(15)}${formatMs(c.dbP95Ms).padStart(17)}`);
    lines.push(`   ${`recommended ${pool(p.size, p.maxOverflow)}`.padEnd(16)}${formatMs(p.p95Ms).padStart(10)}${formatQps(p.throughputQps).padStart(10)}${formatMs(p.poolWaitP95Ms).padStart(15)}${formatMs(p.dbP95Ms).padStart(17)}`);
  }
  lines.push('');
  lines.push('2. Which server parameters?');
  if (a.settings.length === 0) lines.push('   No hint suggested a setting for this statement: its plan neither spilled nor showed parallel or JIT overhead worth a change.');
  for (const s of a.settings) {
    lines.push(`   ${s.helps ? '✔' : '✘'} ${s.text}`);
    if (s.memory) lines.push(`     Memory: ${s.memory}`);
  }
  lines.push('');
  lines.push('3. How do I make this query hold up under concurrency?');
  if (a.query.length === 0) lines.push('   No plan finding: the plan shows no spill, misestimate or wasted work.');
  for (const [i, q] of a.query.entries()) {
    lines.push(`   ${i + 1}) ${q.title}${q.impactMs !== null ? ` — ${impactWords(q)}` : ''}`);
    lines.push(`      ${q.evidence}`);
    lines.push(`      → ${q.action}`);
    if (q.sql) lines.push(`      ${q.sql}`);
  }
  lines.push('');
  lines.push('4. Would raw SQL beat the ORM?');
  lines.push(`   ${a.orm ? a.orm.text : 'Not answered.'}`);
  if (a.orm) lines.push(`   What pgload cannot see: ${a.orm.cannotSee}`);
  if (r.notes.length) {
    lines.push('');
    lines.push('Notes');
    for (const n of r.notes) lines.push(`  - ${n}`);
  }
  lines.push('');
  lines.push(formatDiagnosePlan(r.phases, r.budgetMs));
  const L = r.runs.load.load;
  lines.push('');
  const tree = planTreeLines(r.runs.load, [...a.query.flatMap((q) => (q.node ? [q.node] : [])), ...r.runs.load.hints.flatMap((h) => (h.node ? [h.node] : []))]);
  if (tree.length) lines.push(...tree, '');
  lines.push(`The application's load: ${L.requests.ok} requests in ${secs(L.wallMs)}, ${formatQps(L.throughputQps)} q/s, p50 ${formatMs(L.latency.p50Ms)} · p95 ${formatMs(L.latency.p95Ms)} · p99 ${formatMs(L.latency.p99Ms)} · max ${formatMs(L.latency.maxMs)}; alone ${formatMs(r.runs.load.baseline.latency.p50Ms)}.`);
  if (r.runs.sweep) {
    lines.push('');
    lines.push(formatSweepReport(r.runs.sweep));
  }
  return lines.join('\n');
}

const md = mdText;

export function formatDiagnoseMarkdown(r: DiagnoseResult): string {
  const a = r.answers;
  const out: string[] = [];
  out.push(`# pgload diagnose${r.status === 'partial' ? ' (partial)' : ''}`, '', ...mdBlock(r.sql.trim(), 'sql'), '');
  out.push(`${appDemandWords(r.app)} on a pool of ${pool(r.app.poolSize, r.app.maxOverflow)}; PostgreSQL ${r.runs.load.server.version}; ${secs(r.elapsedMs)} of a ${secs(r.budgetMs)} budget.`, '');
  if (a.best) out.push(`**${md(a.best.text)}**`, '');
  if (a.demand) out.push(`## At your demand${a.demand.evidence === 'weak' ? ' (weak evidence)' : ''}`, '', md(a.demand.text), '');
  if (a.capacity) out.push(`## Capacity${a.capacity.evidence === 'weak' ? ' (weak evidence)' : ''}`, '', md(a.capacity.text), '');
  out.push('## 1. Pool settings', '', a.pool ? md(a.pool.text) : 'Not answered.', '');
  if (a.pool?.recommended) {
    const c = a.pool.current;
    const p = a.pool.recommended;
    out.push('| pool | p95 | q/s | pool wait p95 | in database p95 |', '|---|---:|---:|---:|---:|');
    out.push(`| yours ${pool(c.size, c.maxOverflow)} | ${formatMs(c.p95Ms)} | ${formatQps(c.throughputQps)} | ${formatMs(c.poolWaitP95Ms)} | ${formatMs(c.dbP95Ms)} |`);
    out.push(`| recommended ${pool(p.size, p.maxOverflow)} | ${formatMs(p.p95Ms)} | ${formatQps(p.throughputQps)} | ${formatMs(p.poolWaitP95Ms)} | ${formatMs(p.dbP95Ms)} |`, '');
  }
  out.push('## 2. Server parameters', '');
  if (a.settings.length === 0) out.push('No hint suggested a setting for this statement.', '');
  for (const s of a.settings) out.push(`- ${s.helps ? '**Helps**' : 'Does not help'}: ${md(s.text)}${s.memory ? ` Memory: ${md(s.memory)}` : ''}`);
  out.push('', '## 3. The query under concurrency', '');
  for (const q of a.query) out.push(`1. **${md(q.title)}**${q.impactMs !== null ? ` (${impactWords(q)})` : ''} — ${md(q.evidence)} → ${md(q.action)}${q.sql ? ` ${mdCode(q.sql)}` : ''}`);
  out.push('', '## 4. ORM or raw SQL', '', a.orm ? md(a.orm.text) : 'Not answered.', '', `*What pgload cannot see:* ${md(a.orm?.cannotSee ?? '')}`, '');
  out.push('## Phases', '', '| phase | planned | took | status |', '|---|---:|---:|---|');
  for (const p of r.phases) out.push(`| ${md(p.label)} | ${secs(p.plannedMs)} | ${p.actualMs === null ? '–' : secs(p.actualMs)} | ${p.status}${p.note ? ` — ${md(p.note)}` : ''} |`);
  if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${md(n)}`));
  return out.join('\n') + '\n';
}

/** What a query finding buys: measured ("saved 187 ms per request at p50, measured") or at most, from the plan. */
export function impactWords(q: { impactMs: number | null; measured?: boolean }): string {
  if (q.impactMs === null) return '';
  return q.measured ? `saved ${formatMs(q.impactMs)} per request at p50, measured` : `up to ${formatMs(q.impactMs)} per request`;
}

/**
 * An A/B's figures in order — p50, p95, p99 (when the result kept it), throughput — each with its change in % and
 * whether it moved beyond the noise. The answers' sentences and the panel's line both list them from here.
 */
export function measuredFigures(m: MeasuredChange): Array<{ figure: MeasuredFigure; pct: number; significant: boolean }> {
  const on = m.significantOn ?? {};
  const all: Array<[MeasuredFigure, number | undefined]> = [['p50', m.p50ChangePct], ['p95', m.p95ChangePct], ['p99', m.p99ChangePct], ['qps', m.throughputChangePct]];
  return all.flatMap(([figure, pct]) => (pct === undefined ? [] : [{ figure, pct, significant: on[figure] !== undefined }]));
}
