/** The Runs view (history), compare and export, and the secrets kept out of everything. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Comparison, ProfileResult } from '../../src/shared/result';
import * as os from 'node:os';
import { PASSWORD, answers, api, messagesDuring, selectText, waitFor, workspaceFile } from './helpers';

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
    // pg_sleep(0.01) twice: usually no difference. On a busy machine one of the two can truly be slower (seen: median
    // 10.9 → 19.8 ms); the verdict then says so and agrees with its own figures, never the reverse of them.
    const p50 = c.metrics.find((m) => m.name === 'p50')!;
    if (c.verdict === 'no-significant-difference') assert.ok(!(p50.significant && c.distribution?.shifted), c.summary);
    else {
      assert.equal(c.verdict === 'slower' ? p50.b > p50.a : p50.b < p50.a, true, c.summary);
      assert.ok(p50.significant && c.distribution?.shifted, c.summary);
    }

    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-export-')), 'run.html');
    answers.pick = (_title, labels) => labels.indexOf('HTML');
    answers.save = () => target;
    assert.equal(await vscode.commands.executeCommand('pgload.runs.export', rb.runId), true);
    const html = fs.readFileSync(target, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes(JSON.stringify(b.fingerprint)));
    assert.ok(!html.includes(PASSWORD));
  });

  it('Open a Result File adds a result written elsewhere (pgload run or merge --json) to Runs and opens it; a file that is not one is refused', async () => {
    const [latest] = api.history.list().filter((e) => e.kind === 'run');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-import-'));
    const file = path.join(dir, 'from-ci.json');
    fs.writeFileSync(file, JSON.stringify(api.history.result(latest.runId)));
    const before = api.history.list().length;
    answers.open = () => file;
    assert.equal(await vscode.commands.executeCommand('pgload.runs.import'), true);
    const added = api.history.list().find((e) => e.name === 'from-ci.json');
    assert.ok(added, 'the file is in Runs under its name');
    assert.equal(api.history.list().length, before + 1);
    assert.equal(api.history.result(added.runId)!.fingerprint, api.history.result(latest.runId)!.fingerprint);

    fs.writeFileSync(file, '{"not": "a result"}');
    const shown = await messagesDuring(async () => assert.equal(await vscode.commands.executeCommand('pgload.runs.import'), false));
    assert.match(shown.map((m) => m.message).join('\n'), /from-ci\.json.*(not a pgload result|missing parts of a result)/);
    assert.equal(api.history.list().length, before + 1, 'nothing added');
    answers.open = () => undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pgload.history.maxRuns prunes to the newest runs at once, keeping pinned ones', async () => {
    const pinned = api.history.list().filter((e) => e.pinned).map((e) => e.runId);
    const newest = api.history.list().filter((e) => !e.pinned)[0].runId;
    const seen = JSON.stringify(api.history.list().map((e) => [e.runId.slice(0, 8), e.startedAt, e.file.slice(0, 40), e.pinned, e.kind, e.name]));
    await vscode.workspace.getConfiguration('pgload').update('history.maxRuns', 1 + pinned.length, vscode.ConfigurationTarget.Workspace);
    await waitFor('pruned', () => (api.history.list().length === 1 + pinned.length ? true : undefined), 5000);
    assert.deepEqual(api.history.list().map((e) => e.runId).sort(), [newest, ...pinned].sort(), seen);
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
