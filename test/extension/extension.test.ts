/**
 * The extension inside a real VS Code: commands, a run from a selection against the test PostgreSQL,
 * CodeLens numbers and ranges, stale marking, cancel, secrets, diagnostics.
 * The test PostgreSQL comes from PGLOAD_TEST_ADMIN_URL (for inspecting the server) and the workspace settings
 * (for the extension, without a password: the extension must ask for it and keep it in SecretStorage).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import * as vscode from 'vscode';
import type { PgloadApi } from '../../src/extension/extension';
import { formatMs } from '../../src/shared/format';
import type { AbResult, Comparison, DiagnoseResult, ProfileResult, SweepResult } from '../../src/shared/result';
import * as os from 'node:os';
import type { ShownMessage } from '../../src/extension/ui';

const ADMIN_URL = process.env.PGLOAD_TEST_ADMIN_URL ?? '';
const PASSWORD = process.env.PGLOAD_TEST_PASSWORD ?? '';

async function pgloadSessions(): Promise<number> {
  const c = new Client({ connectionString: ADMIN_URL, application_name: 'pgload-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload'")).rows[0].n;
  } finally {
    await c.end();
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run in a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function selectText(editor: vscode.TextEditor, text: string): Promise<void> {
  const at = editor.document.getText().indexOf(text);
  assert.ok(at >= 0, `"${text}" is in the document`);
  editor.selection = new vscode.Selection(editor.document.positionAt(at), editor.document.positionAt(at + text.length));
}

let api: PgloadApi;
/** What the tests answer, as a person would, to messages, quick picks and input boxes. */
const answers = {
  passwords: [] as string[],
  message: (_m: ShownMessage): string | undefined => undefined,
  pick: (_title: string, _labels: string[]): number | undefined => undefined,
  /** Input boxes other than passwords (e.g. parameter generators). */
  input: (_title: string, _prompt: string): string | undefined => undefined,
  /** Save dialogs: the path chosen. */
  save: (_title: string, _defaultName: string): string | undefined => undefined,
};
const asked: string[] = [];

before(async () => {
  assert.ok(ADMIN_URL && PASSWORD, 'PGLOAD_TEST_ADMIN_URL and PGLOAD_TEST_PASSWORD are set by the test runner');
  const ext = vscode.extensions.getExtension('pgload.pgload');
  assert.ok(ext, 'the extension under development is loaded');
  api = (await ext.activate()) as PgloadApi;
  // First a wrong password, then the right one: the extension must ask again and keep only the right one.
  answers.passwords = ['not-the-password', PASSWORD];
  api.ui.responder = {
    input: (title, prompt, password) => {
      if (!password) return answers.input(title, prompt);
      asked.push(`${title}: ${prompt}`);
      return answers.passwords.shift();
    },
    message: (m) => answers.message(m),
    pick: (title, labels) => answers.pick(title, labels),
    save: (title, name) => answers.save(title, name),
  };
});

/** The messages shown while fn ran. */
async function messagesDuring(fn: () => Thenable<unknown>): Promise<ShownMessage[]> {
  const from = api.ui.shown.length;
  await fn();
  return api.ui.shown.slice(from);
}

async function setSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('pgload');
  for (const [k, v] of Object.entries(values)) await cfg.update(k, v, vscode.ConfigurationTarget.Workspace);
}

describe('pgload in VS Code', function () {

  it('registers every command it contributes, and contributes every command it registers', async () => {
    const contributed: string[] = vscode.extensions.getExtension('pgload.pgload')!.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    // VS Code itself adds focus/visibility commands for every contributed view (pgload.runs.focus, …).
    const views: string[] = Object.values(vscode.extensions.getExtension('pgload.pgload')!.packageJSON.contributes.views as Record<string, Array<{ id: string }>>).flat().map((v) => v.id);
    const generated = new Set(views.flatMap((v) => ['focus', 'removeView', 'resetViewLocation', 'toggleVisibility', 'open'].map((x) => `${v}.${x}`)));
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('pgload.') && !(generated.has(c) && !contributed.includes(c)));
    assert.deepEqual([...contributed].sort(), [...registered].sort());
    assert.ok(contributed.includes('pgload.profileSelection') && contributed.includes('pgload.cancel'));
  });

  let first: ProfileResult;
  it('profiling a selection runs against the test PostgreSQL, asks for the password, and stores the result', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    const editor = await vscode.window.showTextDocument(doc);
    await selectText(editor, 'SELECT pg_sleep(0.01) AS first');
    const result = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult | undefined;
    assert.ok(result, 'the command returned a result');
    first = result;
    assert.equal(result.sql, 'SELECT pg_sleep(0.01) AS first');
    assert.equal(result.load.requests.ok, 20);
    assert.equal(result.load.clients, 2);
    // pg_sleep(0.01) ran on the server: never under 10 ms (the upper bound leaves room for a busy CI machine).
    assert.ok(result.load.latency.p50Ms >= 10 && result.load.latency.p50Ms < 100, `p50 ${result.load.latency.p50Ms}`);
    assert.equal(api.store.bySql(result.sql)?.result.finishedAt, result.finishedAt);
    assert.equal(asked.length, 2, `asked twice (wrong, then right): ${asked.join(' | ')}`);
    assert.match(asked[0], /password for "test".*asks for a password/);
    assert.match(asked[1], /refused that password/);
    assert.ok(await api.connections.hasStoredPassword('test'), 'the working password is kept in SecretStorage');
  });

  it('never writes the password into settings or the stored results', async () => {
    const settingsFile = workspaceFile('.vscode/settings.json').fsPath;
    assert.ok(!fs.readFileSync(settingsFile, 'utf8').includes(PASSWORD));
    const inspected = JSON.stringify(vscode.workspace.getConfiguration('pgload').inspect('connections'));
    assert.ok(!inspected.includes(PASSWORD));
    assert.ok(!JSON.stringify(api.store.latest()).includes(PASSWORD));
    const userSettings = path.join(process.env.PGLOAD_TEST_USER_DATA ?? '', 'User', 'settings.json');
    if (fs.existsSync(userSettings)) assert.ok(!fs.readFileSync(userSettings, 'utf8').includes(PASSWORD));
  });

  it('CodeLens shows the last p50/p95 above the profiled statement, and "Profile under load" above every statement', async () => {
    const uri = workspaceFile('queries.sql');
    const doc = await vscode.workspace.openTextDocument(uri);
    const lenses = await waitFor('result lens', async () => {
      const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      return l.some((x) => x.command?.title.startsWith('p50')) ? l : undefined;
    });
    const line = doc.positionAt(doc.getText().indexOf('SELECT pg_sleep(0.01) AS first')).line;
    const profileLenses = lenses.filter((l) => l.command?.title === '$(play) Profile under load');
    assert.equal(profileLenses.length, 4, 'one per statement');
    const resultLenses = lenses.filter((l) => /^(\$\(history\) stale: )?p50/.test(l.command?.title ?? ''));
    assert.equal(resultLenses.length, 1, 'only the profiled statement has numbers — not pg_sleep(5) AS slow, which shares its fingerprint');
    const resultLens = resultLenses[0];
    assert.equal(resultLens.range.start.line, line);
    assert.equal(resultLens.command!.title, `p50 ${formatMs(first.load.latency.p50Ms)} · p95 ${formatMs(first.load.latency.p95Ms)} · 2 clients · just now`);
  });

  it('marks the numbers stale after the statement is edited', async () => {
    const uri = workspaceFile('queries.sql');
    const doc = await vscode.workspace.openTextDocument(uri);
    const at = doc.getText().indexOf('0.01) AS first');
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 4)), '0.02');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const stale = await waitFor('stale lens', async () => {
      const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      return l.find((x) => x.command?.title.includes('stale'));
    });
    assert.match(stale.command!.title, /^\$\(history\) stale: p50 /);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('a 1,000-statement file with a syntax error in it gets a lens on every statement, and a statement of the profiled shape (other constant) its stale numbers', async () => {
    const uri = workspaceFile('big.sql');
    const lines = Array.from({ length: 998 }, (_, i) => `SELECT ${i} AS n_${i}, 'a;b' AS s; -- ${i}`);
    lines.push('SELEC broken FROM;', 'SELECT pg_sleep(0.03) AS first;');
    fs.writeFileSync(uri.fsPath, lines.join('\n'));
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const stale = await waitFor('the same-shape lens', async () => {
        const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 2000)) ?? [];
        const found = l.filter((x) => x.command?.title.includes('stale'));
        return found.length > 0 ? { l, found } : undefined;
      });
      assert.equal(stale.l.filter((x) => x.command?.title === '$(play) Profile under load').length, 1000, 'one per statement, the broken one too');
      assert.equal(stale.found.length, 1);
      assert.equal(stale.found[0].range.start.line, doc.lineCount - 1);
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
    }
  });

  it('pgload.codeLens.enabled = false removes the lenses; true brings them back', async () => {
    const uri = workspaceFile('queries.sql');
    await setSettings({ 'codeLens.enabled': false });
    try {
      const none = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      assert.equal(none.length, 0);
    } finally {
      await setSettings({ 'codeLens.enabled': undefined });
    }
    const back = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
    assert.ok(back.length >= 4);
  });

  it('cancel stops the run and leaves no session on the server', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    const editor = await vscode.window.showTextDocument(doc);
    await selectText(editor, 'SELECT pg_sleep(5) AS slow');
    const run = vscode.commands.executeCommand('pgload.profileSelection');
    await waitFor('a pgload session on the server', async () => ((await pgloadSessions()) > 0 ? true : undefined));
    await vscode.commands.executeCommand('pgload.cancel');
    const result = await run;
    assert.equal(result, undefined, 'a run cancelled before the load has no result');
    const deadline = Date.now() + 2000;
    let left = await pgloadSessions();
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = await pgloadSessions();
    }
    assert.equal(left, 0, 'no pgload session left within 2 s');
    assert.equal(api.runs.running, false);
  });

  it('a syntax error in the selection becomes a diagnostic at the right place, and nothing runs', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('broken.sql'));
    const editor = await vscode.window.showTextDocument(doc);
    await selectText(editor, 'SELECT id,\n  FROM orders');
    const before = api.store.latest()?.runId;
    const result = await vscode.commands.executeCommand('pgload.profileSelection');
    assert.equal(result, undefined);
    const diags = await waitFor('a diagnostic', () => {
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'pgload');
      return d.length > 0 ? d : undefined;
    });
    const fromAt = doc.positionAt(doc.getText().indexOf('FROM'));
    assert.equal(diags[0].range.start.line, fromAt.line);
    assert.equal(diags[0].range.start.character, fromAt.character);
    // The file's line and column (FROM is on line 5 of the file, line 2 of the statement), in Problems and the message.
    assert.match(diags[0].message, /line 5, column 3: syntax error at or near "FROM"/);
    assert.ok(api.ui.shown.some((m) => m.kind === 'error' && /line 5, column 3: syntax error at or near "FROM"/.test(m.message)), JSON.stringify(api.ui.shown.slice(-3)));
    assert.equal(api.store.latest()?.runId, before, 'nothing was stored');
  });
});

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

  it('no statement under the cursor: says where to put it', async () => {
    const uri = workspaceFile('comments.sql');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('-- only a comment\n/* and another */\n'));
    const { result, messages } = await profile('comments.sql');
    assert.equal(result, undefined);
    assert.match(messages[0].message, /there is no SQL statement in this file to profile/);
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
    const titles = lenses.map((l) => l.command?.title ?? '').filter((t) => / of a transaction · /.test(t));
    assert.equal(titles.length, 3, lenses.map((l) => l.command?.title).join(' | '));
    assert.match(titles[1], /^p50 .+ · p95 .+ · statement 2 of a transaction · 2 clients · just now$/);

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


describe('pgload in VS Code: parameters and the concurrency sweep', function () {
  afterEach(() => {
    answers.input = () => undefined;
    answers.pick = () => undefined;
  });

  it('a statement with $1 and $2 asks for their generators, runs with them, remembers them, and the CodeLens shows them', async () => {
    const uri = workspaceFile('params.sql');
    const sql = "SELECT CASE WHEN $1::int BETWEEN 1 AND 50 AND $2::text IN ('a', 'b') THEN 1 ELSE 1/0 END AS checked";
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${sql};\n`));
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    editor.selection = new vscode.Selection(0, 10, 0, 10);
    const titles: string[] = [];
    const typed = ['zipf:1..50', 'list:a,b'];
    answers.input = (title) => {
      titles.push(title);
      return typed.shift();
    };
    const result = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult | undefined;
    assert.ok(result, 'the run finished');
    assert.deepEqual(titles, ['pgload: values for $1 (1 of 2)', 'pgload: values for $2 (2 of 2)']);
    assert.equal(result.load.requests.failed, 0, 'every value was in range (the statement divides by zero otherwise)');
    assert.deepEqual(result.options.params!.map((p) => p.spec), ['zipf:1..50', 'list:a,b']);
    assert.deepEqual(api.store.paramsFor(result.fingerprint), ['zipf:1..50', 'list:a,b']);

    // The CodeLens shows the remembered generators; the next run offers them instead of asking again.
    const lenses = await waitFor('parameter lens', async () => {
      const l = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      return l.find((x) => x.command?.command === 'pgload.editParameters');
    });
    assert.equal(lenses.command!.title, '$(symbol-parameter) $1 zipf:1..50 · $2 list:a,b');
    const picks: string[][] = [];
    answers.pick = (_title, labels) => {
      picks.push(labels);
      return 0;
    };
    answers.input = (title) => assert.fail(`asked again: ${title}`);
    const again = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult | undefined;
    assert.ok(again);
    assert.equal(picks[0][0], '$(check) $1 zipf:1..50 · $2 list:a,b');
    assert.equal(again.load.requests.failed, 0);
  });

  it('a generator the input box rejects is explained there, and nothing is remembered', async () => {
    const uri = workspaceFile('params.sql');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const doc = await vscode.workspace.openTextDocument(uri);
    const fingerprint = api.lenses.fingerprintOf(api.lenses.statementsOf(doc)[0].text)!;
    const before = api.store.paramsFor(fingerprint);
    answers.input = () => 'int:9..1';
    const messages = await messagesDuring(() => vscode.commands.executeCommand('pgload.editParameters', uri, 0));
    // The test seam reports what the real input box would show under the field.
    assert.match(messages[0].message, /rejected by the input box: The generator for \$1 \("int:9\.\.1"\) has its low end above its high end \(9 > 1\)/);
    assert.deepEqual(api.store.paramsFor(fingerprint), before);
  });

  it('"Find the right pool size" runs a sweep, stores it, and recommends a pool size; no session is left', async () => {
    const cfg = vscode.workspace.getConfiguration('pgload');
    await cfg.update('sweep.maxClients', 4, vscode.ConfigurationTarget.Workspace);
    await cfg.update('sweep.stepSeconds', 1, vscode.ConfigurationTarget.Workspace);
    try {
      const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
      const editor = await vscode.window.showTextDocument(doc);
      await selectText(editor, 'SELECT pg_sleep(0.01) AS first');
      let sweep: SweepResult | undefined;
      const messages = await messagesDuring(async () => {
        sweep = (await vscode.commands.executeCommand('pgload.findPoolSize')) as SweepResult | undefined;
      });
      assert.ok(sweep, `the sweep finished: ${JSON.stringify(messages)}`);
      assert.deepEqual(sweep.steps.map((x) => x.clients), [1, 2, 4]);
      // pg_sleep scales: 4 sessions asleep do about 4 times the work of one. Judged with each step's own median
      // latency (Little's law: throughput ≈ clients ÷ latency), so a busy machine that slows both steps does not
      // change the verdict; a step that ran one session at a time would be off by a factor of 4.
      const perLatency = (i: number) => sweep!.steps[i].throughputQps * (sweep!.steps[i].p50Ms / 1000) / sweep!.steps[i].clients;
      assert.ok(perLatency(2) > 0.6 && perLatency(0) > 0.6, JSON.stringify(sweep.steps));
      assert.ok(sweep.steps[2].throughputQps > 2 * sweep.steps[0].throughputQps, JSON.stringify(sweep.steps));
      assert.ok(sweep.recommendation, 'a pool size is recommended');
      assert.equal(api.store.sweepBySql('SELECT pg_sleep(0.01) AS first')?.sweep.finishedAt, sweep.finishedAt);
      assert.ok(messages.some((m) => m.message === `pgload: pool size ${sweep!.recommendation!.poolSize} for this statement — see the Scaling tab.`), JSON.stringify(messages));
      // The sweep is kept in Runs beside the statement's runs, and opens on the Scaling tab.
      const kept = api.history.list().find((e) => e.kind === 'sweep' && e.startedAt === sweep!.startedAt);
      assert.ok(kept, 'the sweep is in Runs');
      assert.equal(kept.poolSize, sweep.recommendation!.poolSize);
      const node = api.runsView.getChildren().flatMap((g) => api.runsView.getChildren(g)).find((x) => x.kind === 'run' && x.entry.runId === kept.runId)!;
      assert.match(String(api.runsView.getTreeItem(node).description), new RegExp(`sweep to 4 clients · pool size ${sweep.recommendation!.poolSize}`));
      await vscode.commands.executeCommand('pgload.runs.open', kept.runId);
      assert.equal(api.panels.shown('SELECT pg_sleep(0.01) AS first')?.activity, 'sweep');
      assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
    } finally {
      await cfg.update('sweep.maxClients', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg.update('sweep.stepSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});

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
    const refused = await messagesDuring(() => vscode.commands.executeCommand('pgload.tryHint', SQL, 'CREATE INDEX ON t (a);'));
    assert.ok(refused.some((m) => /is not a setting pgload can try/.test(m.message)), JSON.stringify(refused));
    assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
  });
});

describe('pgload in VS Code: tools for agents (vscode.lm.invokeTool)', function () {
  const invoke = async (name: string, input: object): Promise<string> => {
    const r = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
    return r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('\n');
  };
  const original = { connections: vscode.workspace.getConfiguration('pgload').get('connections') };
  afterEach(async () => {
    answers.pick = () => undefined;
    await setSettings(original);
  });

  it('both tools are registered; profiling a read-only statement on this machine runs without a question and returns the report', async () => {
    const names = vscode.lm.tools.map((t) => t.name);
    assert.ok(names.includes('pgload_profile') && names.includes('pgload_last_result'), names.join(', '));
    let asked = 0;
    answers.pick = () => {
      asked++;
      return undefined;
    };
    const report = await invoke('pgload_profile', { sql: 'SELECT pg_sleep(0.01) AS agent', clients: 2, durationSeconds: 1 });
    assert.equal(asked, 0, 'no question for a read-only statement on a local server');
    // The report is Markdown: the statement in its heading escaped (pg\_sleep), never read as emphasis or HTML.
    assert.match(report, /^## pgload: SELECT pg\\_sleep\(0\.01\) AS agent/);
    assert.match(report, /2 clients/);
    const last = await invoke('pgload_last_result', { sql: 'SELECT pg_sleep(0.01) AS agent' });
    assert.equal(last.split('\n')[0], report.split('\n')[0]);
    assert.equal(api.store.bySql('SELECT pg_sleep(0.01) AS agent')?.result.load.clients, 2);
  });

  it('a write is asked about as for a person (Cancel first) and runs rolled back only when confirmed; DDL is refused with the reason', async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query('DROP TABLE IF EXISTS agent_items; CREATE TABLE agent_items (id int); INSERT INTO agent_items SELECT generate_series(1, 100)');
      // In code-server the runner can see the page: the real question is shown, photographed, and Escape runs nothing.
      const shots = process.env.PGLOAD_SCREENSHOT_DIR;
      if (shots) {
        const file = path.join(shots, 'extension-agent-tool-confirm.png');
        for (const f of [file, `${file}.taken`, `${file}.failed`]) fs.rmSync(f, { force: true });
        const responder = api.ui.responder;
        api.ui.responder = undefined;
        try {
          const pending = invoke('pgload_profile', { sql: 'DELETE FROM agent_items WHERE id > 50', clients: 4, durationSeconds: 5 });
          console.log(`PGLOAD_SCREENSHOT extension-agent-tool-confirm .quick-input-widget:has-text("An agent asks pgload to profile DELETE FROM agent_items")`);
          const taken = await waitFor('the screenshot of the question', () =>
            fs.existsSync(`${file}.taken`) ? 'taken' : fs.existsSync(`${file}.failed`) ? fs.readFileSync(`${file}.failed`, 'utf8') : undefined,
          40_000);
          assert.equal(taken, 'taken', 'the question is on screen');
          fs.rmSync(`${file}.taken`, { force: true });
          await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
          assert.match(await pending, /^Not run: the person using the editor did not confirm it\./);
        } finally {
          api.ui.responder = responder;
        }
      }
      let labels: string[] = [];
      answers.pick = (_t, l) => {
        labels = l;
        return 0;
      };
      const refused = await invoke('pgload_profile', { sql: 'DELETE FROM agent_items WHERE id > 50', clients: 1, durationSeconds: 1 });
      assert.deepEqual(labels, ['$(close) Cancel', '$(warning) Profile with Rollback']);
      assert.match(refused, /^Not run: the person using the editor did not confirm it\./);
      answers.pick = (_t, l) => l.indexOf('$(warning) Profile with Rollback');
      const ran = await invoke('pgload_profile', { sql: 'DELETE FROM agent_items WHERE id > 50', clients: 1, durationSeconds: 1 });
      assert.match(ran, /each request in a transaction that is rolled back/);
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM agent_items')).rows[0].n, 100, 'no row changed');
      const ddl = await invoke('pgload_profile', { sql: 'DROP TABLE agent_items' });
      assert.match(ddl, /does not run schema changes \(DROP\)/);
      assert.equal((await admin.query("SELECT to_regclass('agent_items') IS NOT NULL AS ok")).rows[0].ok, true);
    } finally {
      await admin.query('DROP TABLE IF EXISTS agent_items');
      await admin.end();
    }
  });

  it('a server that is not this machine is asked about first; an unknown connection name is named with the ones there are', async () => {
    const conns = vscode.workspace.getConfiguration('pgload').get<Array<Record<string, unknown>>>('connections')!;
    await setSettings({ connections: [...conns, { name: 'remote', host: 'db.example.invalid', port: 5432, database: 'x', user: 'x', sslmode: 'disable' }] });
    let question = '';
    answers.pick = (title) => {
      question = title;
      return 0;
    };
    const out = await invoke('pgload_profile', { sql: 'SELECT 1 AS remote', connection: 'remote', clients: 50, durationSeconds: 30 });
    assert.match(question, /^An agent asks pgload to profile SELECT 1 AS remote \(50 clients for 30 s\): it runs 50 clients for 30 s against "remote", a server that is not this machine/);
    assert.match(out, /^Not run/);
    const unknown = await invoke('pgload_profile', { sql: 'SELECT 1', connection: 'nope' });
    assert.match(unknown, /no connection named "nope" in pgload\.connections; the connections are "test", "remote"/);
  });
});

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

describe('pgload in VS Code: the Runs view (history), compare and export', function () {
  afterEach(async () => {
    answers.input = () => undefined;
    answers.pick = () => undefined;
    answers.message = () => undefined;
    answers.save = () => undefined;
    await vscode.workspace.getConfiguration('pgload').update('history.maxRuns', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('every run is kept, grouped by statement, in the tree with connection, clients and p50/p95', async () => {
    const runs = api.history.list();
    assert.ok(runs.length >= 4, `${runs.length} runs kept`);
    // The statement's latest run is kept (A/Bs and checks are kept in the history only); newest first.
    const latest = api.store.latest()!;
    assert.ok(runs.some((r) => r.runId === latest.runId));
    assert.deepEqual(runs.map((r) => r.startedAt), runs.map((r) => r.startedAt).sort().reverse());
    const groups = api.runsView.getChildren();
    assert.ok(groups.length >= 2);
    const children = api.runsView.getChildren(groups[0]).filter((n) => n.kind === 'run' && (n.entry.kind ?? 'run') === 'run');
    const item = api.runsView.getTreeItem(children[0]);
    assert.match(String(item.description), /^test · \d+ clients · p50 .+ · p95 .+/);
    assert.equal(item.contextValue, 'pgload.run');
  });

  it('rename, pin and delete act on the run and survive in the index', async () => {
    const [first] = api.history.list();
    answers.input = () => 'before the index';
    await vscode.commands.executeCommand('pgload.runs.rename', first.runId);
    await vscode.commands.executeCommand('pgload.runs.pin', first.runId);
    const e = api.history.entry(first.runId)!;
    assert.equal(e.name, 'before the index');
    assert.equal(e.pinned, true);
    const index = JSON.parse(fs.readFileSync(path.join(api.history.folder, 'index.json'), 'utf8')) as Array<{ runId: string; name?: string }>;
    assert.equal(index.find((x) => x.runId === first.runId)?.name, 'before the index');
    const victim = api.history.list()[1];
    answers.pick = (_title, labels) => labels.indexOf('$(warning) Delete');
    assert.equal(await vscode.commands.executeCommand('pgload.runs.delete', victim.runId), true);
    assert.equal(api.history.entry(victim.runId), undefined);
    assert.ok(!fs.existsSync(path.join(api.history.folder, victim.file)), 'its file is gone');
  });

  it('compares two runs of the same statement and exports a run as a self-contained HTML file', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    const editor = await vscode.window.showTextDocument(doc);
    await selectText(editor, 'SELECT pg_sleep(0.01) AS first');
    const a = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult;
    const b = (await vscode.commands.executeCommand('pgload.profileSelection')) as ProfileResult;
    const [rb, ra] = api.history.list();
    assert.equal(ra.startedAt, a.startedAt);
    assert.equal(rb.startedAt, b.startedAt);
    const c = (await vscode.commands.executeCommand('pgload.runs.compare', rb.runId, ra.runId)) as Comparison;
    assert.equal(c.sameStatement, true);
    // Named by what differs — here nothing but the time — never by ISO timestamps.
    assert.doesNotMatch(c.labels.join(' '), /\d{4}-\d\d-\d\dT/);
    assert.notEqual(c.labels[0], c.labels[1]);
    assert.deepEqual(c.metrics.map((m) => m.name), ['p50', 'p95', 'p99', 'qps']);
    // pg_sleep(0.01) twice: the medians are within a few percent, far below the noise floor.
    assert.equal(c.verdict, 'no-significant-difference', c.summary);

    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-export-')), 'run.html');
    answers.pick = (_title, labels) => labels.indexOf('HTML');
    answers.save = () => target;
    assert.equal(await vscode.commands.executeCommand('pgload.runs.export', rb.runId), true);
    const html = fs.readFileSync(target, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes(JSON.stringify(b.fingerprint)));
    assert.ok(!html.includes(PASSWORD));
  });

  it('pgload.history.maxRuns prunes to the newest runs at once, keeping pinned ones', async () => {
    const pinned = api.history.list().filter((e) => e.pinned).map((e) => e.runId);
    const newest = api.history.list().filter((e) => !e.pinned)[0].runId;
    await vscode.workspace.getConfiguration('pgload').update('history.maxRuns', 1 + pinned.length, vscode.ConfigurationTarget.Workspace);
    await waitFor('pruned', () => (api.history.list().length === 1 + pinned.length ? true : undefined), 5000);
    assert.deepEqual(api.history.list().map((e) => e.runId).sort(), [newest, ...pinned].sort());
  });
});

describe('pgload in VS Code: secrets', function () {
  it('the password appears nowhere: settings, workspace state, the Runs files, the log, messages shown, exports', async () => {
    const haystacks: Array<[string, string]> = [];
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (fs.statSync(p).size < 20_000_000) haystacks.push([p, fs.readFileSync(p, 'utf8')]);
      }
    };
    walk(folder); // settings.json, the SQL files, any export written there
    walk(api.history.folder); // every kept run and the index
    haystacks.push(['workspace state', JSON.stringify([api.store.latest(), api.history.list()])]);
    haystacks.push(['log', api.log.recent.join('\n')]);
    haystacks.push(['messages shown', JSON.stringify(api.ui.shown)]);
    assert.ok(api.log.recent.length > 20, 'the log has lines to search');
    const hits = haystacks.filter(([, text]) => text.includes(PASSWORD)).map(([where]) => where);
    assert.deepEqual(hits, []);
  });
});
