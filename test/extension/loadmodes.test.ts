/** The load as the application's pool or a fixed rate; A/B tests from Runs and the panel. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AbResult, ProfileResult } from '../../src/shared/result';
import { answers, api, messagesDuring, pgloadSessions, selectText, setSettings, waitFor, workspaceFile } from './helpers';

describe('pgload in VS Code: the load as the application pool or a fixed rate; A/B tests from Runs and the panel', function () {
  const SQL = 'SELECT pg_sleep(0.01) AS first';
  // The load question asked; an A/B side runs its 4 s minimum.
  before(async () => setSettings({ askBeforeRun: true, durationSeconds: 2 }));
  after(async () => setSettings({ askBeforeRun: false, durationSeconds: 0 }));
  afterEach(() => {
    answers.input = () => undefined;
    answers.pick = () => undefined;
  });

  async function profileWith(choice: string, inputs: Record<string, string>): Promise<ProfileResult | undefined> {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    await selectText(await vscode.window.showTextDocument(doc), SQL);
    answers.pick = (title, labels) => (title === 'pgload: how much load?' ? labels.findIndex((l) => l.includes(choice)) : undefined);
    answers.input = (title) => {
      const key = Object.keys(inputs).find((k) => title.includes(k));
      assert.ok(key, `asked: ${title}`);
      return inputs[key];
    };
    return (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult | undefined;
  }

  it('"Through your application\'s pool…" runs the users through pool_size + max_overflow and splits pool wait from database time', async () => {
    const r = await profileWith("Through your application's pool", { users: '6', pool_size: '2', max_overflow: '1', 'how long': '2s' });
    assert.ok(r, 'the run finished');
    assert.deepEqual({ users: r.options.pool?.users, size: r.options.pool?.size, maxOverflow: r.options.pool?.maxOverflow }, { users: 6, size: 2, maxOverflow: 1 });
    // 6 users on at most 3 sessions: they queue in the pool, and the report says how long.
    assert.equal(r.load.clients, 3);
    assert.ok(r.load.pool && r.load.pool.waitMs.p95Ms > 0, JSON.stringify(r.load.pool?.waitMs));
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });

  it('"At a fixed rate…" sends that many requests a second whatever the responses (open loop)', async () => {
    const r = await profileWith('At a fixed rate', { 'requests per second': '20/s', sessions: '2', 'how long': '2s' });
    assert.ok(r, 'the run finished');
    assert.equal(r.options.rate?.perSecond, 20);
    // 20/s for 2 s: 40 arrivals (the schedule, not the server's speed, sets the count).
    assert.ok(Math.abs(r.load.requests.ok + r.load.requests.failed - 40) <= 2, `${r.load.requests.ok} requests`);
    // A rate written wrong: the input box says what it takes (the test seam reports it as the box would), nothing runs.
    const latest = api.store.latest()?.runId;
    const bad = await messagesDuring(() => profileWith('At a fixed rate', { 'requests per second': 'fast', sessions: '2', 'how long': '2s' }));
    assert.match(bad[0]?.message ?? '', /rejected by the input box: A rate from 0\.01 to 1,000,000 per second, like 50 or 50\/s/);
    assert.equal(api.store.latest()?.runId, latest);
  });

  it('A/B test from a Runs entry: B with a setting, kept as one A/B entry; from the panel: B a second statement of an open file', async () => {
    const run = api.history.list().find((e) => e.sql === SQL && (e.kind ?? 'run') === 'run');
    assert.ok(run, 'a run of the statement is kept');
    answers.pick = (title, labels) => (title.startsWith('pgload: A/B test of') ? labels.findIndex((l) => l.includes('A setting')) : undefined);
    answers.input = (title) => (title === 'pgload: the setting B runs with' ? 'work_mem = 2MB' : undefined);
    const ab = (await vscode.commands.executeCommand('pgload.abTest', { kind: 'run', entry: run })) as AbResult | undefined;
    assert.ok(ab, 'the A/B ran');
    assert.equal(ab.b.options.settings.work_mem, '2MB');
    assert.equal(ab.a.options.settings.work_mem, undefined);
    assert.deepEqual(ab.comparison.labels, ['without', 'with work_mem=2MB']);
    const kept = api.history.list().find((e) => e.name === 'A/B: work_mem=2MB');
    assert.equal(kept?.kind, 'ab');
    assert.equal(api.runsView.getTreeItem({ kind: 'run', entry: kept! }).contextValue, 'pgload.run.ab');

    // From the panel's "A/B test…" button (the same command with the panel's statement): B another statement.
    answers.pick = (title, labels) =>
      title.startsWith('pgload: A/B test of') ? labels.findIndex((l) => l.includes('A second statement')) : title.startsWith('pgload: B — which statement') ? labels.findIndex((l) => l.startsWith('SELECT count(*)')) : undefined;
    const ab2 = (await vscode.commands.executeCommand('pgload.abTest', SQL)) as AbResult | undefined;
    assert.ok(ab2, 'the second A/B ran');
    assert.equal(ab2.b.sql, 'SELECT count(*) FROM generate_series(1, 1000) AS g WHERE g % 7 = 0');
    assert.equal(ab2.comparison.sameStatement, false);
    assert.deepEqual(ab2.comparison.labels, ['SQL A', 'SQL B']);
    assert.deepEqual(api.panels.shown(SQL)?.comparison?.labels, ['SQL A', 'SQL B']);

    // A setting written wrong is refused in the input box, and nothing runs.
    answers.pick = (title, labels) => (title.startsWith('pgload: A/B test of') ? labels.findIndex((l) => l.includes('A setting')) : undefined);
    answers.input = () => 'work_mem is big';
    const before = api.history.list().length;
    const refused = await messagesDuring(() => vscode.commands.executeCommand('pgload.abTest', SQL));
    assert.match(refused[0]?.message ?? '', /rejected by the input box: Write it as name = value, like work_mem = 64MB/);
    assert.equal(api.history.list().length, before);
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });
});
