/**
 * The report panel (browser side). Renders what the extension sends — never recomputes statistics.
 * Every piece of text from the result (SQL, error messages, setting values) goes in through textContent.
 */
import {
  ArcElement,
  BarController,
  DoughnutController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDivider, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';
import type { FromWebview, PanelResult, PanelState, ProgressView, ToWebview, WebviewPersistedState } from '../src/shared/protocol';
import type { Comparison, SweepResult } from '../src/shared/result';
import { h } from './dom';
import { waitColor } from '../src/shared/waitcolors';
import { planSection, timedPlans, type PlanView } from './plan';
import { answersSection } from './answers';
import { isTryable } from '../src/shared/hintsql';
import { shortRunWarning, estimateText, modeText, formatCount, formatMs, formatPercent, formatProgress, formatQps, describePlan, paramsLine, poolerLine, modeLines, backgroundLines, scriptLines, statementLines, formatSweepReport } from '../src/shared/format';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeBadge(), vsCodeDivider(), vsCodeProgressRing());
Chart.register(LineController, BarController, DoughnutController, ArcElement, LineElement, BarElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Tooltip, Legend, Filler);

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  setState(s: WebviewPersistedState): void;
  getState(): WebviewPersistedState | undefined;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
/** In VS Code (not the exported HTML report, which may be read by a CLI user): advice names settings, not flags. */
const inEditor: 'editor' | 'cli' = document.body.classList.contains('static') ? 'cli' : 'editor';

let current: PanelState | undefined;
const charts: Chart[] = [];
const live: Array<{ t: number; qps: number; p95: number | null }> = [];
/** Where the current step's clock starts on the live chart's time axis. */
let liveOffset = 0;
let requestSeq = 0;
/** The tab shown: the run's report, or the statement's concurrency sweep. */
let tab: 'answers' | 'report' | 'scaling' | 'compare' | 'plan' = 'report';
/** The Plan tab's plan (alone or under load) and the node a hint pointed at. */
let planView: PlanView = { when: 'under-load', selected: null };
/** The failed run the user stepped back from to the last good report (its way back). */
let failedBehind: PanelState | undefined;


type SimpleMessage = Exclude<FromWebview['type'], 'ready' | 'copyText' | 'tryHint' | 'exportDiagnosis'>;

function send(type: SimpleMessage): void {
  vscode.postMessage({ type, requestId: ++requestSeq } as FromWebview);
}

function button(label: string, type: SimpleMessage, appearance: 'primary' | 'secondary' = 'secondary'): HTMLElement {
  const b = h('vscode-button', { appearance, 'data-action': type }, label);
  b.addEventListener('click', () => send(type));
  return b;
}

// ---- theme -------------------------------------------------------------------------------------------
function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}
function theme() {
  return {
    fg: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    blue: cssVar('--vscode-charts-blue', '#3794ff'),
    orange: cssVar('--vscode-charts-orange', '#d18616'),
    red: cssVar('--vscode-charts-red', '#f14c4c'),
    green: cssVar('--vscode-charts-green', '#89d185'),
    purple: cssVar('--vscode-charts-purple', '#b180d7'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

function destroyCharts(): void {
  while (charts.length) charts.pop()!.destroy();
}

function chart(canvas: HTMLCanvasElement, config: ChartConfiguration): void {
  const t = theme();
  Chart.defaults.color = t.fg;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.font;
  charts.push(new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } }));
}

function chartBox(id: string, title: string, note?: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title }) as HTMLCanvasElement;
  const box = h('section', { class: 'chart' }, h('h3', {}, title), note ? h('p', { class: 'muted small' }, note) : null, h('div', { class: 'canvas-wrap' }, canvas));
  return { box, canvas };
}

// ---- rendering -----------------------------------------------------------------------------------------
function header(s: PanelState): HTMLElement {
  const badge = h('vscode-badge', { class: `state state-${s.state}` }, s.state === 'running' ? 'running' : s.state === 'done' ? (s.result?.status ?? 'done') : s.state);
  return h(
    'header',
    {},
    h('div', { class: 'title-row' }, h('h2', {}, 'pgload report'), badge),
    h('p', { class: 'muted' }, `Connection: ${s.connectionLabel}`, s.result ? ` · ${s.result.connection.user}@${s.result.connection.host}:${s.result.connection.port}/${s.result.connection.database}` : ''),
    h('pre', { class: 'sql', id: 'sql' }, s.sql),
  );
}

function progressSection(s: PanelState): HTMLElement {
  const p = s.progress;
  const text = p ? describeProgress(p) : 'Starting…';
  return h(
    'section',
    { class: 'progress', id: 'progress' },
    h('div', { class: 'progress-row' }, h('vscode-progress-ring', {}), h('span', { id: 'progress-text' }, text)),
    h('div', { class: 'actions' }, button('Cancel run', 'cancel', 'primary'), button('Show log', 'showLog')),
  );
}

function describeProgress(p: ProgressView): string {
  if (p.phase !== 'load' || p.message) return p.message || p.phase;
  return formatProgress(p);
}

function summary(r: PanelResult): HTMLElement {
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
    tiles,
    table,
    modeLines(r).length > 0 ? h('ul', { class: 'facts', id: r.load.pool ? 'pool-split' : 'mode-figures' }, ...modeLines(r).map((l) => h('li', {}, l))) : null,
    r.load.background ? h('ul', { class: 'facts', id: 'background' }, ...backgroundLines(r).map((l) => h('li', {}, l))) : null,
    r.load.scripts?.length ? h('ul', { class: 'facts', id: 'scripts' }, ...scriptLines(r).map((l) => h('li', {}, l))) : null,
    r.load.statements?.length ? h('ul', { class: 'facts', id: 'statements' }, ...statementLines(r).map((l) => h('li', {}, l))) : null,
  );
}

/** Pool wait and database time at each percentile, stacked: where a request's time went. */
function drawPoolChart(r: PanelResult, grid: HTMLElement): void {
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

// ---- scaling (concurrency sweep) -------------------------------------------------------------------------------
function scalingSection(sw: SweepResult | undefined): HTMLElement {
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
      tile('Peak throughput at', usl ? (usl.peakClients === null ? 'no peak' : `${usl.peakClients.toFixed(1)} clients`) : '–', 'tile-peak'),
      tile('Steps', sw.steps.length ? `${sw.steps.length} (${sw.steps[0].clients}–${sw.steps[sw.steps.length - 1].clients} clients)` : '0', 'tile-steps'),
      tile('Fit R²', usl ? usl.r2.toFixed(3) : '–', 'tile-r2'),
    ),
    h('p', { id: 'recommendation', class: rec ? 'recommendation' : 'status-detail' }, rec ? rec.reason : 'No pool size can be recommended from this sweep: see the notes below.'),
  );
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
            rec && x.clients === rec.poolSize ? { class: 'picked' } : {},
            h('th', {}, String(x.clients)),
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

function drawScalingChart(sw: SweepResult, grid: HTMLElement): void {
  const t = theme();
  const box = chartBox('chart-scaling', 'Throughput and p95 against concurrent clients', 'Points: measured steps; line: the fitted Universal Scalability Law; red: p95 (right axis).');
  grid.append(box.box);
  const rec = sw.recommendation?.poolSize;
  chart(box.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'queries/s (measured)', data: sw.steps.map((x) => ({ x: x.clients, y: x.throughputQps })), borderColor: t.green, backgroundColor: t.green, showLine: false, pointRadius: sw.steps.map((x) => (x.clients === rec ? 7 : 4)), yAxisID: 'y' },
        { label: 'queries/s (USL fit)', data: sw.curve.map((c) => ({ x: c.clients, y: c.throughputQps })), borderColor: t.blue, backgroundColor: t.blue, pointRadius: 0, borderDash: [6, 4], yAxisID: 'y' },
        { label: 'p95 ms', data: sw.steps.map((x) => ({ x: x.clients, y: x.p95Ms })), borderColor: t.red, backgroundColor: t.red, pointRadius: 3, yAxisID: 'y1' },
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

// ---- compare (two runs) ------------------------------------------------------------------------------------------
function compareSection(c: Comparison): HTMLElement {
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
      ] as const).map(([label, r]) => h('li', {}, h('strong', {}, label), `: ${new Date(r.startedAt).toLocaleString()} · ${r.clients} clients · ${formatCount(r.requests)} requests`)),
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
    ...c.hints.appeared.map((x) => h('li', { class: 'hint-appeared' }, `New in ${lb}: [${x.severity}] ${x.title}${x.node ? ` — ${x.node}` : ''}`)),
    ...c.hints.disappeared.map((x) => h('li', { class: 'hint-gone' }, `Gone in ${lb}: [${x.severity}] ${x.title}${x.node ? ` — ${x.node}` : ''}`)),
  ];
  if (hintItems.length) section.append(h('h3', {}, 'Hints'), h('ul', { class: 'facts', id: 'compare-hints' }, ...hintItems));
  if (c.plan) section.append(h('h3', {}, 'Plans'), h('ul', { class: 'facts', id: 'compare-plan' }, ...c.plan.notes.map((n) => h('li', {}, n))));
  if (c.notes.length) section.append(h('ul', { class: 'facts', id: 'compare-notes' }, ...c.notes.map((n) => h('li', { class: 'muted' }, n))));
  return section;
}

function tabs(s: PanelState): HTMLElement {
  const tabButton = (id: typeof tab, label: string, enabled: boolean) => {
    const b = h('button', { class: `tab${tab === id ? ' selected' : ''}`, role: 'tab', 'aria-selected': String(tab === id), id: `tab-${id}`, ...(enabled ? {} : { disabled: '' }) }, label);
    b.addEventListener('click', () => {
      tab = id;
      render();
    });
    return b;
  };
  return h(
    'div',
    { class: 'tabs', role: 'tablist' },
    s.diagnosis ? tabButton('answers', 'Answers', true) : null,
    tabButton('report', 'Report', !!s.result),
    s.result ? tabButton('plan', 'Plan', timedPlans(s.result).length > 0) : null,
    tabButton('scaling', 'Scaling', true),
    s.comparison ? tabButton('compare', 'Compare', true) : null,
  );
}

function tile(label: string, value: string, id: string): HTMLElement {
  return h('div', { class: 'tile', id }, h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-label' }, label));
}

function hintsSection(r: PanelResult): HTMLElement {
  if (r.hints.length === 0) return h('section', { id: 'hints' }, h('h3', {}, 'Hints'), h('p', { class: 'muted' }, 'No hints for this run.'));
  return h(
    'section',
    { id: 'hints' },
    h('h3', {}, 'Hints'),
    h(
      'ul',
      { class: 'hints' },
      ...r.hints.map((x) =>
        h(
          'li',
          { class: `hint sev-${x.severity}` },
          h('div', { class: 'hint-title' }, h('span', { class: 'sev' }, x.severity), ' ', x.title, x.node ? h('span', { class: 'muted' }, ` — ${x.node}`) : null),
          h('div', {}, x.detail),
          h('div', { class: 'hint-action' }, `→ ${x.action}`),
          estimateText(x) ? h('div', { class: 'muted small hint-estimate' }, estimateText(x)!) : null,
          x.sql ? h('div', { class: 'hint-sql' }, h('pre', { class: 'sql small' }, x.sql), copyButton(x.sql), isTryable(x.sql) ? tryButton(x.sql) : null) : null,
          x.node && timedPlans(r).some((p) => p.nodes!.some((n) => n.node === x.node)) ? showNodeButton(r, x.node) : null,
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
    planView = { when: inLoad ? 'under-load' : 'alone', selected: node };
    tab = 'plan';
    render();
    document.querySelector<HTMLElement>('tr.plan-node.selected')?.scrollIntoView({ block: 'center' });
  });
  return b;
}

/** Try it: an A/B of the hint's setting against the statement, run by the extension (hidden in an exported report). */
function tryButton(sql: string): HTMLElement {
  const b = h('vscode-button', { appearance: 'secondary', title: 'Run the statement with and without this setting in alternating legs, and compare', 'data-action': 'tryHint', 'data-sql': sql }, 'Try it');
  b.addEventListener('click', () => vscode.postMessage({ type: 'tryHint', requestId: ++requestSeq, sql }));
  return b;
}

function copyButton(text: string, label = 'Copy'): HTMLElement {
  const b = h('vscode-button', { appearance: label === 'Copy' ? 'icon' : 'secondary', 'aria-label': label, title: label, 'data-action': 'copyText' }, label);
  b.addEventListener('click', () => vscode.postMessage({ type: 'copyText', requestId: ++requestSeq, text }));
  return b;
}

/** Waits, counters, plans alone vs under load: what the server did during the run. */
function serverSection(r: PanelResult): HTMLElement | null {
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
  // One colour per wait and class, the same in both charts and in every run (../src/shared/waitcolors).
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

function errorsSection(r: PanelResult): HTMLElement | null {
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

function drawResultCharts(r: PanelResult, grid: HTMLElement): void {
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

function drawLiveChart(grid: HTMLElement): void {
  const t = theme();
  const box = chartBox('chart-live', 'Live: throughput and p95', 'Updated while the run is in progress.');
  grid.append(box.box);
  chart(box.canvas, {
    type: 'line',
    data: {
      labels: live.map((p) => (p.t / 1000).toFixed(1)),
      datasets: [
        { label: 'queries/s', data: live.map((p) => p.qps), borderColor: t.green, backgroundColor: t.green, pointRadius: 0, yAxisID: 'y' },
        { label: 'p95 ms', data: live.map((p) => p.p95), borderColor: t.red, backgroundColor: t.red, pointRadius: 0, yAxisID: 'y1', spanGaps: true },
      ],
    },
    options: { scales: { y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
  });
}

function render(): void {
  const app = document.getElementById('app')!;
  destroyCharts();
  app.replaceChildren();
  const s = current;
  if (!s) {
    app.append(h('p', { class: 'muted' }, 'Waiting for a run…'));
    return;
  }
  app.append(header(s));
  if (s.state === 'running') {
    if (s.activity === 'sweep') app.append(h('p', { class: 'muted' }, 'Concurrency sweep: the statement runs at 1, 2, 4, … clients, one step after the other.'));
    if (s.activity === 'diagnose') app.append(h('p', { class: 'muted' }, 'Diagnosis: the application load through its pool, a sweep, your pool against the recommended one, the settings the hints suggest and how the ORM sends it against prepared — one phase after the other, within the budget.'));
    app.append(progressSection(s));
    const grid = h('div', { class: 'charts' });
    app.append(grid);
    drawLiveChart(grid);
    return;
  }
  if (s.state === 'failed' || (s.state === 'cancelled' && !s.result && !s.sweep)) {
    const what = s.activity === 'sweep' ? 'sweep' : s.activity === 'diagnose' ? 'diagnosis' : 'run';
    app.append(h('section', { class: 'failure', id: 'failure' }, h('h3', {}, s.state === 'failed' ? `The ${what} failed` : `The ${what} was cancelled`), h('p', {}, s.error ?? '')));
    app.append(h('div', { class: 'actions' }, what === 'sweep' ? button('Run the sweep again', 'sweep', 'primary') : what === 'diagnosis' ? button('Diagnose again', 'diagnose', 'primary') : button('Re-run', 'rerun', 'primary'), button('Show log', 'showLog')));
    if (s.lastGood?.result) app.append(lastGoodLink(s, s.lastGood));
    return;
  }
  if (tab === 'compare' && !s.comparison) tab = 'report';
  if (tab === 'answers' && !s.diagnosis) tab = 'report';
  if (!s.result && (tab === 'report' || tab === 'plan')) tab = s.comparison ? 'compare' : 'scaling';
  app.append(tabs(s));
  if (tab === 'compare') {
    app.append(compareSection(s.comparison!));
    return;
  }
  if (tab === 'answers') {
    const save = (label: string, format: 'json' | 'markdown' | 'html') => {
      const b = h('vscode-button', { appearance: 'secondary', 'data-action': `exportDiagnosis-${format}` }, label);
      b.addEventListener('click', () => vscode.postMessage({ type: 'exportDiagnosis', requestId: ++requestSeq, format }));
      return b;
    };
    app.append(h('div', { class: 'actions' }, button('Diagnose again', 'diagnose', 'primary'), save('Save JSON', 'json'), save('Save Markdown', 'markdown'), save('Export HTML', 'html'), button('Show log', 'showLog')));
    app.append(h('div', { class: 'toast', id: 'toast', role: 'status' }));
    const t = theme();
    app.append(
      answersSection(s.diagnosis!, {
        chartBox,
        chart,
        colors: { blue: t.blue, orange: t.orange, green: t.green, red: t.red },
        tryButton,
        copyButton,
        showReport: () => {
          tab = 'report';
          render();
        },
      }),
    );
    return;
  }
  if (tab === 'scaling') {
    app.append(h('div', { class: 'toast', id: 'toast', role: 'status' }));
    app.append(scalingSection(s.sweep));
    return;
  }
  if (tab === 'plan' && s.result) {
    app.append(
      planSection(s.result, planView, (v) => {
        planView = v;
        render();
      }),
    );
    return;
  }
  const r = s.result!;
  app.append(
    h(
      'div',
      { class: 'actions' },
      button('Re-run', 'rerun', 'primary'),
      button('A/B test…', 'abTest'),
      button('Copy Markdown', 'copyMarkdown'),
      button('Save JSON', 'saveJson'),
      button('Export HTML', 'exportHtml'),
      button('Export CSV', 'exportCsv'),
      button('Show log', 'showLog'),
    ),
  );
  app.append(h('div', { class: 'toast', id: 'toast', role: 'status' }));
  if (failedBehind) app.append(failedNote(failedBehind));
  app.append(summary(r));
  const grid = h('div', { class: 'charts' });
  app.append(grid);
  drawPoolChart(r, grid);
  drawResultCharts(r, grid);
  app.append(hintsSection(r));
  const server = serverSection(r);
  if (server) app.append(server);
  const errs = errorsSection(r);
  if (errs) app.append(errs);
}

/** The statement's last good report, one click away from a failed or cancelled run (and back). */
function lastGoodLink(failed: PanelState, good: PanelState): HTMLElement {
  const r = good.result!;
  const b = h('button', { class: 'show-node', id: 'show-last-good' }, `Show the last report (${new Date(r.startedAt).toLocaleString()}: ${r.load.clients} clients, p95 ${formatMs(r.load.latency.p95Ms)})`);
  b.addEventListener('click', () => {
    failedBehind = failed;
    current = good;
    tab = 'report';
    render();
  });
  return h('p', { class: 'last-good' }, b);
}

/** Above the last good report shown from a failure: what failed, and the way back to it. */
function failedNote(failed: PanelState): HTMLElement {
  const b = h('button', { class: 'show-node', id: 'show-failure' }, 'Show it');
  b.addEventListener('click', () => {
    current = failed;
    failedBehind = undefined;
    render();
  });
  return h('p', { class: 'status-detail', id: 'failed-behind' }, `The latest ${failed.activity === 'sweep' ? 'sweep' : 'run'} ${failed.state === 'failed' ? 'failed' : 'was cancelled'}: ${failed.error ?? ''} `, b);
}

function onProgress(p: ProgressView): void {
  if (!current || current.state !== 'running') return;
  current.progress = p;
  const el = document.getElementById('progress-text');
  if (el) el.textContent = describeProgress(p);
  if (p.phase === 'load' && !p.message) {
    // A sweep's steps (a diagnosis's phases) each start their clock at 0: the live chart's time runs on across them.
    const last = live[live.length - 1];
    if (last && p.elapsedMs + liveOffset < last.t) liveOffset = last.t;
    live.push({ t: p.elapsedMs + liveOffset, qps: p.qps, p95: p.p95Ms });
    if (live.length > 600) live.splice(0, live.length - 600);
    const c = charts[0];
    if (c) {
      c.data.labels = live.map((x) => (x.t / 1000).toFixed(1));
      c.data.datasets[0].data = live.map((x) => x.qps);
      c.data.datasets[1].data = live.map((x) => x.p95);
      c.update('none');
    }
  }
}

function show(panel: PanelState): void {
  // A new run, or a run that has just finished (its result, sweep or diagnosis arrives now): its own first tab.
  if (!current || current.runId !== panel.runId || (current.state === 'running' && panel.state !== 'running')) {
    live.length = 0;
    liveOffset = 0;
    // A new run opens on its report, a sweep on the Scaling tab, a comparison on the Compare tab.
    tab = panel.comparison ? 'compare' : panel.activity === 'diagnose' && panel.diagnosis ? 'answers' : panel.activity === 'sweep' ? 'scaling' : 'report';
    planView = { when: 'under-load', selected: null };
  }
  current = panel;
  failedBehind = undefined;
  vscode.setState({ runId: panel.runId, fingerprint: panel.fingerprint });
  render();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'show':
      show(m.panel);
      break;
    case 'progress':
      if (current && m.runId === current.runId) onProgress(m.progress);
      break;
    case 'ack': {
      const toast = document.getElementById('toast');
      if (toast && m.message) {
        toast.textContent = m.message;
        toast.className = `toast ${m.ok ? 'ok' : 'bad'}`;
      }
      break;
    }
  }
});

// Colours follow the theme: VS Code changes the body class (vscode-light / vscode-dark / vscode-high-contrast).
new MutationObserver(() => current && render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// The state the page was written with: drawn at once, before the ready handshake goes round (the host sends it again).
const initial = document.getElementById('pgload-initial');
if (initial?.textContent) {
  try {
    show(JSON.parse(initial.textContent) as PanelState);
  } catch {
    // the host's 'show' follows
  }
}

vscode.postMessage({ type: 'ready' });
