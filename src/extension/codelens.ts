/**
 * CodeLens above every statement of a SQL document: "▶ Profile under load", and the last result's
 * `p50 · p95 · clients · when` — marked stale when the statement changed since. Titles come from the
 * core's pure formatter.
 */
import * as vscode from 'vscode';
import { formatLensTitle } from '../core/format';
import { ensureParser, splitStatements, type SqlStatement } from '../core/sql';
import { codeLensEnabled } from './config';
import { Commands, SQL_LANGUAGES } from './constants';
import { Disposable } from './lifecycle';
import type { ResultStore, StoredRun } from './resultStore';

export interface LensInfo {
  statement: SqlStatement;
  run?: StoredRun;
  stale: boolean;
}

export class PgloadCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  /** The last statements that parsed, per document: used while the text has a syntax error. */
  private readonly lastGood = new Map<string, SqlStatement[]>();
  /** The statements of each open document's current version (parsing a large file takes a while). */
  private readonly parsed = new Map<string, { version: number; statements: SqlStatement[] }>();

  constructor(private readonly store: ResultStore) {
    super();
    this._register(store.onDidChange(() => this.changed.fire()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('pgload.codeLens') && this.changed.fire()));
    this._register(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.lastGood.delete(d.uri.toString());
        this.parsed.delete(d.uri.toString());
      }),
    );
    // "3 min ago" ages: refresh the titles every minute.
    const timer = setInterval(() => this.changed.fire(), 60_000);
    this._register({ dispose: () => clearInterval(timer) });
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Statements and what is known of each; exported for tests and the profile-under-cursor command. */
  async statementsOf(document: vscode.TextDocument): Promise<SqlStatement[]> {
    await ensureParser();
    const key = document.uri.toString();
    // The same version is asked for again on every refresh (a stored run, the minute tick): parse it once.
    const cached = this.parsed.get(key);
    if (cached && cached.version === document.version) return cached.statements;
    try {
      const s = splitStatements(document.getText());
      this.lastGood.set(key, s);
      this.parsed.set(key, { version: document.version, statements: s });
      return s;
    } catch {
      // While the user types, a syntax error must not make every lens disappear.
      const previous = this.lastGood.get(key) ?? [];
      const length = document.getText().length;
      return previous.filter((s) => s.end <= length);
    }
  }

  /**
   * Which stored run belongs above each statement:
   *  1. a run of exactly this text — fresh;
   *  2. the last run started from this statement's position in this document — stale (it was edited);
   *  3. a run with the same fingerprint (constants changed, or the statement moved) — stale, unless another
   *     statement of this document has that run's exact text (different statements can share a fingerprint).
   */
  lensInfo(document: vscode.TextDocument, statements: SqlStatement[]): LensInfo[] {
    const uri = document.uri.toString();
    const texts = new Set(statements.map((s) => s.text));
    return statements.map((statement) => {
      const exact = this.store.bySql(statement.text);
      if (exact) return { statement, run: exact, stale: false };
      const byPos = this.store.byPosition(uri, statement.index);
      if (byPos && !texts.has(byPos.result.sql)) return { statement, run: byPos, stale: true };
      const sameShape = this.store.byFingerprint(statement.fingerprint).find((r) => !texts.has(r.result.sql));
      return sameShape ? { statement, run: sameShape, stale: true } : { statement, stale: false };
    });
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!codeLensEnabled() || !SQL_LANGUAGES.includes(document.languageId)) return [];
    const statements = await this.statementsOf(document);
    const now = Date.now();
    const lenses: vscode.CodeLens[] = [];
    for (const info of this.lensInfo(document, statements)) {
      const start = document.positionAt(info.statement.start);
      const range = new vscode.Range(start, start);
      lenses.push(
        new vscode.CodeLens(range, {
          title: '$(play) Profile under load',
          command: Commands.profileStatement,
          arguments: [document.uri, info.statement.index],
          tooltip: 'Run this statement alone and then with concurrent clients',
        }),
      );
      const n = info.statement.paramCount;
      if (n > 0) {
        const remembered = this.store.paramsFor(info.statement.fingerprint);
        lenses.push(
          new vscode.CodeLens(range, {
            title: remembered?.length === n ? `$(symbol-parameter) ${remembered.map((spec, i) => `$${i + 1} ${spec}`).join(' · ')}` : `$(symbol-parameter) Set values for ${n === 1 ? '$1' : `$1 … $${n}`}`,
            command: Commands.editParameters,
            arguments: [document.uri, info.statement.index],
            tooltip: 'The generators that give each request its parameter values (remembered for this statement)',
          }),
        );
      }
      if (info.run) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: formatLensTitle(info.run.result, now, info.stale),
            command: Commands.showLastReport,
            arguments: [info.run.runId],
            tooltip: info.stale ? 'The statement changed since this run — click for its report' : 'Click for the report of the last run',
          }),
        );
      }
    }
    return lenses;
  }
}
