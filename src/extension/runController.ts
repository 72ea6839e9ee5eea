/**
 * "Profile under load": from an editor selection, the statement under the cursor, or a CodeLens, to a core
 * run with progress, cancel, the report panel, the stored result and refreshed CodeLens.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { errorMessage, isPgloadError, PgloadError } from '../core/errors';
import { formatMs, formatQps } from '../core/format';
import { profile, type Progress } from '../core/runner';
import { executionModeFor, describeNode } from '../core/safety';
import { ensureParser, parseSingleStatement, splitStatements, statementAt, type SqlStatement } from '../core/sql';
import { oneLine } from '../core/text';
import type { PanelState } from '../shared/protocol';
import type { ProfileResult } from '../shared/result';
import type { PgloadCodeLensProvider } from './codelens';
import { askBeforeRun, readRunDefaults, SettingsError, type ConnectionSetting, type RunDefaults } from './config';
import type { ConnectionManager } from './connections';
import { ContextKeys } from './constants';
import { Disposable, setContext } from './lifecycle';
import type { Log } from './log';
import { stateFromStored, type ReportPanels } from './panel';
import type { ResultStore } from './resultStore';
import type { Ui } from './ui';

/** A run's load plan: clients and either requests or a duration. */
export interface LoadPlan {
  clients: number;
  requests?: number;
  durationMs?: number;
}

interface RunRequest {
  sql: string;
  /** Where the SQL came from, to place diagnostics and remember the statement's position. */
  document?: vscode.TextDocument;
  /** Offset of `sql` in the document. */
  baseOffset: number;
  statementIndex?: number;
  /** Skip the plan question (re-run). */
  plan?: LoadPlan;
  allowWrites?: boolean;
  connection?: ConnectionSetting;
}

interface ActiveRun {
  id: string;
  controller: AbortController;
  fingerprint: string;
}

export class RunController extends Disposable {
  private active?: ActiveRun;
  private readonly diagnostics: vscode.DiagnosticCollection;
  /** The last request per statement text, for "Re-run" from the panel. */
  private readonly lastRequest = new Map<string, RunRequest>();
  /** Settles when the current run (if any) has finished; tests and the cancel command wait on it. */
  runFinished: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Log,
    private readonly connections: ConnectionManager,
    private readonly store: ResultStore,
    private readonly panels: ReportPanels,
    private readonly lenses: PgloadCodeLensProvider,
    private readonly ui: Ui,
  ) {
    super();
    this.diagnostics = this._register(vscode.languages.createDiagnosticCollection('pgload'));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.diagnostics.delete(e.document.uri)));
    panels.actions = { rerun: (f) => this.rerun(f), cancel: () => this.cancel() };
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  cancel(): void {
    if (!this.active) {
      this.ui.info('pgload: no run in progress.');
      return;
    }
    this.log.info('cancel requested by the user');
    this.active.controller.abort();
  }

  /** The command "Profile under load": the selection, or the statement under the cursor. */
  async profileSelection(editor = vscode.window.activeTextEditor): Promise<ProfileResult | undefined> {
    if (!editor) {
      this.ui.warn('pgload: open a SQL file and select a statement (or put the cursor in one) to profile it.');
      return undefined;
    }
    const doc = editor.document;
    const sel = editor.selection;
    if (!sel.isEmpty) {
      const text = doc.getText(sel);
      if (text.trim() !== '') return this.fromText(doc, text, doc.offsetAt(sel.start));
    }
    await ensureParser();
    let statements: SqlStatement[];
    try {
      statements = splitStatements(doc.getText());
    } catch (err) {
      this.reportSqlError(doc, 0, err);
      return undefined;
    }
    const at = statementAt(statements, doc.offsetAt(sel.active));
    if (!at) {
      this.ui.warn(
        statements.length === 0 ? 'pgload: there is no SQL statement in this file to profile.' : 'pgload: the cursor is not in a statement; put it inside one, or select the SQL to profile.',
      );
      return undefined;
    }
    return this.start({ sql: at.text, document: doc, baseOffset: at.start, statementIndex: at.index });
  }

  /** The CodeLens command: the statement with this index in this document. */
  async profileStatement(uri?: vscode.Uri, index?: number): Promise<ProfileResult | undefined> {
    if (!(uri instanceof vscode.Uri) || typeof index !== 'number') return this.profileSelection();
    const doc = await vscode.workspace.openTextDocument(uri);
    const statements = await this.lenses.statementsOf(doc);
    const s = statements[index];
    if (!s) {
      this.ui.warn('pgload: that statement is no longer in the file; the CodeLens was out of date.');
      return undefined;
    }
    return this.start({ sql: s.text, document: doc, baseOffset: s.start, statementIndex: s.index });
  }

  async rerun(sql: string): Promise<void> {
    const last = this.lastRequest.get(sql);
    if (last) {
      await this.start({ ...last });
      return;
    }
    const stored = this.store.bySql(sql);
    if (!stored) {
      this.ui.warn('pgload: nothing to re-run; profile the statement from the editor.');
      return;
    }
    const o = stored.result.options;
    await this.start({ sql: stored.result.sql, baseOffset: 0, plan: { clients: o.clients, requests: o.requests ?? undefined, durationMs: o.durationMs ?? undefined }, allowWrites: o.allowWrites });
  }

  /** A selection: exactly one statement, or the user picks among several. */
  private async fromText(doc: vscode.TextDocument, text: string, baseOffset: number): Promise<ProfileResult | undefined> {
    await ensureParser();
    let statements: SqlStatement[];
    try {
      statements = splitStatements(text);
    } catch (err) {
      this.reportSqlError(doc, baseOffset, err);
      return undefined;
    }
    if (statements.length === 0) {
      this.ui.warn('pgload: the selection holds only comments; select a statement to profile.');
      return undefined;
    }
    let chosen = statements[0];
    if (statements.length > 1) {
      const picked = await this.ui.pick(
        statements.map((s) => ({ label: oneLine(s.text, 80), description: `statement ${s.index + 1}, line ${doc.positionAt(baseOffset + s.start).line + 1}`, s })),
        { title: `pgload: the selection holds ${statements.length} statements — profile which one?`, placeHolder: 'pgload profiles one statement at a time' },
      );
      if (!picked) return undefined;
      chosen = picked.s;
    }
    return this.start({ sql: chosen.text, document: doc, baseOffset: baseOffset + chosen.start });
  }

  private reportSqlError(doc: vscode.TextDocument, baseOffset: number, err: unknown): void {
    if (isPgloadError(err) && err.location) {
      const pos = doc.positionAt(baseOffset + err.location.offset);
      const range = doc.getWordRangeAtPosition(pos) ?? new vscode.Range(pos, pos.translate(0, 1));
      const d = new vscode.Diagnostic(range, err.message, vscode.DiagnosticSeverity.Error);
      d.source = 'pgload';
      this.diagnostics.set(doc.uri, [d]);
    }
    void this.ui.error(`pgload: ${errorMessage(err)}`);
  }

  private async pickPlan(defaults: RunDefaults): Promise<LoadPlan | undefined> {
    const fromSettings: LoadPlan = defaults.durationSeconds > 0 ? { clients: defaults.clients, durationMs: defaults.durationSeconds * 1000 } : { clients: defaults.clients, requests: defaults.requests };
    if (!askBeforeRun()) return fromSettings;
    const label = (p: LoadPlan) => `${p.clients} client${p.clients === 1 ? '' : 's'} × ${p.requests !== undefined ? `${p.requests} requests` : `${(p.durationMs ?? 0) / 1000} s`}`;
    type Item = vscode.QuickPickItem & { plan?: LoadPlan };
    const presets: LoadPlan[] = [
      { clients: 10, durationMs: 30_000 },
      { clients: 50, durationMs: 30_000 },
      { clients: 100, durationMs: 30_000 },
    ];
    const items: Item[] = [
      { label: `$(play) ${label(fromSettings)}`, description: 'from settings (pgload.clients, pgload.requests / durationSeconds)', plan: fromSettings },
      ...presets.map((p) => ({ label: label(p), plan: p })),
      { label: '$(edit) Custom…', description: 'choose the clients and the requests or duration' },
    ];
    const picked = await this.ui.pick(items, { title: 'pgload: how much load?', placeHolder: 'Clients run at the same time, each on its own session' });
    if (!picked) return undefined;
    if (picked.plan) return picked.plan;
    const clients = await this.ui.input({
      title: 'pgload: concurrent clients',
      value: String(defaults.clients),
      validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 10_000 ? undefined : 'A whole number from 1 to 10,000'),
    });
    if (clients === undefined) return undefined;
    const amount = await this.ui.input({
      title: 'pgload: total requests, or a duration',
      prompt: 'A number of requests (e.g. 500) or a duration (e.g. 30s, 2m)',
      value: String(defaults.requests),
      validateInput: (v) => (/^\s*\d+\s*$/.test(v) && Number(v) >= 1 ? undefined : /^\s*\d+(\.\d+)?\s*(ms|s|m|min|h)\s*$/i.test(v) ? undefined : 'A number of requests like 500, or a duration like 30s'),
    });
    if (amount === undefined) return undefined;
    const n = Number(clients);
    if (/^\s*\d+\s*$/.test(amount)) return { clients: n, requests: Number(amount) };
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/i.exec(amount)!;
    const unit = m[2].toLowerCase();
    const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
    return { clients: n, durationMs: Number(m[1]) * factor };
  }

  private async start(req: RunRequest): Promise<ProfileResult | undefined> {
    if (this.active) {
      const pick = await this.ui.warn('pgload: a run is in progress. Cancel it first.', 'Cancel Run');
      if (pick === 'Cancel Run') this.cancel();
      return undefined;
    }
    await ensureParser();
    let statement: SqlStatement;
    try {
      statement = parseSingleStatement(req.sql);
      if (statement.paramCount > 0) {
        throw new PgloadError('input', `The statement uses parameters ($1 … $${statement.paramCount}); pgload cannot bind values to them yet. Replace them with literal values to profile it.`);
      }
    } catch (err) {
      if (req.document) this.reportSqlError(req.document, req.baseOffset, err);
      else void this.ui.error(`pgload: ${errorMessage(err)}`);
      return undefined;
    }
    // Safety first: DDL and utility statements are refused with the reason; DML needs an explicit yes.
    let allowWrites = req.allowWrites ?? false;
    try {
      executionModeFor(statement, allowWrites);
    } catch (err) {
      if (statement.kind !== 'dml') {
        void this.ui.error(`pgload: ${errorMessage(err)}`);
        return undefined;
      }
      const yes = await this.ui.confirm(
        `This ${describeNode(statement.nodeType)} changes data. pgload will run every request inside a transaction that is rolled back, so no row is kept — but locks are taken while it runs. Profile it?`,
        'Profile with Rollback',
      );
      if (yes !== 'Profile with Rollback') return undefined;
      allowWrites = true;
    }
    let defaults: RunDefaults;
    try {
      defaults = readRunDefaults();
    } catch (err) {
      await this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload', errorMessage(err)));
      return undefined;
    }
    const plan = req.plan ?? (await this.pickPlan(defaults));
    if (!plan) return undefined;
    if (plan.requests !== undefined && plan.requests < plan.clients) plan.requests = plan.clients;
    const connection = req.connection ?? (await this.connections.forRun());
    if (!connection) return undefined;
    const full: RunRequest & { plan: LoadPlan; connection: ConnectionSetting } = { ...req, plan, allowWrites, connection };
    this.lastRequest.set(statement.text, full);
    return this.execute(full, statement, defaults);
  }

  private async execute(req: RunRequest & { plan: LoadPlan; connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<ProfileResult | undefined> {
    const run: ActiveRun = { id: randomUUID(), controller: new AbortController(), fingerprint: statement.fingerprint };
    this.active = run;
    let finish!: () => void;
    this.runFinished = new Promise((r) => (finish = r));
    await setContext(ContextKeys.running, true);
    const base: PanelState = { runId: run.id, fingerprint: statement.fingerprint, sql: statement.text, connectionLabel: req.connection.name, state: 'running' };
    const panel = this.panels.show(base);
    let lastStatus = 0;
    const onProgress = (p: Progress) => {
      panel.progress(run.id, p);
      reportProgress?.(p);
      const now = Date.now();
      if (p.phase === 'load' && now - lastStatus > 500) {
        lastStatus = now;
        this.connections.setRunStatus(`pgload ${formatQps(p.qps)} q/s · p95 ${formatMs(p.p95Ms)}`);
      }
    };
    let reportProgress: ((p: Progress) => void) | undefined;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `pgload: ${oneLine(statement.text, 50)}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.controller.abort());
          let lastPct = 0;
          reportProgress = (p) => {
            const pct = p.phase === 'load' ? (p.total ? (p.done / p.total) * 100 : p.plannedMs ? (p.elapsedMs / p.plannedMs) * 100 : 0) : 0;
            const inc = Math.max(0, Math.min(100, pct) - lastPct);
            lastPct += inc;
            progress.report({ message: p.message || `${formatQps(p.qps)} q/s · p95 ${formatMs(p.p95Ms)} · ${p.errors} errors`, increment: inc });
          };
          this.connections.setRunStatus('pgload connecting…');
          return this.connections.withPassword(req.connection, (input) =>
            profile(
              {
                sql: statement.text,
                connection: input,
                clients: req.plan.clients,
                requests: req.plan.requests,
                durationMs: req.plan.durationMs,
                thresholdMs: defaults.thresholdMs,
                statementTimeoutMs: defaults.statementTimeoutMs,
                allowWrites: req.allowWrites ?? false,
                serverVcpus: defaults.serverVcpus,
                explain: defaults.explain,
                sampleIntervalMs: defaults.sampleIntervalMs,
              },
              { signal: run.controller.signal, logger: this.log, onProgress },
            ),
          );
        },
      );
      await this.store.save({ runId: run.id, result, connectionName: req.connection.name, uri: req.document?.uri.toString(), statementIndex: req.statementIndex });
      this.panels.show(stateFromStored(run.id, result, req.connection.name), result);
      this.lenses.refresh();
      if (result.status === 'cancelled') this.ui.info('pgload: run cancelled; the report shows what ran before.');
      else if (result.status !== 'completed') void this.ui.error(`pgload: ${result.statusDetail ?? result.status}`);
      return result;
    } catch (err) {
      const cancelled = isPgloadError(err) && err.kind === 'cancelled';
      const message = errorMessage(err);
      this.panels.show({ ...base, state: cancelled ? 'cancelled' : 'failed', error: message });
      if (cancelled) this.ui.info(`pgload: ${message}`);
      else {
        if (isPgloadError(err) && err.location && req.document) this.reportSqlError(req.document, req.baseOffset, err);
        else void this.ui.error(`pgload: ${message}`);
      }
      return undefined;
    } finally {
      this.active = undefined;
      this.connections.setRunStatus(undefined);
      await setContext(ContextKeys.running, false);
      finish();
    }
  }

  /** Opens the report of a stored run (CodeLens), or of the latest one. */
  showReport(runId?: string): void {
    const stored = (typeof runId === 'string' && this.store.byRunId(runId)) || this.store.latest();
    if (!stored) {
      this.ui.info('pgload: no report yet. Select a statement and run "Profile under load".');
      return;
    }
    this.panels.show(stateFromStored(stored.runId, stored.result, stored.connectionName), stored.result);
  }
}

