/** The Capacity tab: the most users (or requests/s) within the p95 objective — the steps, the boundary, the answer. */
import type { CapacityResult } from '../src/shared/result';
import { h } from './dom';
import { formatMs, formatQps } from '../src/shared/format';
import { demandSetup, formatCapacityReport, intervalWords, VERDICT_WORDS } from '../src/shared/report/capacity';
import { button, theme, chart, chartBox, tile, copyButton } from './host';


/** The same search with a diagnosis's best fix applied, drawn beside it. */
export interface FixSearch {
  what: string;
  result: CapacityResult;
}

export function capacitySection(c: CapacityResult, fix?: FixSearch): HTMLElement {
  const unit = c.demand.kind === 'users' ? 'users' : 'requests/s';
  const amount = (n: number) => (c.demand.kind === 'users' ? String(n) : formatQps(n));
  const b = c.boundary;
  const between = b.kind === 'bracketed' ? `${amount(b.meets)}–${amount(b.fails)}` : b.kind === 'above-maximum' ? `≥ ${amount(b.meets)}` : b.kind === 'below-minimum' ? 'none' : b.meets !== null ? `≥ ${amount(b.meets)}` : '–';
  const section = h('section', { id: 'capacity' });
  section.append(
    h('div', { class: 'actions' }, button('Find capacity again', 'capacity', 'primary'), copyButton(formatCapacityReport(c), 'Copy as text')),
    h('p', { class: 'muted', id: 'capacity-setup' }, `Objective p95 ≤ ${formatMs(c.objective.p95Ms)} · ${demandSetup(c.demand)} · ${c.steps.length} step${c.steps.length === 1 ? '' : 's'} in ${(c.search.elapsedMs / 1000).toFixed(0)} s${c.status !== 'completed' ? ` · ${c.status}` : ''}`),
    h(
      'div',
      { class: 'tiles' },
      tile(`Capacity (${unit})`, c.capacity === null ? 'none' : amount(c.capacity), 'tile-capacity'),
      tile('Boundary between', between, 'tile-boundary'),
      tile('Alone p95', formatMs(c.alone.p95Ms), 'tile-alone'),
      tile('Most served back to back', c.saturation ? `${formatQps(c.saturation.throughputQps)} q/s` : '–', 'tile-saturation'),
    ),
    h('p', { class: 'recommendation', id: 'capacity-answer' }, c.answer),
    c.limitedBy ? h('p', { id: 'capacity-limit' }, h('strong', {}, 'What limits it: '), c.limitedBy) : '',
    fix ? h('p', { id: 'capacity-fix-answer' }, h('strong', {}, `With ${fix.what}: `), fix.result.answer) : '',
  );
  if (c.steps.length) {
    const grid = h('div', { class: 'charts' });
    section.append(grid);
    drawCapacityChart(c, grid, fix);
    section.append(stepsTable(c, amount));
  }
  if (c.notes.length) section.append(h('ul', { class: 'facts', id: 'capacity-notes' }, ...c.notes.map((n) => h('li', {}, n))));
  return section;
}

function stepsTable(c: CapacityResult, amount: (n: number) => string): HTMLElement {
  const sorted = [...c.steps].sort((a, b) => a.demand - b.demand);
  return h(
    'table',
    { class: 'steps', id: 'capacity-steps' },
    h('thead', {}, h('tr', {}, ...[c.demand.kind === 'users' ? 'users' : 'rate/s', 'requests', 'q/s', 'p50', 'p95', '95 % interval', 'objective'].map((x) => h('th', {}, x)))),
    h(
      'tbody',
      {},
      ...sorted.map((s) =>
        h(
          'tr',
          { class: `verdict-${s.verdict}${s.demand === c.capacity ? ' picked' : ''}` },
          h('th', {}, amount(s.demand)),
          h('td', {}, s.ok.toLocaleString('en-US')),
          h('td', {}, formatQps(s.throughputQps)),
          h('td', {}, formatMs(s.p50Ms)),
          h('td', {}, formatMs(s.p95Ms)),
          h('td', {}, intervalWords(s, '∞')),
          h('td', {}, VERDICT_WORDS[s.verdict] + (s.source ? ` (${s.source})` : '')),
        ),
      ),
    ),
  );
}

/** p95 against the demand, each step with its interval, the objective as a line and the boundary's two ends marked. */
function drawCapacityChart(c: CapacityResult, grid: HTMLElement, fix?: FixSearch): void {
  const t = theme();
  const box = chartBox(
    'chart-capacity',
    `p95 against the demand (${c.demand.kind === 'users' ? 'users' : 'requests/s'})`,
    `Points: each step’s p95, with its 95 % interval; green meets the objective, red misses it, grey is too close to tell. Dashed: the objective.${fix ? ` Purple: the same search with ${fix.what}.` : ''}`,
  );
  grid.append(box.box);
  const sorted = [...c.steps].sort((a, b) => a.demand - b.demand);
  const fixed = fix ? [...fix.result.steps].sort((a, b) => a.demand - b.demand) : [];
  const colour = (v: string) => (v === 'meets' ? t.green : v === 'fails' ? t.red : t.fg);
  const xs = [...sorted, ...fixed].map((s) => s.demand);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = Math.max(1, (hi - lo) * 0.08);
  // Users are whole: the axis ends on whole numbers too.
  const round = (v: number, f: (x: number) => number) => (c.demand.kind === 'users' ? f(v) : v);
  chart(box.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'p95', data: sorted.map((s) => ({ x: s.demand, y: s.p95Ms })), borderColor: t.blue, backgroundColor: t.blue, pointBackgroundColor: sorted.map((s) => colour(s.verdict)), pointRadius: sorted.map((s) => (s.demand === c.capacity ? 7 : 5)), showLine: true },
        { label: 'interval low', data: sorted.map((s) => ({ x: s.demand, y: s.p95Interval.lowMs })), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 7, showLine: false, pointStyle: 'dash' },
        { label: 'interval high', data: sorted.filter((s) => s.p95Interval.highMs !== null).map((s) => ({ x: s.demand, y: s.p95Interval.highMs! })), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 7, showLine: false, pointStyle: 'dash' },
        ...(fix
          ? [{ label: `p95 with ${fix.what}`, data: fixed.map((s) => ({ x: s.demand, y: s.p95Ms })), borderColor: t.purple, backgroundColor: t.purple, pointBackgroundColor: fixed.map((s) => colour(s.verdict)), pointRadius: 5, pointStyle: 'rectRot' as const, showLine: true }]
          : []),
        { label: `objective ${formatMs(c.objective.p95Ms)}`, data: [{ x: lo - pad, y: c.objective.p95Ms }, { x: hi + pad, y: c.objective.p95Ms }], borderColor: t.orange, borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: {
      scales: {
        x: { type: 'linear', min: Math.max(0, round(lo - pad, Math.floor)), max: round(hi + pad, Math.ceil), title: { display: true, text: c.demand.kind === 'users' ? 'users' : 'requests per second' } },
        y: { type: 'logarithmic', title: { display: true, text: 'p95 ms (log)' } },
      },
      plugins: { legend: { labels: { filter: (item) => !item.text.startsWith('interval') } } },
    },
  });
}
