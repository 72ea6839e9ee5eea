/** A/B tests from the editor: Try it on a hint's setting, a Runs entry or the panel against a setting or a second statement. */
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import { abTest, type AbChange } from '../../core/analysis/ab';
import { indexStatements, isTryable, parseSetLocal } from '../../shared/hintSql';
import { indexTrial, TrialIndexes } from '../../core/analysis/indexTrial';
import { formatMs, indexTrialLines } from '../../shared/format';
import { ensureParser, parseSingleStatement, type SqlStatement } from '../../core/sql';
import { oneLine } from '../../shared/text';
import type { AbResult } from '../../shared/result';
import { readRunDefaults, type ConnectionSetting, type RunDefaults } from '../config';
import { stateFromStored } from '../panel';
import { runInput } from './questions';
import { RunExecution } from './execute';

/** The action that keeps an index after its trial (built once more). */
const KEEP_INDEX = 'Keep the index';

/** A/B tests: B with a setting or a second statement, run in alternating legs and kept as one entry. */
export abstract class RunAb extends RunExecution {

  /**
   * "Try it" on a hint that carries a setting (`SET LOCAL work_mem = '64MB';`): the statement with and without it in
   * alternating legs, at the load of its last run (a diagnosis's: the application's users through its pool); the
   * comparison opens in the panel and B is kept as a run.
   */
  async tryHint(sql: string, hintSql: string): Promise<AbResult | undefined> {
    const indexes = indexStatements(hintSql);
    if (indexes) return this.tryIndexes(sql, indexes);
    const setting = parseSetLocal(hintSql);
    if (!setting || !isTryable(hintSql)) {
      void this.ui.error(`pgload: "${oneLine(hintSql, 60)}" is not a setting pgload can try (it tries SET LOCAL name = value).`);
      return undefined;
    }
    const label = `${setting.name}=${setting.value}`;
    return this.runAb(sql, { settings: { [setting.name]: setting.value } }, ['without', `with ${label}`], `Try it: ${label}`, 'Try it compares a setting against its last run');
  }

  /**
   * "Try it" on an index suggestion: on a connection marked `"allowIndexTrials": true` only, the index is built for B's
   * legs and dropped before A's and at the end (a server that is not this machine is asked about first); elsewhere
   * the user is told why nothing is built and how to allow it on a scratch copy.
   */
  private async tryIndexes(sql: string, indexes: string[]): Promise<AbResult | undefined> {
    const last = this.lastRequest.get(sql);
    const remembered = last?.connection ?? (await this.connections.forRun());
    const connection = remembered && (await this.asConfiguredNow(remembered));
    if (!connection) return undefined;
    if (connection.allowIndexTrials !== true) {
      void this.ui.error(
        `pgload: Try it builds an index only on a database marked for it, and "${connection.name}" is not: nothing was built. On a scratch or development copy, add "allowIndexTrials": true to that connection in pgload.connections, then Try it again. Elsewhere the suggestion is the planner's estimate.`,
      );
      return undefined;
    }
    const label = `+ ${indexes.length === 1 ? 'index' : `${indexes.length} indexes`}`;
    return this.runAb(sql, { outside: label }, ['without', `with ${indexes.length === 1 ? 'the index' : 'the indexes'}`], `Try it: ${oneLine(indexes.join(' + '), 60)}`, 'Try it compares an index against its last run', indexes);
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

  /**
   * Runs an A/B (A B B A) of the statement against `change`, at the concurrency its last answer was measured at,
   * keeps it in Runs as one entry named `name`, and opens the panel on the comparison labelled `labels`.
   */
  protected async runAb(sql: string, change: AbChange, labels: [string, string], name: string, firstRun = 'an A/B test compares against its last run', indexes?: string[]): Promise<AbResult | undefined> {
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
    // A setting (Try it) is measured at the load its hint came from — the last run's users through their pool, its
    // arrival rate, or its clients — where a spill under concurrency shows; not at a lighter load.
    const from = change.settings || indexes ? stored?.result : undefined;
    const load = from?.options.pool ? { pool: from.options.pool, rate: undefined } : from?.options.rate ? { clients: from.load.clients, rate: from.options.rate, pool: undefined } : { clients, pool: undefined, rate: undefined };
    // Each side runs as long as a run of the settings would (split over its legs), at least 4 s, and users who pause
    // for several of their cycles.
    const durationMs = Math.max(4_000, (defaults.durationSeconds || 10) * 1000, 6 * (load.pool?.thinkTimeMs ?? 0));
    const req = { ...last, connection, kind: undefined, params: last.params ?? stored?.result.options.params?.map((p) => ({ index: p.index, spec: p.spec })) };
    return this.track(
      req,
      statement,
      'run',
      (signal, onProgress) =>
        this.connections.withPassword(connection, (input) => {
          // Time-based: the settings' request count would split unevenly over the legs.
          const base = { ...runInput(defaults, statement, input, connection, { allowWrites: last.allowWrites, params: req.params }), clients, requests: undefined, durationMs, ...load };
          const ctx = { signal, logger: this.log, onProgress };
          const run = indexes
            ? indexTrial(
                // tryIndexes checked the opt-in in the settings as they are now.
                { base, indexes, allowIndexTrials: true, rounds: 2, label: labels[1] },
                { ...ctx, confirmRemote: async (target) => (await this.ui.confirm(`Build and drop ${indexes.length === 1 ? 'an index' : 'indexes'} on ${target}, a server that is not this machine? The load itself stays read-only.`, 'Build and measure')) === 'Build and measure' },
              )
            : abTest({ base, b: { ...change, label: labels[1] }, rounds: 2 }, ctx);
          // An index trial's builds (their times, sizes, whether dropped) lead the comparison's notes in the panel.
          return run.then((r): AbResult => ({ ...r, comparison: { ...r.comparison, labels, notes: [...(r.indexTrial ? indexTrialLines(r.indexTrial) : []), ...r.comparison.notes] } }));
        }),
      async (runId, ab) => {
        // Kept in Runs as one entry, named after what B changes (the statement's CodeLens keeps its own last run);
        // the panel opens on the comparison.
        this.history?.keepAb(runId, ab, connection.name, name);
        // In the panel of the statement A/B-tested: B's report when B is the same statement with a change, else A's.
        const side = ab.a.sql === ab.b.sql ? ab.b : ab.a;
        this.panels.show({ ...stateFromStored(runId, side, connection.name), comparison: ab.comparison }, side);
        this.lenses.refresh();
        const said = `pgload: ${name.replace(/^(Try it|A\/B): /, '')} — ${ab.comparison.summary}`;
        if (!ab.indexTrial) return void this.ui.info(said);
        // An index trial drops what it built; the user may keep it (built once more, on its own session).
        if (ab.indexTrial.dropFailed) return void this.ui.warn(`${said} ${ab.indexTrial.dropFailed}.`);
        void this.ui.info(`${said} The index was dropped.`, KEEP_INDEX).then((pick) => (pick === KEEP_INDEX ? this.keepIndexes(connection, indexes ?? []) : undefined));
      },
    );
  }

  /** A connection as the settings say now (its opt-in may have been given since the statement's last run). */
  private async asConfiguredNow(c: ConnectionSetting): Promise<ConnectionSetting | undefined> {
    try {
      return this.connections.available().find((x) => x.name === c.name) ?? c;
    } catch (err) {
      await this.connections.reportSettings(err);
      return undefined;
    }
  }

  /** Builds a tried index again and keeps it (the user's choice after a trial), saying how long it took. */
  protected async keepIndexes(remembered: ConnectionSetting, indexes: string[]): Promise<void> {
    const connection = await this.asConfiguredNow(remembered);
    if (!connection) return;
    try {
      const facts = await this.connections.withPassword(connection, async (input) => {
        const trial = await TrialIndexes.open(input, indexes, connection.allowIndexTrials === true, { logger: this.log });
        try {
          await trial.build();
        } finally {
          await trial.finish(true);
        }
        return trial.facts;
      });
      void this.ui.info(`pgload: kept ${facts.indexes.map((i) => `${i.name} (built in ${formatMs(i.buildMs.at(-1) ?? null)})`).join(', ')} on "${connection.name}".`);
    } catch (err) {
      void this.ui.error(`pgload: the index was not kept: ${errorMessage(err)}`);
    }
  }
}
