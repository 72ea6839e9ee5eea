/**
 * Running what was asked: one run at a time, with progress in the status bar and the panel, cancel, the stored result,
 * refreshed CodeLens and the failure's way back (edit or select the connection). A profile, a sweep and a diagnosis
 * each have their own execute step here.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { errorMessage, isPgloadError } from '../../core/errors';
import { formatMs } from '../../shared/format';
import { plural } from '../../shared/numbers';
import { RunProgress } from './progress';
import { profile, type Progress } from '../../core/load/runner';
import { sweep } from '../../core/analysis/sweep';
import { diagnose, diagnosisFloorMs } from '../../core/analysis/diagnose';
import { capacity } from '../../core/analysis/capacity';
import { demandWords } from '../../shared/report/capacity';
import { recheckWords } from '../../shared/report/compare';
import { stateFromCapacity, stateFromDiagnosis } from '../../shared/panelState';
import { inEditorWords } from '../words';
import { executionModeFor, describeNode } from '../../core/safety';
import { ensureParser, parseSingleStatement, type SqlStatement } from '../../core/sql';
import { prepareScripts } from '../../core/load/script';
import { oneLine } from '../../shared/text';
import type { PanelState } from '../../shared/protocol';
import type { CapacityResult, DiagnoseResult, ProfileResult, SweepResult } from '../../shared/result';
import { appDemand, askBeforeRun, readAppPool, readCapacityObjective, readDiagnoseBudgetMs, readRunDefaults, SettingsError, type ConnectionSetting, type RunDefaults } from '../config';
import { appSessions } from '../../core/analysis/appDemand';
import { appLoadPlan, remembered, sweepPlan, type HeavyKind, type HeavyPlan } from './heavy';
import { ContextKeys } from '../constants';
import { setContext } from '../lifecycle';
import { stateFromStored, stateFromSweep } from '../panel';
import { type LoadPlan, type RunRequest, type ActiveRun, durationInput, runInput, RunQuestions } from './questions';

/** Runs a request: profile, sweep or diagnosis, tracked the same way. */
export abstract class RunExecution extends RunQuestions {

  protected async start(req: RunRequest): Promise<ProfileResult | SweepResult | DiagnoseResult | CapacityResult | undefined> {
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
      void this.ui.error(`pgload: a ${kind === 'sweep' ? 'concurrency sweep' : kind === 'capacity' ? 'capacity search' : 'diagnosis'} takes one statement; select one of the transaction's statements (Profile under load runs them together).`);
      return undefined;
    }
    // The connection first: no question about the load before it is known there is somewhere to run it.
    const connection = req.connection ?? (await this.connections.forRun());
    if (!connection) return undefined;
    // Heavy load (a sweep, a capacity search, a diagnosis) is asked about first, with its range and how long.
    if (kind !== 'run' && !(await this.askHeavy(kind, connection, defaults))) return undefined;
    const plan = kind === 'sweep' || kind === 'diagnose' || kind === 'capacity' ? (req.plan ?? { clients: 1 }) : (req.plan ?? (await this.pickPlan(defaults, connection)));
    if (!plan) return undefined;
    if (plan.requests !== undefined && plan.requests < plan.clients) plan.requests = plan.clients;
    const full: RunRequest & { plan: LoadPlan; connection: ConnectionSetting } = { ...req, plan, allowWrites, connection, params };
    // Remembered for the panel's buttons; a sweep keeps the load plan of the last run (if any).
    this.lastRequest.set(statement.text, { ...full, kind: undefined, plan: kind === 'run' ? plan : this.lastRequest.get(statement.text)?.plan });
    if (kind === 'diagnose') return this.executeDiagnose(full, statement, defaults);
    if (kind === 'capacity') return this.executeCapacity(full, statement, defaults);
    return kind === 'sweep' ? this.executeSweep(full, statement, defaults) : this.execute(full, statement, defaults);
  }

  /** The question before heavy load (when pgload.askBeforeRun is on): Cancel first, the range, "don't ask again" per connection. */
  protected async askHeavy(kind: HeavyKind, connection: ConnectionSetting, defaults: RunDefaults): Promise<boolean> {
    if (!askBeforeRun()) return true;
    let plan: HeavyPlan;
    try {
      if (kind === 'sweep') plan = sweepPlan(connection.name, defaults.sweepMaxClients, defaults.sweepStepSeconds);
      else {
        const app = readAppPool(connection);
        const sessions = kind === 'capacity' ? app.poolSize + app.maxOverflow : appSessions(appDemand(app), { size: app.poolSize, maxOverflow: app.maxOverflow });
        plan = appLoadPlan(kind, connection.name, sessions, readDiagnoseBudgetMs());
      }
    } catch (err) {
      await this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload', errorMessage(err)));
      return false;
    }
    if (remembered(this.store.heavyAccepted(connection.name), plan)) return true;
    const items = [
      { label: '$(close) Cancel', description: 'nothing runs', answer: 'cancel' as const },
      { label: '$(play) Run it', description: plan.brief, answer: 'run' as const },
      { label: `$(check-all) Run it, and do not ask again on "${connection.name}"`, description: 'for this range; a wider one asks again', answer: 'always' as const },
      { label: '$(settings-gear) Change the range…', description: plan.setting, answer: 'settings' as const },
    ];
    const picked = await this.ui.pick(items, { title: plan.sentence, placeHolder: 'Enter cancels; choose Run it to start', ignoreFocusOut: true });
    if (picked?.answer === 'settings') await vscode.commands.executeCommand('workbench.action.openSettings', plan.setting);
    if (picked?.answer === 'always') await this.store.acceptHeavy(connection.name, plan.signature);
    return picked?.answer === 'run' || picked?.answer === 'always';
  }

  /**
   * The frame of every run and sweep: one at a time, the "running" context key, one progress indicator (the panel,
   * the status bar, a notification only while the panel is hidden), and the same handling of failure and cancel.
   */
  protected async track<T>(
    req: RunRequest & { connection: ConnectionSetting },
    statement: SqlStatement,
    activity: 'run' | 'sweep' | 'diagnose' | 'capacity',
    body: (signal: AbortSignal, onProgress: (p: Progress) => void, steps: RunProgress) => Promise<T>,
    done: (runId: string, value: T) => Promise<void>,
  ): Promise<T | undefined> {
    const run: ActiveRun = { id: randomUUID(), controller: new AbortController(), fingerprint: statement.fingerprint };
    this.active = run;
    let finish!: () => void;
    this.runFinished = new Promise((r) => (finish = r));
    await setContext(ContextKeys.running, true);
    const base: PanelState = { runId: run.id, fingerprint: statement.fingerprint, sql: statement.text, connectionLabel: req.connection.name, state: 'running', activity };
    const panel = this.panels.show(base);
    const title = `pgload${activity === 'run' ? '' : ` ${activity}`}: ${oneLine(statement.text, 50)}`;
    const steps = new RunProgress(panel, run.id, title, (t) => this.connections.setRunStatus(t), () => run.controller.abort(), activity === 'diagnose' ? 'phase' : 'step');
    try {
      const value = await body(run.controller.signal, (p) => steps.update(p), steps);
      steps.dispose();
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
      steps.dispose();
      this.active = undefined;
      // Settled before the context key is set: while the window closes, the workbench may no longer answer.
      finish();
      await setContext(ContextKeys.running, false);
    }
  }

  protected execute(req: RunRequest & { plan: LoadPlan; connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<ProfileResult | undefined> {
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
  protected executeSweep(req: RunRequest & { connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<SweepResult | undefined> {
    const stepMs = defaults.sweepStepSeconds * 1000;
    return this.track(
      req,
      statement,
      'sweep',
      (signal, onProgress, steps) =>
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
              onStep: (i, of, clients, p, again) => {
                if (!p) {
                  // A step starts: the plan is every step at its length; the label is its clients (and, for the
                  // last, that it checks the server's speed held).
                  if (i === 1) steps.plan(Array.from({ length: of }, () => ({ label: '', plannedMs: stepMs })));
                  steps.enter(i, { label: `${plural(clients, 'client')}${again ? ' again, the speed check,' : ''} for ${formatMs(stepMs)}` });
                }
                onProgress(stepProgress(p, `opening ${plural(clients, 'session')}`, stepMs));
              },
            },
          ),
        ),
      async (runId, result) => {
        await this.store.saveSweep({ sweep: result, connectionName: req.connection.name });
        // Kept in Runs too, beside the statement's runs.
        this.history?.keepSweep(runId, result, req.connection.name);
        const run = this.store.bySql(result.sql);
        this.panels.show(stateFromSweep(runId, result, req.connection.name, run?.result), run?.result);
        if (result.status === 'cancelled' && result.recheck === null) {
          void this.ui.warn(
            `pgload: the sweep was cancelled while measuring its first step again: every step was measured${result.recommendation ? ` and the pool size ${result.recommendation.poolSize} stands on them` : ''}, but whether the server's speed held through them was not checked — see the Scaling tab.`,
          );
        } else if (result.status === 'cancelled') {
          const cut = result.steps.find((s) => s.partial);
          const complete = result.steps.length - (cut ? 1 : 0);
          void this.ui.warn(
            `pgload: the sweep was cancelled ${cut ? `during its step with ${plural(cut.clients, 'client')}, ` : ''}after ${plural(complete, 'complete step')}: its figures are partial` +
              (result.recommendation ? `, and the pool size ${result.recommendation.poolSize} stands only on the steps measured — see the Scaling tab.` : '.'),
          );
        } else if (result.recommendation) this.ui.info(`pgload: pool size ${result.recommendation.poolSize} for this statement — see the Scaling tab.`);
        else if (result.recheck?.verdict === 'drifted') void this.ui.warn(`pgload: ${recheckWords(result.recheck)}`);
        else void this.ui.warn(`pgload: the sweep could not recommend a pool size${result.notes.length ? `: ${result.notes[0]}` : ''}`);
      },
    );
  }

  /**
   * A diagnosis: the application's pool from the settings (or the connection), the budget, the plan of phases shown
   * before anything runs; the panel opens on its Answers tab and the application load's run is kept.
   */
  protected executeDiagnose(req: RunRequest & { connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<DiagnoseResult | undefined> {
    let app;
    let budgetMs: number;
    let objectiveP95Ms: number | undefined;
    let allowIndexTrials = false;
    try {
      app = readAppPool(req.connection);
      budgetMs = readDiagnoseBudgetMs();
      // The capacity within pgload.app.maxP95Ms is a phase when the budget holds it beside the four questions.
      if (budgetMs >= diagnosisFloorMs(false, true)) objectiveP95Ms = readCapacityObjective();
      else this.log.info(`diagnose: a budget of ${Math.round(budgetMs / 1000)} s leaves out the capacity phase (it needs ${diagnosisFloorMs(false, true) / 1000} s or more)`);
      // On a connection marked for index trials, the best index suggestion is built and measured when the budget holds it.
      const indexFloor = diagnosisFloorMs(false, objectiveP95Ms !== undefined, true);
      allowIndexTrials = req.connection.allowIndexTrials === true && budgetMs >= indexFloor;
      if (req.connection.allowIndexTrials && !allowIndexTrials) this.log.info(`diagnose: a budget of ${Math.round(budgetMs / 1000)} s leaves out the index phase (it needs ${indexFloor / 1000} s or more)`);
    } catch (err) {
      void this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload', errorMessage(err)));
      return Promise.resolve(undefined);
    }
    return this.track(
      req,
      statement,
      'diagnose',
      (signal, onProgress, steps) =>
        this.connections.withPassword(req.connection, (input) =>
          diagnose(
            {
              base: runInput(defaults, statement, input, req.connection, req),
              app: appDemand(app),
              budgetMs,
              ...(objectiveP95Ms !== undefined ? { objectiveP95Ms } : {}),
              ...(allowIndexTrials ? { allowIndexTrials } : {}),
            },
            {
              signal,
              logger: this.log,
              confirmRemote: async (target) => (await this.ui.confirm(`Build and drop the suggested index on ${target}, a server that is not this machine? The load itself stays read-only.`, 'Build and measure')) === 'Build and measure',
              onPlan: (phases) => {
                steps.plan(phases.map((p) => ({ label: p.label, plannedMs: p.plannedMs })));
                this.log.info(`diagnose plan: ${phases.map((p) => `${p.id} ${Math.round(p.plannedMs / 1000)} s`).join(', ')} (budget ${Math.round(budgetMs / 1000)} s)`);
              },
              onPhase: (p, i, _of, ms) => {
                steps.enter(i, { label: p.label, plannedMs: ms });
                onProgress(stepProgress(undefined, 'starting', ms));
              },
              onProgress,
            },
          ),
        ),
      async (runId, d) => {
        await this.store.save({ runId, result: d.runs.load, connectionName: req.connection.name, uri: req.document?.uri.toString(), statementIndex: req.statementIndex });
        // One entry in Runs: the diagnosis takes over its application load's run (which it holds).
        this.history?.keepDiagnosis(runId, d, req.connection.name);
        if (d.runs.sweep) await this.store.saveSweep({ sweep: d.runs.sweep, connectionName: req.connection.name });
        await this.store.saveDiagnosis({ diagnosis: d, connectionName: req.connection.name });
        this.panels.show(stateFromDiagnosis(runId, d, req.connection.name), d.runs.load);
        this.lenses.refresh();
        const pool = d.answers.pool?.recommended ? ` Pool: ${d.answers.pool.recommended.poolSize}.` : '';
        if (d.status === 'partial') void this.ui.warn(`pgload: the diagnosis is partial (see its phases).${pool}`);
        else this.ui.info(`pgload: diagnosis done in ${Math.round(d.elapsedMs / 1000)} s.${pool} See the Answers tab.`);
      },
    );
  }

  /**
   * "Find capacity": the most application users (pgload.app.*: the pool, the users' pause) whose p95 meets the
   * objective (asked, pgload.app.maxP95Ms as its default), within the diagnosis budget; the panel opens on its tab.
   */
  protected async executeCapacity(req: RunRequest & { connection: ConnectionSetting }, statement: SqlStatement, defaults: RunDefaults): Promise<CapacityResult | undefined> {
    let app;
    let budgetMs: number;
    let objectiveMs: number | undefined;
    try {
      app = readAppPool(req.connection);
      budgetMs = readDiagnoseBudgetMs();
      objectiveMs = await this.askObjective(readCapacityObjective());
    } catch (err) {
      void this.connections.reportSettings(err instanceof SettingsError ? err : new SettingsError('pgload', errorMessage(err)));
      return undefined;
    }
    if (objectiveMs === undefined) return undefined;
    const demand = { kind: 'users' as const, thinkTimeMs: app.thinkTimeSeconds * 1000, thinkTimeDistribution: 'exponential' as const, poolSize: app.poolSize, maxOverflow: app.maxOverflow, poolTimeoutMs: app.poolTimeoutSeconds * 1000 };
    return this.track(
      req,
      statement,
      'capacity',
      (signal, onProgress) =>
        this.connections.withPassword(req.connection, (input) =>
          capacity(
            { base: runInput(defaults, statement, input, req.connection, req), objectiveP95Ms: objectiveMs, demand, max: Math.max(2, Math.min(100_000, 10 * app.users)), budgetMs },
            {
              signal,
              logger: this.log,
              onStep: (i, d, p) => {
                const what = i === 0 ? 'the statement alone, then back to back' : `step ${i}: ${demandWords(demand, d!)}`;
                onProgress(stepProgress(p, what, null));
              },
            },
          ),
        ),
      async (runId, c) => {
        this.panels.show(stateFromCapacity(runId, c, req.connection.name));
        const found = c.capacity === null ? 'no load meets it' : `${demandWords(demand, c.capacity)} meet it`;
        this.ui.info(`pgload: within p95 ≤ ${formatMs(objectiveMs)}, ${found}. See the Capacity tab.`);
      },
    );
  }

  /** The p95 objective, the setting's value offered first. */
  private async askObjective(defaultMs: number): Promise<number | undefined> {
    const v = await this.ui.input({
      title: 'pgload: the latency objective — p95 at most (pgload.app.maxP95Ms)',
      prompt: 'A duration, e.g. 500ms or 1s: the search finds the most users whose p95 stays within it',
      value: `${defaultMs}ms`,
      validateInput: (x) => (durationInput(x, 1) !== undefined ? undefined : 'A duration of at least 1ms, like 500ms or 1s'),
    });
    return v === undefined ? undefined : durationInput(v, 1);
  }

  /** A connection that failed: the reason, and the buttons that fix it (edit this connection, pick another). */
  protected async connectionFailed(message: string, connection: ConnectionSetting): Promise<void> {
    const pick = await this.ui.error(`pgload: ${message}`, 'Edit Connection', 'Select Connection');
    if (pick === 'Edit Connection') await vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'pgload.connections' } });
    else if (pick === 'Select Connection') await this.connections.select();
    this.log.info(`connection "${connection.name}" failed: ${message}`);
  }
}

/** A step of a sweep, a phase or a search as progress: its live load once it runs, else what starts and for how long. */
function stepProgress(p: Progress | undefined, starting: string, plannedMs: number | null): Progress {
  return p && p.phase === 'load' ? { ...p, message: '' } : { phase: 'load', done: 0, total: null, elapsedMs: 0, plannedMs, qps: 0, p95Ms: null, errors: 0, message: starting };
}
