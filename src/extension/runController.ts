/**
 * "Profile under load": from an editor selection, the statement under the cursor, or a CodeLens, to a core
 * run with progress, cancel, the report panel, the stored result and refreshed CodeLens.
 *
 * The commands live here; what they share is built in layers under ./run/: questions.ts (the statement, the load plan,
 * the parameters), execute.ts (one tracked run: profile, sweep or diagnosis), ab.ts (A/B tests).
 */
import * as vscode from 'vscode';
import type { ParamInput } from '../core/load/params';
import { ensureParser, parseSingleStatement } from '../core/sql';
import type { CapacityResult, DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';
import type { ConnectionSetting } from './config';
import { stateFromStored } from './panel';
import type { LoadPlan } from './run/questions';
import { RunAb } from './run/ab';

export class RunController extends RunAb {
  constructor(...args: ConstructorParameters<typeof RunAb>) {
    super(...args);
    const panels = args[3];
    panels.actions = {
      rerun: (f) => this.rerun(f),
      sweep: (f) => this.sweepAgain(f),
      diagnose: (f) => this.diagnoseAgain(f),
      capacity: (f) => this.capacityAgain(f),
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

  /** The command "Find the right pool size": a concurrency sweep of the selection or the statement under the cursor. */
  async findPoolSize(editor = vscode.window.activeTextEditor): Promise<SweepResult | undefined> {
    const req = await this.requestFromEditor(editor, 'sweep');
    return req ? ((await this.start({ ...req, kind: 'sweep' })) as SweepResult | undefined) : undefined;
  }

  /** The command "Find capacity": the most users within the p95 objective, for the selection or the statement under the cursor. */
  async findCapacity(editor = vscode.window.activeTextEditor): Promise<CapacityResult | undefined> {
    const req = await this.requestFromEditor(editor, 'find the capacity of');
    return req ? ((await this.start({ ...req, kind: 'capacity' })) as CapacityResult | undefined) : undefined;
  }

  async capacityAgain(sql: string): Promise<void> {
    const last = this.lastRequest.get(sql);
    await this.start({ ...(last ?? { sql, baseOffset: 0 }), kind: 'capacity' });
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
