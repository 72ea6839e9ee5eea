/** The VS Code layer: wires commands, CodeLens, the report panel, connections and the log to the core. */
import * as vscode from 'vscode';
import { watchShadowedSettings } from './settingsShadow';
import { PgloadCodeLensProvider } from './codelens';
import { ConnectionManager } from './connections';
import { CheckTests } from './checks';
import { TopView } from './topView';
import { Commands, ContextKeys, RUNS_VIEW, TOP_VIEW, Settings, SQL_LANGUAGES } from './constants';
import { HistoryStore } from './historyStore';
import { RunsView } from './runsView';
import * as path from 'node:path';
import { setContext } from './lifecycle';
import { Log } from './log';
import { ReportPanels } from './panel';
import { ResultStore } from './resultStore';
import { RunController } from './runController';
import { Ui } from './ui';
import { shareMainLoop } from '../core/load/hostLoop';
import { SampleDatabase } from './sample';
import { LastResultTool, ProfileTool, TOOL_LAST_RESULT, TOOL_PROFILE } from './tools';

/** What activate returns: used by the extension tests, not a public API. */
export interface PgloadApi {
  runs: RunController;
  store: ResultStore;
  lenses: PgloadCodeLensProvider;
  connections: ConnectionManager;
  ui: Ui;
  history: HistoryStore;
  runsView: RunsView;
  log: Log;
  panels: ReportPanels;
  checks: CheckTests;
  topView: TopView;
}

export function activate(context: vscode.ExtensionContext): PgloadApi {
  // The extension host answers the window on its main loop: a load runs its clients on a worker thread instead.
  shareMainLoop();
  const log = new Log();
  context.subscriptions.push(log);
  const ui = new Ui(log);
  const store = new ResultStore(context.workspaceState);
  context.subscriptions.push(store);
  const connections = new ConnectionManager(context, log, ui);
  context.subscriptions.push(connections);
  const lenses = new PgloadCodeLensProvider(store);
  context.subscriptions.push(lenses);
  context.subscriptions.push(vscode.languages.registerCodeLensProvider(SQL_LANGUAGES.map((language) => ({ language })), lenses));
  const panels = new ReportPanels(context.extensionUri, store, log, ui);
  context.subscriptions.push(panels);
  const runs = new RunController(log, connections, store, panels, lenses, ui);
  activeRuns = runs;
  context.subscriptions.push(runs);
  const { history, runsView, keepInHistory } = setUpHistory(context, { store, panels, ui, log, runs });
  // pgload.yml checks in the Test Explorer; each check's run is kept in Runs, named after the check.
  const checks = new CheckTests(connections, log, (runId, result, connectionName, name) =>
    keepInHistory('check run', () => {
      history.add(runId, result, connectionName);
      history.rename(runId, name);
    }),
  );
  context.subscriptions.push(checks);
  // The server's top statements (pg_stat_statements), profiled from there with suggested generators.
  const topView = new TopView(connections, ui, log, (sql, params) => runs.profileWithParams(sql, params));
  topView.attach(vscode.window.createTreeView(TOP_VIEW, { treeDataProvider: topView }));
  context.subscriptions.push(topView);
  // For agents in the editor: the same runs and results, the same confirmations (tools.ts).
  context.subscriptions.push(vscode.lm.registerTool(TOOL_PROFILE, new ProfileTool(runs, ui)), vscode.lm.registerTool(TOOL_LAST_RESULT, new LastResultTool(store)));
  void setContext(ContextKeys.running, false);
  // A sample database on this machine, for a first run without a database of one's own.
  const sample = new SampleDatabase(context, connections, log, ui);
  activeSample = sample;
  context.subscriptions.push(sample);

  registerCommands(context, { runs, connections, topView, runsView, log, ui, sample });

  log.info(`pgload activated (VS Code ${vscode.version}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'} UI)`);
  return { runs, store, lenses, connections, ui, history, runsView, log, panels, checks, topView };
}

/** The Runs view: every run, sweep, A/B and diagnosis kept in the workspace's storage folder, bounded by a setting. */
function setUpHistory(context: vscode.ExtensionContext, x: { store: ResultStore; panels: ReportPanels; ui: Ui; log: Log; runs: RunController }) {
  const { store, panels, ui, log, runs } = x;
  // Every run is kept in the workspace's storage folder (the global one without a workspace), bounded by a setting.
  const maxRuns = () => {
    const v = vscode.workspace.getConfiguration(Settings.section).get<number>(Settings.historyMaxRuns);
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 200;
  };
  const history = new HistoryStore(path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'runs'), maxRuns);
  if (history.problems.length > 0) {
    for (const p of history.problems) log.warn(`run history (${history.folder}): ${p}`);
    void ui.warn(`pgload: ${history.problems[0]}${history.problems.length > 1 ? ` (and ${history.problems.length - 1} more: see the log)` : ''}`);
  }
  const runsView = new RunsView(history, panels, ui, context.extensionUri);
  context.subscriptions.push(runsView, vscode.window.registerTreeDataProvider(RUNS_VIEW, runsView));
  context.subscriptions.push(
    store.onDidChange((run) => {
      try {
        history.add(run.runId, run.result, run.connectionName);
      } catch (err) {
        log.error(`could not keep the run in the history folder ${history.folder}: ${err instanceof Error ? err.message : String(err)}`);
      }
      runsView.refresh();
    }),
    watchShadowedSettings(ui),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`${Settings.section}.${Settings.historyMaxRuns}`)) return;
      history.enforceLimit();
      runsView.refresh();
    }),
  );
  // Sweeps, A/Bs and diagnoses are kept in Runs too, each as one entry of its kind.
  const keepInHistory = (what: string, add: () => unknown) => {
    try {
      add();
    } catch (err) {
      log.error(`could not keep the ${what} in the history folder ${history.folder}: ${err instanceof Error ? err.message : String(err)}`);
    }
    runsView.refresh();
  };
  runs.history = {
    keepAb: (runId, ab, connectionName, name) => keepInHistory('A/B', () => history.addAb(runId, ab, connectionName, name)),
    keepDiagnosis: (runId, d, connectionName) => keepInHistory('diagnosis', () => history.addDiagnosis(runId, d, connectionName)),
    keepSweep: (runId, sweep, connectionName) => keepInHistory('sweep', () => history.addSweep(runId, sweep, connectionName)),
  };
  return { history, runsView, keepInHistory };
}

/** Every contributed command, each guarded: a command never fails silently or with a stack trace. */
function registerCommands(context: vscode.ExtensionContext, x: { runs: RunController; connections: ConnectionManager; topView: TopView; runsView: RunsView; log: Log; ui: Ui; sample: SampleDatabase }): void {
  const { runs, connections, topView, runsView, log, ui, sample } = x;
  const command = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          // The last line of defence: a command never fails silently or with a stack trace.
          log.error(`${id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          void ui.error(`pgload: ${id.replace('pgload.', '')} failed: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        }
      }),
    );
  command(Commands.profileSelection, () => runs.profileSelection());
  command(Commands.profileStatement, (uri: vscode.Uri, index: number) => runs.profileStatement(uri, index));
  command(Commands.findPoolSize, () => runs.findPoolSize());
  command(Commands.findCapacity, () => runs.findCapacity());
  command(Commands.diagnose, () => runs.diagnose());
  command(Commands.diagnoseStatement, (uri: vscode.Uri, index: number) => runs.diagnoseStatement(uri, index));
  command(Commands.tryHint, (sql: string, hintSql: string) => runs.tryHint(sql, hintSql));
  command(Commands.abTest, (arg: unknown) => runs.abTestFrom(arg));
  command(Commands.topRefresh, () => topView.refresh());
  command(Commands.topOrder, () => topView.pickOrder());
  command(Commands.topProfile, (node: unknown) => topView.profileStatement(node));
  command(Commands.editParameters, (uri: vscode.Uri, index: number) => runs.editParameters(uri, index));
  command(Commands.cancel, () => runs.cancel());
  command(Commands.selectConnection, () => connections.select());
  command(Commands.addConnection, () => connections.add());
  command(Commands.testConnection, () => connections.test());
  command(Commands.forgetPassword, () => connections.forgetPassword());
  command(Commands.trySample, () => sample.try());
  command(Commands.stopSample, () => sample.stop());
  command(Commands.showLastReport, (runId: string) => runs.showReport(runId));
  command(Commands.showLog, () => log.show());
  command(Commands.runsOpen, (node: unknown) => runsView.open(node));
  command(Commands.runsImport, () => runsView.importFile());
  command(Commands.runsRename, (node: unknown) => runsView.rename(node));
  command(Commands.runsPin, (node: unknown) => runsView.pin(node, true));
  command(Commands.runsUnpin, (node: unknown) => runsView.pin(node, false));
  command(Commands.runsDelete, (node: unknown) => runsView.delete(node));
  command(Commands.runsExport, (node: unknown) => runsView.export(node));
  command(Commands.runsCompare, (node: unknown, other: unknown) => runsView.compare(node, other));
}

/** The run controller and the sample database of this activation, for deactivate. */
let activeRuns: RunController | undefined;
let activeSample: SampleDatabase | undefined;

/**
 * The window closes or reloads: a run in progress is cancelled and its sessions closed before VS Code disposes the
 * rest (context.subscriptions); VS Code waits for the returned promise.
 */
export async function deactivate(): Promise<void> {
  await activeRuns?.shutdown();
  activeRuns = undefined;
  // A sample server this window started stops with it (it starts again on the next run on it).
  await activeSample?.stop(false).catch(() => undefined);
  activeSample = undefined;
}
