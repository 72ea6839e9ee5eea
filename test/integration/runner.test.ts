import * as assert from 'node:assert/strict';
import { PgloadError } from '../../src/core/errors';
import { profile, type Progress } from '../../src/core/load/runner';
import type { ProfileResult } from '../../src/shared/result';
import { pgloadSessions, sleep, testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { pgload } from '../support/cli';

const conn = () => ({ url: testDb().url });

/** Collects unhandled rejections while a test runs: the engine must never leave one behind. */
function watchUnhandled(): { stop: () => unknown[] } {
  const seen: unknown[] = [];
  const on = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', on);
  return {
    stop: () => {
      process.off('unhandledRejection', on);
      return seen;
    },
  };
}

describe('Runner timing on a real PostgreSQL', function () {
  this.timeout(60_000);

  it('SELECT pg_sleep(0.02) at 1 client has a p50 just above 20 ms, alone and under load', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 1, requests: 50 });
    assert.equal(r.status, 'completed');
    assert.equal(r.load.requests.ok, 50);
    // Never below the sleep; the median within a few ms of it (a round trip and a wake-up), busy machine or not.
    assert.ok(r.load.latency.minMs >= 20 && r.load.latency.p50Ms <= 26, `min ${r.load.latency.minMs} ms, p50 ${r.load.latency.p50Ms} ms`);
    assert.ok(r.baseline.latency.minMs >= 20 && r.baseline.latency.p50Ms <= 26, `baseline min ${r.baseline.latency.minMs}, p50 ${r.baseline.latency.p50Ms} ms`);
    assert.equal(r.baseline.latency.count, 5);
    assert.ok(r.baseline.coldMs >= 20);
  });

  it('10 clients × pg_sleep(0.05) for 3 s: throughput = clients ÷ latency (about 200 q/s) and a p50 just above 50 ms', async () => {
    const progress: Progress[] = [];
    const r = await profile({ sql: 'SELECT pg_sleep(0.05)', connection: conn(), clients: 10, durationMs: 3000 }, { onProgress: (p) => progress.push(p) });
    assert.equal(r.status, 'completed');
    // Little's law for a closed loop without think time, with the latency this run measured: a wrong count, clock or
    // histogram breaks it on any machine, a busy one included.
    const expected = 10 / (r.load.latency.meanMs / 1000);
    assert.ok(r.load.throughputQps > 0.9 * expected && r.load.throughputQps <= 1.02 * expected, `throughput ${r.load.throughputQps} q/s against 10 ÷ ${r.load.latency.meanMs} ms`);
    assert.ok(r.load.throughputQps <= 200, `at most 10 ÷ 50 ms: ${r.load.throughputQps} q/s`);
    assert.ok(r.load.latency.minMs >= 50 && r.load.latency.p50Ms < 2 * 50, `min ${r.load.latency.minMs} ms, p50 ${r.load.latency.p50Ms} ms`);
    // The run stops at its duration: the last requests finish within a latency or two of it.
    assert.ok(r.load.wallMs >= 3000 && r.load.wallMs < 3000 + 4 * r.load.latency.p99Ms, `wall ${r.load.wallMs} ms`);
    // The timeline covers the run, and the live progress saw the load phase.
    const counted = r.timeline.reduce((a, p) => a + p.count, 0);
    assert.equal(counted, r.load.requests.ok);
    assert.ok(r.timeline.length >= 20, `${r.timeline.length} timeline points`);
    assert.ok(progress.some((p) => p.phase === 'load' && p.done > 0 && p.p95Ms !== null));
    assert.equal(r.histogram.reduce((a, b) => a + b.count, 0), r.load.requests.ok);
    assert.ok(r.load.slowdown !== null && r.load.slowdown > 0.9 && r.load.slowdown < 1.2, `slowdown ${r.load.slowdown}`);
  });

  it('keeps connect time out of query latency and reports it apart', async () => {
    const r = await profile({ sql: 'SELECT 1', connection: conn(), clients: 20, requests: 200 });
    assert.ok(r.load.connectMs.p50Ms > 0 && r.load.connectMs.maxMs >= r.load.connectMs.p50Ms);
    // SCRAM authentication costs milliseconds; SELECT 1 on an open session costs far less.
    assert.ok(r.load.latency.p50Ms < r.load.connectMs.p50Ms, `latency p50 ${r.load.latency.p50Ms} vs connect p50 ${r.load.connectMs.p50Ms}`);
  });

  it('counts requests over the threshold', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.03)', connection: conn(), clients: 2, requests: 20, thresholdMs: 10 });
    assert.equal(r.load.overThreshold.count, 20);
    assert.equal(r.load.overThreshold.percent, 100);
    const r2 = await profile({ sql: 'SELECT pg_sleep(0.03)', connection: conn(), clients: 2, requests: 20, thresholdMs: 1000 });
    assert.equal(r2.load.overThreshold.count, 0);
  });

  it('the result is plain, versioned JSON with the documented fields and no password', async () => {
    const r = await profile({ sql: 'SELECT 1', connection: conn(), clients: 2, requests: 10, warmupPerClient: 2 });
    const round = JSON.parse(JSON.stringify(r)) as ProfileResult;
    assert.deepEqual(round, r);
    assert.equal(r.schemaVersion, 1);
    for (const k of ['sql', 'fingerprint', 'startedAt', 'options', 'server', 'baseline', 'load', 'timeline', 'histogram', 'errors', 'hints', 'hdr']) {
      assert.ok(k in r, k);
    }
    for (const k of ['work_mem', 'max_connections', 'shared_buffers', 'max_parallel_workers_per_gather', 'jit']) assert.ok(r.server.settings[k], k);
    assert.equal(r.load.requests.total, 10);
    assert.equal(r.options.warmupPerClient, 2);
    assert.ok(!JSON.stringify(r).includes(testDb().password));
    assert.equal(r.cleanup.leftoverSessions, 0);
  });
});

describe('Safety: the database is not changed', function () {
  this.timeout(60_000);
  before(() =>
    withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS safety_items');
      await c.query('CREATE TABLE safety_items (id int PRIMARY KEY, name text)');
      await c.query("INSERT INTO safety_items SELECT g, 'item ' || g FROM generate_series(1, 500) g");
    }),
  );
  const snapshot = () =>
    withAdmin(async (c) => (await c.query<{ n: number; sum: string }>("SELECT count(*)::int AS n, md5(string_agg(id || ':' || name, ',' ORDER BY id)) AS sum FROM safety_items")).rows[0]);

  it('a DELETE profiled with writes allowed leaves the table unchanged', async () => {
    const before = await snapshot();
    const r = await profile({ sql: 'DELETE FROM safety_items WHERE id % 2 = 0', connection: conn(), clients: 4, requests: 40, allowWrites: true });
    assert.equal(r.options.executionMode, 'rolled-back');
    assert.equal(r.load.requests.ok, 40);
    assert.deepEqual(await snapshot(), before);
    assert.equal(before.n, 500);
  });

  it('INSERT, UPDATE, MERGE and SELECT … FOR UPDATE profiled with writes allowed leave the table byte-identical', async () => {
    const before = await snapshot();
    const statements = [
      "INSERT INTO safety_items SELECT g, 'new' FROM generate_series(1001, 1010) g",
      "UPDATE safety_items SET name = name || '!' WHERE id <= 100",
      "MERGE INTO safety_items t USING (SELECT 3 AS id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = 'merged' WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'x')",
      'SELECT * FROM safety_items WHERE id < 10 FOR UPDATE',
    ];
    for (const sql of statements) {
      // One client: concurrent INSERTs of the same keys would only wait on each other's uncommitted rows.
      const r = await profile({ sql, connection: conn(), clients: 1, requests: 10, allowWrites: true, sampleIntervalMs: 0 });
      assert.equal(r.options.executionMode, 'rolled-back', sql);
      assert.equal(r.load.requests.failed, 0, `${sql}: ${JSON.stringify(r.errors)}`);
      assert.deepEqual(await snapshot(), before, sql);
    }
  });

  it('a DELETE without writes allowed is refused before anything runs', async () => {
    // Pointed at a port where nothing listens: a refusal that tried to connect would say "connection refused".
    await assert.rejects(
      profile({ sql: 'DELETE FROM safety_items', connection: { url: 'postgres://nobody@127.0.0.1:1/none' }, clients: 1, requests: 1 }),
      (e: PgloadError) => e.kind === 'input' && /refuses it unless writes are allowed/.test(e.message),
    );
    assert.equal((await snapshot()).n, 500);
  });

  it('DDL is always refused, even with writes allowed', async () => {
    for (const sql of ['DROP TABLE safety_items', 'TRUNCATE safety_items', 'ALTER TABLE safety_items ADD COLUMN x int']) {
      await assert.rejects(
        profile({ sql, connection: { url: 'postgres://nobody@127.0.0.1:1/none' }, allowWrites: true }),
        (e: PgloadError) => e.kind === 'input' && /schema changes/.test(e.message),
        sql,
      );
    }
    assert.equal((await snapshot()).n, 500);
  });

  it('a read-only query that writes through a function is rejected by the server itself', async () => {
    await withAdmin((c) => c.query('CREATE SEQUENCE IF NOT EXISTS safety_seq'));
    const before = await withAdmin(async (c) => (await c.query<{ last_value: string }>('SELECT last_value FROM safety_seq')).rows[0].last_value);
    await assert.rejects(
      profile({ sql: "SELECT nextval('safety_seq')", connection: conn(), clients: 1, requests: 1 }),
      (e: PgloadError) => e.kind === 'statement' && /25006/.test(e.message) && /--allow-writes/.test(e.message),
    );
    const after = await withAdmin(async (c) => (await c.query<{ last_value: string }>('SELECT last_value FROM safety_seq')).rows[0].last_value);
    assert.equal(after, before);
  });

  it('with writes allowed, a SELECT calling a function that writes runs inside a rolled-back transaction: the table is unchanged', async () => {
    await withAdmin((c) =>
      c.query(`CREATE OR REPLACE FUNCTION safety_touch() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
        BEGIN INSERT INTO safety_items VALUES (100000 + (random() * 1000000)::int, 'written'); UPDATE safety_items SET name = 'touched' WHERE id = 1; RETURN 1; END $$`),
    );
    const before = await snapshot();
    const r = await profile({ sql: 'SELECT safety_touch()', connection: conn(), clients: 2, requests: 20, allowWrites: true, sampleIntervalMs: 0 });
    assert.equal(r.options.executionMode, 'rolled-back');
    assert.equal(r.load.requests.failed, 0, JSON.stringify(r.errors));
    assert.deepEqual(await snapshot(), before);
  });
});

describe('Stopping, failures and limits', function () {
  this.timeout(60_000);

  it('cancel mid-run: running queries are cancelled on the server and within 2 s no pgload session is left', async () => {
    const watch = watchUnhandled();
    const ac = new AbortController();
    // Short sleeps for the baseline, 5-second sleeps once the load is under way.
    const slowFrom = new Date(Date.now() + 1200);
    const sql = `SELECT pg_sleep(CASE WHEN clock_timestamp() > '${slowFrom.toISOString()}'::timestamptz THEN 5 ELSE 0.01 END)`;
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = Date.now();
      ac.abort();
    }, slowFrom.getTime() + 600 - Date.now());
    const r = await profile({ sql, connection: conn(), clients: 8, durationMs: 60_000, baselineRuns: 1, statementTimeoutMs: 60_000 }, { signal: ac.signal });
    const settledAfterMs = Date.now() - abortedAt;
    assert.equal(r.status, 'cancelled');
    assert.ok(settledAfterMs < 2000, `settled ${settledAfterMs} ms after the cancel, while 5 s queries were running`);
    assert.equal(await waitNoPgloadSessions(2000), 0);
    assert.equal(r.cleanup.leftoverSessions, 0);
    assert.equal(r.load.requests.failed, 0, 'queries we cancelled are not counted as failures');
    assert.ok(r.load.requests.ok > 0);
    assert.deepEqual(watch.stop(), []);
  });

  it('cancel during the baseline rejects as cancelled and leaves no session', async () => {
    const ac = new AbortController();
    const run = profile({ sql: 'SELECT pg_sleep(10)', connection: conn(), clients: 2, requests: 2, statementTimeoutMs: 60_000 }, { signal: ac.signal });
    await sleep(800);
    ac.abort();
    await assert.rejects(run, (e: PgloadError) => e.kind === 'cancelled');
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('pg_terminate_backend on some clients mid-run: the run finishes with the failures counted and grouped', async () => {
    const watch = watchUnhandled();
    let killed = 0;
    const run = profile({ sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 6, durationMs: 2500 }, {
      onProgress: (p) => {
        if (p.phase === 'load' && p.done > 20 && killed === 0) {
          killed = -1;
          void withAdmin(async (c) => {
            const r = await c.query<{ n: number }>(
              "SELECT count(pg_terminate_backend(pid))::int AS n FROM (SELECT pid FROM pg_stat_activity WHERE application_name = 'pgload' AND state = 'active' ORDER BY pid LIMIT 2) s",
            );
            killed = r.rows[0].n;
          });
        }
      },
    });
    const r = await run;
    assert.equal(killed, 2);
    assert.equal(r.status, 'completed');
    assert.ok(r.load.requests.failed >= 2 && r.load.requests.failed <= 2 + 2, `failed ${r.load.requests.failed}`);
    assert.ok(r.load.requests.ok > 100, `ok ${r.load.requests.ok}`);
    const g = r.errors.find((e) => e.code === '57P01');
    assert.ok(g, JSON.stringify(r.errors));
    assert.match(g.message, /terminating connection due to administrator command/);
    assert.equal(g.phase, 'load');
    assert.ok(g.firstAtMs > 0);
    assert.equal(await waitNoPgloadSessions(2000), 0);
    assert.deepEqual(watch.stop(), []);
  });

  it('too many clients for max_connections: refused before starting, with the numbers', async () => {
    const max = await withAdmin(async (c) => Number((await c.query('SHOW max_connections')).rows[0].max_connections));
    await assert.rejects(
      profile({ sql: 'SELECT 1', connection: conn(), clients: max + 50, requests: max + 50 }),
      (e: PgloadError) => {
        assert.equal(e.kind, 'capacity');
        assert.match(e.message, new RegExp(`${max + 50} clients need ${max + 50} connections, but the server has \\d+ free \\(max_connections ${max} − \\d+ reserved − \\d+ in use\\)`));
        return true;
      },
    );
    assert.equal(await withAdmin(pgloadSessions), 0);
  });

  it('a statement slower than the statement timeout is stopped by the server and reported before any load', async () => {
    await assert.rejects(
      profile({ sql: 'SELECT pg_sleep(0.3)', connection: conn(), clients: 2, requests: 10, statementTimeoutMs: 100 }),
      (e: PgloadError) => e.kind === 'statement' && /57014 canceling statement due to statement timeout/.test(e.message) && /statement timeout \(100 ms\)/.test(e.message),
    );
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('stops itself after max errors once the load starts failing', async () => {
    const startAt = new Date(Date.now() + 1500).toISOString();
    const sql = `SELECT CASE WHEN clock_timestamp() > '${startAt}'::timestamptz THEN 1/(random() * 0)::int ELSE 1 END`; // volatile: not folded at plan time
    const r = await profile({ sql, connection: conn(), clients: 2, durationMs: 20_000, maxErrors: 10, baselineRuns: 1 });
    assert.equal(r.status, 'bailed-out');
    assert.ok(r.load.requests.failed >= 10 && r.load.requests.failed <= 12, `failed ${r.load.requests.failed}`);
    assert.match(r.statusDetail ?? '', /Stopped after 10 failed requests .*22012 division by zero/);
    assert.ok(r.load.wallMs < 5000, `wall ${r.load.wallMs}`);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('statement_timeout hit by every request under load (fine alone): bail-out with the timeout named', async () => {
    // Alone it takes 50 ms; under load every client queues on one advisory lock and is stopped at 120 ms.
    const sql = 'SELECT pg_advisory_xact_lock(4242), pg_sleep(0.05)';
    const r = await profile({ sql, connection: conn(), clients: 8, durationMs: 20_000, statementTimeoutMs: 120, maxErrors: 20, baselineRuns: 1, explain: false, sampleIntervalMs: 0 });
    assert.equal(r.status, 'bailed-out');
    const g = r.errors.find((e) => e.code === '57014')!;
    assert.ok(g && g.count >= 20, JSON.stringify(r.errors));
    assert.match(g.message, /canceling statement due to statement timeout/);
    assert.match(r.statusDetail ?? '', /Stopped after 20 failed requests .*57014/);
    assert.ok(r.load.wallMs < 10_000);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a statement that fails alone is reported with the server message and its position in the SQL', async () => {
    const sql = 'SELECT id\n  FROM no_such_table';
    await assert.rejects(profile({ sql, connection: conn(), clients: 1, requests: 1 }), (e: PgloadError) => {
      assert.equal(e.kind, 'statement');
      assert.match(e.message, /42P01 relation "no_such_table" does not exist \(line 2, column 8\)/);
      assert.equal(e.location?.line, 2);
      return true;
    });
  });
});

describe('--application-name (an option added through the option table)', function () {
  this.timeout(60_000);

  it('every session of the run carries the name, none the default, and the leftover check finds them by it', async () => {
    const seen: number[] = [];
    const stray: number[] = [];
    let polling: Promise<void> | undefined;
    const r = await profile(
      { sql: 'SELECT pg_sleep(0.2)', connection: { url: testDb().url }, clients: 3, durationMs: 1500, baselineRuns: 1, applicationName: 'pgload-ci' },
      {
        onProgress: (p) => {
          if (p.phase !== 'load' || polling) return;
          polling = withAdmin(async (c) => {
            const q = await c.query<{ name: string; n: number }>("SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity WHERE application_name IN ('pgload', 'pgload-ci') GROUP BY 1");
            for (const row of q.rows) (row.name === 'pgload-ci' ? seen : stray).push(row.n);
          });
        },
      },
    );
    await polling;
    assert.equal(r.status, 'completed');
    // 3 clients, the EXPLAIN and sampler sessions and the control session: all named, none left with the default.
    assert.ok(seen[0] >= 3, `sessions named pgload-ci during the load: ${seen.join(',')}`);
    assert.deepEqual(stray, [], 'no session kept the default name');
    assert.equal(r.cleanup.leftoverSessions, 0);
    const left = await withAdmin((c) => c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload-ci'"));
    assert.equal(left.rows[0].n, 0);
  });

  it('the CLI takes it, and refuses a name PostgreSQL would not keep as given', async () => {
    const ok = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--clients', '2', '--requests', '10', '--application-name', 'pgload ci', '--no-progress', '--json', '-']);
    assert.equal(ok.code, 0, ok.stderr);
    for (const bad of ['', 'x'.repeat(64), 'naïve']) {
      const r = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--application-name', bad]);
      assert.equal(r.code, 2, JSON.stringify(bad));
      assert.match(r.stderr, /--application-name .*: an application name (has 1 to 63 characters|is printable ASCII only)/);
      assert.equal(r.stdout, '');
    }
  });
});
