/**
 * `pgload.yml` checks in VS Code's Test Explorer: every check file of the workspace is a test item, each of its checks
 * a test. Running one profiles its statement with the check's load and compares the result with its budgets (as
 * `pgload check` does): passed or failed with the measured figure against each budget, the failure placed on the
 * statement; "Go to Test" jumps to the statement (the check, for inline SQL). A file that does not parse shows its
 * error on the file's item, and nothing of it runs.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { parseCheckFile, runCheck, type CheckSpec } from '../core/analysis/check';
import { errorMessage, isPgloadError } from '../core/errors';
import type { ConnectionInput } from '../core/connection/connection';
import type { ProfileResult } from '../shared/result';
import type { ConnectionManager } from './connections';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import { inEditorWords } from './words';
import { INPUT_LIMITS, readInputText } from '../core/inputFile';

export const CHECK_FILE_GLOB = '**/{pgload.yml,pgload.yaml,*.pgload.yml,*.pgload.yaml}';

interface CheckItemData {
  spec: CheckSpec;
  /** The check file's own url (it wins over the selected connection, as in `pgload check`). */
  url?: string;
  file: vscode.Uri;
}

/** What the last run of checks found, per check name: for tests and the log. */
export interface CheckRunOutcome {
  name: string;
  status: 'passed' | 'failed' | 'errored' | 'skipped';
  messages: string[];
  result?: ProfileResult;
}

export class CheckTests extends Disposable {
  readonly controller: vscode.TestController;
  private readonly data = new WeakMap<vscode.TestItem, CheckItemData>();
  /** Settles with the outcomes of the latest run of checks. */
  lastRun: Promise<CheckRunOutcome[]> = Promise.resolve([]);

  constructor(
    private readonly connections: ConnectionManager,
    private readonly log: Log,
    /** Keeps a check's run in Runs, named after the check. */
    private readonly keep: (runId: string, result: ProfileResult, connectionName: string, name: string) => void,
  ) {
    super();
    this.controller = this._register(vscode.tests.createTestController('pgload.checks', 'pgload checks'));
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover();
    this._register(
      this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (req, token) => {
        this.lastRun = this.run(req, token);
        return this.lastRun.then(() => undefined);
      }, true),
    );
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(CHECK_FILE_GLOB));
    this._register(watcher.onDidCreate((uri) => void this.load(uri)));
    this._register(watcher.onDidChange((uri) => void this.load(uri)));
    this._register(watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())));
    // A SQL file a check points at changed: its statements may have moved.
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => void this.reloadUsing(doc.uri)));
  }

  /** Finds every check file of the workspace and reads it. */
  async discover(): Promise<void> {
    const files = await vscode.workspace.findFiles(CHECK_FILE_GLOB, '**/node_modules/**');
    for (const [id] of this.controller.items) if (!files.some((f) => f.toString() === id)) this.controller.items.delete(id);
    await Promise.all(files.map((f) => this.load(f)));
  }

  private async reloadUsing(uri: vscode.Uri): Promise<void> {
    const reload: vscode.Uri[] = [];
    this.controller.items.forEach((file) => {
      if (file.uri?.toString() === uri.toString()) return;
      // A check file that failed (e.g. on a syntax error in the SQL it points at) is read again on any save.
      if (file.error !== undefined && file.uri) reload.push(file.uri);
      file.children.forEach((c) => {
        if (this.data.get(c)?.spec.source?.file === uri.fsPath && file.uri) reload.push(file.uri);
      });
    });
    for (const f of new Set(reload)) await this.load(f);
  }

  /** Reads one check file into a file item with a test per check, or the file item with the error. */
  async load(uri: vscode.Uri): Promise<vscode.TestItem> {
    const id = uri.toString();
    const file = this.controller.items.get(id) ?? this.controller.createTestItem(id, vscode.workspace.asRelativePath(uri), uri);
    this.controller.items.add(file);
    let text: string;
    try {
      // Only a regular file of a bounded size is read: a pgload.yml that is a pipe or far too large never hangs the host.
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.type !== vscode.FileType.File) throw new Error('it is not a regular file');
      if (stat.size > INPUT_LIMITS.checkFile) throw new Error(`it is ${(stat.size / 1024 / 1024).toFixed(1)} MiB, more than the ${INPUT_LIMITS.checkFile / 1024 / 1024} MiB pgload reads for a check file`);
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (err) {
      file.error = `${uri.fsPath} cannot be read: ${errorMessage(err)}`;
      file.children.replace([]);
      return file;
    }
    try {
      // Its path as on disk: the checks' `file:` paths are relative to it.
      const parsed = await parseCheckFile(text, uri.fsPath);
      file.error = undefined;
      file.children.replace(parsed.checks.map((spec) => this.checkItem(file, uri, spec, parsed.url)));
    } catch (err) {
      // The same sentence `pgload check` prints; nothing of the file runs until it is fixed.
      file.error = errorMessage(err);
      file.children.replace([]);
    }
    return file;
  }

  private checkItem(file: vscode.TestItem, uri: vscode.Uri, spec: CheckSpec, url: string | undefined): vscode.TestItem {
    const item = this.controller.createTestItem(`${file.id}#${spec.name}`, spec.name, spec.source ? vscode.Uri.file(spec.source.file) : uri);
    item.range = spec.source ? rangeIn(spec.source.file, spec.source.start, spec.source.end) : new vscode.Range(spec.at.line, spec.at.column, spec.at.line, spec.at.column);
    item.description = spec.budgets.map((b) => `${b.metric} ${b.text}`).join(' · ');
    this.data.set(item, { spec, url, file: uri });
    return item;
  }

  private async run(req: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<CheckRunOutcome[]> {
    const queue: vscode.TestItem[] = [];
    const add = (item: vscode.TestItem) => {
      if (req.exclude?.some((x) => x.id === item.id)) return;
      if (this.data.has(item)) queue.push(item);
      else item.children.forEach(add);
    };
    if (req.include) req.include.forEach(add);
    else this.controller.items.forEach(add);
    const run = this.controller.createTestRun(req, 'pgload checks');
    const outcomes: CheckRunOutcome[] = [];
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      for (const item of queue) run.enqueued(item);
      for (const item of queue) {
        const d = this.data.get(item)!;
        if (token.isCancellationRequested) {
          run.skipped(item);
          outcomes.push({ name: d.spec.name, status: 'skipped', messages: [] });
          continue;
        }
        run.started(item);
        outcomes.push(await this.runOne(run, item, d, abort.signal));
      }
    } finally {
      sub.dispose();
      run.end();
    }
    return outcomes;
  }

  private async runOne(run: vscode.TestRun, item: vscode.TestItem, d: CheckItemData, signal: AbortSignal): Promise<CheckRunOutcome> {
    const name = d.spec.name;
    const where = item.uri && item.range ? new vscode.Location(item.uri, item.range) : undefined;
    const started = Date.now();
    try {
      // The check file's url wins; else the connection selected in pgload (its stored password).
      const selected = d.url === undefined ? await this.connections.forRun() : undefined;
      if (d.url === undefined && !selected) {
        const m = 'No connection to run the check against: select or add a pgload connection, or give the check file a "url".';
        run.errored(item, new vscode.TestMessage(m), Date.now() - started);
        return { name, status: 'errored', messages: [m] };
      }
      const go = (connection: ConnectionInput) => runCheck(d.spec, connection, { signal, logger: this.log });
      const ran = selected ? await this.connections.withPassword(selected, go) : await go({ url: d.url });
      const connectionName = selected?.name ?? 'check file url';
      const result = ran.result;
      if (result) this.keep(randomUUID(), result, connectionName, `Check: ${name}`);
      const outcomes = ran.outcomes;
      for (const o of outcomes) run.appendOutput(`${name}: ${o.ok ? '✓' : '✗'} ${o.text}\r\n`, where, item);
      const ms = ran.ms;
      if (ran.endedEarly) {
        const m = `The run ended early: ${ran.endedEarly}`;
        run.errored(item, withLocation(new vscode.TestMessage(m), where), ms);
        return { name, status: 'errored', messages: [m], result };
      }
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length) {
        run.failed(item, failed.map((o) => withLocation(new vscode.TestMessage(o.text), where)), ms);
        return { name, status: 'failed', messages: failed.map((o) => o.text), result };
      }
      run.passed(item, ms);
      return { name, status: 'passed', messages: outcomes.map((o) => o.text), result };
    } catch (err) {
      const cancelled = isPgloadError(err) && err.kind === 'cancelled';
      const m = inEditorWords(errorMessage(err));
      if (cancelled) run.skipped(item);
      else run.errored(item, withLocation(new vscode.TestMessage(m), where), Date.now() - started);
      this.log.warn(`check "${name}": ${m}`);
      return { name, status: cancelled ? 'skipped' : 'errored', messages: [m] };
    }
  }
}

function withLocation(m: vscode.TestMessage, where: vscode.Location | undefined): vscode.TestMessage {
  m.location = where;
  return m;
}

/** A statement's offsets in a file as an editor range (the file read as it is on disk). */
function rangeIn(file: string, start: number, end: number): vscode.Range {
  let text = '';
  try {
    text = readInputText(file, 'sql', file);
  } catch {
    return new vscode.Range(0, 0, 0, 0);
  }
  const pos = (offset: number) => {
    const before = text.slice(0, offset).split('\n');
    return new vscode.Position(before.length - 1, before[before.length - 1].length);
  };
  return new vscode.Range(pos(start), pos(end));
}
