import * as assert from 'node:assert/strict';
import { profile } from '../../src/core/load/runner';
import { fromNthExecution, testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { pgload } from '../support/cli';
import { shareMainLoop } from '../../src/core/load/hostLoop';
import { performance } from 'node:perf_hooks';

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
    // A closed loop without think time obeys Little's law: throughput = clients ÷ mean latency. Both figures
    // come from this run, so the check holds on a busy machine; it fails when the loops' counts and histograms
    // are not added up right (a loop lost or counted twice is off by a factor of 1.5–2).
    const expected = 8 / (r.load.latency.meanMs / 1000);
    const ratio = r.load.throughputQps / expected;
    assert.ok(ratio > 0.85 && ratio < 1.1, `${r.load.throughputQps} q/s against 8 ÷ ${r.load.latency.meanMs} ms = ${expected.toFixed(1)} q/s`);
    // No request can be faster than the sleep; the median is near it whatever the machine does.
    assert.ok(r.load.latency.minMs >= 20, `min ${r.load.latency.minMs} ms`);
    assert.ok(r.load.latency.p50Ms < 2 * 20, `p50 ${r.load.latency.p50Ms} ms`);
    const waits = r.insight.waits!;
    assert.ok(waits.samples > 5);
    const sleep = waits.shares.find((w) => /PgSleep/.test(w.event));
    assert.ok(sleep, JSON.stringify(waits.shares));
    assert.ok(waits.avgActive > 5, `avg active ${waits.avgActive}`);
  });

  it('terminated sessions on worker threads are counted as failures with the server\'s reason; all of them gone ends the run as clients-lost', async () => {
    let killed = false;
    const loadSessions = "FROM pg_stat_activity WHERE application_name = 'pgload' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(0.02)%'";
    // On a busy machine one loop's sessions may still be setting up when the other loop has done 20 requests, and a
    // session between two requests shows its ROLLBACK, not the sleep: end the sleeping ones until all four are ended.
    const killAll = async () => {
      const deadline = Date.now() + 15_000;
      let ended = 0;
      while (ended < 4 && Date.now() < deadline) {
        const r = await withAdmin((c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) ${loadSessions}) t`));
        ended += r.rows[0].n;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const r = await profile(
      { ...quiet, sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 4, durationMs: 20_000, workers: 2 },
      {
        onProgress: (p) => {
          if (p.phase === 'load' && p.done > 20 && !killed) {
            killed = true;
            void killAll();
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

  it('cancel during the load on worker threads: the running 30 s queries are cancelled on the server, the run ends as cancelled, and no session is left', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    // The baseline's two executions and the load's first twelve sleep 10 ms, every later one 30 s (a sequence counts them;
    // writes allowed for it): the cancel comes once the server shows the long sleeps.
    const sql = `SELECT pg_sleep(${await fromNthExecution(15, '30', '0.01')})`;
    let watching = false;
    const watch = async () => {
      const deadline = Date.now() + 40_000;
      while (!ac.signal.aborted && Date.now() < deadline) {
        const n = await withAdmin((c) =>
          c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload' AND state = 'active' AND wait_event = 'PgSleep' AND now() - query_start > interval '300 ms'"),
        );
        if (n.rows[0].n >= 4) {
          abortedAt = Date.now();
          ac.abort();
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const r = await profile(
      { ...quiet, sql, connection: conn(), clients: 4, durationMs: 60_000, workers: 2, allowWrites: true },
      {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'load' && !watching) {
            watching = true;
            void watch();
          }
        },
      },
    );
    assert.ok(abortedAt > 0, 'the four 30 s sleeps were seen on the server');
    const settledAfterMs = Date.now() - abortedAt;
    assert.equal(r.status, 'cancelled');
    // Without the cancel on the server the run would wait for the sleeps (about 30 s); 10 s leaves room for a busy machine.
    assert.ok(settledAfterMs < 10_000, `settled ${settledAfterMs} ms after the cancel, while 30 s queries were running`);
    assert.equal(r.load.requests.failed, 0, 'queries we cancelled are not counted as failures');
    assert.equal(r.load.requests.ok, 12, 'the twelve short requests completed before the long ones');
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('in a host whose main loop serves others (the editor), a busy load runs on a worker thread: that loop stays mostly idle where it was busy, and a cancel still ends the run at once', async () => {
    const sql = 'SELECT count(*) FROM generate_series(1, 50)';
    // How busy this process's main loop was while `run` ran (its event-loop utilisation, 0–1).
    const busy = async (run: () => Promise<Awaited<ReturnType<typeof profile>>>) => {
      const before = performance.eventLoopUtilization();
      const r = await run();
      return { r, elu: performance.eventLoopUtilization(before).utilization };
    };
    const onMain = await busy(() => profile({ ...quiet, sql, connection: conn(), clients: 2, durationMs: 1500 }));
    assert.equal(onMain.r.load.client?.loops, 1);
    shareMainLoop(true);
    try {
      const onThread = await busy(() => profile({ ...quiet, sql, connection: conn(), clients: 2, durationMs: 1500 }));
      assert.equal(onThread.r.status, 'completed');
      assert.equal(onThread.r.load.client?.loops, 1);
      assert.equal(onThread.r.load.latency.count, onThread.r.load.requests.ok);
      // Both figures are this machine's, measured now: on the main loop the load keeps it busy; on a thread it only
      // takes the thread's batches, a few times a second.
      assert.ok(onThread.elu < onMain.elu / 3, `main loop busy ${(onThread.elu * 100).toFixed(0)} % with the load on a thread, ${(onMain.elu * 100).toFixed(0)} % with it on the main loop`);
      const ac = new AbortController();
      const r = await profile({ ...quiet, sql, connection: conn(), clients: 2, durationMs: 60_000 }, { signal: ac.signal, onProgress: (p) => p.phase === 'load' && p.done > 200 && ac.abort() });
      assert.equal(r.status, 'cancelled');
      assert.ok(r.load.wallMs < 30_000, `ended after ${r.load.wallMs} ms of a planned minute`);
      assert.equal(await waitNoPgloadSessions(2000), 0);
    } finally {
      shareMainLoop(false);
    }
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
