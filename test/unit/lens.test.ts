/** What the CodeLens above a statement says: figures that finished, with the load they were measured at. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { matchRuns } from '../../src/extension/lensMatch';
import { formatLensTitle } from '../../src/shared/format';
import { statementSpans } from '../../src/core/sqlSpans';
import type { ProfileResult } from '../../src/shared/result';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as ProfileResult;

describe('the CodeLens of a statement: the last completed profile of exactly it, with its load', () => {
  const doc = 'SELECT 1 AS a;\nSELECT 2 AS b;\n';
  const spans = statementSpans(doc);
  const run = (sql: string, status: ProfileResult['status'], finishedAt: string, base = fixture('result-demo-50-clients.json')) => ({
    runId: `${sql}-${finishedAt}`,
    result: { ...base, sql, status, finishedAt, fingerprint: sql },
  });
  const now = Date.parse('2026-12-04T12:00:00Z');

  it('a newer cancelled run does not replace the figures of the last completed one; the lens says the newest was cancelled, and when', () => {
    const done = run('SELECT 1 AS a', 'completed', '2026-12-04T11:50:00Z');
    const cancelled = run('SELECT 1 AS a', 'cancelled', '2026-12-04T11:58:00Z');
    const [a, b] = matchRuns(spans, [cancelled, done], 'file:///q.sql', () => undefined);
    assert.equal(a.run, done);
    assert.equal(a.unfinished, cancelled);
    assert.equal(b.run, undefined);
    const L = done.result.load.latency;
    assert.match(formatLensTitle(a.run!.result, now, a.stale, a.unfinished!.result), new RegExp(`^p50 \\S+ \\S+ · p95 \\S+ \\S+ at ${done.result.load.clients} clients · 10 min ago · last run cancelled 2 min ago$`));
    assert.ok(L.p95Ms > 0);
  });

  it('only unfinished runs: the newest is shown with its state (nothing better to show); a completed newest stands alone', () => {
    const failed = run('SELECT 1 AS a', 'bailed-out', '2026-12-04T11:58:00Z');
    const [a] = matchRuns(spans, [failed], 'file:///q.sql', () => undefined);
    assert.equal(a.run, failed);
    assert.equal(a.unfinished, undefined);
    assert.match(formatLensTitle(a.run!.result, now, false), / · stopped after too many errors$/);
    const newer = run('SELECT 1 AS a', 'completed', '2026-12-04T11:59:00Z');
    const [c] = matchRuns(spans, [newer, failed], 'file:///q.sql', () => undefined);
    assert.deepEqual([c.run, c.unfinished], [newer, undefined]);
  });

  it('a run through the application pool is said in users, one client in the singular', () => {
    const pool = fixture('result-pool-40-users.json');
    assert.match(formatLensTitle(pool, now, false), new RegExp(` at ${pool.options.pool!.users} users · `));
    const one = fixture('result-demo-50-clients.json');
    one.load = { ...one.load, clients: 1 };
    assert.match(formatLensTitle(one, now, false), / at 1 client · /);
  });
});
