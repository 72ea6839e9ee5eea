/** One run's whole report: for a terminal, and in Markdown for a pull request or a ticket. */
import { hintCauses } from './hintCauses';
import { mdBlock, mdCode, mdText, oneLine } from '../text';
import { formatCount, formatMs, formatPercent, formatQps } from '../numbers';
import { modeLines } from '../modes';
import { shardLines } from './shards';
import { type ReportInput, describePlan, statementLines, scriptLines, backgroundLines, outageLines, clientLine, paramsLine, shortRunWarning, statusLine, target, modeText, poolerLine, estimateText, leadPlan, topNodeLines, serverLine, percentileLine, errorLines, serverLines } from './lines';

/** The terminal report, like a "Results Summary" but complete. */
export function formatTextReport(r: ReportInput): string {
  const L = r.load;
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
  const shards = shardLines(r);
  if (shards.length) row('Shards', shards.join('\n' + ' '.repeat(20)));
  lines.push('');
  lines.push('Baseline (1 client, one request at a time)');
  for (const [label, value] of baselineRows(r)) row(label, value);
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
    for (const { lead: h, also, action, sql } of hintCauses(r.hints)) {
      lines.push(`  [${h.severity}] ${h.title}${h.node ? ` — ${h.node}` : ''}\n    ${h.detail}\n    → ${action}`);
      const saving = estimateText(h);
      if (saving) lines.push(`    (${saving})`);
      if (sql) lines.push(`    ${sql}`);
      for (const a of also) lines.push(`    also seen as: ${a.title}${a.node ? ` — ${a.node}` : ''}: ${a.detail}`);
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

/** The baseline's rows: its cold and warm runs, or the shard that measured it. */
function baselineRows(r: ReportInput): Array<[string, string]> {
  const b = r.baseline.latency;
  if (b.count === 0 && r.shard && !r.shard.insight) return [['Measured by', `shard 1 of ${r.shard.count} (it runs once per run)`]];
  return [
    ['Cold (first run)', formatMs(r.baseline.coldMs)],
    ['Warm', `mean ${formatMs(b.meanMs)} · p50 ${formatMs(b.p50Ms)} · p95 ${formatMs(b.p95Ms)} · max ${formatMs(b.maxMs)} (${b.count} runs)`],
  ];
}

export const mdCell = mdText;

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
  const shards = shardLines(r);
  if (shards.length) out.push(`- **Shards:** ${mdCell(shards[0])}`, ...shards.slice(1).map((l) => `  - ${mdCell(l)}`));
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
    for (const { lead: h, also, action, sql } of hintCauses(r.hints)) {
      const saving = estimateText(h);
      out.push(`- **${h.severity}: ${mdCell(h.title)}**${h.node ? ` (${mdCell(h.node)})` : ''} — ${mdCell(h.detail)} → ${mdCell(action)}${sql ? ` ${mdCode(sql)}` : ''}${saving ? ` _(${mdCell(saving)})_` : ''}`);
      for (const a of also) out.push(`  - also seen as: ${mdCell(a.title)}${a.node ? ` (${mdCell(a.node)})` : ''} — ${mdCell(a.detail)}`);
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
