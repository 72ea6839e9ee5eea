/**
 * The "Top statements" view: what the application really sends, from pg_stat_statements on the selected connection
 * (`pgload top`), ranked by total time, mean time, temporary-file blocks or calls. Profile one from there: its `$n`
 * are asked with generators suggested from the columns' statistics, which the user confirms or edits.
 */
import * as vscode from 'vscode';
import { topStatements, TOP_ORDERS, type TopOrder } from '../core/insight/top';
import { parseParamSpec, type ParamInput } from '../core/load/params';
import { errorMessage } from '../core/errors';
import type { TopResult, TopStatement } from '../shared/result';
import { oneLine } from '../shared/text';
import { formatWhen } from '../shared/numbers';
import { topFigures } from '../shared/report/top';
import type { ConnectionManager } from './connections';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import type { Ui } from './ui';
import { inEditorWords } from './words';
import { Settings } from './constants';

type Node = { kind: 'statement'; s: TopStatement; rank: number };

const ORDER_LABEL: Record<TopOrder, string> = { total: 'total time', mean: 'mean time', temp: 'temporary-file blocks', calls: 'calls' };

export class TopView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private view?: vscode.TreeView<Node>;
  private order: TopOrder = 'total';
  /** The latest list (undefined before the first load). */
  result?: TopResult;
  private loading?: Promise<TopResult | undefined>;

  constructor(
    private readonly connections: ConnectionManager,
    private readonly ui: Ui,
    private readonly log: Log,
    /** Profiles a statement with its generators (the run controller's path: safety, panel, Runs). */
    private readonly profile: (sql: string, params: ParamInput[]) => Promise<unknown>,
  ) {
    super();
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
    this._register(view);
    // Loaded when first shown, not at activation: reading pg_stat_statements needs a connection (and maybe a password).
    this._register(view.onDidChangeVisibility((e) => e.visible && !this.result && !this.loading && void this.refresh()));
    if (view.visible) void this.refresh();
  }

  /** Reads the list again from the selected connection. */
  refresh(): Promise<TopResult | undefined> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<TopResult | undefined> {
    const connection = await this.connections.forRun();
    if (!connection) return undefined;
    this.setMessage(`Reading pg_stat_statements on ${connection.name}…`);
    try {
      const limit = vscode.workspace.getConfiguration(Settings.section).get<number>(Settings.topLimit) ?? 50;
      this.result = await this.connections.withPassword(connection, (input) => topStatements({ connection: input, limit, order: this.order }));
      this.setMessage(
        `${this.result.statements.length} statements by ${ORDER_LABEL[this.order]} on ${connection.name}${this.result.statsSince ? `, since ${formatWhen(this.result.statsSince)}` : ''}${this.result.notes.length ? ` — ${this.result.notes.join(' ')}` : ''}`,
      );
      if (this.view) this.view.description = `by ${ORDER_LABEL[this.order]}`;
      this.changed.fire(undefined);
      return this.result;
    } catch (err) {
      const message = inEditorWords(errorMessage(err));
      this.result = undefined;
      this.changed.fire(undefined);
      // In the view itself (the lines to enable pg_stat_statements included), and in the log.
      this.setMessage(message);
      this.log.warn(`top statements on "${connection.name}": ${message}`);
      return undefined;
    }
  }

  /** What the view says above its list (or instead of it). */
  message = '';

  private setMessage(m: string): void {
    this.message = m;
    if (this.view) this.view.message = m;
  }

  async pickOrder(): Promise<void> {
    const picked = await this.ui.pick(
      TOP_ORDERS.map((o) => ({ label: ORDER_LABEL[o], description: o === this.order ? 'current' : '', o })),
      { title: 'pgload: rank the top statements by' },
    );
    if (!picked) return;
    this.order = picked.o;
    await this.refresh();
  }

  getChildren(node?: Node): Node[] {
    if (node || !this.result) return [];
    return this.result.statements.map((s, i) => ({ kind: 'statement', s, rank: i + 1 }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const s = node.s;
    const item = new vscode.TreeItem(`${node.rank}. ${oneLine(s.query, 70)}`, vscode.TreeItemCollapsibleState.None);
    item.description = topFigures(s);
    const md = new vscode.MarkdownString();
    md.appendCodeblock(s.query, 'sql');
    md.appendMarkdown(`\n${topFigures(s)}\n\n`);
    if (s.profile === 'refused') md.appendMarkdown(`Not profiled: ${s.profileNote}.`);
    else for (const p of s.params) md.appendMarkdown(`- \`$${p.index}\`: ${p.spec ? `\`${p.spec.length > 80 ? `${p.spec.slice(0, 80)}…` : p.spec}\`` : 'no suggestion'} — ${p.why}\n`);
    item.tooltip = md;
    item.iconPath = new vscode.ThemeIcon(s.profile === 'refused' ? 'circle-slash' : s.tempBlksWritten > 0 ? 'warning' : 'symbol-event');
    item.contextValue = s.profile === 'refused' ? 'pgload.top.refused' : 'pgload.top.statement';
    return item;
  }

  /** Profiles a listed statement: each `$n` asked with its suggestion filled in (confirm or edit; Escape runs nothing). */
  async profileStatement(arg: unknown): Promise<unknown> {
    const s = (arg as Node | undefined)?.s ?? (await this.pickStatement());
    if (!s) return undefined;
    if (s.profile === 'refused') {
      void this.ui.error(`pgload: this statement is not profiled: ${s.profileNote}.`);
      return undefined;
    }
    const params: ParamInput[] = [];
    for (const p of s.params) {
      const spec = await this.ui.input({
        title: `pgload: values for $${p.index} of ${oneLine(s.query, 40)}`,
        prompt: p.why,
        value: p.spec ?? '',
        placeHolder: 'int:1..1000, zipf:1..1000, list:a,b, sql:SELECT id FROM …',
        validateInput: (v) => {
          if (v.trim() === '') return `$${p.index} needs a generator`;
          try {
            parseParamSpec(v, `$${p.index}`);
            return undefined;
          } catch (err) {
            return errorMessage(err);
          }
        },
      });
      if (spec === undefined) {
        this.ui.info(`pgload: not profiled — $${p.index} has no generator.`);
        return undefined;
      }
      params.push({ index: p.index, spec: spec.trim() });
    }
    return this.profile(s.query, params);
  }

  private async pickStatement(): Promise<TopStatement | undefined> {
    const r = this.result ?? (await this.refresh());
    if (!r || r.statements.length === 0) return undefined;
    const picked = await this.ui.pick(
      r.statements.map((s, i) => ({ label: `${i + 1}. ${oneLine(s.query, 70)}`, detail: topFigures(s), s })),
      { title: 'pgload: profile which statement?' },
    );
    return picked?.s;
  }
}
