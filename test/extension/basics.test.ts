/** The extension inside a real VS Code: commands, a run from a selection, CodeLens numbers and ranges, stale marking, cancel, diagnostics. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatMs } from '../../src/shared/format';
import type { ProfileResult } from '../../src/shared/result';
import { PASSWORD, api, asked, pgloadSessions, selectText, setSettings, waitFor, workspaceFile } from './helpers';

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
    assert.equal(resultLens.command!.title, `p50 ${formatMs(first.load.latency.p50Ms)} · p95 ${formatMs(first.load.latency.p95Ms)} at 2 clients · just now`);
  });

  it('a run cancelled during its load does not replace the lens\'s figures: they stay the last completed run\'s, and the lens says the newest was cancelled', async () => {
    const sql = 'SELECT pg_sleep(0.01) AS first';
    const completed = api.store.all().find((r) => r.result.sql === sql && r.result.status === 'completed');
    assert.ok(completed, 'the statement has a completed run (profiled above)');
    await setSettings({ durationSeconds: 30 });
    try {
      const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
      await selectText(await vscode.window.showTextDocument(doc), sql);
      const running = vscode.commands.executeCommand('pgload.profileSelection');
      await waitFor('the load phase', () => (api.panels.shown(sql)?.progress?.phase === 'load' && (api.panels.shown(sql)?.progress?.done ?? 0) > 0 ? true : undefined), 60_000);
      await vscode.commands.executeCommand('pgload.cancel');
      const cancelled = (await running) as ProfileResult | undefined;
      assert.equal(cancelled?.status, 'cancelled');
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 20)) ?? [];
      const title = lenses.map((l) => l.command?.title ?? '').find((t) => t.startsWith('p50 ') && t.includes('last run cancelled'));
      const L = completed.result.load.latency;
      assert.equal(title?.split(' · last run')[0].replace(/ · [^·]+ ago$| · just now$/, ''), `p50 ${formatMs(L.p50Ms)} · p95 ${formatMs(L.p95Ms)} at 2 clients`, lenses.map((l) => l.command?.title).join(' | '));
      assert.match(title!, / · last run cancelled just now$/);
    } finally {
      await setSettings({ durationSeconds: 0 });
    }
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
