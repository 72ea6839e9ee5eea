/** The Scaling tab: the statement's concurrency sweep, its recommendation and the fitted chart. */
import type { SweepResult } from '../src/shared/result';
import { h } from './dom';
import { formatCount, formatMs, formatQps, formatSweepReport } from '../src/shared/format';
import { plural } from '../src/shared/numbers';
import { PARTIAL_STEP, peakClaim, recheckWords, speedCheckLine } from '../src/shared/report/compare';
import { button, theme, chart, chartBox, tile, copyButton } from './host';

// ---- scaling (concurrency sweep) -------------------------------------------------------------------------------
/** The peak tile: the clients, or why the curve claims none. */
function peakTile(c: ReturnType<typeof peakClaim>): string {
  if (typeof c === 'number') return `${c.toFixed(1)} clients`;
  return c === null ? '–' : c === 'poor' ? 'fit too poor' : c === 'unclaimed' ? 'beyond the steps' : c === 'drifted' ? 'not claimed: speed changed' : 'no peak';
}

export function scalingSection(sw: SweepResult | undefined): HTMLElement {
  const section = h('section', { id: 'scaling' });
  if (!sw) {
    section.append(
      h('p', { class: 'muted' }, 'No concurrency sweep of this statement yet. A sweep runs it at 1, 2, 4, … clients, fits the Universal Scalability Law to the throughput and recommends a pool size.'),
      h('div', { class: 'actions' }, button('Find the right pool size', 'sweep', 'primary')),
    );
    return section;
  }
  const rec = sw.recommendation;
  const usl = sw.usl;
  section.append(
    h('div', { class: 'actions' }, button('Run the sweep again', 'sweep', 'primary'), copyButton(formatSweepReport(sw), 'Copy as text')),
    h(
      'div',
      { class: 'tiles' },
      tile('Recommended pool size', rec ? `${rec.poolSize}${rec.saturated === false ? ' or more' : ''}` : '–', 'tile-pool-size'),
      tile('Peak throughput at', peakTile(peakClaim(sw)), 'tile-peak'),
      tile('Steps', sw.steps.length ? `${stepCount(sw)} (${sw.steps[0].clients}–${sw.steps[sw.steps.length - 1].clients} clients)` : '0', 'tile-steps'),
      tile('Fit R²', usl ? usl.r2.toFixed(3) : '–', 'tile-r2'),
    ),
    h('p', { id: 'recommendation', class: rec ? 'recommendation' : 'status-detail' }, rec ? rec.reason : sw.recheck?.verdict === 'drifted' ? recheckWords(sw.recheck) : 'No pool size can be recommended from this sweep: see the notes below.'),
  );
  // The speed check, unless it is the reason above.
  const check = speedCheckLine(sw);
  if (check) section.append(h('p', { id: 'recheck', class: sw.recheck?.verdict === 'shifted' ? 'status-detail' : 'muted' }, check));
  if (usl) section.append(h('p', { class: 'muted', id: 'usl' }, `Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)): λ ${usl.lambda.toFixed(2)} q/s per client · σ ${usl.sigma.toFixed(4)} (contention) · κ ${usl.kappa.toFixed(6)} (coherency) · ${formatMs(sw.stepDurationMs)} per step`));
  const grid = h('div', { class: 'charts' });
  section.append(grid);
  drawScalingChart(sw, grid);
  section.append(
    h(
      'table',
      { class: 'steps', id: 'sweep-steps' },
      h('thead', {}, h('tr', {}, ...['clients', 'queries/s', '± noise', 'p50', 'p95', 'p99', 'failed', 'ran'].map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...sw.steps.map((x) =>
          h(
            'tr',
            x.partial ? { class: 'partial', title: PARTIAL_STEP } : rec && x.clients === rec.poolSize ? { class: 'picked' } : {},
            h('th', {}, x.partial ? `${x.clients} (partial)` : String(x.clients)),
            h('td', {}, formatQps(x.throughputQps)),
            h('td', { title: 'two standard errors, from batch means' }, x.throughputSe === null || x.throughputSe === undefined ? '?' : `± ${formatQps(2 * x.throughputSe)}`),
            h('td', {}, formatMs(x.p50Ms)),
            h('td', {}, formatMs(x.p95Ms)),
            h('td', {}, formatMs(x.p99Ms)),
            h('td', {}, formatCount(x.failed)),
            h('td', x.extended ? { title: x.extended === 'capped' ? 'stopped at the step cap before 20 requests per client' : 'ran longer than planned to complete 20 requests per client and 10 p95 latencies' } : {}, x.wallMs === undefined ? '–' : `${formatMs(x.wallMs)}${x.extended === 'extended' ? '+' : x.extended === 'capped' ? '!' : ''}`),
          ),
        ),
      ),
    ),
  );
  if (sw.notes.length) section.append(h('ul', { class: 'facts', id: 'sweep-notes' }, ...sw.notes.map((n) => h('li', {}, n))));
  return section;
}

/** The steps measured, the one a cancel cut short counted apart: "3 + 1 partial". */
function stepCount(sw: SweepResult): string {
  const partial = sw.steps.filter((x) => x.partial).length;
  return partial ? `${sw.steps.length - partial} + ${partial} partial` : String(sw.steps.length);
}

function drawScalingChart(sw: SweepResult, grid: HTMLElement): void {
  const t = theme();
  const cut = sw.steps.some((x) => x.partial);
  const again = sw.recheck;
  const box = chartBox(
    'chart-scaling',
    'Throughput and p95 against concurrent clients',
    `Points: measured steps; line: the fitted Universal Scalability Law; red: p95 (right axis).${cut ? ' Hollow: the step cut short by the cancel, not fitted.' : ''}${again ? ` Triangle: ${plural(again.clients, 'client')} measured again after the last step (the speed check).` : ''}`,
  );
  grid.append(box.box);
  const rec = sw.recommendation?.poolSize;
  chart(box.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'queries/s (measured)', data: sw.steps.map((x) => ({ x: x.clients, y: x.throughputQps })), borderColor: t.green, backgroundColor: t.green, pointBackgroundColor: sw.steps.map((x) => (x.partial ? 'transparent' : t.green)), showLine: false, pointRadius: sw.steps.map((x) => (x.clients === rec ? 7 : 4)), yAxisID: 'y' },
        { label: 'queries/s (USL fit)', data: sw.curve.map((c) => ({ x: c.clients, y: c.throughputQps })), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 0, borderDash: [6, 4], yAxisID: 'y' },
        ...(again ? [{ label: 'queries/s (measured again at the end)', data: [{ x: again.clients, y: again.againQps }], borderColor: t.orange, backgroundColor: t.orange, pointStyle: 'triangle' as const, pointRadius: 7, showLine: false, yAxisID: 'y' }] : []),
        { label: 'p95 ms', data: sw.steps.map((x) => ({ x: x.clients, y: x.p95Ms })), borderColor: t.red, backgroundColor: t.red, pointBackgroundColor: sw.steps.map((x) => (x.partial ? 'transparent' : t.red)), pointRadius: 3, yAxisID: 'y1', segment: { borderDash: (ctx: { p1DataIndex: number }) => (sw.steps[ctx.p1DataIndex]?.partial ? [4, 4] : undefined) } },
      ],
    },
    options: {
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: 'concurrent clients' } },
        y: { beginAtZero: true, position: 'left', title: { display: true, text: 'queries/s' } },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'p95 ms' } },
      },
    },
  });
}
