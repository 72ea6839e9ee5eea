import * as assert from 'node:assert/strict';
import { profile } from '../../src/core/runner';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { pgload } from '../support/cli';

const conn = () => ({ url: testDb().url });
const quiet = { baselineRuns: 1, explain: false, sampleIntervalMs: 0, maxErrors: 0 };

/** Clients on several event loops (worker threads): the figures must be the same kind as on one loop. */
describe('Load workers (several event loops) on a real PostgreSQL', function () {
  this.timeout(60_000);

  it('1,000 requests over 6 clients on 3 loops: exactly 1,000 counted, in the histogram and in the timeline, and no session left', async () => {
    const r = await profile({ ...quiet, sql: 'SELECT count(*) FROM generate_series(1, 200)', connection: conn(), clients: 6, requests: 1000, workers: 3 });
    assert.equal(r.status, 'completed');
    assert.equal(r.load.client?.loops, 3);
    assert.equal(r.options.workers, 3);
    assert.equal(r.load.requests.total, 1000);
    assert.equal(r.load.requests.ok, 1000);
    assert.equal(r.load.latency.count, 1000);
    assert.equal(
      r.timeline.reduce((a, p) => a + p.count, 0),
      1000,
    );
    assert.equal(r.cleanup.leftoverSessions, 0);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('pg_sleep(0.02) on 8 clients over 2 loops: the rate and the latency of 8 sessions sleeping 20 ms, and the sampler sees them', async () => {
    const r = await profile({ ...quiet, sampleIntervalMs: 100, sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 8, durationMs: 2500, workers: 2 });
    assert.equal(r.load.client?.loops, 2);
    // 8 sessions × 1 / 20 ms = 400 per second at most; a little less for the round trips.
    assert.ok(r.load.throughputQps > 330 && r.load.throughputQps <= 400, `${r.load.throughputQps} q/s`);
    assert.ok(r.load.latency.p50Ms >= 20 && r.load.latency.p50Ms < 25, `p50 ${r.load.latency.p50Ms} ms`);
    const waits = r.insight.waits!;
    assert.ok(waits.samples > 5);
    const sleep = waits.shares.find((w) => /PgSleep/.test(w.event));
    assert.ok(sleep, JSON.stringify(waits.shares));
    assert.ok(waits.avgActive > 5, `avg active ${waits.avgActive}`);
  });

  it('terminated sessions on worker threads are counted as failures with the server\'s reason; all of them gone ends the run as clients-lost', async () => {
    let killed = false;
    const r = await profile(
      { ...quiet, sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 4, durationMs: 20_000, workers: 2 },
      {
        onProgress: (p) => {
          if (p.phase === 'load' && p.done > 20 && !killed) {
            killed = true;
            void withAdmin((c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgload' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(0.02)%'"));
          }
        },
      },
    );
    assert.equal(r.status, 'clients-lost');
    assert.ok(r.load.wallMs < 10_000, `ended after ${r.load.wallMs} ms, not the planned 20 s`);
    const g = r.errors.find((e) => e.code === '57P01');
    assert.ok(g && g.count >= 1 && g.phase === 'load' && g.firstAtMs > 0, JSON.stringify(r.errors));
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('cancel during the load on worker threads: the running 5 s queries are cancelled on the server, the run ends as cancelled, and within 2 s no session is left', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    const slowFrom = new Date(Date.now() + 1500);
    const sql = `SELECT pg_sleep(CASE WHEN clock_timestamp() > '${slowFrom.toISOString()}'::timestamptz THEN 5 ELSE 0.01 END)`;
    setTimeout(() => {
      abortedAt = Date.now();
      ac.abort();
    }, slowFrom.getTime() + 700 - Date.now());
    const r = await profile({ ...quiet, sql, connection: conn(), clients: 4, durationMs: 60_000, workers: 2 }, { signal: ac.signal });
    const settledAfterMs = Date.now() - abortedAt;
    assert.equal(r.status, 'cancelled');
    assert.ok(settledAfterMs < 2000, `settled ${settledAfterMs} ms after the cancel, while 5 s queries were running`);
    assert.equal(r.load.requests.failed, 0, 'queries we cancelled are not counted as failures');
    assert.ok(r.load.requests.ok > 0);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('an application pool asked to run on 2 loops runs on one and says so', async () => {
    const r = await profile({ ...quiet, sql: 'SELECT 1', connection: conn(), pool: { users: 4, size: 2, maxOverflow: 0, timeoutMs: 5000 }, requests: 100, workers: 2 });
    assert.equal(r.load.client?.loops, 1);
    assert.ok(r.insight.counters.notes.some((n) => /2 event loops were asked for, and one was used: the application-pool emulation runs on one/.test(n)), JSON.stringify(r.insight.counters.notes));
  });

  it('the CLI takes --workers N or auto, refuses anything else, and reports the loops', async () => {
    const ok = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--clients', '4', '--requests', '200', '--workers', '2', '--no-explain', '--sample-interval', '0', '--no-progress']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pgload itself .* 2 event loops \(worker threads\)/);
    for (const bad of ['0', 'many', '65', '1.5']) {
      const r = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--workers', bad]);
      assert.equal(r.code, 2, `--workers ${bad}`);
      assert.match(r.stderr, /--workers/);
      assert.equal(r.stdout, '');
    }
  });
});
