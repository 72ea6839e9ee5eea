/**
 * What every part of the panel shares: the way to the extension (messages with request ids), the view state (tab, plan
 * view), the theme's colours and the charts drawn (destroyed before each render), and the small buttons.
 */
import { indexStatements } from '../src/shared/hintSql';
import { Chart, type ChartConfiguration } from 'chart.js';
import type { FromWebview, WebviewPersistedState } from '../src/shared/protocol';
import { h } from './dom';
import type { PlanView } from './plan';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  setState(s: WebviewPersistedState): void;
  getState(): WebviewPersistedState | undefined;
}
declare function acquireVsCodeApi(): VsCodeApi;
export const vscode = acquireVsCodeApi();
/** In VS Code (not the exported HTML report, which may be read by a CLI user): advice names settings, not flags. */
export const inEditor: 'editor' | 'cli' = document.body.classList.contains('static') ? 'cli' : 'editor';
export const charts: Chart[] = [];
/** What the panel shows of the current state: the tab, and the Plan tab's plan (alone or under load) and node. */
export const view: { tab: 'answers' | 'report' | 'scaling' | 'compare' | 'plan' | 'capacity'; planView: PlanView } = { tab: 'report', planView: { when: 'under-load', selected: null } };
let requestSeq = 0;
/** The id of the next request to the extension (it answers with an ack carrying it). */
export function nextRequestId(): number {
  return ++requestSeq;
}
let rerenderHook: () => void = () => undefined;
/** Draws the panel again (after a tab or a plan node was picked); main.ts says how. */
export function rerender(): void {
  rerenderHook();
}
export function onRerender(f: () => void): void {
  rerenderHook = f;
}


type SimpleMessage = Exclude<FromWebview['type'], 'ready' | 'copyText' | 'tryHint' | 'exportDiagnosis'>;

function send(type: SimpleMessage): void {
  vscode.postMessage({ type, requestId: nextRequestId() } as FromWebview);
}

export function button(label: string, type: SimpleMessage, appearance: 'primary' | 'secondary' = 'secondary'): HTMLElement {
  const b = h('vscode-button', { appearance, 'data-action': type }, label);
  b.addEventListener('click', () => send(type));
  return b;
}

// ---- theme -------------------------------------------------------------------------------------------
function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}
export function theme() {
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

export function destroyCharts(): void {
  while (charts.length) charts.pop()!.destroy();
}

export function chart(canvas: HTMLCanvasElement, config: ChartConfiguration): void {
  const t = theme();
  Chart.defaults.color = t.fg;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.font;
  charts.push(new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } }));
}

export function chartBox(id: string, title: string, note?: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title }) as HTMLCanvasElement;
  const box = h('section', { class: 'chart' }, h('h3', {}, title), note ? h('p', { class: 'muted small' }, note) : null, h('div', { class: 'canvas-wrap' }, canvas));
  return { box, canvas };
}

export function tile(label: string, value: string, id: string): HTMLElement {
  return h('div', { class: 'tile', id }, h('div', { class: 'tile-value' }, value), h('div', { class: 'tile-label' }, label));
}

/**
 * Try it: an A/B of the hint's setting against the statement, or an index trial (built for B's legs on a connection
 * that allows it), run by the extension (hidden in an exported report).
 */
export function tryButton(sql: string): HTMLElement {
  const title = indexStatements(sql)
    ? 'On a scratch database (a connection with "allowIndexTrials": true): build the index for half the legs, compare with and without, then drop it'
    : 'Run the statement with and without this setting in alternating legs, and compare';
  const b = h('vscode-button', { appearance: 'secondary', title, 'data-action': 'tryHint', 'data-sql': sql }, 'Try it');
  b.addEventListener('click', () => vscode.postMessage({ type: 'tryHint', requestId: nextRequestId(), sql }));
  return b;
}

export function copyButton(text: string, label = 'Copy'): HTMLElement {
  const b = h('vscode-button', { appearance: label === 'Copy' ? 'icon' : 'secondary', 'aria-label': label, title: label, 'data-action': 'copyText' }, label);
  b.addEventListener('click', () => vscode.postMessage({ type: 'copyText', requestId: nextRequestId(), text }));
  return b;
}
