/**
 * CodeLens above every statement of a SQL document: "▶ Profile under load", and the last result's
 * `p50 · p95 · clients · when` — marked stale when the statement changed since. Titles come from the
 * core's pure formatter.
 */
import * as vscode from 'vscode';
import { formatAgo, formatLensTitle, formatMs } from '../shared/format';
import type { StatementFigures } from '../shared/result';
import { plural } from '../shared/numbers';
import { ensureParser, fingerprintOf } from '../core/sql';
import { statementSpans, type StatementSpan } from '../core/sqlSpans';
import { codeLensEnabled } from './config';
import { Commands, SQL_LANGUAGES } from './constants';
import { Disposable } from './lifecycle';
import { matchRuns, type LensMatch } from './lensMatch';
import type { ResultStore, StoredRun } from './resultStore';

export type LensInfo = LensMatch<StoredRun>;

export class PgloadCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  /** The statement ranges of each open document's current version (asked for again on every refresh). */
  private readonly spans = new Map<string, { version: number; statements: StatementSpan[] }>();
  /** Fingerprints by statement text: an edit re-fingerprints only the statements it changed. */
  private readonly fingerprints = new Map<string, string | undefined>();

  constructor(private readonly store: ResultStore) {
    super();
    this._register(store.onDidChange(() => this.changed.fire()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('pgload.codeLens') && this.changed.fire()));
    this._register(
      vscode.workspace.onDidCloseTextDocument((d) => this.spans.delete(d.uri.toString())),
    );
    // "3 min ago" ages: refresh the titles every minute.
    const timer = setInterval(() => this.changed.fire(), 60_000);
    this._register({ dispose: () => clearInterval(timer) });
  }

  refresh(): void {
    this.changed.fire();
  }

  /**
   * The statements of a document, found by PostgreSQL's lexical rules (./sqlSpans: no parse, so a file of
   * thousands of statements, or one with a syntax error, still gets its lenses at once). Whatever is run is
   * parsed again by the real parser. Exported for tests and the CodeLens commands.
   */
  statementsOf(document: vscode.TextDocument): StatementSpan[] {
    const key = document.uri.toString();
    const cached = this.spans.get(key);
    if (cached && cached.version === document.version) return cached.statements;
    const statements = statementSpans(document.getText());
    this.spans.set(key, { version: document.version, statements });
    return statements;
  }

  /** pg_query's fingerprint of a statement (the parser must be loaded), remembered by text. */
  fingerprintOf(text: string): string | undefined {
    if (this.fingerprints.has(text)) return this.fingerprints.get(text);
    if (this.fingerprints.size > 20_000) this.fingerprints.clear();
    const fp = fingerprintOf(text);
    this.fingerprints.set(text, fp);
    return fp;
  }

  /**
   * Which stored run belongs above each statement (see ./lensMatch). Fingerprints not known yet are taken
   * in the background, a batch per turn of the event loop, and the lenses refreshed once they are: a
   * large file's lenses appear at once, and runs of the same statement with other constants join them after.
   */
  lensInfo(document: vscode.TextDocument, statements: StatementSpan[], runs: StoredRun[] = this.store.all()): LensInfo[] {
    const missing: string[] = [];
    const known = (text: string) => {
      if (this.fingerprints.has(text)) return this.fingerprints.get(text);
      missing.push(text);
      return undefined;
    };
    const infos = matchRuns(statements, runs, document.uri.toString(), known);
    if (missing.length > 0) this.fingerprintLater(missing);
    return infos;
  }

  private fingerprinting = false;

  private fingerprintLater(texts: string[]): void {
    if (this.fingerprinting) return;
    this.fingerprinting = true;
    let at = 0;
    const batch = () => {
      if (this.isDisposed) return;
      const until = Math.min(texts.length, at + 100);
      for (; at < until; at++) this.fingerprintOf(texts[at]);
      if (at < texts.length) setImmediate(batch);
      else {
        this.fingerprinting = false;
        this.changed.fire();
      }
    };
    setImmediate(batch);
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!codeLensEnabled() || !SQL_LANGUAGES.includes(document.languageId)) return [];
    const statements = this.statementsOf(document);
    // Fingerprints (remembered parameters, runs of the same statement with other constants) need the parser.
    const runs = this.store.all();
    if (statements.some((st) => st.paramCount > 0) || runs.length > 0) await ensureParser();
    const now = Date.now();
    const lenses: vscode.CodeLens[] = [];
    // Statements of transactions run (newest first): each statement's own figures, by its exact text.
    const inTransaction = new Map<string, { run: (typeof runs)[number]; figures: StatementFigures }>();
    for (const r of runs) for (const f of r.result.load.statements ?? []) if (!inTransaction.has(f.sql)) inTransaction.set(f.sql, { run: r, figures: f });
    for (const info of this.lensInfo(document, statements, runs)) {
      const start = document.positionAt(info.statement.start);
      const range = new vscode.Range(start, start);
      lenses.push(
        new vscode.CodeLens(range, {
          title: '$(play) Profile under load',
          command: Commands.profileStatement,
          arguments: [document.uri, info.statement.index],
          tooltip: 'Run this statement alone and then with concurrent clients',
        }),
        new vscode.CodeLens(range, {
          title: '$(pulse) Diagnose',
          command: Commands.diagnoseStatement,
          arguments: [document.uri, info.statement.index],
          tooltip: "Answer the four questions with measurements: your pool's size, settings, the query under load, ORM or prepared",
        }),
      );
      const n = info.statement.paramCount;
      if (n > 0) {
        const fp = this.fingerprintOf(info.statement.text);
        const remembered = fp === undefined ? undefined : this.store.paramsFor(fp);
        lenses.push(
          new vscode.CodeLens(range, {
            title: remembered?.length === n ? `$(symbol-parameter) ${remembered.map((spec, i) => `$${i + 1} ${spec}`).join(' · ')}` : `$(symbol-parameter) Set values for ${n === 1 ? '$1' : `$1 … $${n}`}`,
            command: Commands.editParameters,
            arguments: [document.uri, info.statement.index],
            tooltip: 'The generators that give each request its parameter values (remembered for this statement)',
          }),
        );
      }
      // A statement profiled inside a transaction (and not alone since): its own figures there.
      // Its exact text inside a transaction beats a stale match (another statement of the same shape).
      const inTx = info.run && !info.stale ? undefined : inTransaction.get(info.statement.text);
      if (inTx) {
        const f = inTx.figures;
        lenses.push(
          new vscode.CodeLens(range, {
            title: `p50 ${formatMs(f.latency.p50Ms)} · p95 ${formatMs(f.latency.p95Ms)} · statement ${f.index} of a transaction at ${plural(inTx.run.result.load.clients, 'client')} · ${formatAgo(inTx.run.result.finishedAt, now)}`,
            command: Commands.showLastReport,
            arguments: [inTx.run.runId],
            tooltip: `Inside a transaction of ${inTx.run.result.load.statements!.length} statements: ${(f.shareOfRequest * 100).toFixed(0)} % of each request — click for its report`,
          }),
        );
      }
      if (info.run && !inTx) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: formatLensTitle(info.run.result, now, info.stale, info.unfinished?.result),
            command: Commands.showLastReport,
            arguments: [info.run.runId],
            tooltip: info.stale
              ? 'The statement changed since this run — click for its report'
              : info.unfinished
                ? `The last completed run — the newest (${info.unfinished.result.status}) is in Runs; click for this one's report`
                : 'Click for the report of the last run',
          }),
        );
      }
    }
    return lenses;
  }
}
