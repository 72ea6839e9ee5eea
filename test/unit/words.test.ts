/** The engine's command-line words, said as VS Code says them. */
import * as assert from 'node:assert/strict';
import { exportFileName } from '../../src/shared/text';
import { inEditorWords, inEditorWordsDeep, shadowSentence } from '../../src/extension/words';

describe('messages in the editor’s words', () => {
  it('a refused connection points at the connection, not at --url / PGHOST / PGPORT', () => {
    const cli = 'Connection refused at 127.0.0.1:1: is PostgreSQL running there and listening on TCP? Check the host and port (--url, PGHOST, PGPORT).';
    assert.equal(inEditorWords(cli), "Connection refused at 127.0.0.1:1: is PostgreSQL running there and listening on TCP? Check the host and port (the connection's host and port: Edit Connection).");
  });

  it('flags with a setting become the setting; the others become what the editor does instead', () => {
    assert.equal(inEditorWords('raise --statement-timeout'), 'raise the pgload.statementTimeoutMs setting');
    assert.equal(inEditorWords('sweep higher (--max-clients 64) to find where it stops'), 'sweep higher (pgload.sweep.maxClients = 64) to find where it stops');
    assert.equal(inEditorWords('run longer steps (--step-duration) for a firmer answer'), 'run longer steps (pgload.sweep.stepSeconds) for a firmer answer');
    assert.match(inEditorWords('unless writes are allowed (--allow-writes: every request …)'), /unless writes are allowed \(confirming the write when pgload asks: every request …\)/);
    assert.equal(inEditorWords('The application users (--users) must be a whole number of at least 1'), 'The application users (pgload.app.users) must be a whole number of at least 1');
  });

  it('the engine\'s advice names what the editor does: the panel\'s A/B test, Find the right pool size, the setting', () => {
    assert.equal(inEditorWords('Rewrite it as a JOIN and compare the two with pgload ab --sql-b.'), 'Rewrite it as a JOIN and compare the two with "A/B test…" in the panel (B the rewrite).');
    assert.equal(inEditorWords('Give the hand-written SQL (--sql-b or --file-b) to measure it'), 'Give the hand-written SQL (in the panel: "A/B test…", B a second statement) to measure it');
    assert.equal(inEditorWords('Sweep further (pgload sweep --max-clients 128).'), 'Sweep further (set pgload.sweep.maxClients to 128 and Find the right pool size again).');
    assert.equal(inEditorWords('; `pgload sweep` (or "Find the right pool size") measures the right number'), '; "Find the right pool size" measures the right number');
  });

  it('a panel\'s state: every sentence reworded, SQL and names kept exactly, the state itself unchanged', () => {
    const state = {
      sql: 'SELECT 1 --clients',
      hints: [{ title: 'Sort spills', action: 'raise --work-mem? no: run longer steps (--step-duration)', sql: "SET LOCAL work_mem = '8MB' --step-duration" }],
      answers: { pool: { text: 'Sweep further (pgload sweep --max-clients 64).' } },
      settings: { application_name: '--users' },
      n: 3,
    };
    const copy = JSON.parse(JSON.stringify(state));
    const out = inEditorWordsDeep(state);
    assert.equal(out.hints[0].action, 'raise --work-mem? no: run longer steps (pgload.sweep.stepSeconds)');
    assert.equal(out.answers.pool.text, 'Sweep further (set pgload.sweep.maxClients to 64 and Find the right pool size again).');
    assert.equal(out.sql, state.sql);
    assert.equal(out.hints[0].sql, state.hints[0].sql);
    assert.deepEqual(out.settings, state.settings);
    assert.equal(out.n, 3);
    assert.deepEqual(state, copy);
  });

  it('a User setting the workspace overrides is said with the value runs use; nothing is said when nothing hides it', () => {
    assert.equal(shadowSentence('clients', { globalValue: 50, workspaceValue: 2 }), "pgload: pgload.clients is 2 in this workspace's settings, which take precedence over your User setting (50): runs here use 2.");
    assert.match(shadowSentence('clients', { globalValue: 50, workspaceValue: 2, workspaceFolderValue: 8 })!, /is 8 in this folder's settings/);
    assert.match(shadowSentence('connections', { globalValue: [{ name: 'a' }], workspaceValue: [{ name: 'b' }] })!, /is set in this workspace's settings too, .* runs here use the workspace's list\.$/);
    assert.equal(shadowSentence('clients', { globalValue: 50 }), undefined);
    assert.equal(shadowSentence('clients', { workspaceValue: 2 }), undefined);
    assert.equal(shadowSentence('clients', { globalValue: 2, workspaceValue: 2 }), undefined);
  });

  it('leaves a sentence without flags as it is, and never touches a longer flag that starts like a shorter one', () => {
    const plain = 'The run was cancelled during the baseline; nothing was measured under load.';
    assert.equal(inEditorWords(plain), plain);
    assert.doesNotMatch(inEditorWords('--statement-timeout-x'), /pgload\./);
  });
});

describe('an export is named after what it holds and when it ran', () => {
  it('the kind, the statement’s first words and the local start time; comments and punctuation left out; never a hash', () => {
    const startedAt = '2026-12-03T18:20:41.000Z';
    const t = new Date(startedAt);
    const two = (n: number) => String(n).padStart(2, '0');
    const local = `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())}-${two(t.getHours())}${two(t.getMinutes())}`;
    const sql = "-- the shop report\nSELECT c.id, c.name, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.status = 'shipped'";
    assert.equal(exportFileName('diagnosis', sql, startedAt, 'html'), `pgload-diagnosis-select-c-id-c-name-count-from-customers-${local}.html`);
    assert.equal(exportFileName('report', 'SELECT 1', startedAt, 'json'), `pgload-report-select-1-${local}.json`);
    // Nothing usable in the statement, a start that does not parse: still a name, never a broken one.
    assert.equal(exportFileName('report', '/* only a comment */', 'not a date', 'md'), 'pgload-report.md');
  });
});
