/**
 * The report panel: one per statement text (two statements that differ only in a constant get a panel each),
 * created or revealed when a run starts, updated live, restored after a reload from the stored result. Messages wait for the webview's "ready".
 */
import { stateFromStored, stateFromSweep } from '../shared/panelState';
import * as vscode from 'vscode';
import { inEditorWordsDeep } from './words';
import { formatMarkdownReport } from '../shared/format';
import { exportResult } from './exports';
import type { Ui } from './ui';
import { oneLine } from '../shared/text';
import type { FromWebview, PanelState, ProgressView, ToWebview, WebviewPersistedState } from '../shared/protocol';
import type { ProfileResult } from '../shared/result';
import { PANEL_VIEW_TYPE } from './constants';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import { panelHtml } from './panelHtml';
import { parseFromWebview } from './protocolGuard';
import type { ResultStore } from './resultStore';

export interface PanelActions {
  /** Runs the statement with this exact text again. */
  rerun(sql: string): Promise<void>;
  /** Runs the concurrency sweep of the statement with this exact text. */
  sweep(sql: string): Promise<void>;
  /** Diagnoses the statement with this exact text. */
  diagnose(sql: string): Promise<void>;
  /** Finds the capacity of the statement with this exact text within the objective. */
  capacity(sql: string): Promise<void>;
  /** An A/B of the statement against what the user picks (a setting, a second statement, prepared). */
  abTest(sql: string): Promise<void>;
  /** A/B of a hint's setting (`SET LOCAL …`) against the statement. */
  tryHint(sql: string, hintSql: string): Promise<void>;
  cancel(): void;
}

export class ReportPanel extends Disposable {
  private ready = false;
  private readonly queue: ToWebview[] = [];
  private state: PanelState;

  constructor(
    readonly panel: vscode.WebviewPanel,
    state: PanelState,
    private readonly extensionUri: vscode.Uri,
    private readonly actions: PanelActions,
    private readonly log: Log,
    private readonly ui: Ui,
    onDispose: () => void,
  ) {
    super();
    this.state = state;
    panel.webview.options = this.webviewOptions();
    panel.webview.html = this.html();
    panel.title = titleFor(state.sql);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'pgload.svg');
    this._register(panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)));
    this._register(panel.onDidDispose(() => {
      onDispose();
      this.dispose();
    }));
  }

  get sql(): string {
    return this.state.sql;
  }

  /** Whether a person can see the panel now (not behind another tab, not closed). */
  get visible(): boolean {
    return !this.isDisposed && this.panel.visible;
  }

  /** Calls `fn` with the panel's visibility whenever it changes; closing the panel counts as hidden. */
  onVisibility(fn: (visible: boolean) => void): vscode.Disposable {
    const a = this.panel.onDidChangeViewState((e) => fn(e.webviewPanel.visible));
    const b = this.panel.onDidDispose(() => fn(false));
    return { dispose: () => (a.dispose(), b.dispose()) };
  }

  get runId(): string {
    return this.state.runId;
  }

  webviewOptions(): vscode.WebviewOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private html(): string {
    const w = this.panel.webview;
    return panelHtml({
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'main.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css')).toString(),
      title: 'pgload report',
      state: inEditorWordsDeep(this.state),
    });
  }

  private post(m: ToWebview): void {
    if (!this.ready) {
      // Until the webview is ready: the state is sent in full on "ready"; only answers need keeping.
      if (m.type === 'ack') this.queue.push(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  get shown(): PanelState {
    return this.state;
  }

  show(state: PanelState, reveal: boolean): void {
    this.state = state;
    this.panel.title = titleFor(state.sql);
    this.post({ type: 'show', panel: inEditorWordsDeep(state) });
    if (reveal) this.panel.reveal(this.panel.viewColumn ?? vscode.ViewColumn.Beside, true);
  }

  progress(runId: string, progress: ProgressView): void {
    if (runId !== this.state.runId) return;
    this.state = { ...this.state, progress };
    this.post({ type: 'progress', runId, progress });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseFromWebview(raw);
    if (!m) {
      this.log.warn(`report panel: ignored a malformed message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    if (m.type === 'ready') {
      // Also after the webview reloads: it gets the whole current state again.
      this.ready = true;
      void this.panel.webview.postMessage({ type: 'show', panel: inEditorWordsDeep(this.state) } satisfies ToWebview);
      for (const a of this.queue.splice(0)) void this.panel.webview.postMessage(a);
      return;
    }
    await this.handle(m);
  }

  private async handle(m: Exclude<FromWebview, { type: 'ready' }>): Promise<void> {
    const ack = (ok: boolean, message?: string) => this.post({ type: 'ack', requestId: m.requestId, ok, message });
    try {
      switch (m.type) {
        case 'rerun':
          ack(true);
          await this.actions.rerun(this.state.sql);
          return;
        case 'sweep':
          ack(true);
          await this.actions.sweep(this.state.sql);
          return;
        case 'abTest':
          ack(true);
          await this.actions.abTest(this.state.sql);
          return;
        case 'diagnose':
          ack(true);
          await this.actions.diagnose(this.state.sql);
          return;
        case 'capacity':
          ack(true);
          await this.actions.capacity(this.state.sql);
          return;
        case 'exportDiagnosis': {
          const d = this.state.diagnosis;
          if (!d) return ack(false, 'No diagnosis to save.');
          return ack(...(await exportResult(this.ui, m.format, d.runs.load, this.state.connectionLabel, this.extensionUri, { diagnosis: d })));
        }
        case 'tryHint':
          ack(true, 'Trying it: the statement with and without the setting, in alternating legs…');
          await this.actions.tryHint(this.state.sql, m.sql);
          return;
        case 'cancel':
          this.actions.cancel();
          ack(true);
          return;
        case 'showLog':
          this.log.show();
          ack(true);
          return;
        case 'copyText':
          await vscode.env.clipboard.writeText(m.text);
          return ack(true, 'Copied.');
        case 'copyMarkdown': {
          const r = this.state.result;
          if (!r) return ack(false, 'No result to copy yet.');
          await vscode.env.clipboard.writeText(formatMarkdownReport(r));
          return ack(true, 'Markdown report copied.');
        }
        case 'saveJson':
        case 'exportHtml':
        case 'exportCsv': {
          const r = this.fullResult;
          if (!r) return ack(false, 'No result to save yet.');
          const format = m.type === 'saveJson' ? 'json' : m.type === 'exportHtml' ? 'html' : 'csv';
          return ack(...(await exportResult(this.ui, format, r, this.state.connectionLabel, this.extensionUri, { sweep: this.state.sweep })));
        }
      }
    } catch (err) {
      this.log.error(`report panel action ${m.type} failed: ${err instanceof Error ? err.message : String(err)}`);
      ack(false, 'That did not work; see the pgload log.');
    }
  }

  /** The full result (with HDR data) for "Save JSON"; the webview only ever gets the panel result. */
  fullResult?: ProfileResult;
}

function titleFor(sql: string): string {
  return `pgload: ${oneLine(sql, 40)}`;
}

/** All report panels, one per statement (its exact text), and their restoration after a reload. */
export class ReportPanels extends Disposable implements vscode.WebviewPanelSerializer<WebviewPersistedState> {
  private readonly panels = new Map<string, ReportPanel>();
  actions: PanelActions = { rerun: async () => undefined, sweep: async () => undefined, diagnose: async () => undefined, capacity: async () => undefined, tryHint: async () => undefined, abTest: async () => undefined, cancel: () => undefined };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ResultStore,
    private readonly log: Log,
    private readonly ui: Ui,
  ) {
    super();
    this._register(vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, this));
  }

  get(sql: string): ReportPanel | undefined {
    return this.panels.get(sql);
  }

  /** What the statement's panel shows now (undefined: no panel). */
  shown(sql: string): PanelState | undefined {
    return this.panels.get(sql)?.shown;
  }

  /** Creates or reveals the panel of this statement and shows the state. */
  show(state: PanelState, full?: ProfileResult): ReportPanel {
    // The Scaling tab shows the statement's latest sweep beside any run.
    if (!state.sweep && state.activity !== 'sweep') state = { ...state, sweep: this.store.sweepBySql(state.sql)?.sweep };
    // The Answers tab shows the statement's latest diagnosis beside any run.
    if (!state.diagnosis) {
      const d = this.store.diagnosisBySql(state.sql)?.diagnosis;
      if (d) state = { ...state, diagnosis: d, ...(d.runs.capacity && !state.capacity ? { capacity: d.runs.capacity.asIs } : {}) };
    }
    // A failed or cancelled run without figures does not take the last good report away: it stays one click away.
    if ((state.state === 'failed' || state.state === 'cancelled') && !state.result) {
      // The last run of the statement that completed (the store keeps it beside a newer cancelled one).
      const good = this.store.all().find((r) => r.result.sql === state.sql && r.result.status === 'completed');
      if (good) state = { ...state, lastGood: stateFromStored(good.runId, good.result, good.connectionName, state.sweep) };
    }
    let p = this.panels.get(state.sql);
    if (!p) {
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, titleFor(state.sql), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
      });
      p = this.adopt(panel, state);
    }
    p.fullResult = full;
    p.show(state, true);
    return p;
  }

  private adopt(panel: vscode.WebviewPanel, state: PanelState): ReportPanel {
    const p = new ReportPanel(panel, state, this.extensionUri, {
        rerun: (sql) => this.actions.rerun(sql),
        sweep: (sql) => this.actions.sweep(sql),
        diagnose: (sql) => this.actions.diagnose(sql),
        capacity: (sql) => this.actions.capacity(sql),
        tryHint: (sql, hintSql) => this.actions.tryHint(sql, hintSql),
        abTest: (sql) => this.actions.abTest(sql),
        cancel: () => this.actions.cancel(),
      }, this.log, this.ui, () =>
      this.panels.delete(state.sql),
    );
    this.panels.set(state.sql, p);
    return p;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, persisted: WebviewPersistedState | undefined): Promise<void> {
    const stored = (persisted?.runId && this.store.byRunId(persisted.runId)) || (persisted?.fingerprint && this.store.byFingerprint(persisted.fingerprint)[0]) || undefined;
    const sweep = stored ? this.store.sweepBySql(stored.result.sql) : persisted?.fingerprint ? this.store.sweepByFingerprint(persisted.fingerprint) : undefined;
    if (!stored && !sweep) {
      panel.webview.html = '<!DOCTYPE html><html><body><p>This pgload report is no longer stored. Profile the statement again to see a new one.</p></body></html>';
      return;
    }
    const base = stored ? stateFromStored(stored.runId, stored.result, stored.connectionName, sweep?.sweep) : stateFromSweep(persisted!.runId, sweep!.sweep, sweep!.connectionName);
    const diagnosis = this.store.diagnosisBySql(base.sql)?.diagnosis;
    const state = diagnosis ? { ...base, diagnosis } : base;
    const p = this.adopt(panel, state);
    p.fullResult = stored?.result;
    p.show(state, false);
  }

  override dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    super.dispose();
  }
}

export { stateFromStored, stateFromSweep };
