/**
 * The question flow every run shares: from an editor (selection, cursor, CodeLens) or a stored request to a run
 * request — the statement, its load plan (clients, an application pool, a fixed rate), its parameters — with syntax
 * errors shown as diagnostics at the right place.
 */
import * as vscode from 'vscode';
import type { AbResult, DiagnoseResult, SweepResult } from '../../shared/result';
import { errorMessage, isPgloadError } from '../../core/errors';
import { parseParamSpec, type ParamInput } from '../../core/load/params';
import type { ConnectionInput } from '../../core/connection/connection';
import type { ProfileInput } from '../../core/options';
import { APP_POOL_LIMITS, MAX_CLIENTS } from '../../core/optionTable';
import type { PoolOptions } from '../../core/load/sessionPool';
import * as path from 'node:path';
import { ensureParser, parseSingleStatement, splitStatements, statementAt, type SqlStatement } from '../../core/sql';
import { parseSpan, statementsApart } from '../../core/sqlApart';
import { statementSpans } from '../../core/sqlSpans';
import { oneLine } from '../../shared/text';
import type { PgloadCodeLensProvider } from '../codelens';
import { askBeforeRun, connectionServerMemoryKB, readAppPool, SettingsError, type ConnectionSetting, type RunDefaults } from '../config';
import type { ConnectionManager } from '../connections';
import { SQL_LANGUAGES } from '../constants';
import { Disposable } from '../lifecycle';
import type { Log } from '../log';
import type { ReportPanels } from '../panel';
import type { ResultStore } from '../resultStore';
import type { Ui } from '../ui';

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

/** "30s", "2m", "500ms" in ms (at least `minMs`), or undefined. */
export function durationInput(v: string, minMs = 100): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2].toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  const ms = Number(m[1]) * factor;
  return ms >= minMs ? ms : undefined;
}

export interface RunRequest {
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
  kind?: 'run' | 'sweep' | 'diagnose' | 'capacity';
  /** Values for `$1 … $n` (asked once, then remembered per statement). */
  params?: ParamInput[];
  /** Several statements profiled as one request (a transaction), in this order. */
  transaction?: string[];
}

export interface ActiveRun {
  id: string;
  controller: AbortController;
  fingerprint: string;
}

/** Every run option from the settings (the option table), then what this statement, request and connection say. */
export function runInput(defaults: RunDefaults, statement: SqlStatement, input: ConnectionInput, connection: ConnectionSetting, req: { allowWrites?: boolean; params?: ParamInput[] }): ProfileInput {
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

/** The controller's state and its questions; src/extension/runController.ts holds the commands built on them. */
export abstract class RunQuestions extends Disposable {
  protected active?: ActiveRun;
  protected readonly diagnostics: vscode.DiagnosticCollection;
  /** The last request per statement text, for "Re-run" from the panel. */
  protected readonly lastRequest = new Map<string, RunRequest>();
  /** Settles when the current run (if any) has finished; tests and the cancel command wait on it. */
  runFinished: Promise<void> = Promise.resolve();

  constructor(
    protected readonly log: Log,
    protected readonly connections: ConnectionManager,
    protected readonly store: ResultStore,
    protected readonly panels: ReportPanels,
    protected readonly lenses: PgloadCodeLensProvider,
    protected readonly ui: Ui,
  ) {
    super();
    this.diagnostics = this._register(vscode.languages.createDiagnosticCollection('pgload'));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.diagnostics.delete(e.document.uri)));
  }

  /** The pool size the statement's last sweep measured, for the hints (one voice on pool size). */
  /** Set by the extension: the Runs history, to keep a run with a name (Try it) or name one kept (a diagnosis). */
  history?: {
    keepAb(runId: string, ab: AbResult, connectionName: string, name: string): void;
    keepDiagnosis(runId: string, d: DiagnoseResult, connectionName: string): void;
    keepSweep(runId: string, sweep: SweepResult, connectionName: string): void;
  };

  /** Stops the run in progress (the user, or a run that must not start beside it). */
  abstract cancel(): void;

  protected measuredPool(fingerprint: string): { poolSize: number; saturated?: boolean; measuredAt: string } | undefined {
    const rec = this.store.sweepByFingerprint(fingerprint)?.sweep;
    return rec?.recommendation ? { poolSize: rec.recommendation.poolSize, saturated: rec.recommendation.saturated, measuredAt: rec.finishedAt } : undefined;
  }

  /** B's statement: one of the statements in the open SQL editors, or SQL typed in. */
  protected async pickSecondStatement(a: SqlStatement): Promise<SqlStatement | undefined> {
    type Item = vscode.QuickPickItem & { sql?: string };
    const items: Item[] = [];
    const seen = new Set<string>([a.text.trim()]);
    for (const doc of vscode.workspace.textDocuments) {
      if (!SQL_LANGUAGES.includes(doc.languageId)) continue;
      // Every statement that parses on its own (one with a syntax error is left out, not the whole file).
      for (const { statement: st } of statementsApart(doc.getText())) {
        if (!st) continue;
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

  /** Statement `index` of the document at `uri` (a CodeLens target). */
  protected async requestAt(uri: vscode.Uri, index: number): Promise<RunRequest | undefined> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const s = (await this.lenses.statementsOf(doc))[index];
    if (!s) {
      this.ui.warn('pgload: that statement is no longer in the file; the CodeLens was out of date.');
      return undefined;
    }
    return { sql: s.text, document: doc, baseOffset: s.start, statementIndex: s.index };
  }

  /** The statement the user means: the selection (one of several if it holds more), else the one under the cursor. */
  protected async requestFromEditor(editor: vscode.TextEditor | undefined, verb: string): Promise<RunRequest | undefined> {
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
    // Only the statement under the cursor is parsed: a syntax error elsewhere in the file never blocks it.
    const text = doc.getText();
    const spans = statementSpans(text);
    const span = statementAt(spans, doc.offsetAt(sel.active));
    if (!span) {
      this.ui.warn(
        spans.length === 0 ? `pgload: there is no SQL statement in this file to ${verb}.` : `pgload: the cursor is not in a statement; put it inside one, or select the SQL to ${verb}.`,
      );
      return undefined;
    }
    let at: SqlStatement;
    try {
      at = parseSpan(text, span);
    } catch (err) {
      this.reportSqlError(doc, 0, err);
      return undefined;
    }
    return { sql: at.text, document: doc, baseOffset: at.start, statementIndex: at.index };
  }

  /** A selection: exactly one statement, or the user picks among several. */
  protected async fromText(doc: vscode.TextDocument, text: string, baseOffset: number, verb: string): Promise<RunRequest | undefined> {
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

  protected reportSqlError(doc: vscode.TextDocument, baseOffset: number, err: unknown): void {
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

  protected async pickPlan(defaults: RunDefaults, connection: ConnectionSetting): Promise<LoadPlan | undefined> {
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
  protected async askDuration(defaults: RunDefaults): Promise<number | undefined> {
    const d = await this.ui.input({
      title: 'pgload: for how long?',
      prompt: 'A duration, e.g. 30s or 2m',
      value: `${defaults.durationSeconds || 10}s`,
      validateInput: (v) => (durationInput(v) !== undefined ? undefined : 'A duration of at least 100ms, like 30s or 2m'),
    });
    return d === undefined ? undefined : durationInput(d);
  }

  /** The application-pool emulation: users, pool_size, max_overflow (the pgload.app settings or the connection's as defaults). */
  protected async askPoolPlan(defaults: RunDefaults, connection: ConnectionSetting): Promise<LoadPlan | undefined> {
    let app;
    try {
      app = readAppPool(connection);
    } catch (err) {
      await this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload.app', errorMessage(err)));
      return undefined;
    }
    const users = await this.ui.input({ title: `pgload: application users (each sends its next request ${app.thinkTimeSeconds > 0 ? `${app.thinkTimeSeconds} s, on average, after` : 'as soon as'} the last one answers — pgload.app.thinkTimeSeconds)`, value: String(app.users), validateInput: WHOLE(APP_POOL_LIMITS.users.min, APP_POOL_LIMITS.users.max) });
    if (users === undefined) return undefined;
    const size = await this.ui.input({ title: 'pgload: pool_size (persistent connections in the pool)', value: String(app.poolSize), validateInput: WHOLE(APP_POOL_LIMITS.size.min, APP_POOL_LIMITS.size.max) });
    if (size === undefined) return undefined;
    const overflow = await this.ui.input({ title: 'pgload: max_overflow (extra connections when all are busy; 0 for a fixed pool)', value: String(app.maxOverflow), validateInput: WHOLE(APP_POOL_LIMITS.maxOverflow.min, APP_POOL_LIMITS.maxOverflow.max) });
    if (overflow === undefined) return undefined;
    const durationMs = await this.askDuration(defaults);
    if (durationMs === undefined) return undefined;
    const pool: PoolOptions = { users: Number(users), size: Number(size), maxOverflow: Number(overflow), timeoutMs: app.poolTimeoutSeconds * 1000, ...(app.thinkTimeSeconds > 0 ? { thinkTimeMs: app.thinkTimeSeconds * 1000 } : {}) };
    return { clients: Math.min(pool.users, pool.size + pool.maxOverflow), durationMs, pool };
  }

  /** The open loop: a rate, and the sessions that serve it. */
  protected async askRatePlan(defaults: RunDefaults): Promise<LoadPlan | undefined> {
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

  /** The name a transaction goes by in its report: its file. */
  protected scriptName(req: RunRequest): string {
    return req.document ? path.basename(req.document.uri.fsPath) : 'transaction';
  }

  /**
   * Asks for a generator per `$n` (an input box each, checked as typed), or offers the ones remembered for
   * this statement; remembers the answer. Relative CSV paths are taken from the workspace folder.
   */
  protected async askParams(statement: SqlStatement, doc: vscode.TextDocument | undefined, edit: boolean): Promise<ParamInput[] | undefined> {
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

  protected absoluteCsv(spec: string, doc: vscode.TextDocument | undefined): string {
    const m = /^(\s*csv\s*:)(.*)$/is.exec(spec);
    if (!m) return spec;
    const base = (doc && vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath) ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? (doc && doc.uri.scheme === 'file' ? path.dirname(doc.uri.fsPath) : undefined);
    const rest = m[2];
    const at = rest.lastIndexOf(':');
    const file = at < 0 ? rest : rest.slice(0, at);
    if (!base || path.isAbsolute(file.trim())) return spec;
    return `${m[1]}${path.join(base, file.trim())}${at < 0 ? '' : rest.slice(at)}`;
  }
}
