/** Bad input in the editor: a specific message, and nothing runs. */
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import * as vscode from 'vscode';
import type { ProfileResult } from '../../src/shared/result';
import type { ShownMessage } from '../../src/extension/ui';
import { ADMIN_URL, PASSWORD, answers, api, asked, messagesDuring, pgloadSessions, selectText, setSettings, waitFor, workspaceFile } from './helpers';

describe('pgload in VS Code: bad input gets a specific message and nothing runs', function () {
  const original = {
    connections: vscode.workspace.getConfiguration('pgload').get('connections'),
    defaultConnection: vscode.workspace.getConfiguration('pgload').get('defaultConnection'),
    clients: vscode.workspace.getConfiguration('pgload').get('clients'),
  };
  afterEach(async () => {
    answers.message = () => undefined;
    answers.pick = () => undefined;
    await setSettings(original);
  });

  async function profile(file: string, select?: string): Promise<{ result: unknown; messages: ShownMessage[] }> {
    const doc = await vscode.workspace.openTextDocument(workspaceFile(file));
    const editor = await vscode.window.showTextDocument(doc);
    if (select !== undefined) await selectText(editor, select);
    else editor.selection = new vscode.Selection(0, 0, 0, 0);
    let result: unknown;
    const messages = await messagesDuring(async () => {
      result = await vscode.commands.executeCommand('pgload.profileSelection');
    });
    return { result, messages };
  }

  it('no connection configured: says so and offers to add one or open the setting', async () => {
    await setSettings({ connections: [], defaultConnection: '' });
    const { result, messages } = await profile('queries.sql', 'SELECT pg_sleep(0.01) AS first');
    assert.equal(result, undefined);
    assert.equal(messages.length, 1);
    assert.match(messages[0].message, /pgload has no connection to profile against/);
    assert.deepEqual(messages[0].actions, ['Add Connection', 'Open Settings']);
  });

  it('an unknown default connection name: names it and the ones that exist', async () => {
    await setSettings({ defaultConnection: 'nope' });
    const { result, messages } = await profile('queries.sql', 'SELECT pg_sleep(0.01) AS first');
    assert.equal(result, undefined);
    assert.match(messages[0].message, /the connection "nope" is not in pgload.connections \(there: "test"\)/);
  });

  it('a server that is down: the exact failure, no result stored', async () => {
    const conns = vscode.workspace.getConfiguration('pgload').get<Array<Record<string, unknown>>>('connections')!;
    await setSettings({ connections: [...conns, { name: 'down', host: '127.0.0.1', port: 1, database: 'x', user: 'x', sslmode: 'disable' }], defaultConnection: 'down' });
    const before = api.store.latest()?.runId;
    const { result, messages } = await profile('queries.sql', 'SELECT pg_sleep(0.01) AS first');
    assert.equal(result, undefined);
    const err = messages.find((m) => m.kind === 'error');
    assert.ok(err, JSON.stringify(messages));
    assert.match(err.message, /Connection refused at 127\.0\.0\.1:1: is PostgreSQL running there/);
    // In the editor's words, with the buttons that fix it.
    assert.doesNotMatch(err.message, /--url|PGHOST/);
    assert.deepEqual(err.actions, ['Edit Connection', 'Select Connection', 'Show Log']);
    assert.equal(api.store.latest()?.runId, before);
    // The panel shows the failure, and keeps the statement's last good report one click away.
    const shown = api.panels.shown('SELECT pg_sleep(0.01) AS first')!;
    assert.equal(shown.state, 'failed');
    assert.equal(shown.lastGood?.result?.sql, 'SELECT pg_sleep(0.01) AS first');
    assert.equal(shown.lastGood?.state, 'done');
  });

  it('invalid settings: negative clients named with what to put there; too many clients refused with the numbers', async () => {
    await setSettings({ clients: -5 });
    let r = await profile('queries.sql', 'SELECT pg_sleep(0.01) AS first');
    assert.equal(r.result, undefined);
    assert.match(r.messages[0].message, /The setting pgload\.clients is -5; it must be a whole number from 1 to 10000/);
    assert.deepEqual(r.messages[0].actions, ['Open Settings', 'Show Log']);
    await setSettings({ clients: 5000 });
    r = await profile('queries.sql', 'SELECT pg_sleep(0.01) AS first');
    assert.equal(r.result, undefined);
    assert.match(r.messages.find((m) => m.kind === 'error')?.message ?? '', /5000 clients need 5000 connections, but the server has \d+ free/);
    assert.equal(await pgloadSessions(), 0);
  });

  it('Add connection: numbered steps with TLS (sslmode) and the password, added where the connections are, then tried: the server and its version are said', async () => {
    const test = (vscode.workspace.getConfiguration('pgload').get<Array<Record<string, unknown>>>('connections') ?? []).find((c) => c.name === 'test')!;
    const titles: string[] = [];
    const values: Array<[string, string]> = [['A name', 'added'], ['Host', String(test.host)], ['Port', String(test.port)], ['Database', String(test.database)], ['User', String(test.user)]];
    answers.input = (title, prompt) => {
      titles.push(title);
      return values.find(([k]) => prompt.startsWith(k))?.[1];
    };
    let tls: string[] = [];
    answers.pick = (title, labels) => {
      titles.push(title);
      tls = labels;
      return labels.indexOf('disable');
    };
    answers.passwords = [PASSWORD];
    const messages = await messagesDuring(() => vscode.commands.executeCommand('pgload.addConnection'));
    assert.deepEqual(titles.map((t) => /\((\d)\/7\)/.exec(t)?.[1]), ['1', '2', '3', '4', '5', '6']);
    // A server on this machine: "disable" offered first; the others still there.
    assert.deepEqual(tls, ['disable', 'prefer', 'require', 'verify-full']);
    assert.ok(asked.at(-1)?.startsWith('pgload: add connection (7/7): Password'), asked.at(-1));
    const info = messages.find((m) => m.kind === 'info');
    assert.match(info?.message ?? '', new RegExp(`^pgload: connection "added" added to this workspace's settings \\(where its connections are\\); connected to .*${test.port}.* — PostgreSQL \\d+`), JSON.stringify(messages));
    const added = (vscode.workspace.getConfiguration('pgload').get<Array<Record<string, unknown>>>('connections') ?? []).find((c) => c.name === 'added');
    assert.deepEqual(added, { name: 'added', host: test.host, port: test.port, database: test.database, user: test.user, sslmode: 'disable' });
    assert.ok(!JSON.stringify(added).includes(PASSWORD), 'no password in settings');
    assert.equal(await api.connections.hasStoredPassword('added'), true);
  });

  it('no statement under the cursor: says where to put it', async () => {
    const uri = workspaceFile('comments.sql');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('-- only a comment\n/* and another */\n'));
    const { result, messages } = await profile('comments.sql');
    assert.equal(result, undefined);
    assert.match(messages[0].message, /there is no SQL statement in this file to profile/);
  });

  it('a syntax error in statement 3 never blocks statement 1; with the cursor in statement 3, the error is placed in the file', async () => {
    const uri = workspaceFile('broken-later.sql');
    const text = 'SELECT 1 AS fine;\nSELECT 2 AS also_fine;\n\nSELECT 3 FROM WHERE broken;\n';
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    const doc = await vscode.workspace.openTextDocument(uri);
    await waitFor('the file read', () => (doc.getText() === text ? true : undefined));
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 3, 0, 3);
    let result: unknown;
    await messagesDuring(async () => {
      result = await vscode.commands.executeCommand('pgload.profileSelection');
    });
    assert.equal((result as ProfileResult | undefined)?.sql, 'SELECT 1 AS fine');
    editor.selection = new vscode.Selection(3, 2, 3, 2);
    const messages = await messagesDuring(async () => {
      result = await vscode.commands.executeCommand('pgload.profileSelection');
    });
    assert.equal(result, undefined);
    assert.match(messages[0].message, /SQL syntax error at line 4, column 15 \(statement 3\): syntax error at or near "WHERE"/);
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'pgload');
    assert.equal(d.length, 1);
    assert.deepEqual([d[0].range.start.line, d[0].range.start.character], [3, 14]);
  });

  it('a selection with two statements: offers to pick one, and profiles the one picked', async () => {
    let offered: string[] = [];
    answers.pick = (title, labels) => {
      offered = [title, ...labels];
      return labels.findIndex((l) => l.startsWith('SELECT count(*)'));
    };
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    const text = doc.getText();
    const from = text.indexOf('SELECT pg_sleep(0.01)');
    const to = text.indexOf('g % 7 = 0;') + 'g % 7 = 0;'.length;
    const { result } = await profile('queries.sql', text.slice(from, to));
    assert.match(offered[0], /the selection holds 2 statements — profile them as one transaction, or which one\?/);
    assert.deepEqual(offered.slice(1), ['$(list-ordered) All 2 as one transaction', 'SELECT pg_sleep(0.01) AS first', 'SELECT count(*) FROM generate_series(1, 1000) AS g WHERE g % 7 = 0']);
    assert.equal((result as ProfileResult).sql, 'SELECT count(*) FROM generate_series(1, 1000) AS g WHERE g % 7 = 0');
  });

  it('a selection with several statements profiled as one transaction: each statement timed apart, a lens on each with its own figures; DDL inside is refused', async () => {
    const uri = workspaceFile('endpoint.sql');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('-- GET /orders\nSELECT 1 AS a;\nSELECT pg_sleep(0.003) AS b;\nSELECT 2 AS c;\n'));
    answers.pick = (_title, labels) => labels.findIndex((l) => l.includes('as one transaction'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = doc.getText();
    const { result } = await profile('endpoint.sql', text.slice(text.indexOf('SELECT 1'), text.indexOf('AS c;') + 5));
    const r = result as ProfileResult;
    assert.ok(r, 'the transaction ran');
    assert.deepEqual(r.load.statements?.map((s) => s.sql), ['SELECT 1 AS a', 'SELECT pg_sleep(0.003) AS b', 'SELECT 2 AS c']);
    assert.ok(r.load.statements![1].latency.p50Ms >= 3);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 50)) ?? [];
    const titles = lenses.map((l) => l.command?.title ?? '').filter((t) => / of a transaction at /.test(t));
    assert.equal(titles.length, 3, lenses.map((l) => l.command?.title).join(' | '));
    assert.match(titles[1], /^p50 .+ · p95 .+ · statement 2 of a transaction at 2 clients · just now$/);

    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('SELECT 1;\nDROP TABLE pg_class_copy;\n'));
    const doc2 = await vscode.workspace.openTextDocument(uri);
    await waitFor('the file re-read', () => (doc2.getText().includes('DROP') ? true : undefined));
    const { result: none, messages } = await profile('endpoint.sql', doc2.getText());
    assert.equal(none, undefined);
    assert.ok(messages.some((m) => /endpoint\.sql, statement 2 \(DROP TABLE pg_class_copy\): pgload does not run schema changes/.test(m.message)), JSON.stringify(messages));
  });

  it('a non-SQL selection in a non-SQL file: the parser error at the right place', async () => {
    const uri = workspaceFile('notes.txt');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('Meeting notes\nthe query is slow under load\n'));
    const { result, messages } = await profile('notes.txt', 'the query is slow under load');
    assert.equal(result, undefined);
    // The file's position (the selection starts on its line 2), as Problems shows it.
    assert.match(messages[0].message, /SQL syntax error at line 2, column 1: syntax error at or near "the"/);
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'pgload');
    assert.equal(d[0].range.start.line, 1);
    assert.equal(d[0].range.start.character, 0);
  });

  it('DDL is refused with the reason; DML asks first and, confirmed, leaves the table unchanged', async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query('DROP TABLE IF EXISTS ext_items; CREATE TABLE ext_items (id int); INSERT INTO ext_items SELECT generate_series(1, 100)');
      const uri = workspaceFile('writes.sql');
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('DROP TABLE ext_items;\nDELETE FROM ext_items WHERE id > 50;\n'));
      let r = await profile('writes.sql', 'DROP TABLE ext_items');
      assert.equal(r.result, undefined);
      assert.match(r.messages[0].message, /does not run schema changes \(DROP\)/);
      // Dismissed: nothing runs.
      r = await profile('writes.sql', 'DELETE FROM ext_items WHERE id > 50');
      assert.equal(r.result, undefined);
      assert.match(r.messages[0].message, /This DELETE changes data\. pgload will run every request inside a transaction that is rolled back/);
      // Asked with Cancel first (what Enter picks), the action second.
      let asked: string[] = [];
      answers.pick = (_title, labels) => {
        asked = labels;
        return 0;
      };
      r = await profile('writes.sql', 'DELETE FROM ext_items WHERE id > 50');
      assert.equal(r.result, undefined, 'Cancel runs nothing');
      assert.deepEqual(asked, ['$(close) Cancel', '$(warning) Profile with Rollback']);
      // Confirmed: it runs, rolled back.
      answers.pick = (_title, labels) => labels.indexOf('$(warning) Profile with Rollback');
      r = await profile('writes.sql', 'DELETE FROM ext_items WHERE id > 50');
      const result = r.result as ProfileResult;
      assert.equal(result.options.executionMode, 'rolled-back');
      assert.equal(result.load.requests.ok, 20);
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM ext_items')).rows[0].n, 100);
      // The Runs view says so on the run's entry.
      const entry = api.history.list().find((e) => e.sql.startsWith('DELETE FROM ext_items'))!;
      assert.equal(entry.mode, 'rolled-back');
      const runNodes = api.runsView.getChildren().flatMap((g) => api.runsView.getChildren(g));
      const item = api.runsView.getTreeItem(runNodes.find((x) => x.kind === 'run' && x.entry.runId === entry.runId)!);
      assert.match(String(item.description), / · rolled back/);
    } finally {
      await admin.end();
    }
  });
});
