/**
 * A self-contained HTML report: the panel's own bundle and stylesheet inlined with the result, so the file
 * opens anywhere — offline, without VS Code, without any network request — and draws the same charts.
 * The page's CSP allows nothing but its own inline scripts (by nonce) and inline styles.
 */
import { stateFromCapacity, stateFromDiagnosis, stateFromStored } from '../../shared/panelState';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PanelState } from '../../shared/panelState';
import type { CapacityResult, DiagnoseResult, ProfileResult } from '../../shared/result';
import { oneLine } from '../../shared/text';

export interface ReportAssets {
  /** The webview bundle (dist/webview/main.js). */
  script: string;
  /** media/panel.css. */
  css: string;
}

/** Finds the built panel next to the running code: dist/ (bundled CLI or extension) or the source tree. */
export function loadReportAssets(from: string = __dirname): ReportAssets {
  const candidates = [path.resolve(from, '..'), path.resolve(from, '../..'), path.resolve(from, '../../..')];
  for (const root of candidates) {
    const script = path.join(root, 'dist', 'webview', 'main.js');
    const css = path.join(root, 'media', 'panel.css');
    if (fs.existsSync(script) && fs.existsSync(css)) return { script: fs.readFileSync(script, 'utf8'), css: fs.readFileSync(css, 'utf8') };
  }
  throw new Error(`The report panel is not built (dist/webview/main.js not found near ${from}); run "npm run build"`);
}

/** A fresh value for a page's script nonce (CSP `script-src 'nonce-…'`). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/** A light theme's colours, standing in for the ones VS Code gives the panel. */
const LIGHT_THEME: Record<string, string> = {
  '--vscode-foreground': '#3b3b3b',
  '--vscode-editor-background': '#ffffff',
  '--vscode-descriptionForeground': '#6f6f6f',
  '--vscode-panel-border': '#e0e0e0',
  '--vscode-textCodeBlock-background': '#f3f3f3',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
  '--vscode-focusBorder': '#0090f1',
  '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'ui-monospace, Menlo, Consolas, monospace',
  '--vscode-editor-font-size': '12px',
};

/** JSON that is safe inside a <script> element (no closing tag, no line separators). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The panel state of an exported result: no HDR data (the page never needs it), nothing to click. */
export function exportState(r: ProfileResult, connectionLabel: string, extra: Partial<PanelState> = {}): PanelState {
  return { ...stateFromStored(`export-${r.startedAt}`, r, connectionLabel), ...extra };
}

/** The panel state of an exported diagnosis: the Answers tab, with the application load's report and the sweep. */
export function diagnosisState(d: DiagnoseResult, connectionLabel: string): PanelState {
  return stateFromDiagnosis(`export-${d.startedAt}`, d, connectionLabel);
}

/** The panel state of an exported capacity search: the Capacity tab. */
export function capacityState(c: CapacityResult, connectionLabel: string): PanelState {
  return stateFromCapacity(`export-${c.startedAt}`, c, connectionLabel);
}

export function buildHtmlReport(state: PanelState, assets: ReportAssets): string {
  const nonce = makeNonce();
  const csp = ["default-src 'none'", `script-src 'nonce-${nonce}'`, "style-src 'unsafe-inline'", 'img-src data:', 'font-src data:'].join('; ');
  const vars = Object.entries(LIGHT_THEME)
    .map(([k, v]) => `${k}: ${v};`)
    .join(' ');
  const title = `pgload report — ${oneLine(state.sql, 80)}`;
  // The panel's script talks to VS Code through acquireVsCodeApi; here nobody listens, and the buttons are hidden.
  const boot = `window.acquireVsCodeApi = function () { return { postMessage: function () {}, setState: function () {}, getState: function () { return undefined; } }; };`;
  const show = `window.postMessage({ type: 'show', panel: ${scriptJson(state)} }, '*');`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="pgload">
<title>${escapeHtml(title)}</title>
<style>body { ${vars} }
${assets.css.replace(/<\/style/gi, '<\\/style')}
body.static .actions, body.static vscode-button { display: none; }
</style>
</head>
<body class="vscode-light static">
<main id="app" aria-live="polite"><p class="muted">Loading the report… (it needs JavaScript)</p></main>
<script nonce="${nonce}">${boot}</script>
<script nonce="${nonce}">${assets.script.replace(/<\/script/gi, '<\\/script')}</script>
<script nonce="${nonce}">${show}</script>
</body>
</html>
`;
}
