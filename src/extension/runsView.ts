/**
 * The "pgload Runs" view: every kept run, grouped by statement, with date, connection, clients and p50/p95;
 * open, rename, pin, delete, export, and compare two runs.
 */
import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { readResultFile } from '../core/report/resultFile';
import { errorMessage } from '../core/errors';
import { autoLabels, compareResults } from '../core/analysis/compare';
import { formatAbReport, formatMs, formatSweepReport } from '../shared/format';
import { formatWhen, plural } from '../shared/numbers';
import { oneLine } from '../shared/text';
import type { Comparison } from '../shared/result';
import { Disposable } from './lifecycle';
import { EXPORT_FORMATS, exportResult } from './exports';
import type { HistoryEntry, HistoryStore } from './historyStore';
import { stateFromStored, stateFromSweep, type ReportPanels } from './panel';
import { stateFromDiagnosis } from '../shared/panelState';
import { exportFileName } from '../shared/text';
import type { Ui } from './ui';

type Node = { kind: 'group'; fingerprint: string; sql: string; runs: HistoryEntry[] } | { kind: 'run'; entry: HistoryEntry };

export function runLabel(e: HistoryEntry): string {
  return e.name ?? formatWhen(e.startedAt);
}

/** The load of a run in words, the same in the Runs view and the Compare picker: a diagnosis's load is its users. */
export function loadWords(e: Pick<HistoryEntry, 'kind' | 'clients'>): string {
  const noun = e.kind === 'diagnosis' ? 'user' : 'client';
  return `${e.clients} ${noun}${e.clients === 1 ? '' : 's'}`;
}

export class RunsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly history: HistoryStore,
    private readonly panels: ReportPanels,
    private readonly ui: Ui,
    private readonly extensionUri: vscode.Uri,
  ) {
    super();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.history.groups().map((g) => ({ kind: 'group', ...g }));
    return node.kind === 'group' ? node.runs.map((entry) => ({ kind: 'run', entry })) : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(oneLine(node.sql, 60), vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}`;
      item.tooltip = node.sql;
      item.contextValue = 'pgload.statement';
      item.iconPath = new vscode.ThemeIcon('database');
      return item;
    }
    const e = node.entry;
    if (e.kind === 'sweep') {
      const item = new vscode.TreeItem(runLabel(e), vscode.TreeItemCollapsibleState.None);
      const cut = e.status === 'cancelled' ? ' · cancelled: partial' : '';
      item.description = `${e.connectionName} · sweep to ${e.clients} client${e.clients === 1 ? '' : 's'}${cut} · ${e.poolSize ? `pool size ${e.poolSize}` : 'no pool size'} · best ${e.qps.toFixed(1)} q/s`;
      item.tooltip = new vscode.MarkdownString(`**Concurrency sweep** ${runLabel(e)}\n\n${formatWhen(e.startedAt)} on ${e.connectionName}\n\nup to ${plural(e.clients, 'client')} · best ${e.qps.toFixed(1)} q/s · ${e.poolSize ? `recommended pool size ${e.poolSize}` : 'no pool size could be recommended'}`);
      item.contextValue = `pgload.run.sweep${e.pinned ? '.pinned' : ''}`;
      item.iconPath = new vscode.ThemeIcon('graph-line');
      item.command = { command: 'pgload.runs.open', title: 'Open', arguments: [node] };
      return item;
    }
    if (e.kind === 'ab' || e.kind === 'diagnosis') {
      const ab = e.kind === 'ab';
      const item = new vscode.TreeItem(runLabel(e), vscode.TreeItemCollapsibleState.None);
      item.description = `${e.connectionName} · ${ab ? 'A/B' : 'diagnosis'} · ${loadWords(e)} · ${ab ? `B p95 ${formatMs(e.p95Ms)}` : (e.summary ?? '')}${e.mode === 'rolled-back' ? ' · rolled back' : ''}`;
      item.tooltip = new vscode.MarkdownString(`**${ab ? 'A/B test' : 'Diagnosis'}** ${runLabel(e)}${e.pinned ? ' (pinned)' : ''}\n\n${formatWhen(e.startedAt)} on ${e.connectionName}\n\n${e.summary ?? ''}`);
      item.contextValue = `pgload.run.${e.kind}${e.pinned ? '.pinned' : ''}`;
      item.iconPath = new vscode.ThemeIcon(ab ? 'git-compare' : 'question');
      item.command = { command: 'pgload.runs.open', title: 'Open', arguments: [node] };
      return item;
    }
    const item = new vscode.TreeItem(runLabel(e), vscode.TreeItemCollapsibleState.None);
    item.description = `${e.connectionName} · ${loadWords(e)} · p50 ${formatMs(e.p50Ms)} · p95 ${formatMs(e.p95Ms)}${e.mode === 'rolled-back' ? ' · rolled back' : ''}${e.status === 'completed' ? '' : ` · ${e.status}`}`;
    item.tooltip = new vscode.MarkdownString(`**${runLabel(e)}**${e.pinned ? ' (pinned)' : ''}\n\n${formatWhen(e.startedAt)} on ${e.connectionName}\n\n${loadWords(e)} · ${e.qps.toFixed(1)} q/s · p50 ${formatMs(e.p50Ms)} · p95 ${formatMs(e.p95Ms)}`);
    item.contextValue = e.pinned ? 'pgload.run.pinned' : 'pgload.run';
    item.iconPath = new vscode.ThemeIcon(e.pinned ? 'pinned' : e.status === 'completed' ? 'pulse' : 'warning');
    item.command = { command: 'pgload.runs.open', title: 'Open', arguments: [node] };
    return item;
  }

  /** The run a command targets: a tree node, a run id, or (from the palette) one the user picks. */
  private async target(arg: unknown, title: string): Promise<HistoryEntry | undefined> {
    if (arg && typeof arg === 'object' && (arg as Node).kind === 'run') return this.history.entry((arg as { entry: HistoryEntry }).entry.runId);
    if (typeof arg === 'string') return this.history.entry(arg);
    const runs = this.history.list();
    if (runs.length === 0) {
      this.ui.info('pgload: no runs kept yet. Profile a statement first.');
      return undefined;
    }
    const picked = await this.ui.pick(
      runs.map((e) => ({ label: runLabel(e), description: oneLine(e.sql, 60), detail: `${e.connectionName} · ${loadWords(e)} · p95 ${formatMs(e.p95Ms)}`, e })),
      { title },
    );
    return picked?.e;
  }

  async open(arg: unknown): Promise<void> {
    const e = await this.target(arg, 'pgload: open which run?');
    if (!e) return;
    if (e.kind === 'sweep') {
      const sw = this.history.sweep(e.runId);
      if (!sw) void this.ui.error(`pgload: the file of sweep "${runLabel(e)}" is missing or damaged; delete it from the list.`);
      else this.panels.show(stateFromSweep(e.runId, sw, e.connectionName));
      return;
    }
    if (e.kind === 'ab') {
      const ab = this.history.ab(e.runId);
      if (!ab) void this.ui.error(`pgload: the file of the A/B "${runLabel(e)}" is missing or damaged; delete it from the list.`);
      // Its own run id: the panel opens on the Compare tab.
      else {
        const side = ab.a.sql === ab.b.sql ? ab.b : ab.a;
        this.panels.show({ ...stateFromStored(`ab:${e.runId}`, side, e.connectionName), comparison: ab.comparison }, side);
      }
      return;
    }
    if (e.kind === 'diagnosis') {
      const d = this.history.diagnosis(e.runId);
      if (!d) void this.ui.error(`pgload: the file of the diagnosis "${runLabel(e)}" is missing or damaged; delete it from the list.`);
      else this.panels.show(stateFromDiagnosis(e.runId, d, e.connectionName), d.runs.load);
      return;
    }
    const r = this.history.result(e.runId);
    if (!r) {
      void this.ui.error(`pgload: the file of run "${runLabel(e)}" is missing or damaged; delete it from the list.`);
      return;
    }
    this.panels.show(stateFromStored(e.runId, r, e.connectionName), r);
  }

  /**
   * A result file written elsewhere (`pgload run --json`, `pgload merge --json` of a split run's shards) into Runs,
   * opened like any run. A file that is not a result is refused with what is wrong and nothing is added.
   */
  async importFile(): Promise<boolean> {
    const uri = await this.ui.openTarget('pgload: open a result file (pgload run --json, pgload merge --json)', { 'pgload result': ['json'] });
    if (!uri) return false;
    let result;
    try {
      result = readResultFile(uri.fsPath);
    } catch (err) {
      void this.ui.error(`pgload: ${errorMessage(err)}`);
      return false;
    }
    const runId = randomUUID();
    const connectionName = `${result.connection.database} on ${result.connection.host}`;
    this.history.add(runId, result, connectionName);
    this.history.rename(runId, result.shards ? `${path.basename(uri.fsPath)} (${result.shards.count} shards merged)` : path.basename(uri.fsPath));
    this.panels.show(stateFromStored(runId, result, connectionName), result);
    return true;
  }

  async rename(arg: unknown): Promise<void> {
    const e = await this.target(arg, 'pgload: rename which run?');
    if (!e) return;
    const name = await this.ui.input({ title: 'pgload: name this run', prompt: 'e.g. "before the index" (empty: the date)', value: e.name ?? '' });
    if (name === undefined) return;
    this.history.rename(e.runId, name);
    this.refresh();
  }

  async pin(arg: unknown, pinned: boolean): Promise<void> {
    const e = await this.target(arg, `pgload: ${pinned ? 'pin' : 'unpin'} which run?`);
    if (!e) return;
    this.history.setPinned(e.runId, pinned);
    this.refresh();
  }

  async delete(arg: unknown): Promise<boolean> {
    const e = await this.target(arg, 'pgload: delete which run?');
    if (!e) return false;
    const yes = await this.ui.confirm(`Delete the run "${runLabel(e)}" of ${oneLine(e.sql, 50)}? Its result file is removed.`, 'Delete');
    if (yes !== 'Delete') return false;
    this.history.delete(e.runId);
    this.refresh();
    return true;
  }

  async export(arg: unknown): Promise<boolean> {
    const e = await this.target(arg, 'pgload: export which run?');
    if (!e) return false;
    if (e.kind === 'sweep') return this.exportSweep(e);
    if (e.kind === 'ab') return this.exportAb(e);
    const r = this.history.result(e.runId);
    if (!r) {
      void this.ui.error(`pgload: the file of run "${runLabel(e)}" is missing or damaged.`);
      return false;
    }
    const f = await this.ui.pick(
      EXPORT_FORMATS.map((x) => ({ label: x.label, detail: x.detail, format: x.format })),
      { title: `pgload: export "${runLabel(e)}" as` },
    );
    if (!f) return false;
    // A diagnosis is exported whole (its answers lead); CSV is its application load's timeline.
    const diagnosis = e.kind === 'diagnosis' ? this.history.diagnosis(e.runId) : undefined;
    const [ok, message] = await exportResult(this.ui, f.format, r, e.connectionName, this.extensionUri, { diagnosis });
    if (ok) this.ui.info(`pgload: ${message}`);
    return ok;
  }

  /** A sweep is saved as its result object (JSON) or its report (text). */
  private exportSweep(e: HistoryEntry): Promise<boolean> {
    const sw = this.history.sweep(e.runId);
    return this.exportWhole(e, 'sweep', sw && { sql: sw.sql, startedAt: sw.startedAt, json: sw, text: formatSweepReport(sw), detail: 'the sweep result: steps, the fitted curve, the recommendation' });
  }

  /** An A/B is saved as its result object (both sides and the comparison) or its report (text), as `pgload ab` writes them. */
  private exportAb(e: HistoryEntry): Promise<boolean> {
    const ab = this.history.ab(e.runId);
    return this.exportWhole(e, 'A/B', ab && { sql: ab.b.sql, startedAt: ab.a.startedAt, json: ab, text: formatAbReport(ab, ab.a.sql !== ab.b.sql ? { a: ab.a.sql, b: ab.b.sql } : undefined), detail: 'the A/B result: both sides, the legs, the comparison' });
  }

  private async exportWhole(e: HistoryEntry, what: string, v: { sql: string; startedAt: string; json: unknown; text: string; detail: string } | undefined): Promise<boolean> {
    if (!v) {
      void this.ui.error(`pgload: the file of the ${what} "${runLabel(e)}" is missing or damaged.`);
      return false;
    }
    const f = await this.ui.pick(
      [
        { label: 'JSON', detail: v.detail, ext: 'json', text: JSON.stringify(v.json, null, 2) + '\n' },
        { label: 'Text', detail: `the ${what} report as the pgload command prints it`, ext: 'txt', text: v.text + '\n' },
      ],
      { title: `pgload: export the ${what} "${runLabel(e)}" as` },
    );
    if (!f) return false;
    const slug = what === 'A/B' ? 'ab' : what;
    const target = await this.ui.saveTarget(`Save the ${what} as ${f.label}`, exportFileName(slug, v.sql, v.startedAt, f.ext), { [f.label]: [f.ext] });
    if (!target) return false;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(f.text));
    this.ui.info(`pgload: Saved to ${target.fsPath}.`);
    return true;
  }

  /** Compares two runs (B against A): the run given (or picked) against another one the user picks. */
  async compare(arg: unknown, other?: unknown): Promise<Comparison | undefined> {
    const b = await this.target(arg, 'pgload: compare which run (the newer one, B)?');
    if (!b) return undefined;
    if (b.kind === 'sweep') {
      this.ui.info('pgload: a sweep is not compared with a run: open it to see its steps, or compare two runs of the statement.');
      return undefined;
    }
    let a = typeof other === 'string' ? this.history.entry(other) : undefined;
    if (!a) {
      const candidates = this.history.list().filter((x) => x.runId !== b.runId && x.kind !== 'sweep');
      if (candidates.length === 0) {
        this.ui.info('pgload: there is no other run to compare with. Run the statement again, e.g. after a change.');
        return undefined;
      }
      // Runs of the same statement first: the usual before/after.
      candidates.sort((x, y) => Number(y.fingerprint === b.fingerprint) - Number(x.fingerprint === b.fingerprint));
      const picked = await this.ui.pick(
        candidates.map((x) => ({ label: runLabel(x), description: x.fingerprint === b.fingerprint ? 'same statement' : oneLine(x.sql, 50), detail: `${x.connectionName} · ${loadWords(x)} · p95 ${formatMs(x.p95Ms)}`, x })),
        { title: `pgload: compare "${runLabel(b)}" with which run (A, the baseline)?` },
      );
      if (!picked) return undefined;
      a = picked.x;
    }
    const ra = this.history.result(a.runId);
    const rb = this.history.result(b.runId);
    if (!ra || !rb) {
      void this.ui.error('pgload: the file of one of these runs is missing or damaged.');
      return undefined;
    }
    // The user's names, else names that say what differs (the setting, the SQL, the clients), else when they ran.
    const auto = autoLabels(ra, rb);
    const labels: [string, string] = [a.name ?? auto[0], b.name ?? auto[1]];
    if (labels[0] === labels[1]) {
      labels[0] = `A: ${labels[0]}`;
      labels[1] = `B: ${labels[1]}`;
    }
    const comparison = compareResults(ra, rb, { labels });
    // Its own run id: the panel opens on the Compare tab even when it already shows run B.
    this.panels.show({ ...stateFromStored(`compare:${a.runId}:${b.runId}`, rb, b.connectionName), comparison }, rb);
    return comparison;
  }
}
