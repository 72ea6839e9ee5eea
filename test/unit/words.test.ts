/** The engine's command-line words, said as VS Code says them. */
import * as assert from 'node:assert/strict';
import { exportFileName } from '../../src/shared/text';
import { inEditorWords } from '../../src/extension/words';

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
