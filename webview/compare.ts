/** The Compare tab: two runs, their verdict, both percentile curves, the figures with intervals. */
import type { Comparison } from '../src/shared/result';
import { h } from './dom';
import { formatMs, formatQps } from '../src/shared/format';
import { formatWhen, plural } from '../src/shared/numbers';
import { theme, chart, chartBox } from './host';

// ---- compare (two runs) ------------------------------------------------------------------------------------------
export function compareSection(c: Comparison): HTMLElement {
  const [la, lb] = c.labels;
  const fmt = (unit: string, v: number) => (unit === 'ms' ? formatMs(v) : `${formatQps(v)} q/s`);
  const section = h(
    'section',
    { id: 'compare' },
    h('p', { id: 'compare-verdict', class: c.verdict === 'no-significant-difference' ? 'status-detail' : c.verdict === 'faster' ? 'recommendation' : 'failure' }, c.summary),
    h(
      'ul',
      { class: 'facts muted', id: 'compare-runs' },
      ...([
        [la, c.a],
        [lb, c.b],
      ] as const).map(([label, r]) => h('li', {}, h('strong', {}, label), `: ${formatWhen(r.startedAt)} · ${r.users !== undefined ? `${plural(r.users, 'user')} on ${plural(r.clients, 'session')}` : plural(r.clients, 'client')} · ${plural(r.requests, 'request')}`)),
    ),
    // Each figure with its 95 % interval under it: four columns fit a half-width panel.
    h(
      'table',
      { class: 'summary compare', id: 'compare-metrics' },
      h('thead', {}, h('tr', {}, ...['', la, lb, 'change'].map((x) => h('th', {}, x)))),
      h(
        'tbody',
        {},
        ...c.metrics.map((m) =>
          h(
            'tr',
            { 'data-metric': m.name, class: m.significant ? `significant better-${m.better}` : '' },
            h('th', {}, m.name),
            h('td', {}, fmt(m.unit, m.a), h('div', { class: 'muted small ci' }, `${fmt(m.unit, m.ciA[0])} – ${fmt(m.unit, m.ciA[1])}`)),
            h('td', {}, fmt(m.unit, m.b), h('div', { class: 'muted small ci' }, `${fmt(m.unit, m.ciB[0])} – ${fmt(m.unit, m.ciB[1])}`)),
            // The change with what it means under it (as each figure has its interval): four columns fit half width.
            h(
              'td',
              {},
              `${m.change >= 0 ? '+' : '−'}${Math.abs(m.change * 100).toFixed(1)} %`,
              h('div', { class: 'muted small verdict' }, m.significant ? `${m.better === 'b' ? lb : la} better` : 'within noise'),
            ),
          ),
        ),
      ),
    ),
    h('p', { class: 'muted small' }, 'Under each figure: its 95 % interval.'),
  );
  const grid = h('div', { class: 'charts' });
  section.append(grid);
  const t = theme();
  const box = chartBox('chart-compare', 'Latency by percentile, both runs', 'Logarithmic axis: where the curves part is where the runs differ.');
  grid.append(box.box);
  chart(box.canvas, {
    type: 'line',
    data: {
      labels: c.percentiles.a.map((p) => `p${p.percentile}`),
      datasets: [
        { label: la, data: c.percentiles.a.map((p) => p.ms), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 2 },
        { label: lb, data: c.percentiles.b.map((p) => p.ms), borderColor: t.orange, backgroundColor: t.orange, pointRadius: 2 },
      ],
    },
    options: { scales: { y: { type: 'logarithmic', title: { display: true, text: 'ms' } } } },
  });
  const hintItems = [
    ...c.hints.appeared.map((x) => h('li', { class: 'hint-appeared' }, `New in ${lb}: ${x.title}${x.node ? ` — ${x.node}` : ''}`)),
    ...c.hints.disappeared.map((x) => h('li', { class: 'hint-gone' }, `Gone in ${lb}: ${x.title}${x.node ? ` — ${x.node}` : ''}`)),
  ];
  if (hintItems.length) section.append(h('h3', {}, 'Hints'), h('ul', { class: 'facts', id: 'compare-hints' }, ...hintItems));
  if (c.plan) section.append(h('h3', {}, 'Plans'), h('ul', { class: 'facts', id: 'compare-plan' }, ...c.plan.notes.map((n) => h('li', {}, n))));
  if (c.notes.length) section.append(h('ul', { class: 'facts', id: 'compare-notes' }, ...c.notes.map((n) => h('li', { class: 'muted' }, n))));
  return section;
}
