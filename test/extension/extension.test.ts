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
import { formatMs } from '../../src/core/format';
import type { ProfileResult } from '../../src/shared/result';

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

describe('pgload in VS Code', function () {
  let api: PgloadApi;
  const asked: string[] = [];

  before(async () => {
    assert.ok(ADMIN_URL && PASSWORD, 'PGLOAD_TEST_ADMIN_URL and PGLOAD_TEST_PASSWORD are set by the test runner');
    const ext = vscode.extensions.getExtension('pgload.pgload');
    assert.ok(ext, 'the extension under development is loaded');
    api = (await ext.activate()) as PgloadApi;
    // First a wrong password, then the right one: the extension must ask again and keep only the right one.
    const answers = ['not-the-password', PASSWORD];
    api.connections.askPassword = async (name, prompt) => {
      asked.push(`${name}: ${prompt}`);
      return answers.shift();
    };
  });

  it('registers every command it contributes, and contributes every command it registers', async () => {
    const contributed: string[] = vscode.extensions.getExtension('pgload.pgload')!.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('pgload.'));
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
    assert.ok(result.load.latency.p50Ms >= 10 && result.load.latency.p50Ms < 20, `p50 ${result.load.latency.p50Ms}`);
    assert.equal(api.store.bySql(result.sql)?.result.finishedAt, result.finishedAt);
    assert.equal(asked.length, 2, `asked twice (wrong, then right): ${asked.join(' | ')}`);
    assert.match(asked[0], /asks for a password/);
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
    assert.match(diags[0].message, /line 2, column 3: syntax error at or near "FROM"/);
    assert.equal(api.store.latest()?.runId, before, 'nothing was stored');
  });
});
