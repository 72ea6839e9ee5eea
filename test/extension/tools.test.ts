/** The language-model tools for agents. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import * as vscode from 'vscode';
import { ADMIN_URL, answers, api, setSettings, waitFor } from './helpers';

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
