/** `pgload top` as text and Markdown: one formatter for the CLI and the editor (browser-safe, no Node). */
import { formatCount, formatMs } from '../numbers';
import type { TopResult, TopStatement } from '../result';
import { mdCode, mdText, oneLine } from '../text';

const ORDER_WORDS: Record<TopResult['order'], string> = { total: 'total time', mean: 'mean time', temp: 'temporary-file blocks', calls: 'calls' };

/** The one-line figures of a statement, as the list and the view show them. */
export function topFigures(s: TopStatement): string {
  const temp = s.tempBlksRead + s.tempBlksWritten;
  return [
    `${formatCount(Math.round(s.calls))} calls`,
    `mean ${formatMs(s.meanMs)}`,
    `total ${formatMs(s.totalMs)} (${(s.shareOfTotal * 100).toFixed(1)} %)`,
    `${formatRows(s.rowsPerCall)} rows/call`,
    temp > 0 ? `temp ${formatCount(Math.round(temp))} blocks` : null,
    s.hitRatio !== null && s.hitRatio < 0.99 ? `cache hit ${(s.hitRatio * 100).toFixed(1)} %` : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

function formatRows(n: number): string {
  return n >= 100 ? formatCount(Math.round(n)) : n.toFixed(n >= 10 ? 0 : 1);
}

/** The `--param` flags of a statement's suggestions (the ones pgload could suggest). */
export function suggestedParamFlags(s: TopStatement): string {
  return s.params
    .filter((p) => p.spec !== null)
    .map((p) => `--param '${p.index}=${p.spec!.replace(/'/g, "'\\''")}'`)
    .join(' ');
}

export function formatTopReport(r: TopResult): string {
  const lines = [
    `Top ${r.statements.length} statements by ${ORDER_WORDS[r.order]} on ${r.target} (pg_stat_statements${r.statsSince ? `, since ${r.statsSince}` : ''})`,
    '',
  ];
  r.statements.forEach((s, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${topFigures(s)}`);
    lines.push(`    ${oneLine(s.query, 110)}`);
    if (s.profile === 'refused') lines.push(`    not profiled: ${s.profileNote}`);
    else {
      // Those compared with no column (constants of an INSERT … SELECT, say) on one line, not one line each.
      const unknown = s.params.filter((p) => p.spec === null && p.source === null);
      for (const p of s.params) if (unknown.length < 2 || !unknown.includes(p)) lines.push(`    $${p.index}: ${p.spec ?? '(no suggestion)'} — ${p.why}`);
      if (unknown.length >= 2) {
        const first = unknown[0].index;
        const last = unknown[unknown.length - 1].index;
        const names = last - first + 1 === unknown.length && unknown.length > 3 ? `$${first} … $${last}` : unknown.map((p) => `$${p.index}`).join(', ');
        lines.push(`    ${names}: (no suggestion) — pgload could not tell which column each is compared with: write a generator for each (int:1..1000, list:a,b, sql:SELECT …)`);
      }
      const flags = suggestedParamFlags(s);
      const complete = s.params.every((p) => p.spec !== null);
      lines.push(`    profile: pgload run --sql ${shellQuote(s.query)}${flags ? ` ${flags}` : ''}${s.profile === 'rolled-back' ? ' --allow-writes' : ''}${complete ? '' : '   (give the missing --param first)'}`);
    }
    lines.push('');
  });
  if (r.statements.length === 0) lines.push('pg_stat_statements has no statement for this database yet.', '');
  for (const n of r.notes) lines.push(`Note: ${n}`);
  return lines.join('\n').trimEnd();
}

export function formatTopMarkdown(r: TopResult): string {
  const lines = [
    `### Top ${r.statements.length} statements by ${ORDER_WORDS[r.order]}`,
    '',
    mdText(`${r.target}, pg_stat_statements${r.statsSince ? ` since ${r.statsSince}` : ''}`),
    '',
    '| # | statement | calls | mean | total | share | rows/call | temp blocks |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...r.statements.map(
      (s, i) =>
        `| ${i + 1} | ${mdCode(oneLine(s.query, 80))} | ${formatCount(Math.round(s.calls))} | ${formatMs(s.meanMs)} | ${formatMs(s.totalMs)} | ${(s.shareOfTotal * 100).toFixed(1)} % | ${formatRows(s.rowsPerCall)} | ${formatCount(Math.round(s.tempBlksRead + s.tempBlksWritten))} |`,
    ),
  ];
  for (const n of r.notes) lines.push('', `> ${mdText(n)}`);
  return lines.join('\n');
}

function shellQuote(s: string): string {
  return `'${oneLine(s, 10_000).replace(/'/g, "'\\''")}'`;
}
