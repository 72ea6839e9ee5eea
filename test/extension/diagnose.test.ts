/** Diagnose under load and Try it from the editor. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AbResult, DiagnoseResult, ProfileResult } from '../../src/shared/result';
import { Client } from 'pg';
import * as os from 'node:os';
import { ADMIN_URL, answers, api, messagesDuring, pgloadSessions, selectText, setSettings, waitFor, workspaceFile } from './helpers';

describe('pgload in VS Code: Diagnose under load and Try it', function () {
  const SQL = 'SELECT pg_sleep(0.01) AS first';
  afterEach(async () => {
    const cfg = vscode.workspace.getConfiguration('pgload');
    for (const k of ['app.users', 'app.poolSize', 'app.maxOverflow', 'diagnose.budgetSeconds']) await cfg.update(k, undefined, vscode.ConfigurationTarget.Workspace);
    // Back to the workspace's request counts (the editor's default would be 10 s).
    await cfg.update('durationSeconds', 0, vscode.ConfigurationTarget.Workspace);
  });

  it('a bad application-pool setting is named with what to put there, and nothing runs', async () => {
    await setSettings({ 'app.users': 0 });
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    await selectText(await vscode.window.showTextDocument(doc), SQL);
    const messages = await messagesDuring(() => vscode.commands.executeCommand('pgload.diagnose'));
    assert.ok(messages.some((m) => /pgload\.app\.users is 0; it must be a whole number from 1 to 100000/.test(m.message)), JSON.stringify(messages));
  });

  it('diagnoses the statement with the pool from the settings: the Answers in the panel, the run kept and named, a Diagnose lens; Try it compares a setting and keeps that run', async () => {
    await setSettings({ 'app.users': 6, 'app.poolSize': 2, 'app.maxOverflow': 4, 'diagnose.budgetSeconds': 48, durationSeconds: 4 });
    const uri = workspaceFile('queries.sql');
    const doc = await vscode.workspace.openTextDocument(uri);
    await selectText(await vscode.window.showTextDocument(doc), SQL);
    const started = Date.now();
    const d = (await vscode.commands.executeCommand('pgload.diagnose')) as DiagnoseResult | undefined;
    assert.ok(d, 'the diagnosis finished');
    assert.equal(d.kind, 'diagnose');
    assert.deepEqual(d.app, { users: 6, poolSize: 2, maxOverflow: 4, poolTimeoutMs: 30_000, serverVcpus: null });
    assert.deepEqual(d.phases.map((p) => p.id), ['load', 'sweep', 'pools', 'settings', 'orm']);
    assert.ok(Date.now() - started < 48_000 * 1.5, `took ${Date.now() - started} ms for a 48 s budget`);
    assert.ok(d.answers.pool && d.answers.orm, 'the pool and ORM questions are answered');
    // The panel shows the Answers; the statement keeps the diagnosis, its run is in Runs under a name that says what it was.
    assert.equal(api.panels.shown(SQL)?.diagnosis?.startedAt, d.startedAt);
    assert.equal(api.panels.shown(SQL)?.activity, 'diagnose');
    assert.equal(api.store.diagnosisBySql(SQL)?.diagnosis.startedAt, d.startedAt);
    // One entry of its own kind in Runs, named; it stands for its application load when compared.
    const kept = api.history.list().find((e) => e.name === 'Diagnosis: 6 users, pool 2 + 4' && e.sql === SQL);
    assert.ok(kept, JSON.stringify(api.history.list().map((e) => e.name)));
    assert.equal(kept.kind, 'diagnosis');
    assert.equal(api.history.list().filter((e) => e.runId === kept.runId).length, 1);
    assert.equal(api.history.diagnosis(kept.runId)?.startedAt, d.startedAt);
    assert.equal(api.history.result(kept.runId)?.startedAt, d.runs.load.startedAt);
    assert.match(String(api.runsView.getTreeItem({ kind: 'run', entry: kept }).description), /^test · diagnosis · 6 users · (pool \d+ recommended|no pool size recommended)/);
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 50)) ?? [];
    assert.ok(lenses.some((l) => l.command?.command === 'pgload.diagnoseStatement' && l.command.title === '$(pulse) Diagnose'));

    let ab: AbResult | undefined;
    const tried = await messagesDuring(async () => {
      ab = (await vscode.commands.executeCommand('pgload.tryHint', SQL, "SET LOCAL work_mem = '8MB';")) as AbResult | undefined;
    });
    assert.ok(ab, `Try it ran: ${JSON.stringify(tried)}`);
    assert.ok(tried.some((m) => /^pgload: work_mem=8MB — /.test(m.message)), JSON.stringify(tried));
    assert.equal(ab.b.options.settings.work_mem, '8MB');
    // At the concurrency the diagnosis measured its settings at.
    assert.equal(ab.a.load.clients, d.abClients);
    assert.deepEqual(ab.order, ['A', 'B', 'B', 'A']);
    const shown = api.panels.shown(SQL);
    assert.deepEqual(shown?.comparison?.labels, ['without', 'with work_mem=8MB']);
    const tryIt = api.history.list().find((e) => e.name === 'Try it: work_mem=8MB');
    assert.ok(tryIt, JSON.stringify(api.history.list().map((e) => e.name)));
    // An A/B is one entry: opened, it shows its comparison; exported, both sides and the comparison.
    assert.equal(tryIt.kind, 'ab');
    assert.equal(api.history.ab(tryIt.runId)?.comparison.summary, ab.comparison.summary);
    assert.equal(tryIt.summary, ab.comparison.summary);
    await vscode.commands.executeCommand('pgload.runs.open', tryIt.runId);
    assert.deepEqual(api.panels.shown(SQL)?.comparison?.labels, ['without', 'with work_mem=8MB']);
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-ab-')), 'ab.json');
    answers.pick = (_title, labels) => labels.indexOf('JSON');
    answers.save = () => target;
    try {
      assert.equal(await vscode.commands.executeCommand('pgload.runs.export', tryIt.runId), true);
    } finally {
      answers.pick = () => undefined;
      answers.save = () => undefined;
    }
    const exported = JSON.parse(fs.readFileSync(target, 'utf8')) as AbResult;
    assert.equal(exported.kind, 'ab');
    assert.deepEqual(exported.order, ['A', 'B', 'B', 'A']);
    assert.equal(exported.b.options.settings.work_mem, '8MB');
    // A hint that is not a setting pgload tries is refused with the reason.
    const refused = await messagesDuring(() => vscode.commands.executeCommand('pgload.tryHint', SQL, 'VACUUM t;'));
    assert.ok(refused.some((m) => /is not a setting pgload can try/.test(m.message)), JSON.stringify(refused));
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });

  it('Try it on an index suggestion: refused on a connection not marked for trials (nothing built); on one marked allowIndexTrials, built for B, measured, dropped', async () => {
    const TABLE_SQL = 'SELECT count(*) FROM it_ext WHERE k = 7';
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const cfg = vscode.workspace.getConfiguration('pgload');
    const connections = cfg.get<Array<Record<string, unknown>>>('connections') ?? [];
    const indexes = async () => (await admin.query<{ n: string }>("SELECT indexname AS n FROM pg_indexes WHERE tablename = 'it_ext'")).rows.map((r) => r.n);
    try {
      await admin.query('DROP TABLE IF EXISTS it_ext; CREATE TABLE it_ext AS SELECT g AS id, g % 5000 AS k FROM generate_series(1, 200000) g; ANALYZE it_ext;');
      await setSettings({ durationSeconds: 4 });
      const doc = await vscode.workspace.openTextDocument({ language: 'sql', content: `${TABLE_SQL};\n` });
      await selectText(await vscode.window.showTextDocument(doc), TABLE_SQL);
      const r = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult | undefined;
      const suggestion = r?.hints.find((h) => h.id === 'index-suggestion' && /it_ext \(k\)/.test(h.sql ?? ''));
      assert.ok(suggestion, JSON.stringify(r?.hints.map((h) => h.sql)));
      assert.match(suggestion.action, /allowIndexTrials/);
      const refused = await messagesDuring(() => vscode.commands.executeCommand('pgload.tryHint', TABLE_SQL, suggestion.sql));
      assert.ok(refused.some((m) => /Try it builds an index only on a database marked for it, and "test" is not: nothing was built/.test(m.message)), JSON.stringify(refused));
      assert.deepEqual(await indexes(), []);

      await cfg.update('connections', connections.map((c) => ({ ...c, allowIndexTrials: true })), vscode.ConfigurationTarget.Workspace);
      let ab: AbResult | undefined;
      // The user keeps the index from the message that reports the trial.
      answers.message = (m) => (m.actions.includes('Keep the index') ? 'Keep the index' : undefined);
      const tried = await messagesDuring(async () => {
        ab = (await vscode.commands.executeCommand('pgload.tryHint', TABLE_SQL, suggestion.sql)) as AbResult | undefined;
      });
      assert.ok(ab?.indexTrial, `Try it ran: ${JSON.stringify(tried)}`);
      assert.equal(ab.indexTrial.indexes[0].buildMs.length, 1);
      assert.equal(ab.comparison.verdict, 'faster', ab.comparison.summary);
      assert.ok(tried.some((m) => /The index was dropped\.$/.test(m.message) && m.actions.includes('Keep the index')), JSON.stringify(tried));
      // Kept on request: built once more, under the trial's name, and said.
      assert.deepEqual(await waitFor('the kept index', async () => ((await indexes()).length ? await indexes() : undefined), 20_000), ['pgload_trial_1_it_ext']);
      assert.ok(await waitFor('the message', () => api.ui.shown.find((m) => /^pgload: kept pgload_trial_1_it_ext \(built in [\d.]+ ms\) on "test"\.$/.test(m.message)), 5_000));
      answers.message = () => undefined;
      // The panel shows the comparison with the trial's builds first; the A/B is kept in Runs.
      const shown = api.panels.shown(TABLE_SQL);
      assert.deepEqual(shown?.comparison?.labels, ['without', 'with the index']);
      assert.match(shown?.comparison?.notes[0] ?? '', /^Index trial on .*: built before B's legs, dropped before A's\.$/);
      assert.ok(api.history.list().some((e) => e.kind === 'ab' && (e.name ?? '').startsWith('Try it: CREATE INDEX CONCURRENTLY ON it_ext (k)')), JSON.stringify(api.history.list().map((e) => e.name)));
      assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
    } finally {
      answers.message = () => undefined;
      await cfg.update('connections', connections, vscode.ConfigurationTarget.Workspace);
      await admin.query('DROP TABLE IF EXISTS it_ext');
      await admin.end();
    }
  });
});
