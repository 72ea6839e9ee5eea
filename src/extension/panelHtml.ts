/**
 * The report panel's HTML shell. Pure (no vscode import) so that the webview tests render exactly this page.
 * Strict CSP: nothing by default, scripts only with the nonce, styles and fonts only from the extension.
 */
import { makeNonce } from '../core/report/htmlReport';
import type { PanelState } from '../shared/protocol';

export interface PanelHtmlOptions {
  /** The webview's `cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce?: string;
  title: string;
  /**
   * The state to show first: written into the page (its header drawn before any script runs, the whole state read by
   * the script at once), so the panel is never blank while the bundle loads and the ready handshake goes round.
   */
  state?: PanelState;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function panelHtml(o: PanelHtmlOptions): string {
  const nonce = o.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Chart.js and the toolkit set style attributes on their elements; no inline script is allowed.
    `style-src ${o.cspSource} 'unsafe-inline'`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>${escapeAttr(o.title)}</title>
</head>
<body>
<main id="app" aria-live="polite">${o.state ? firstPaint(o.state) : '<p class="muted">Loading the report…</p>'}</main>
${o.state ? `<script type="application/json" id="pgload-initial">${jsonInHtml(o.state)}</script>\n` : ''}<script nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** JSON that cannot end its script element or open a comment: `<` written as its escape. */
function jsonInHtml(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** What the page shows before its script runs: the header the script draws, and what is happening. */
function firstPaint(s: PanelState): string {
  const what = s.activity === 'sweep' ? 'sweep' : s.activity === 'diagnose' ? 'diagnosis' : 'run';
  const line =
    s.state === 'running'
      ? `Starting the ${what} on ${s.connectionLabel}…`
      : s.state === 'failed'
        ? `The ${what} failed: ${s.error ?? ''}`
        : s.state === 'cancelled'
          ? `The ${what} was cancelled.`
          : 'Drawing the report…';
  return `<header><div class="title-row"><h2>pgload report</h2></div><p class="muted">Connection: ${escapeText(s.connectionLabel)}</p><pre class="sql" id="sql">${escapeText(s.sql)}</pre></header><p class="muted" id="first-paint">${escapeText(line)}</p>`;
}
