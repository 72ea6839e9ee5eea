/** Parameters for $n and the concurrency sweep from the editor. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProfileResult, SweepResult } from '../../src/shared/result';
import { answers, api, messagesDuring, pgloadSessions, selectText, setSettings, waitFor, workspaceFile } from './helpers';

/** With the sweep's settings for one test, the first statement of queries.sql selected; the settings reset after. */
async function withSweepOfFirst(maxClients: number, stepSeconds: number, body: () => Promise<void>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('pgload');
  await cfg.update('sweep.maxClients', maxClients, vscode.ConfigurationTarget.Workspace);
  await cfg.update('sweep.stepSeconds', stepSeconds, vscode.ConfigurationTarget.Workspace);
  try {
    const doc = await vscode.workspace.openTextDocument(workspaceFile('queries.sql'));
    const editor = await vscode.window.showTextDocument(doc);
    await selectText(editor, 'SELECT pg_sleep(0.01) AS first');
    await body();
  } finally {
    await cfg.update('sweep.maxClients', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('sweep.stepSeconds', undefined, vscode.ConfigurationTarget.Workspace);
  }
}

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
    await withSweepOfFirst(4, 1, async () => {
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
    });
  });

  it('a sweep cancelled part-way is said cancelled — in its result, the panel and the message — and no pool size is claimed as a finding', async () => {
    await withSweepOfFirst(8, 2, async () => {
      let sweep: SweepResult | undefined;
      const messages = await messagesDuring(async () => {
        const running = vscode.commands.executeCommand('pgload.findPoolSize');
        // Cancelled once the step with 4 clients runs (4 sessions on the server).
        await waitFor('the step with 4 clients', async () => ((await pgloadSessions()) >= 4 ? true : undefined), 60_000);
        await vscode.commands.executeCommand('pgload.cancel');
        sweep = (await running) as SweepResult | undefined;
      });
      assert.ok(sweep, `the steps measured are kept: ${JSON.stringify(messages)}`);
      assert.equal(sweep.status, 'cancelled');
      assert.ok(sweep.steps.length < 4, JSON.stringify(sweep.steps.map((x) => x.clients)));
      // Cancelled in the 4-client step: the steps with 1 and 2 clients are complete, the 4-client one (if it got any figures) partial.
      assert.deepEqual(sweep.steps.filter((x) => !x.partial).map((x) => x.clients), [1, 2]);
      assert.ok(sweep.steps.every((x) => !x.partial || x.clients === 4), JSON.stringify(sweep.steps.map((x) => [x.clients, x.partial])));
      assert.ok(messages.some((m) => /^pgload: the sweep was cancelled (during its step with 4 clients, )?after 2 complete steps: its figures are partial/.test(m.message)), JSON.stringify(messages));
      assert.ok(!messages.some((m) => /^pgload: pool size \d+ for this statement/.test(m.message)), JSON.stringify(messages));
      assert.equal(api.panels.shown('SELECT pg_sleep(0.01) AS first')?.state, 'cancelled');
      // Runs keeps it as what happened.
      const kept = api.history.list().find((e) => e.kind === 'sweep' && e.startedAt === sweep!.startedAt);
      assert.equal(kept?.status, 'cancelled');
      const node = api.runsView.getChildren().flatMap((g) => api.runsView.getChildren(g)).find((x) => x.kind === 'run' && x.entry.runId === kept!.runId)!;
      assert.match(String(api.runsView.getTreeItem(node).description), /^\S+ · sweep to \d clients? · cancelled: partial · /);
      assert.equal(await waitFor('no session left', async () => ((await pgloadSessions()) === 0 ? true : undefined), 2000), true);
    });
  });

  it('with the load asked before runs, a sweep asks first with its range and duration (Cancel first: nothing runs); "do not ask again" holds for that range on that connection only', async () => {
    await setSettings({ askBeforeRun: true });
    try {
      await withSweepOfFirst(2, 1, async () => {
        let asked: string[] = [];
        answers.pick = (title, labels) => {
          asked = [title, ...labels];
          return 0;
        };
        const before = api.store.sweepBySql('SELECT pg_sleep(0.01) AS first')?.sweep.finishedAt;
        assert.equal(await vscode.commands.executeCommand('pgload.findPoolSize'), undefined);
        assert.equal(asked[0], 'Find the right pool size runs 2 steps of 1 s (1, 2 clients), then 1 again as a speed check, on "test": about 3 s, up to 2 sessions at once.');
        assert.deepEqual(asked.slice(1, 3), ['$(close) Cancel', '$(play) Run it']);
        assert.equal(api.store.sweepBySql('SELECT pg_sleep(0.01) AS first')?.sweep.finishedAt, before, 'cancelled: no sweep ran');
        // Run, and do not ask again: the next sweep of this range on "test" starts at once.
        answers.pick = (title, labels) => (title.startsWith('Find the right pool size runs') ? labels.findIndex((l) => l.includes('do not ask again on "test"')) : undefined);
        assert.ok(await vscode.commands.executeCommand('pgload.findPoolSize'), 'the sweep ran');
        asked = [];
        answers.pick = (title, labels) => {
          asked = [title, ...labels];
          return undefined;
        };
        assert.ok(await vscode.commands.executeCommand('pgload.findPoolSize'), 'the same range ran without a question');
        assert.deepEqual(asked, []);
      });
      // A wider range asks again.
      await withSweepOfFirst(4, 1, async () => {
        let title = '';
        answers.pick = (t) => {
          title = t;
          return 0;
        };
        assert.equal(await vscode.commands.executeCommand('pgload.findPoolSize'), undefined);
        assert.match(title, /runs 3 steps of 1 s \(1, 2, 4 clients\), then 1 again as a speed check, on "test": about 4 s, up to 4 sessions at once\.$/);
      });
    } finally {
      await setSettings({ askBeforeRun: false });
    }
  });
});
