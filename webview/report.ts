/** The Report tab: the run's figures, its charts, the hints, what the server did, and the errors. */
import type { PanelResult } from '../src/shared/protocol';
import { h } from './dom';
import { waitColor } from '../src/shared/waitColors';
import { timedPlans } from './plan';
import { tryKind } from '../src/shared/hintSql';
import { hintCauses } from '../src/shared/report/hintCauses';
import { shortRunWarning, estimateText, modeText, formatCount, formatMs, formatPercent, formatQps, describePlan, paramsLine, poolerLine, modeLines, backgroundLines, scriptLines, statementLines, shardLines } from '../src/shared/format';
import { inEditor, view, rerender, theme, chart, chartBox, tile, tryButton, copyButton } from './host';

export function summary(r: PanelResult): HTMLElement {
  const b = r.baseline.latency;
  const l = r.load.latency;
  const rows: Array<[string, string, string]> = [
    ['mean', formatMs(b.meanMs), formatMs(l.meanMs)],
    ['p50', formatMs(b.p50Ms), formatMs(l.p50Ms)],
    ['p95', formatMs(b.p95Ms), formatMs(l.p95Ms)],
    ['p99', formatMs(b.p99Ms), formatMs(l.p99Ms)],
    ['max', formatMs(b.maxMs), formatMs(l.maxMs)],
    ['requests', `${b.count} warm + 1 cold (${formatMs(r.baseline.coldMs)})`, `${formatCount(r.load.requests.ok)} ok · ${formatCount(r.load.requests.failed)} failed`],
  ];
  const table = h(
    'table',
    { class: 'summary', id: 'summary' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'Alone (1 client)'), h('th', {}, `Under load (${r.load.clients} clients)`))),
    h('tbody', {}, ...rows.map(([k, a, c]) => h('tr', { 'data-row': k }, h('th', {}, k), h('td', {}, a), h('td', {}, c)))),
  );
  const slow = r.load.slowdown === null ? '–' : `${r.load.slowdown.toFixed(1)}×`;
  const tiles = h(
    'div',
    { class: 'tiles' },
    tile('Throughput', `${formatQps(r.load.throughputQps)} q/s`, 'tile-qps'),
    tile('Slowdown', slow, 'tile-slowdown'),
    tile(`Over ${formatMs(r.load.overThreshold.thresholdMs)}`, formatPercent(r.load.overThreshold.percent), 'tile-over'),
    tile('Failures', formatCount(r.load.requests.failed), 'tile-failed'),
    tile('Total time', formatMs(r.load.wallMs), 'tile-wall'),
    tile('Connect (p50 / max)', `${formatMs(r.load.connectMs.p50Ms)} / ${formatMs(r.load.connectMs.maxMs)}`, 'tile-connect'),
  );
  const s = r.server.settings;
  return h(
    'section',
    {},
    r.statusDetail ? h('p', { class: 'status-detail' }, r.statusDetail) : null,
    shortRunWarning(r, inEditor) ? h('p', { class: 'status-detail', id: 'short-run' }, shortRunWarning(r, inEditor)!) : null,
    h('p', { class: 'muted' }, `${describePlan(r)} · PostgreSQL ${r.server.version} · work_mem ${s.work_mem} · max_connections ${s.max_connections} · shared_buffers ${s.shared_buffers}`),
    h('p', { class: `mode mode-${r.options.executionMode}`, id: 'mode' }, `Mode: ${modeText(r)}`),
    paramsLine(r) ? h('p', { class: 'muted', id: 'params' }, `Parameters: ${paramsLine(r)}`) : null,
    poolerLine(r) ? h('div', { id: 'pooler' }, h('p', { class: 'muted' }, `Pooler: ${poolerLine(r)}`), h('ul', { class: 'facts' }, ...(r.connection.pooler?.notes ?? []).map((n) => h('li', {}, n)))) : null,
    shardLines(r).length > 0 ? h('ul', { class: 'facts', id: 'shards' }, ...shardLines(r).map((l) => h('li', {}, l))) : null,
    tiles,
    table,
    modeLines(r).length > 0 ? h('ul', { class: 'facts', id: r.load.pool ? 'pool-split' : 'mode-figures' }, ...modeLines(r).map((l) => h('li', {}, l))) : null,
    r.load.background ? h('ul', { class: 'facts', id: 'background' }, ...backgroundLines(r).map((l) => h('li', {}, l))) : null,
    r.load.scripts?.length ? h('ul', { class: 'facts', id: 'scripts' }, ...scriptLines(r).map((l) => h('li', {}, l))) : null,
    r.load.statements?.length ? h('ul', { class: 'facts', id: 'statements' }, ...statementLines(r).map((l) => h('li', {}, l))) : null,
  );
}

/** Pool wait and database time at each percentile, stacked: where a request's time went. */
export function drawPoolChart(r: PanelResult, grid: HTMLElement): void {
  const p = r.load.pool;
  if (!p) return;
  const t = theme();
  const box = chartBox('chart-pool-split', 'Pool wait vs database time', `${p.users} users on a pool of ${p.size} + ${p.maxOverflow} overflow: each bar stacks the percentile of the wait for a connection and of the time in the database.`);
  grid.append(box.box);
  const keys = ['p50Ms', 'p95Ms', 'p99Ms'] as const;
  chart(box.canvas, {
    type: 'bar',
    data: {
      labels: ['p50', 'p95', 'p99'],
      datasets: [
        { label: 'waiting for a pooled connection', data: keys.map((k) => p.waitMs[k]), backgroundColor: t.orange, stack: 'time' },
        { label: 'in the database', data: keys.map((k) => p.dbMs[k]), backgroundColor: t.blue, stack: 'time' },
      ],
    },
    options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: 'ms' } }, y: { stacked: true } } },
  });
}

export function hintsSection(r: PanelResult): HTMLElement {
  if (r.hints.length === 0) return h('section', { id: 'hints' }, h('h3', {}, 'Hints'), h('p', { class: 'muted' }, 'No hints for this run.'));
  const causes = hintCauses(r.hints);
  return h(
    'section',
    { id: 'hints' },
    h('h3', {}, causes.length === 1 ? 'Hint' : `Hints (${causes.length})`),
    h(
      'ul',
      { class: 'hints' },
      ...causes.map(({ lead: x, also, sql, action }) =>
        h(
          'li',
          { class: `hint sev-${x.severity}`, 'data-hint': x.id },
          h('div', { class: 'hint-title' }, h('span', { class: 'sev' }, x.severity), ' ', x.title, x.node ? h('span', { class: 'muted' }, ` — ${x.node}`) : null),
          estimateText(x) ? h('div', { class: 'muted small hint-estimate' }, estimateText(x)!) : null,
          h('div', { class: 'hint-action' }, `→ ${action}`),
          sql ? h('div', { class: 'hint-sql' }, h('pre', { class: 'sql small' }, sql), copyButton(sql), tryKind(sql) ? tryButton(sql) : null) : null,
          x.node && timedPlans(r).some((p) => p.nodes!.some((n) => n.node === x.node)) ? showNodeButton(r, x.node) : null,
          // The evidence, and what else the same cause showed, one click away.
          h(
            'details',
            { class: 'hint-details' },
            h('summary', {}, also.length > 0 ? `Details (also seen as: ${also.map((a) => a.title.toLowerCase()).join('; ')})` : 'Details'),
            h('div', {}, x.detail),
            ...also.map((a) => h('div', { class: 'hint-also', 'data-hint': a.id }, h('strong', {}, a.title), a.node ? ` — ${a.node}` : '', `: ${a.detail}`)),
          ),
        ),
      ),
    ),
  );
}

/** Opens the Plan tab on a hint's node (in the plan under load when it is there, else alone). */
function showNodeButton(r: PanelResult, node: string): HTMLElement {
  // A plain button: it needs no extension host, so it works in the exported HTML report too.
  const b = h('button', { class: 'show-node', 'data-node': node }, 'Show in plan');
  b.addEventListener('click', () => {
    const plans = timedPlans(r);
    const inLoad = plans.find((p) => p.when === 'under-load' && p.nodes!.some((n) => n.node === node));
    view.planView = { when: inLoad ? 'under-load' : 'alone', selected: node };
    view.tab = 'plan';
    rerender();
    document.querySelector<HTMLElement>('tr.plan-node.selected')?.scrollIntoView({ block: 'center' });
  });
  return b;
}

/** Waits, counters, plans alone vs under load: what the server did during the run. */
export function serverSection(r: PanelResult): HTMLElement | null {
  const i = r.insight;
  if (!i) return null;
  const section = h('section', { id: 'server' }, h('h3', {}, 'Server side'));
  const w = i.waits;
  if (w && w.samples > 0) {
    const grid = h('div', { class: 'charts' });
    section.append(
      h(
        'p',
        { class: 'muted' },
        `${formatCount(w.samples)} samples every ${w.intervalMs} ms · ${w.avgActive.toFixed(1)} sessions active on average${w.serverVcpus ? ` on ${w.serverVcpus} vCPUs (${w.vcpusSource})` : ''} · sampling used ${w.overheadPct < 0.1 ? '< 0.1' : w.overheadPct.toFixed(1)} % of the server's capacity`,
      ),
      grid,
    );
    drawWaitCharts(r, grid);
  }
  const d = i.counters.database;
  const st = i.counters.statement;
  const facts: string[] = [];
  if (d) facts.push(`During the load the database wrote ${formatCount(d.temp_files)} temp files (${formatCount(d.temp_bytes / 1024)} kB), read ${formatCount(d.blks_read)} blocks and found ${formatCount(d.blks_hit)} in cache; ${formatCount(d.xact_commit)} commits, ${formatCount(d.xact_rollback)} rollbacks${d.deadlocks ? `, ${d.deadlocks} deadlocks` : ''}.`);
  if (st) facts.push(`pg_stat_statements: ${formatCount(st.calls)} calls, mean ${formatMs(st.meanExecMs)} in the server${st.stddevExecMs !== null ? ` ± ${formatMs(st.stddevExecMs)}` : ''}; temp blocks ${formatCount(st.tempBlksWritten)} written; shared blocks ${formatCount(st.sharedBlksRead)} read, ${formatCount(st.sharedBlksHit)} hit.`);
  for (const p of i.plans) facts.push(p.unavailable ? `Plan ${p.when === 'alone' ? 'alone' : 'under load'}: not available — ${p.unavailable}` : `Plan ${p.when === 'alone' ? 'alone' : 'under load'}: planning ${formatMs(p.planningMs)}, execution ${formatMs(p.executionMs)}.`);
  for (const n of i.counters.notes) facts.push(n);
  if (facts.length) section.append(h('ul', { class: 'facts', id: 'server-facts' }, ...facts.map((f) => h('li', {}, f))));
  const diff = i.planDiff;
  if (diff) {
    section.append(h('h3', {}, 'Plan alone vs under load'), h('ul', { class: 'facts', id: 'plan-diff-notes' }, ...diff.notes.map((n) => h('li', {}, n))));
    if (diff.rows.length) {
      section.append(
        h(
          'table',
          { class: 'plan-diff', id: 'plan-diff' },
          h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'alone'), h('th', {}, 'under load'), h('th', {}, 'loops'), h('th', {}, 'workers'), h('th', {}, 'temp blocks'), h('th', {}, 'blocks read'))),
          h(
            'tbody',
            {},
            ...diff.rows.map((row) =>
              h(
                'tr',
                {},
                h('th', {}, row.node),
                h('td', {}, formatMs(row.alone.totalMs)),
                h('td', {}, formatMs(row.underLoad.totalMs)),
                h('td', {}, `${formatCount(row.alone.loops)} / ${formatCount(row.underLoad.loops)}`),
                h('td', {}, row.alone.workersLaunched === null ? '' : `${row.alone.workersLaunched} / ${row.underLoad.workersLaunched}`),
                h('td', {}, `${formatCount(row.alone.tempBlocks)} / ${formatCount(row.underLoad.tempBlocks)}`),
                h('td', {}, `${formatCount(row.alone.sharedReadBlocks)} / ${formatCount(row.underLoad.sharedReadBlocks)}`),
              ),
            ),
          ),
        ),
      );
    }
  }
  return section;
}

function drawWaitCharts(r: PanelResult, grid: HTMLElement): void {
  const w = r.insight.waits!;
  // One colour per wait and class, the same in both charts and in every run (../src/shared/waitColors).
  const colour = (event: string) => waitColor(event);
  const shown = w.shares.filter((s) => s.share >= 0.005).slice(0, 6);
  const doughnut = chartBox('chart-waits', 'What the sessions waited on', 'Share of samples: CPU = running, IO:BufFile = temp files, Lock/LWLock = contention, Idle = waiting for the client.');
  const time = chartBox('chart-waits-time', 'Waits over time', 'Average sessions in each state per window.');
  grid.append(doughnut.box, time.box);
  const keys = [...new Set(w.timeline.flatMap((p) => Object.keys(p.counts)))];
  // The colours drawn, by wait, on each chart (for a reader of the page and for the tests).
  doughnut.canvas.dataset.colors = JSON.stringify(Object.fromEntries(shown.map((s) => [s.event, colour(s.event)])));
  time.canvas.dataset.colors = JSON.stringify(Object.fromEntries(keys.map((k) => [k, colour(k)])));
  chart(doughnut.canvas, {
    type: 'doughnut',
    data: { labels: shown.map((s) => `${s.event} ${(s.share * 100).toFixed(0)} %`), datasets: [{ data: shown.map((s) => s.samples), backgroundColor: shown.map((s) => colour(s.event)) }] },
    options: { plugins: { legend: { position: 'right' } } },
  });
  chart(time.canvas, {
    type: 'bar',
    data: {
      labels: w.timeline.map((p) => (p.tMs / 1000).toFixed(1)),
      datasets: keys.map((k) => ({ label: k, data: w.timeline.map((p) => p.counts[k] ?? 0), backgroundColor: colour(k), stack: 'waits' })),
    },
    options: { scales: { x: { stacked: true, title: { display: true, text: 's' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'sessions' } } } },
  });
}

export function errorsSection(r: PanelResult): HTMLElement | null {
  if (r.errors.length === 0) return null;
  return h(
    'section',
    { id: 'errors' },
    h('h3', {}, 'Errors'),
    h(
      'table',
      { class: 'errors' },
      h('thead', {}, h('tr', {}, h('th', {}, 'count'), h('th', {}, 'code'), h('th', {}, 'message'), h('th', {}, 'first'))),
      h('tbody', {}, ...r.errors.map((e) => h('tr', {}, h('td', {}, formatCount(e.count)), h('td', {}, e.code), h('td', { class: 'message' }, e.message), h('td', {}, e.phase === 'load' ? formatMs(e.firstAtMs) : e.phase)))),
    ),
  );
}

export function drawResultCharts(r: PanelResult, grid: HTMLElement): void {
  const t = theme();
  const curve = chartBox('chart-percentiles', 'Latency by percentile', 'Logarithmic axis; read p99 against p50 for the tail.');
  const hist = chartBox('chart-histogram', 'Latency histogram', 'Requests per latency band (log-spaced).');
  const time = chartBox('chart-latency-time', 'Latency over time', 'p50 and p95 per interval since all clients were released.');
  const qps = chartBox('chart-throughput', 'Throughput over time', 'Successful requests per second per interval.');
  grid.append(curve.box, hist.box, time.box, qps.box);

  chart(curve.canvas, {
    type: 'line',
    data: {
      labels: r.load.percentiles.map((p) => `p${p.percentile}`),
      datasets: [{ label: 'under load', data: r.load.percentiles.map((p) => p.ms), borderColor: t.orange, backgroundColor: t.orange, pointRadius: 2 }],
    },
    options: { scales: { y: { type: 'logarithmic', title: { display: true, text: 'ms' } } }, plugins: { legend: { display: false } } },
  });
  chart(hist.canvas, {
    type: 'bar',
    data: {
      // Each band labelled by where it starts (a whole range does not fit under a bar); the tooltip gives the range.
      labels: r.histogram.map((b) => formatMs(b.fromMs)),
      datasets: [{ label: 'requests', data: r.histogram.map((b) => b.count), backgroundColor: t.blue }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => items.map((i) => `${formatMs(r.histogram[i.dataIndex].fromMs)} – ${formatMs(r.histogram[i.dataIndex].toMs)}`) } } },
      scales: { x: { title: { display: true, text: 'latency (from)' }, ticks: { autoSkip: true, maxRotation: 45 } }, y: { title: { display: true, text: 'requests' } } },
    },
  });
  const tl = r.timeline;
  // Time on a linear axis: the chart picks round ticks (0, 0.05, 0.1 … for a short run), never repeated labels.
  const at = (f: (p: (typeof tl)[number]) => number | null) => tl.map((p) => ({ x: p.tMs / 1000, y: f(p) }));
  const timeAxis = { type: 'linear' as const, min: 0, title: { display: true, text: 's' }, ticks: { maxTicksLimit: 8 } };
  chart(time.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'p50', data: at((p) => p.p50Ms), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 0, spanGaps: true },
        { label: 'p95', data: at((p) => p.p95Ms), borderColor: t.red, backgroundColor: t.red, pointRadius: 0, spanGaps: true },
      ],
    },
    options: { scales: { x: timeAxis, y: { title: { display: true, text: 'ms' } } } },
  });
  chart(qps.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'queries/s', data: at((p) => p.qps), borderColor: t.green, backgroundColor: t.green, pointRadius: 0, fill: false },
        { label: 'errors', data: at((p) => (p.durationMs > 0 ? (p.errors * 1000) / p.durationMs : 0)), borderColor: t.red, backgroundColor: t.red, pointRadius: 0 },
      ],
    },
    options: { scales: { x: timeAxis, y: { beginAtZero: true, title: { display: true, text: 'per second' } } } },
  });
}
