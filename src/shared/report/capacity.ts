/** A capacity search as text and Markdown: the objective, the statement alone and at saturation, each step, the answer. */
import type { CapacityDemand, CapacityResult, CapacityStep } from '../result';
import { formatMs, formatQps } from '../numbers';
import { mdBlock, mdText, oneLine } from '../text';

/** "37 users pausing 5.00 s", "37 users back to back" or "42.5 requests/s". */
export function demandWords(d: CapacityDemand, n: number): string {
  if (d.kind === 'rate') return `${formatQps(n)} requests/s`;
  const who = `${n} user${n === 1 ? '' : 's'}`;
  return d.thinkTimeMs > 0 ? `${who} pausing ${formatMs(d.thinkTimeMs)}` : `${who} back to back`;
}

/** How the demand was sent: the users' pool and pauses, or the sessions serving the arrivals. */
export function demandSetup(d: CapacityDemand): string {
  if (d.kind === 'rate') return `Poisson arrivals served by ${d.sessions} session${d.sessions === 1 ? '' : 's'}`;
  const pause = d.thinkTimeMs > 0 ? `each pausing ${formatMs(d.thinkTimeMs)} (${d.thinkTimeDistribution}) between requests` : 'back to back (no pause: a stampede, not users who read what they got)';
  return `users ${pause}, through a pool of ${d.poolSize} + ${d.maxOverflow}`;
}

/** A step's verdict as every report says it. */
export const VERDICT_WORDS: Record<CapacityStep['verdict'], string> = { meets: 'meets', fails: 'misses', unclear: 'too close to tell' };

/** A step's p95 interval: "70.9 ms–93.9 ms" (no upper end when too few requests bound it). */
export function intervalWords(s: CapacityStep, unbounded = 'unbounded'): string {
  return `${formatMs(s.p95Interval.lowMs)}–${s.p95Interval.highMs === null ? unbounded : formatMs(s.p95Interval.highMs)}`;
}

function stepRow(r: CapacityResult, s: CapacityStep): string[] {
  return [
    r.demand.kind === 'users' ? String(s.demand) : formatQps(s.demand),
    s.ok.toLocaleString('en-US'),
    formatQps(s.throughputQps),
    formatMs(s.p50Ms),
    formatMs(s.p95Ms),
    intervalWords(s),
    VERDICT_WORDS[s.verdict] + (s.source ? ` (${s.source})` : ''),
  ];
}

function header(r: CapacityResult): string[] {
  return [r.demand.kind === 'users' ? 'users' : 'rate/s', 'requests', 'q/s', 'p50', 'p95', 'p95 95 % interval', 'objective'];
}

function figureLines(r: CapacityResult): string[] {
  const sat = r.saturation;
  return [
    `Alone: p50 ${formatMs(r.alone.p50Ms)} · p95 ${formatMs(r.alone.p95Ms)}.` +
      (sat ? ` Back to back on ${sat.sessions} session${sat.sessions === 1 ? '' : 's'}: ${formatQps(sat.throughputQps)} q/s at most (p95 ${formatMs(sat.p95Ms)}) — where the search started from.` : ''),
  ];
}

export function formatCapacityReport(r: CapacityResult): string {
  const lines = [
    `pgload ${r.tool.version} capacity — ${oneLine(r.sql, 100)}`,
    `  Objective p95 ≤ ${formatMs(r.objective.p95Ms)} · ${demandSetup(r.demand)} · ${r.connection.host}:${r.connection.port}/${r.connection.database} · took ${(r.search.elapsedMs / 1000).toFixed(0)} s of a ${(r.search.budgetMs / 1000).toFixed(0)} s budget${r.status !== 'completed' ? ` · ${r.status.toUpperCase()}` : ''}`,
    '',
    ...figureLines(r),
    '',
  ];
  if (r.steps.length) {
    const rows = [header(r), ...r.steps.map((s) => stepRow(r, s))];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) lines.push('  ' + row.map((c, i) => (i === row.length - 1 ? c : c.padStart(widths[i]))).join('  '));
    lines.push('');
  }
  lines.push(`Answer: ${r.answer}`);
  if (r.limitedBy) lines.push(`What limits it: ${r.limitedBy}`);
  if (r.notes.length) lines.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

export function formatCapacityMarkdown(r: CapacityResult): string {
  const out = [`# Capacity within p95 ≤ ${formatMs(r.objective.p95Ms)}`, '', ...mdBlock(r.sql, 'sql'), '', `${mdText(demandSetup(r.demand))}.`, '', ...figureLines(r).map(mdText), ''];
  if (r.steps.length) {
    out.push(`| ${header(r).join(' | ')} |`, `|${header(r).map(() => '---').join('|')}|`);
    for (const s of r.steps) out.push(`| ${stepRow(r, s).join(' | ')} |`);
    out.push('');
  }
  out.push(`**Answer:** ${mdText(r.answer)}`, '');
  if (r.limitedBy) out.push(`**What limits it:** ${mdText(r.limitedBy)}`, '');
  for (const n of r.notes) out.push(`- ${mdText(n)}`);
  return out.join('\n') + '\n';
}
