/**
 * "Profile under load": from an editor selection, the statement under the cursor, or a CodeLens, to a core
 * run with progress, cancel, the report panel, the stored result and refreshed CodeLens.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { errorMessage, isPgloadError } from '../core/errors';
import { formatMs, formatProgress, statusForProgress } from '../shared/format';
import { profile, type Progress } from '../core/load/runner';
import { parseParamSpec, type ParamInput } from '../core/load/params';
import { sweep } from '../core/analysis/sweep';
import { diagnose } from '../core/analysis/diagnose';
import { abTest, type AbChange } from '../core/analysis/ab';
import { isTryable, parseSetLocal } from '../shared/hintsql';
import { inEditorWords } from './words';
import type { ConnectionInput } from '../core/connection/connection';
import type { ProfileInput } from '../core/options';
import { APP_POOL_LIMITS, MAX_CLIENTS } from '../core/optiontable';
import type { PoolOptions } from '../core/load/sessionPool';
import * as path from 'node:path';
import { executionModeFor, describeNode } from '../core/safety';
import { ensureParser, parseSingleStatement, splitStatements, statementAt, type SqlStatement } from '../core/sql';
import { prepareScripts } from '../core/load/script';
import { oneLine } from '../shared/text';
import type { PanelState } from '../shared/protocol';
import type { AbResult, DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';
import type { PgloadCodeLensProvider } from './codelens';
import { askBeforeRun, connectionServerMemoryKB, readAppPool, readDiagnoseBudgetMs, readRunDefaults, SettingsError, type ConnectionSetting, type RunDefaults } from './config';
import type { ConnectionManager } from './connections';
import { ContextKeys, SQL_LANGUAGES } from './constants';
import { Disposable, setContext } from './lifecycle';
import type { Log } from './log';
import { stateFromStored, stateFromSweep, type ReportPanels } from './panel';
import type { ResultStore } from './resultStore';
import type { Ui } from './ui';

/** A run's load plan: clients and either requests or a duration. */
export interface LoadPlan {
  clients: number;
  requests?: number;
  durationMs?: number;
  /** The application's pool emulated: users share its sessions (clients is then the session count). */
  pool?: PoolOptions;
  /** Open loop: requests arrive at this rate whatever the responses; `clients` sessions serve them. */
  ratePerSecond?: number;
}

/** How a plan reads in the question and the progress: "100 users on a pool of 20 + 100 for 10 s". */
export function planLabel(p: LoadPlan): string {
  const amount = p.requests !== undefined ? `${p.requests} requests` : `${(p.durationMs ?? 0) / 1000} s`;
  if (p.pool) return `${p.pool.users} users on a pool of ${p.pool.size}${p.pool.maxOverflow ? ` + ${p.pool.maxOverflow}` : ''} for ${amount}`;
  if (p.ratePerSecond !== undefined) return `${p.ratePerSecond} requests/s on ${p.clients} session${p.clients === 1 ? '' : 's'} for ${amount}`;
  return `${p.clients} client${p.clients === 1 ? '' : 's'} × ${amount}`;
}

const WHOLE = (min: number, max: number) => (v: string) => (/^\s*\d+\s*$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `A whole number from ${min} to ${max.toLocaleString('en-US')}`);

/** "30s", "2m", "500ms" in ms, or undefined. */
function durationInput(v: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2].toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  const ms = Number(m[1]) * factor;
  return ms >= 100 ? ms : undefined;
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
  /** A profile run (default), a concurrency sweep or a diagnosis. */
  kind?: 'run' | 'sweep' | 'diagnose';
  /** Values for `$1 … $n` (asked once, then remembered per statement). */
  params?: ParamInput[];
  /** Several statements profiled as one request (a transaction), in this order. */
  transaction?: string[];
}

interface ActiveRun {
  id: string;
  controller: AbortController;
  fingerprint: string;
}

/** Every run option from the settings (the option table), then what this statement, request and connection say. */
function runInput(defaults: RunDefaults, statement: SqlStatement, input: ConnectionInput, connection: ConnectionSetting, req: { allowWrites?: boolean; params?: ParamInput[] }): ProfileInput {
  return {
    ...defaults.runOptions,
    sql: statement.text,
    connection: input,
    allowWrites: req.allowWrites ?? false,
    params: req.params,
    serverVcpus: connection.serverVcpus ?? defaults.runOptions.serverVcpus,
    serverMemoryKB: connectionServerMemoryKB(connection),
  };
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
    panels.actions = {
      rerun: (f) => this.rerun(f),
      sweep: (f) => this.sweepAgain(f),
      diagnose: (f) => this.diagnoseAgain(f),
      tryHint: async (f, hintSql) => void (await this.tryHint(f, hintSql)),
      abTest: async (f) => void (await this.abTestFrom(f)),
      cancel: () => this.cancel(),
    };
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /**
   * The window closes (deactivate): a run in progress is cancelled — its running queries cancelled on the server and
   * its sessions closed — before the extension host goes away. Bounded, so a silent server cannot hold the window.
   */
  async shutdown(ms = 8000): Promise<void> {
    if (!this.active) return;
    this.log.info('the window is closing: cancelling the run in progress');
    this.active.controller.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.runFinished, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  override dispose(): void {
    // Disposed without deactivate (the extension reloaded): the run still must not go on.
    this.active?.controller.abort();
    super.dispose();
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
    const req = await this.requestFromEditor(editor, 'profile');
    return req ? ((await this.start(req)) as ProfileResult | undefined) : undefined;
  }

  /**
   * A run asked for by a language-model tool: no editor, the load given (10 s by default), the connection given or the
   * active one. DDL is refused as for a person; a write runs (rolled back) only when `writesConfirmed`.
   */
  async profileForTool(sql: string, o: { clients?: number; durationSeconds?: number; connection?: ConnectionSetting; writesConfirmed: boolean }): Promise<ProfileResult | undefined> {
    const plan: LoadPlan = { clients: o.clients ?? 10, durationMs: (o.durationSeconds ?? 10) * 1000 };
    return (await this.start({ sql, baseOffset: 0, plan, connection: o.connection, allowWrites: o.writesConfirmed })) as ProfileResult | undefined;
  }

  /** The pool size the statement's last sweep measured, for the hints (one voice on pool size). */
  private measuredPool(fingerprint: string): { poolSize: number; saturated?: boolean; measuredAt: string } | undefined {
    const rec = this.store.sweepByFingerprint(fingerprint)?.sweep;
    return rec?.recommendation ? { poolSize: rec.recommendation.poolSize, saturated: rec.recommendation.saturated, measuredAt: rec.finishedAt } : undefined;
  }

  /** The command "Find the right pool size": a concurrency sweep of the selection or the statement under the cursor. */
  async findPoolSize(editor = vscode.window.activeTextEditor): Promise<SweepResult | undefined> {
    const req = await this.requestFromEditor(editor, 'sweep');
    return req ? ((await this.start({ ...req, kind: 'sweep' })) as SweepResult | undefined) : undefined;
  }

  /** The command "Diagnose under load": the four answers for the selection or the statement under the cursor. */
  async diagnose(editor = vscode.window.activeTextEditor): Promise<DiagnoseResult | undefined> {
    const req = await this.requestFromEditor(editor, 'diagnose');
    return req ? ((await this.start({ ...req, kind: 'diagnose' })) as DiagnoseResult | undefined) : undefined;
  }

  /** "Diagnose" from a statement's CodeLens. */
  async diagnoseStatement(uri?: vscode.Uri, index?: number): Promise<DiagnoseResult | undefined> {
    if (!(uri instanceof vscode.Uri) || typeof index !== 'number') return this.diagnose();
    const req = await this.requestAt(uri, index);
    return req ? ((await this.start({ ...req, kind: 'diagnose' })) as DiagnoseResult | undefined) : undefined;
  }

  /**
   * "Try it" on a hint that carries a setting (`SET LOCAL work_mem = '64MB';`): the statement with and without it in
   * alternating legs, at the concurrency of its last run; the comparison opens in the panel and B is kept as a run.
   */
  async tryHint(sql: string, hintSql: string): Promise<AbResult | undefined> {
    const setting = parseSetLocal(hintSql);
    if (!setting || !isTryable(hintSql)) {
      void this.ui.error(`pgload: "${oneLine(hintSql, 60)}" is not a setting pgload can try (it tries SET LOCAL name = value).`);
      return undefined;
    }
    const label = `${setting.name}=${setting.value}`;
    return this.runAb(sql, { settings: { [setting.name]: setting.value } }, ['without', `with ${label}`], `Try it: ${label}`, 'Try it compares a setting against its last run');
  }

  /**
   * An A/B of a statement (from the Runs view, the panel or the editor) against what the user picks: a setting, a
   * second statement, or prepared statements. A B B A at the statement's last run's concurrency.
   */
  async abTestFrom(arg?: unknown): Promise<AbResult | undefined> {
    let sql: string | undefined;
    if (typeof arg === 'string') sql = arg;
    else if (arg && typeof arg === 'object' && 'entry' in arg) sql = (arg as { entry: { sql: string } }).entry.sql;
    else {
      const req = await this.requestFromEditor(vscode.window.activeTextEditor, 'A/B test');
      if (!req) return undefined;
      sql = req.sql;
    }
    await ensureParser();
    let a: SqlStatement;
    try {
      a = parseSingleStatement(sql);
    } catch (err) {
      void this.ui.error(`pgload: ${errorMessage(err)}`);
      return undefined;
    }
    type Item = vscode.QuickPickItem & { what: 'setting' | 'sql' | 'prepared' };
    const prepared = (() => {
      try {
        return readRunDefaults().runOptions.prepared ?? false;
      } catch {
        return false;
      }
    })();
    const what = await this.ui.pick<Item>(
      [
        { label: '$(settings-gear) A setting…', description: 'B runs with SET LOCAL name = value, e.g. work_mem = 64MB', what: 'setting' },
        { label: '$(diff) A second statement…', description: 'B is another statement: a rewrite, raw SQL against the ORM’s', what: 'sql' },
        { label: `$(symbol-method) ${prepared ? 'Unnamed statements' : 'Prepared statements'}`, description: prepared ? 'B sends it unnamed with parameters, planned every time' : 'B prepares it once per session (as pgbench -M prepared)', what: 'prepared' },
      ],
      { title: `pgload: A/B test of ${oneLine(a.text, 50)} — what does B change?` },
    );
    if (!what) return undefined;
    if (what.what === 'prepared') {
      const label = prepared ? 'unnamed' : 'prepared';
      return this.runAb(a.text, { prepared: !prepared }, [prepared ? 'prepared' : 'unnamed', label], `A/B: ${label}`);
    }
    if (what.what === 'setting') {
      const v = await this.ui.input({
        title: 'pgload: the setting B runs with',
        prompt: 'name = value, set with SET LOCAL in each of B’s requests (e.g. work_mem = 64MB, enable_hashjoin = off)',
        placeHolder: 'work_mem = 64MB',
        validateInput: (t) => (parseSetLocal(`SET LOCAL ${t.replace(/;\s*$/, '')};`) ? undefined : 'Write it as name = value, like work_mem = 64MB'),
      });
      if (v === undefined) return undefined;
      const setting = parseSetLocal(`SET LOCAL ${v.replace(/;\s*$/, '')};`)!;
      const label = `${setting.name}=${setting.value.replace(/^'(.*)'$/, '$1')}`;
      return this.runAb(a.text, { settings: { [setting.name]: setting.value.replace(/^'(.*)'$/, '$1') } }, ['without', `with ${label}`], `A/B: ${label}`);
    }
    const b = await this.pickSecondStatement(a);
    if (!b) return undefined;
    return this.runAb(a.text, { sql: b.text }, ['SQL A', 'SQL B'], `A/B: ${oneLine(b.text, 40)}`);
  }

  /** B's statement: one of the statements in the open SQL editors, or SQL typed in. */
  private async pickSecondStatement(a: SqlStatement): Promise<SqlStatement | undefined> {
    type Item = vscode.QuickPickItem & { sql?: string };
    const items: Item[] = [];
    const seen = new Set<string>([a.text.trim()]);
    for (const doc of vscode.workspace.textDocuments) {
      if (!SQL_LANGUAGES.includes(doc.languageId)) continue;
      let statements: SqlStatement[] = [];
      try {
        statements = splitStatements(doc.getText());
      } catch {
        continue;
      }
      for (const st of statements) {
        if (seen.has(st.text.trim())) continue;
        seen.add(st.text.trim());
        items.push({ label: oneLine(st.text, 70), description: path.basename(doc.uri.fsPath), sql: st.text });
      }
    }
    items.push({ label: '$(edit) Type or paste the SQL…' });
    const picked = await this.ui.pick(items, { title: 'pgload: B — which statement?', placeHolder: 'The statements of your open SQL files' });
    if (!picked) return undefined;
    const sql =
      picked.sql ??
      (await this.ui.input({
        title: 'pgload: B — the second statement',
        prompt: 'One statement; it runs with the same parameters ($1 … $n) as A',
        validateInput: (t) => {
          try {
            parseSingleStatement(t);
            return undefined;
          } catch (err) {
            return errorMessage(err);
          }
        },
      }));
    if (sql === undefined) return undefined;
    try {
      return parseSingleStatement(sql);
    } catch (err) {
      void this.ui.error(`pgload: B: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /**
   * Runs an A/B (A B B A) of the statement against `change`, at the concurrency its last answer was measured at,
   * keeps it in Runs as one entry named `name`, and opens the panel on the comparison labelled `labels`.
   */
  private async runAb(sql: string, change: AbChange, labels: [string, string], name: string, firstRun = 'an A/B test compares against its last run'): Promise<AbResult | undefined> {
    if (this.active) {
      const pick = await this.ui.warn('pgload: a run is in progress. Cancel it first.', 'Cancel Run');
      if (pick === 'Cancel Run') this.cancel();
      return undefined;
    }
    const last = this.lastRequest.get(sql) ?? (this.store.bySql(sql) ? { sql, baseOffset: 0 } : undefined);
    if (!last) {
      void this.ui.error(`pgload: profile the statement first; ${firstRun}.`);
      return undefined;
    }
    await ensureParser();
    let statement: SqlStatement;
    let defaults: RunDefaults;
    try {
      statement = parseSingleStatement(sql);
      defaults = readRunDefaults();
    } catch (err) {
      void this.ui.error(`pgload: ${errorMessage(err)}`);
      return undefined;
    }
    const stored = this.store.bySql(sql);
    const connection = last.connection ?? (await this.connections.forRun());
    if (!connection) return undefined;
    // At the concurrency the answer was measured at: a diagnosis's A/Bs, else the statement's last result (not a
    // request that may have been refused), else the settings.
    const diagnosis = this.store.diagnosisBySql(sql)?.diagnosis;
    const clients = diagnosis && diagnosis.runs.load.startedAt === stored?.result.startedAt ? diagnosis.abClients : (stored?.result.load.clients ?? defaults.clients);
    // Each side runs as long as a run of the settings would (split over its legs), at least 4 s.
    const durationMs = Math.max(4_000, (defaults.durationSeconds || 10) * 1000);
    const req = { ...last, connection, kind: undefined, params: last.params ?? stored?.result.options.params?.map((p) => ({ index: p.index, spec: p.spec })) };
    return this.track(
      req,
      statement,
      'run',
      (signal, onProgress) =>
        this.connections.withPassword(connection, (input) =>
          abTest(
            {
              // Time-based: the settings' request count would split unevenly over the legs.
              base: { ...runInput(defaults, statement, input, connection, { allowWrites: last.allowWrites, params: req.params }), clients, requests: undefined, durationMs, pool: undefined, rate: undefined },
              b: { ...change, label: labels[1] },
              rounds: 2,
            },
            { signal, logger: this.log, onProgress },
          ).then((r): AbResult => ({ ...r, comparison: { ...r.comparison, labels } })),
        ),
      async (runId, ab) => {
        // Kept in Runs as one entry, named after what B changes (the statement's CodeLens keeps its own last run);
        // the panel opens on the comparison.
        this.history?.keepAb(runId, ab, connection.name, name);
        // In the panel of the statement A/B-tested: B's report when B is the same statement with a change, else A's.
        const side = ab.a.sql === ab.b.sql ? ab.b : ab.a;
        this.panels.show({ ...stateFromStored(runId, side, connection.name), comparison: ab.comparison }, side);
        this.lenses.refresh();
        this.ui.info(`pgload: ${name.replace(/^(Try it|A\/B): /, '')} — ${ab.comparison.summary}`);
      },
    );
  }

  /** Set by the extension: the Runs history, to keep a run with a name (Try it) or name one kept (a diagnosis). */
  history?: {
    keepAb(runId: string, ab: AbResult, connectionName: string, name: string): void;
    keepDiagnosis(runId: string, d: DiagnoseResult, connectionName: string): void;
    keepSweep(runId: string, sweep: SweepResult, connectionName: string): void;
  };

  /** Asks again for the values of the statement's `$n` (selection or cursor) and remembers them. */
  async editParameters(uri?: vscode.Uri, index?: number): Promise<string[] | undefined> {
    const req = uri instanceof vscode.Uri && typeof index === 'number' ? await this.requestAt(uri, index) : await this.requestFromEditor(vscode.window.activeTextEditor, 'set the parameters of');
    if (!req) return undefined;
    await ensureParser();
    const statement = parseSingleStatement(req.sql);
    if (statement.paramCount === 0) {
      this.ui.info('pgload: this statement has no parameters ($1 … $n); it runs as written.');
      return undefined;
    }
    const params = await this.askParams(statement, req.document, true);
    this.lenses.refresh();
    return params?.map((p) => p.spec);
  }

  /** Statement `index` of the document at `uri` (a CodeLens target). */
  private async requestAt(uri: vscode.Uri, index: number): Promise<RunRequest | undefined> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const s = (await this.lenses.statementsOf(doc))[index];
    if (!s) {
      this.ui.warn('pgload: that statement is no longer in the file; the CodeLens was out of date.');
      return undefined;
    }
    return { sql: s.text, document: doc, baseOffset: s.start, statementIndex: s.index };
  }

  /** The statement the user means: the selection (one of several if it holds more), else the one under the cursor. */
  private async requestFromEditor(editor: vscode.TextEditor | undefined, verb: string): Promise<RunRequest | undefined> {
    if (!editor) {
      this.ui.warn(`pgload: open a SQL file and select a statement (or put the cursor in one) to ${verb} it.`);
      return undefined;
    }
    const doc = editor.document;
    const sel = editor.selection;
    if (!sel.isEmpty) {
      const text = doc.getText(sel);
      if (text.trim() !== '') return this.fromText(doc, text, doc.offsetAt(sel.start), verb);
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
        statements.length === 0 ? `pgload: there is no SQL statement in this file to ${verb}.` : `pgload: the cursor is not in a statement; put it inside one, or select the SQL to ${verb}.`,
      );
      return undefined;
    }
    return { sql: at.text, document: doc, baseOffset: at.start, statementIndex: at.index };
  }

  /** Profiles SQL that is in no editor (a top statement) with the generators given for its `$n`. */
  async profileWithParams(sql: string, params: ParamInput[]): Promise<ProfileResult | undefined> {
    return (await this.start({ sql, baseOffset: 0, params })) as ProfileResult | undefined;
  }

  /** The CodeLens command: the statement with this index in this document. */
  async profileStatement(uri?: vscode.Uri, index?: number): Promise<ProfileResult | undefined> {
    if (!(uri instanceof vscode.Uri) || typeof index !== 'number') return this.profileSelection();
    const req = await this.requestAt(uri, index);
    return req ? ((await this.start(req)) as ProfileResult | undefined) : undefined;
  }

  /** The panel's "Run the sweep": the statement's last request, as a sweep. */
  async diagnoseAgain(sql: string): Promise<void> {
    const last = this.lastRequest.get(sql);
    await this.start({ ...(last ?? { sql, baseOffset: 0 }), kind: 'diagnose' });
  }

  async sweepAgain(sql: string): Promise<void> {
    const last = this.lastRequest.get(sql);
    await this.start({ ...(last ?? { sql, baseOffset: 0 }), kind: 'sweep' });
  }

  async rerun(sql: string): Promise<void> {
    const last = this.lastRequest.get(sql);
    if (last) {
      await this.start({ ...last, kind: 'run' });
      return;
    }
    const stored = this.store.bySql(sql);
    if (!stored) {
      this.ui.warn('pgload: nothing to re-run; profile the statement from the editor.');
      return;
    }
    const o = stored.result.options;
    await this.start({
      sql: stored.result.sql,
      baseOffset: 0,
      plan: { clients: o.clients, requests: o.requests ?? undefined, durationMs: o.durationMs ?? undefined },
      allowWrites: o.allowWrites,
      params: o.params?.map((p) => ({ index: p.index, spec: p.spec })),
    });
  }

  /** A selection: exactly one statement, or the user picks among several. */
  private async fromText(doc: vscode.TextDocument, text: string, baseOffset: number, verb: string): Promise<RunRequest | undefined> {
    await ensureParser();
    let statements: SqlStatement[];
    try {
      statements = splitStatements(text);
    } catch (err) {
      this.reportSqlError(doc, baseOffset, err);
      return undefined;
    }
    if (statements.length === 0) {
      this.ui.warn(`pgload: the selection holds only comments; select a statement to ${verb}.`);
      return undefined;
    }
    let chosen = statements[0];
    if (statements.length > 1) {
      // Profiling can take them all as one request (what an endpoint sends); the other commands take one.
      const whole = verb === 'profile' ? [{ label: `$(list-ordered) All ${statements.length} as one transaction`, description: 'each request: BEGIN; the statements in order; ROLLBACK — each timed apart', s: undefined as SqlStatement | undefined }] : [];
      const picked = await this.ui.pick(
        [...whole, ...statements.map((s) => ({ label: oneLine(s.text, 80), description: `statement ${s.index + 1}, line ${doc.positionAt(baseOffset + s.start).line + 1}`, s }))],
        { title: `pgload: the selection holds ${statements.length} statements — ${verb} ${verb === 'profile' ? 'them as one transaction, or which one?' : 'which one?'}`, placeHolder: 'a transaction runs them in order in every request' },
      );
      if (!picked) return undefined;
      if (!picked.s) return { sql: text, document: doc, baseOffset, transaction: statements.map((s) => s.text) };
      chosen = picked.s;
    }
    return { sql: chosen.text, document: doc, baseOffset: baseOffset + chosen.start };
  }

  private reportSqlError(doc: vscode.TextDocument, baseOffset: number, err: unknown): void {
    let message = errorMessage(err);
    if (isPgloadError(err) && err.location) {
      const pos = doc.positionAt(baseOffset + err.location.offset);
      // The engine counts lines in the statement it was given; the editor's words are the file's (as Problems shows).
      message = message.replace(/line \d+, column \d+/, `line ${pos.line + 1}, column ${pos.character + 1}`);
      const range = doc.getWordRangeAtPosition(pos) ?? new vscode.Range(pos, pos.translate(0, 1));
      const d = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
      d.source = 'pgload';
      this.diagnostics.set(doc.uri, [d]);
    }
    void this.ui.error(`pgload: ${message}`);
  }

  private async pickPlan(defaults: RunDefaults, connection: ConnectionSetting): Promise<LoadPlan | undefined> {
    const fromSettings: LoadPlan = defaults.durationSeconds > 0 ? { clients: defaults.clients, durationMs: defaults.durationSeconds * 1000 } : { clients: defaults.clients, requests: defaults.requests };
    if (!askBeforeRun()) return fromSettings;
    type Item = vscode.QuickPickItem & { plan?: LoadPlan; ask?: 'custom' | 'pool' | 'rate' };
    const presets: LoadPlan[] = [
      { clients: 10, durationMs: 30_000 },
      { clients: 50, durationMs: 30_000 },
      { clients: 100, durationMs: 30_000 },
    ];
    const items: Item[] = [
      { label: `$(play) ${planLabel(fromSettings)}`, description: 'from settings (pgload.clients, pgload.requests / durationSeconds)', plan: fromSettings },
      ...presets.map((p) => ({ label: planLabel(p), plan: p })),
      { label: '$(edit) Custom…', description: 'choose the clients and the requests or duration', ask: 'custom' },
      { label: '$(organization) Through your application\'s pool…', description: 'users share pool_size + max_overflow sessions; pool wait apart from database time', ask: 'pool' },
      { label: '$(watch) At a fixed rate…', description: 'requests arrive at R per second whatever the responses (open loop)', ask: 'rate' },
    ];
    const picked = await this.ui.pick(items, { title: 'pgload: how much load?', placeHolder: 'Clients run at the same time, each on its own session' });
    if (!picked) return undefined;
    if (picked.plan) return picked.plan;
    if (picked.ask === 'pool') return this.askPoolPlan(defaults, connection);
    if (picked.ask === 'rate') return this.askRatePlan(defaults);
    const clients = await this.ui.input({ title: 'pgload: concurrent clients', value: String(defaults.clients), validateInput: WHOLE(1, MAX_CLIENTS) });
    if (clients === undefined) return undefined;
    const amount = await this.ui.input({
      title: 'pgload: total requests, or a duration',
      prompt: 'A number of requests (e.g. 500) or a duration (e.g. 30s, 2m)',
      value: String(defaults.requests),
      validateInput: (v) => (/^\s*\d+\s*$/.test(v) && Number(v) >= 1 ? undefined : durationInput(v) !== undefined ? undefined : 'A number of requests like 500, or a duration like 30s'),
    });
    if (amount === undefined) return undefined;
    const n = Number(clients);
    if (/^\s*\d+\s*$/.test(amount)) return { clients: n, requests: Number(amount) };
    return { clients: n, durationMs: durationInput(amount)! };
  }

  /** How long a pool or rate run lasts: the settings' duration, else 10 s (a request count would not say it). */
  private async askDuration(defaults: RunDefaults): Promise<number | undefined> {
    const d = await this.ui.input({
      title: 'pgload: for how long?',
      prompt: 'A duration, e.g. 30s or 2m',
      value: `${defaults.durationSeconds || 10}s`,
      validateInput: (v) => (durationInput(v) !== undefined ? undefined : 'A duration of at least 100ms, like 30s or 2m'),
    });
    return d === undefined ? undefined : durationInput(d);
  }

  /** The application-pool emulation: users, pool_size, max_overflow (the pgload.app settings or the connection's as defaults). */
  private async askPoolPlan(defaults: RunDefaults, connection: ConnectionSetting): Promise<LoadPlan | undefined> {
    let app;
    try {
      app = readAppPool(connection);
    } catch (err) {
      await this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload.app', errorMessage(err)));
      return undefined;
    }
    const users = await this.ui.input({ title: 'pgload: application users (each sends its next request when the last one answers)', value: String(app.users), validateInput: WHOLE(APP_POOL_LIMITS.users.min, APP_POOL_LIMITS.users.max) });
    if (users === undefined) return undefined;
    const size = await this.ui.input({ title: 'pgload: pool_size (persistent connections in the pool)', value: String(app.poolSize), validateInput: WHOLE(APP_POOL_LIMITS.size.min, APP_POOL_LIMITS.size.max) });
    if (size === undefined) return undefined;
    const overflow = await this.ui.input({ title: 'pgload: max_overflow (extra connections when all are busy; 0 for a fixed pool)', value: String(app.maxOverflow), validateInput: WHOLE(APP_POOL_LIMITS.maxOverflow.min, APP_POOL_LIMITS.maxOverflow.max) });
    if (overflow === undefined) return undefined;
    const durationMs = await this.askDuration(defaults);
    if (durationMs === undefined) return undefined;
    const pool: PoolOptions = { users: Number(users), size: Number(size), maxOverflow: Number(overflow), timeoutMs: app.poolTimeoutSeconds * 1000 };
    return { clients: Math.min(pool.users, pool.size + pool.maxOverflow), durationMs, pool };
  }

  /** The open loop: a rate, and the sessions that serve it. */
  private async askRatePlan(defaults: RunDefaults): Promise<LoadPlan | undefined> {
    const rate = await this.ui.input({
      title: 'pgload: requests per second',
      prompt: 'They arrive at this rate whatever the responses; latency counts from when each was due',
      value: '50',
      validateInput: (v) => (/^\s*\d+(\.\d+)?\s*(\/\s*s)?\s*$/.test(v) && parseFloat(v) >= 0.01 && parseFloat(v) <= 1_000_000 ? undefined : 'A rate from 0.01 to 1,000,000 per second, like 50 or 50/s'),
    });
    if (rate === undefined) return undefined;
    const clients = await this.ui.input({ title: 'pgload: sessions serving them', value: String(defaults.clients), validateInput: WHOLE(1, MAX_CLIENTS) });
    if (clients === undefined) return undefined;
    const durationMs = await this.askDuration(defaults);
    if (durationMs === undefined) return undefined;
    return { clients: Number(clients), durationMs, ratePerSecond: parseFloat(rate) };
  }

  private async start(req: RunRequest): Promise<ProfileResult | SweepResult | DiagnoseResult | undefined> {
    if (this.active) {
      const pick = await this.ui.warn('pgload: a run is in progress. Cancel it first.', 'Cancel Run');
      if (pick === 'Cancel Run') this.cancel();
      return undefined;
    }
    await ensureParser();
    let statement: SqlStatement;
    try {
      // A transaction stands as one statement (its writes asked about below); DDL or BEGIN inside is refused here.
      statement = req.transaction ? prepareScripts([{ name: this.scriptName(req), weight: 1, sql: req.transaction.join(';\n') }], true).statement : parseSingleStatement(req.sql);
    } catch (err) {
      if (req.document && !req.transaction) this.reportSqlError(req.document, req.baseOffset, err);
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
    let params = req.params ?? [];
    if (statement.paramCount > 0 && params.length !== statement.paramCount) {
      const asked = await this.askParams(statement, req.document, false);
      if (!asked) return undefined;
      params = asked;
    }
    const kind = req.kind ?? 'run';
    if (req.transaction && kind !== 'run') {
      void this.ui.error(`pgload: a ${kind === 'sweep' ? 'concurrency sweep' : 'diagnosis'} takes one statement; select one of the transaction's statements (Profile under load runs them together).`);
      return undefined;
    }
    // The connection first: no question about the load before it is known there is somewhere to run it.
    const connection = req.connection ?? (await this.connections.forRun());
    if (!connection) return undefined;
    const plan = kind === 'sweep' || kind === 'diagnose' ? (req.plan ?? { clients: 1 }) : (req.plan ?? (await this.pickPlan(defaults, connection)));
    if (!plan) return undefined;
    if (plan.requests !== undefined && plan.requests < plan.clients) plan.requests = plan.clients;
    const full: RunRequest & { plan: LoadPlan; connection: ConnectionSetting } = { ...req, plan, allowWrites, connection, params };
    // Remembered for the panel's buttons; a sweep keeps the load plan of the last run (if any).
    this.lastRequest.set(statement.text, { ...full, kind: undefined, plan: kind === 'run' ? plan : this.lastRequest.get(statement.text)?.plan });
    if (kind === 'diagnose') return this.executeDiagnose(full, statement, defaults);
    return kind === 'sweep' ? this.executeSweep(full, statement, defaults) : this.execute(full, statement, defaults);
  }

  /** The name a transaction goes by in its report: its file. */
  private scriptName(req: RunRequest): string {
    return req.document ? path.basename(req.document.uri.fsPath) : 'transaction';
  }

  /**
   * Asks for a generator per `$n` (an input box each, checked as typed), or offers the ones remembered for
   * this statement; remembers the answer. Relative CSV paths are taken from the workspace folder.
   */
  private async askParams(statement: SqlStatement, doc: vscode.TextDocument | undefined, edit: boolean): Promise<ParamInput[] | undefined> {
    const n = statement.paramCount;
    const remembered = this.store.paramsFor(statement.fingerprint);
    const toInputs = (specs: string[]) => specs.map((spec, i) => ({ index: i + 1, spec: this.absoluteCsv(spec, doc) }));
    if (!edit && remembered?.length === n) {
      const describe = remembered.map((spec, i) => `$${i + 1} ${spec}`).join(' · ');
      type Item = vscode.QuickPickItem & { use: boolean };
      const picked = await this.ui.pick<Item>(
        [
          { label: `$(check) ${describe}`, description: 'remembered for this statement', use: true },
          { label: '$(edit) Change the values…', use: false },
        ],
        { title: `pgload: values for ${n === 1 ? '$1' : `$1 … $${n}`}`, placeHolder: 'Each request draws new values from these generators' },
      );
      if (!picked) return undefined;
      if (picked.use) return toInputs(remembered);
    }
    const specs: string[] = [];
    for (let i = 1; i <= n; i++) {
      const value = await this.ui.input({
        title: `pgload: values for $${i}${n > 1 ? ` (${i} of ${n})` : ''}`,
        prompt: 'int:1..100000 · zipf:1..100000[:1.1] · num:0.5..9.5 · list:a,b,c · csv:FILE:COLUMN · sql:SELECT id FROM …',
        value: remembered?.[i - 1] ?? 'int:1..1000',
        ignoreFocusOut: true,
        validateInput: (v) => {
          try {
            parseParamSpec(v, `$${i}`);
            return undefined;
          } catch (err) {
            return errorMessage(err);
          }
        },
      });
      if (value === undefined) return undefined;
      specs.push(value.trim());
    }
    await this.store.rememberParams(statement.fingerprint, specs);
    return toInputs(specs);
  }

  private absoluteCsv(spec: string, doc: vscode.TextDocument | undefined): string {
    const m = /^(\s*csv\s*:)(.*)$/is.exec(spec);
    if (!m) return spec;
    const base = (doc && vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath) ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? (doc && doc.uri.scheme === 'file' ? path.dirname(doc.uri.fsPath) : undefined);
    const rest = m[2];
    const at = rest.lastIndexOf(':');
    const file = at < 0 ? rest : rest.slice(0, at);
    if (!base || path.isAbsolute(file.trim())) return spec;
    return `${m[1]}${path.join(base, file.trim())}${at < 0 ? '' : rest.slice(at)}`;
  }

  /**
   * The frame of every run and sweep: one at a time, the "running" context key, a progress notification
   * with Cancel, the panel's live state, the status bar, and the same handling of failure and cancel.
   */
  private async track<T>(
    req: RunRequest & { connection: ConnectionSetting },
    statement: SqlStatement,
    activity: 'run' | 'sweep' | 'diagnose',
    body: (signal: AbortSignal, onProgress: (p: Progress) => void) => Promise<T>,
    done: (runId: string, value: T) => Promise<void>,
  ): Promise<T | undefined> {
    const run: ActiveRun = { id: randomUUID(), controller: new AbortController(), fingerprint: statement.fingerprint };
    this.active = run;
    let finish!: () => void;
    this.runFinished = new Promise((r) => (finish = r));
    await setContext(ContextKeys.running, true);
    const base: PanelState = { runId: run.id, fingerprint: statement.fingerprint, sql: statement.text, connectionLabel: req.connection.name, state: 'running', activity };
    const panel = this.panels.show(base);
    let lastStatus = 0;
    let lastPhase: Progress['phase'] | undefined;
    let reportProgress: ((p: Progress) => void) | undefined;
    const onProgress = (p: Progress) => {
      panel.progress(run.id, p);
      reportProgress?.(p);
      // The phase as soon as it changes (not "connecting…" through the whole baseline); the live rate twice a second.
      const now = Date.now();
      if (p.phase !== lastPhase || (p.phase === 'load' && now - lastStatus > 500)) {
        lastPhase = p.phase;
        lastStatus = now;
        this.connections.setRunStatus(statusForProgress(p));
      }
    };
    try {
      const value = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `pgload${activity === 'run' ? '' : ` ${activity}`}: ${oneLine(statement.text, 50)}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.controller.abort());
          let lastPct = 0;
          reportProgress = (p) => {
            const pct = p.phase === 'load' ? (p.total ? (p.done / p.total) * 100 : p.plannedMs ? (p.elapsedMs / p.plannedMs) * 100 : 0) : 0;
            const inc = Math.max(0, Math.min(100, pct) - lastPct);
            lastPct += inc;
            progress.report({ message: p.message || formatProgress(p), increment: inc });
          };
          this.connections.setRunStatus('pgload connecting…');
          return body(run.controller.signal, onProgress);
        },
      );
      await done(run.id, value);
      return value;
    } catch (err) {
      const cancelled = isPgloadError(err) && err.kind === 'cancelled';
      const message = inEditorWords(errorMessage(err));
      this.panels.show({ ...base, state: cancelled ? 'cancelled' : 'failed', error: message });
      if (cancelled) this.ui.info(`pgload: ${message}`);
      else {
        if (isPgloadError(err) && err.location && req.document) this.reportSqlError(req.document, req.baseOffset, err);
        else if (isPgloadError(err) && err.kind === 'connection') void this.connectionFailed(message, req.connection);
        else void this.ui.error(`pgload: ${message}`);
      }
      return undefined;
    } finally {
      this.active = undefined;
      this.connections.setRunStatus(undefined);
      // Settled before the context key is set: while the window closes, the workbench may no longer answer.
      finish();
      await setContext(ContextKeys.running, false);
    }
  }

  private execute(req: RunRequest & { plan: LoadPlan; connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<ProfileResult | undefined> {
    return this.track(
      req,
      statement,
      'run',
      (signal, onProgress) =>
        this.connections.withPassword(req.connection, (input) =>
          profile(
            {
              ...runInput(defaults, statement, input, req.connection, req),
              scripts: req.transaction ? [{ name: this.scriptName(req), weight: 1, sql: req.transaction.join(';\n') }] : undefined,
              clients: req.plan.clients,
              requests: req.plan.requests,
              durationMs: req.plan.durationMs,
              pool: req.plan.pool,
              rate: req.plan.ratePerSecond !== undefined ? { perSecond: req.plan.ratePerSecond, distribution: 'constant', maxOutstanding: Math.max(100, Math.ceil(req.plan.ratePerSecond * 10)), seed: defaults.runOptions.seed ?? 1 } : undefined,
              measuredPool: this.measuredPool(statement.fingerprint),
            },
            { signal, logger: this.log, onProgress },
          ),
        ),
      async (runId, result) => {
        await this.store.save({ runId, result, connectionName: req.connection.name, uri: req.document?.uri.toString(), statementIndex: req.statementIndex });
        this.panels.show(stateFromStored(runId, result, req.connection.name), result);
        this.lenses.refresh();
        if (result.status === 'cancelled') this.ui.info('pgload: run cancelled; the report shows what ran before.');
        else if (result.status !== 'completed') void this.ui.error(`pgload: ${result.statusDetail ?? result.status}`);
      },
    );
  }

  /** A concurrency sweep (1, 2, 4, … clients) of the statement; the panel opens on its Scaling tab. */
  private executeSweep(req: RunRequest & { connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<SweepResult | undefined> {
    const stepMs = defaults.sweepStepSeconds * 1000;
    return this.track(
      req,
      statement,
      'sweep',
      (signal, onProgress) =>
        this.connections.withPassword(req.connection, (input) =>
          sweep(
            {
              sql: statement.text,
              connection: input,
              maxClients: defaults.sweepMaxClients,
              stepDurationMs: stepMs,
              statementTimeoutMs: defaults.statementTimeoutMs,
              allowWrites: req.allowWrites ?? false,
              params: req.params,
              prepared: defaults.runOptions.prepared,
              applicationName: defaults.runOptions.applicationName,
            },
            {
              signal,
              logger: this.log,
              onStep: (i, of, clients, p) =>
                onProgress(
                  p && p.phase === 'load'
                    ? { ...p, message: '' }
                    : { phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: stepMs, qps: 0, p95Ms: null, errors: 0, message: `step ${i} of ${of}: ${clients} client${clients === 1 ? '' : 's'} for ${formatMs(stepMs)}` },
                ),
            },
          ),
        ),
      async (runId, result) => {
        await this.store.saveSweep({ sweep: result, connectionName: req.connection.name });
        // Kept in Runs too, beside the statement's runs.
        this.history?.keepSweep(runId, result, req.connection.name);
        const run = this.store.bySql(result.sql);
        this.panels.show(stateFromSweep(runId, result, req.connection.name, run?.result), run?.result);
        if (result.recommendation) this.ui.info(`pgload: pool size ${result.recommendation.poolSize} for this statement — see the Scaling tab.`);
        else void this.ui.warn(`pgload: the sweep could not recommend a pool size${result.notes.length ? `: ${result.notes[0]}` : ''}`);
      },
    );
  }

  /**
   * A diagnosis: the application's pool from the settings (or the connection), the budget, the plan of phases shown
   * before anything runs; the panel opens on its Answers tab and the application load's run is kept.
   */
  private executeDiagnose(req: RunRequest & { connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<DiagnoseResult | undefined> {
    let app;
    let budgetMs: number;
    try {
      app = readAppPool(req.connection);
      budgetMs = readDiagnoseBudgetMs();
    } catch (err) {
      void this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload', errorMessage(err)));
      return Promise.resolve(undefined);
    }
    let phaseText = '';
    return this.track(
      req,
      statement,
      'diagnose',
      (signal, onProgress) =>
        this.connections.withPassword(req.connection, (input) =>
          diagnose(
            {
              base: runInput(defaults, statement, input, req.connection, req),
              app: { users: app.users, poolSize: app.poolSize, maxOverflow: app.maxOverflow, poolTimeoutMs: app.poolTimeoutSeconds * 1000 },
              budgetMs,
            },
            {
              signal,
              logger: this.log,
              onPlan: (phases) => this.log.info(`diagnose plan: ${phases.map((p) => `${p.id} ${Math.round(p.plannedMs / 1000)} s`).join(', ')} (budget ${Math.round(budgetMs / 1000)} s)`),
              onPhase: (p, i, of, ms) => {
                phaseText = `phase ${i} of ${of}: ${p.label}`;
                onProgress({ phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs: ms, qps: 0, p95Ms: null, errors: 0, message: `${phaseText} (${formatMs(ms)})` });
              },
              onProgress: (p) => onProgress({ ...p, message: p.message ? `${phaseText} — ${p.message}` : '' }),
            },
          ),
        ),
      async (runId, d) => {
        await this.store.save({ runId, result: d.runs.load, connectionName: req.connection.name, uri: req.document?.uri.toString(), statementIndex: req.statementIndex });
        // One entry in Runs: the diagnosis takes over its application load's run (which it holds).
        this.history?.keepDiagnosis(runId, d, req.connection.name);
        if (d.runs.sweep) await this.store.saveSweep({ sweep: d.runs.sweep, connectionName: req.connection.name });
        await this.store.saveDiagnosis({ diagnosis: d, connectionName: req.connection.name });
        this.panels.show({ ...stateFromStored(runId, d.runs.load, req.connection.name, d.runs.sweep ?? undefined), activity: 'diagnose', diagnosis: d }, d.runs.load);
        this.lenses.refresh();
        const pool = d.answers.pool?.recommended ? ` Pool: ${d.answers.pool.recommended.poolSize}.` : '';
        if (d.status === 'partial') void this.ui.warn(`pgload: the diagnosis is partial (see its phases).${pool}`);
        else this.ui.info(`pgload: diagnosis done in ${Math.round(d.elapsedMs / 1000)} s.${pool} See the Answers tab.`);
      },
    );
  }

  /** A connection that failed: the reason, and the buttons that fix it (edit this connection, pick another). */
  private async connectionFailed(message: string, connection: ConnectionSetting): Promise<void> {
    const pick = await this.ui.error(`pgload: ${message}`, 'Edit Connection', 'Select Connection');
    if (pick === 'Edit Connection') await vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'pgload.connections' } });
    else if (pick === 'Select Connection') await this.connections.select();
    this.log.info(`connection "${connection.name}" failed: ${message}`);
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

