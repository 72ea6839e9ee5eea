/**
 * The report panel (browser side). Renders what the extension sends — never recomputes statistics.
 * Every piece of text from the result (SQL, error messages, setting values) goes in through textContent.
 */
import { ArcElement, BarController, DoughnutController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import { provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDivider, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';
import type { PanelResult, PanelState, ProgressView, ToWebview } from '../src/shared/protocol';
import { h } from './dom';
import { planSection, timedPlans } from './plan';
import { answersSection } from './answers';
import { formatMs, formatStage, progressFraction, progressLine } from '../src/shared/format';
import { formatWhen, plural, upperFirst } from '../src/shared/numbers';
import { vscode, charts, view, nextRequestId, onRerender, button, theme, destroyCharts, chart, chartBox, tryButton, copyButton } from './host';
import { summary, drawPoolChart, hintsSection, serverSection, errorsSection, drawResultCharts } from './report';
import { scalingSection } from './scaling';
import { compareSection } from './compare';
import { capacitySection } from './capacity';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeBadge(), vsCodeDivider(), vsCodeProgressRing());
Chart.register(LineController, BarController, DoughnutController, ArcElement, LineElement, BarElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Tooltip, Legend, Filler);

let current: PanelState | undefined;
const live: Array<{ t: number; qps: number; p95: number | null }> = [];
/** Where the current step's clock starts on the live chart's time axis. */
let liveOffset = 0;
/** The failed run the user stepped back from to the last good report (its way back). */
let failedBehind: PanelState | undefined;

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
  return h(
    'section',
    { class: 'progress', id: 'progress' },
    h('div', { class: 'progress-row' }, h('vscode-progress-ring', {}), h('strong', { id: 'progress-stage' }, p?.stage ? stageText(p.stage, s.activity) : '')),
    h('progress', { id: 'progress-bar', max: '1', ...(p ? progressValue(p) : {}) }),
    h('div', { id: 'progress-text' }, p ? progressLine(p) : 'Starting…'),
    h('div', { class: 'actions' }, button('Cancel run', 'cancel', 'primary'), button('Show log', 'showLog')),
  );
}

/** A run of steps where it is, in the activity's noun: "Phase 2 of 5: … · about 1 min 10 s left". */
function stageText(stage: NonNullable<ProgressView['stage']>, activity: PanelState['activity']): string {
  const text = formatStage(stage, activity === 'diagnose' ? 'phase' : 'step');
  return upperFirst(text);
}

/** How far the run is, as a <progress> value; none (indeterminate) when unknown. */
function progressValue(p: ProgressView): { value?: string } {
  const fraction = progressFraction(p);
  return fraction === null ? {} : { value: String(fraction) };
}


function tabs(s: PanelState): HTMLElement {
  const tabButton = (id: typeof view.tab, label: string, enabled: boolean) => {
    const b = h('button', { class: `tab${view.tab === id ? ' selected' : ''}`, role: 'tab', 'aria-selected': String(view.tab === id), id: `tab-${id}`, ...(enabled ? {} : { disabled: '' }) }, label);
    b.addEventListener('click', () => {
      view.tab = id;
      render();
    });
    return b;
  };
  return h(
    'div',
    { class: 'tabs', role: 'tablist' },
    s.diagnosis ? tabButton('answers', 'Answers', true) : null,
    s.capacity ? tabButton('capacity', 'Capacity', true) : null,
    tabButton('report', 'Report', !!s.result),
    s.result ? tabButton('plan', 'Plan', timedPlans(s.result).length > 0) : null,
    tabButton('scaling', 'Scaling', true),
    s.comparison ? tabButton('compare', 'Compare', true) : null,
  );
}

/** One live series as (seconds, value) points. */
function livePoints(key: 'qps' | 'p95'): Array<{ x: number; y: number | null }> {
  return live.map((p) => ({ x: p.t / 1000, y: p[key] }));
}

function drawLiveChart(grid: HTMLElement): void {
  const t = theme();
  const box = chartBox('chart-live', 'Live: throughput and p95', 'Updated while the run is in progress.');
  grid.append(box.box);
  chart(box.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'queries/s', data: livePoints('qps'), borderColor: t.green, backgroundColor: t.green, pointRadius: 0, yAxisID: 'y' },
        { label: 'p95 ms', data: livePoints('p95'), borderColor: t.red, backgroundColor: t.red, pointRadius: 0, yAxisID: 'y1', spanGaps: true },
      ],
    },
    // Time on a linear axis in seconds: ticks at round seconds however unevenly the reports arrive.
    options: {
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: 's since the load started' }, ticks: { precision: 0 } },
        y: { beginAtZero: true, position: 'left' },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } },
      },
    },
  });
}

onRerender(() => render());

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
  if (s.state === 'running') return renderRunning(app, s);
  if (s.state === 'failed' || (s.state === 'cancelled' && !s.result && !s.sweep && !s.capacity)) return renderFailed(app, s);
  if (view.tab === 'capacity' && !s.capacity) view.tab = 'report';
  if (view.tab === 'compare' && !s.comparison) view.tab = 'report';
  if (view.tab === 'answers' && !s.diagnosis) view.tab = 'report';
  if (!s.result && (view.tab === 'report' || view.tab === 'plan')) view.tab = s.comparison ? 'compare' : s.capacity ? 'capacity' : 'scaling';
  app.append(tabs(s));
  if (view.tab === 'capacity') {
    // A diagnosis's capacity phase: its search with the best fix beside the search as it is.
    const phase = s.diagnosis?.runs.capacity;
    const fix = phase && phase.asIs.startedAt === s.capacity!.startedAt && phase.withFix && s.diagnosis!.answers.capacity?.withFix ? { what: s.diagnosis!.answers.capacity.withFix.what, result: phase.withFix } : undefined;
    app.append(h('div', { class: 'toast', id: 'toast', role: 'status' }), capacitySection(s.capacity!, fix));
    return;
  }
  if (view.tab === 'compare') {
    app.append(compareSection(s.comparison!));
    return;
  }
  if (view.tab === 'answers') return renderAnswers(app, s);
  if (view.tab === 'scaling') {
    app.append(h('div', { class: 'toast', id: 'toast', role: 'status' }));
    app.append(scalingSection(s.sweep));
    return;
  }
  if (view.tab === 'plan' && s.result) {
    app.append(
      planSection(s.result, view.planView, (v) => {
        view.planView = v;
        render();
      }),
    );
    return;
  }
  renderReport(app, s.result!);
}


/** A run in progress: what runs, the progress, the live chart. */
function renderRunning(app: HTMLElement, s: PanelState): void {
  if (s.activity === 'sweep') app.append(h('p', { class: 'muted' }, 'Concurrency sweep: the statement runs at 1, 2, 4, … clients, one step after the other.'));
  if (s.activity === 'capacity') app.append(h('p', { class: 'muted' }, 'Capacity: the statement alone and back to back, then one demand after another until the most that meets the p95 objective is bracketed.'));
  if (s.activity === 'diagnose') app.append(h('p', { class: 'muted' }, 'Diagnosis: the application load through its pool, a sweep, your pool against the recommended one, the settings the hints suggest and how the ORM sends it against prepared — one phase after the other, within the budget.'));
  app.append(progressSection(s));
  const grid = h('div', { class: 'charts' });
  app.append(grid);
  drawLiveChart(grid);
}

/** A failed (or cancelled, with nothing to show) run: the reason, a way to run again, the last good report. */
function renderFailed(app: HTMLElement, s: PanelState): void {
  const what = s.activity === 'sweep' ? 'sweep' : s.activity === 'diagnose' ? 'diagnosis' : s.activity === 'capacity' ? 'capacity search' : 'run';
  const again = { sweep: button('Run the sweep again', 'sweep', 'primary'), diagnosis: button('Diagnose again', 'diagnose', 'primary'), 'capacity search': button('Find capacity again', 'capacity', 'primary'), run: button('Re-run', 'rerun', 'primary') }[what];
  app.append(h('section', { class: 'failure', id: 'failure' }, h('h3', {}, s.state === 'failed' ? `The ${what} failed` : `The ${what} was cancelled`), h('p', {}, s.error ?? '')));
  app.append(h('div', { class: 'actions' }, again, button('Show log', 'showLog')));
  if (s.lastGood?.result) app.append(lastGoodLink(s, s.lastGood));
}

/** The Answers tab of a diagnosis, with its exports. */
function renderAnswers(app: HTMLElement, s: PanelState): void {
  const save = (label: string, format: 'json' | 'markdown' | 'html') => {
    const b = h('vscode-button', { appearance: 'secondary', 'data-action': `exportDiagnosis-${format}` }, label);
    b.addEventListener('click', () => vscode.postMessage({ type: 'exportDiagnosis', requestId: nextRequestId(), format }));
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
        view.tab = 'report';
        render();
      },
    }),
  );
}

/** The Report tab: the actions, the figures, the charts, the hints, the server and the errors. */
function renderReport(app: HTMLElement, r: PanelResult): void {
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
  // The verdict first: the figures, then what to do about them, then the charts behind them.
  app.append(hintsSection(r));
  const grid = h('div', { class: 'charts' });
  app.append(grid);
  drawPoolChart(r, grid);
  drawResultCharts(r, grid);
  const server = serverSection(r);
  if (server) app.append(server);
  const errs = errorsSection(r);
  if (errs) app.append(errs);
}

/** The statement's last good report, one click away from a failed or cancelled run (and back). */
function lastGoodLink(failed: PanelState, good: PanelState): HTMLElement {
  const r = good.result!;
  const b = h('button', { class: 'show-node', id: 'show-last-good' }, `Show the last report (${formatWhen(r.startedAt)}: ${r.options.pool ? plural(r.options.pool.users, 'user') : plural(r.load.clients, 'client')}, p95 ${formatMs(r.load.latency.p95Ms)})`);
  b.addEventListener('click', () => {
    failedBehind = failed;
    current = good;
    view.tab = 'report';
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
  if (el) el.textContent = progressLine(p);
  const stage = document.getElementById('progress-stage');
  if (stage) stage.textContent = p.stage ? stageText(p.stage, current.activity) : '';
  const bar = document.getElementById('progress-bar') as HTMLProgressElement | null;
  if (bar) {
    const v = progressValue(p).value;
    if (v === undefined) bar.removeAttribute('value');
    else bar.value = Number(v);
  }
  if (p.phase === 'load' && !p.message) {
    // A sweep's steps (a diagnosis's phases) each start their clock at 0: the live chart's time runs on across them.
    const last = live[live.length - 1];
    if (last && p.elapsedMs + liveOffset < last.t) liveOffset = last.t;
    live.push({ t: p.elapsedMs + liveOffset, qps: p.qps, p95: p.p95Ms });
    if (live.length > 600) live.splice(0, live.length - 600);
    const c = charts[0];
    if (c) {
      c.data.datasets[0].data = livePoints('qps');
      c.data.datasets[1].data = livePoints('p95');
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
    view.tab = panel.comparison ? 'compare' : panel.activity === 'diagnose' && panel.diagnosis ? 'answers' : panel.activity === 'capacity' && panel.capacity ? 'capacity' : panel.activity === 'sweep' ? 'scaling' : 'report';
    view.planView = { when: 'under-load', selected: null };
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
