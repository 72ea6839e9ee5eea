/**
 * The report panel's test bench: a local server for the built bundle, Chromium, and the panel's own HTML (same
 * builder, same CSP) with a stubbed acquireVsCodeApi. Call panelBench() inside a describe: it adds its hooks.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../scripts/lib/code-server';
import { panelHtml } from '../../src/extension/panelHtml';
import type { PanelState } from '../../src/shared/protocol';

export const root = path.resolve(__dirname, '../..');
export const results = path.join(root, 'test-results');

/** The CSS variables VS Code injects, for a light and a dark theme (a subset: what the panel uses). */
export const THEMES: Record<string, { bodyClass: string; vars: Record<string, string> }> = {
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-textCodeBlock-background': '#f2f2f2',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-green': '#388a34',
      '--vscode-font-family': 'sans-serif',
      '--vscode-editor-font-family': 'monospace',
    },
  },
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-textCodeBlock-background': '#2b2b2b',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185',
      '--vscode-font-family': 'sans-serif',
      '--vscode-editor-font-family': 'monospace',
    },
  },
};

export function panelBench() {
  let server: http.Server;
  let origin: string;
  let browser: Browser;
  const pageHtml = new Map<string, string>();

  before(async () => {
    assert.ok(fs.existsSync(path.join(root, 'dist/webview/main.js')), 'the webview bundle is built');
    fs.mkdirSync(results, { recursive: true });
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const page = pageHtml.get(url.pathname);
      if (page) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(page);
        return;
      }
      const file = path.join(root, path.normalize(url.pathname));
      if (!file.startsWith(path.join(root, 'dist')) && !file.startsWith(path.join(root, 'media'))) {
        res.writeHead(404).end();
        return;
      }
      fs.readFile(file, (err, data) => {
        if (err) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream' }).end(data);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  /** Serves the panel's HTML (from the extension's own builder) with the VS Code stub and a theme. */
  async function openPanel(theme: keyof typeof THEMES, o: { state?: PanelState; javaScript?: boolean } = {}): Promise<Page> {
    const nonce = 'testnonce' + theme;
    const t = THEMES[theme];
    let html = panelHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview/main.js`, styleUri: `${origin}/media/panel.css`, nonce, title: 'pgload report', state: o.state });
    const stub = `<script nonce="${nonce}">
      window.__sent = []; window.__state = undefined;
      window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__sent.push(m), setState: (s) => { window.__state = s; }, getState: () => window.__state });
    </script>`;
    const vars = `<style>body { ${Object.entries(t.vars).map(([k, v]) => `${k}: ${v};`).join(' ')} }</style>`;
    html = html.replace('<script nonce=', `${stub}\n<script nonce=`).replace('</head>', `${vars}\n</head>`).replace('<body>', `<body class="${t.bodyClass}">`);
    const route = `/panel-${theme}${o.state ? `-${o.state.runId}` : ''}.html`;
    pageHtml.set(route, html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 }, javaScriptEnabled: o.javaScript ?? true });
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    (page as unknown as { cspViolations: string[] }).cspViolations = cspViolations;
    await page.goto(origin + route);
    if (o.javaScript === false) return page;
    await page.waitForFunction(() => (window as unknown as { __sent: Array<{ type: string }> }).__sent.some((m) => m.type === 'ready'));
    return page;
  }

  /** Posts a message to the panel as the extension host would, and resolves once the panel's handlers have run. */
  const post = (page: Page, message: unknown) =>
    page.evaluate(
      (m) =>
        new Promise<void>((resolve) => {
          window.addEventListener('message', () => setTimeout(resolve, 0), { once: true });
          window.postMessage(m, '*');
        }),
      message,
    );
  const show = (page: Page, state: PanelState) => post(page, { type: 'show', panel: state });

  /** Non-background pixels drawn on a canvas (0 for a blank chart). */
  const inkOf = (page: Page, id: string) =>
    page.evaluate((cid) => {
      const c = document.getElementById(cid) as HTMLCanvasElement | null;
      if (!c || c.width === 0 || c.height === 0) return 0;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    }, id);

  return { openPanel, post, show, inkOf, browser: () => browser };
}
