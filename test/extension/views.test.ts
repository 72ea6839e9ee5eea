/** The Test Explorer checks and the Top statements view. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Client } from 'pg';
import * as vscode from 'vscode';
import type { ProfileResult } from '../../src/shared/result';
import { ADMIN_URL, answers, api, messagesDuring, pgloadSessions, waitFor } from './helpers';

describe('pgload in VS Code: pgload.yml checks in the Test Explorer', function () {
  it('finds the checks of the workspace, runs them through the Test Explorer: one passes, one fails with its figure against the budget, a broken file shows its error', async () => {
    const ctrl = api.checks.controller;
    await api.checks.discover();
    const files = new Map<string, vscode.TestItem>();
    ctrl.items.forEach((i) => files.set(path.basename(i.uri!.fsPath), i));
    const good = files.get('pgload.yml');
    const broken = files.get('broken.pgload.yml');
    assert.ok(good && broken, [...files.keys()].join(', '));
    assert.equal(good.error, undefined);
    assert.match(String((broken.error as vscode.MarkdownString | undefined)?.value ?? broken.error), /check "no budgets" has no "budgets"|unknown key "colour"/);
    const checks: vscode.TestItem[] = [];
    good.children.forEach((c) => checks.push(c));
    assert.deepEqual(checks.map((c) => c.label), ['first within 5s', 'count at a million a second']);
    // "Go to Test" is the statement in queries.sql.
    assert.equal(path.basename(checks[0].uri!.fsPath), 'queries.sql');
    assert.equal(checks[0].range?.start.line, 1);
    assert.equal(checks[1].range?.start.line, 3);
    assert.equal(checks[0].description, 'p95 5s · errors 0');

    const before = api.history.list().length;
    await vscode.commands.executeCommand('testing.runAll');
    const outcomes = await waitFor('the checks ran', async () => {
      const o = await api.checks.lastRun;
      return o.length === 2 ? o : undefined;
    }, 60_000);
    const by = new Map(outcomes.map((o) => [o.name, o]));
    assert.equal(by.get('first within 5s')?.status, 'passed', JSON.stringify(outcomes));
    assert.ok(by.get('first within 5s')!.messages.some((m) => /^p95 .+ is within the budget 5\.00 s$/.test(m)), JSON.stringify(by.get('first within 5s')!.messages));
    const failed = by.get('count at a million a second')!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.messages[0], /^throughput [\d.]+ q\/s is below the budget 1000000 q\/s$/);
    // Each run is kept in Runs, named after its check.
    assert.equal(api.history.list().length, before + 2);
    assert.ok(api.history.list().some((e) => e.name === 'Check: first within 5s'));
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });
});

describe('pgload in VS Code: Top statements (pg_stat_statements)', function () {
  async function admin(sql: string): Promise<void> {
    const c = new Client({ connectionString: ADMIN_URL, application_name: 'pgload-test-admin' });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
  afterEach(() => {
    answers.input = () => undefined;
  });

  it('without the extension the view gives the exact lines to enable it; with it, lists the statements and profiles one with the suggested generator; a rejected suggestion runs nothing', async () => {
    await admin('DROP EXTENSION IF EXISTS pg_stat_statements');
    assert.equal(await api.topView.refresh(), undefined);
    assert.match(api.topView.message, /pg_stat_statements is not installed in database "pgload_vscode" \(it is in shared_preload_libraries, so only the extension is missing\)/);
    assert.match(api.topView.message, /CREATE EXTENSION pg_stat_statements;/);

    await admin(`CREATE EXTENSION pg_stat_statements; DROP TABLE IF EXISTS top_orders;
      CREATE TABLE top_orders AS SELECT g AS id, 1 + g % 200 AS customer_id FROM generate_series(1, 8000) g; ANALYZE top_orders`);
    for (let i = 0; i < 30; i++) await admin(`SELECT id FROM top_orders WHERE customer_id = ${i + 1}`);
    const top = await api.topView.refresh();
    assert.ok(top, api.topView.message);
    const rank = top.statements.findIndex((s) => /FROM top_orders WHERE customer_id = \$1/.test(s.query));
    assert.ok(rank >= 0, top.statements.map((s) => s.query).join('\n'));
    const s = top.statements[rank];
    assert.equal(s.calls, 30);
    const node = api.topView.getChildren()[rank];
    assert.match(String(api.topView.getTreeItem(node).description), /^30 calls · mean /);
    const suggestion = s.params[0].spec;
    assert.match(suggestion ?? '', /^int:\d+\.\.\d+$/);

    // The suggestion is offered; the person confirms it.
    let asked = '';
    answers.input = (title, prompt) => {
      asked = `${title} — ${prompt}`;
      return title.startsWith('pgload: values for $1') ? suggestion! : undefined;
    };
    const r = (await vscode.commands.executeCommand('pgload.top.profile', node)) as ProfileResult | undefined;
    assert.ok(r, 'the statement ran');
    assert.match(asked, /whole numbers across top_orders\.customer_id's range/);
    assert.deepEqual(r.options.params?.map((p) => p.spec), [suggestion]);
    assert.equal(r.load.requests.ok, 20);

    // Rejected (Escape): nothing runs, and it says why.
    const latest = api.store.latest()?.runId;
    answers.input = () => undefined;
    const messages = await messagesDuring(() => vscode.commands.executeCommand('pgload.top.profile', node));
    assert.ok(messages.some((m) => m.message === 'pgload: not profiled — $1 has no generator.'), JSON.stringify(messages));
    assert.equal(api.store.latest()?.runId, latest);
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });
});
