import * as assert from 'node:assert/strict';
import type { ProfileResult } from '../../src/shared/result';
import { pgload, tmp } from '../support/cli';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';

const run = async (args: string[]): Promise<{ code: number; result?: ProfileResult; stderr: string }> => {
  const r = await pgload(['run', '--url', testDb().url, '--no-progress', '--json', '-', ...args]);
  return { code: r.code ?? -1, stderr: r.stderr, result: r.code === 0 || r.code === 1 ? (JSON.parse(r.stdout) as ProfileResult) : undefined };
};

describe('pgload run --background: other statements running while one is measured', function () {
  this.timeout(90_000);

  before(async () => {
    await withAdmin((c) => c.query('DROP TABLE IF EXISTS bg_t; CREATE TABLE bg_t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO bg_t SELECT g, 0 FROM generate_series(1, 1000) g'));
  });

  it('a read query with an UPDATE background: the background\'s figures apart, its writes rolled back, no row changed, no session left', async () => {
    const upd = tmp('checkout.sql', 'UPDATE bg_t SET v = v + 1 WHERE id = $1;\n');
    const r = await run(['--sql', 'SELECT sum(v) FROM bg_t', '--clients', '2', '--duration', '2s', '--allow-writes', '--background', upd, '--background-clients', '2', '--background-param', '1=int:1..1000']);
    assert.equal(r.code, 0, r.stderr);
    const bg = r.result!.load.background!;
    assert.ok(bg, 'the background is in the result');
    assert.equal(bg.sql, 'UPDATE bg_t SET v = v + 1 WHERE id = $1');
    assert.equal(bg.mode, 'rolled-back');
    assert.equal(bg.clients, 2);
    assert.ok(bg.requests.ok > 20, `${bg.requests.ok} background requests`);
    assert.equal(bg.endedEarly, null);
    // --allow-writes lets the background write; the profiled read keeps its READ ONLY transaction, as it runs alone
    // (one pipeline per request: no idle-in-transaction time in its waits).
    assert.equal(r.result!.options.executionMode, 'read-only');
    assert.ok(!r.result!.insight.waits!.shares.some((w) => w.event === 'Idle in transaction'), JSON.stringify(r.result!.insight.waits!.shares));
    assert.ok(r.result!.insight.counters.notes.some((n) => /A background load ran beside this one/.test(n)));
    await withAdmin(async (c) => assert.equal((await c.query<{ s: number }>('SELECT sum(v)::int AS s FROM bg_t')).rows[0].s, 0));
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a row the background holds locked: the profiled UPDATE waits on it (Lock in its waits), and does not without the background', async () => {
    // The background holds the row's lock while RETURNING sleeps; the profiled UPDATE of the same row must wait.
    const holder = tmp('holder.sql', 'UPDATE bg_t SET v = v WHERE id = 1 RETURNING pg_sleep(0.05);\n');
    // No EXPLAIN: its EXPLAIN ANALYZE under load is an UPDATE of the same row beside the one client, a lock of pgload's own.
    const main = ['--sql', 'UPDATE bg_t SET v = v + 1 WHERE id = 1', '--clients', '1', '--duration', '2s', '--allow-writes', '--sample-interval', '20ms', '--no-explain'];
    const alone = await run(main);
    assert.equal(alone.code, 0, alone.stderr);
    const lockShare = (r: ProfileResult) => r.insight.waits!.shares.filter((s) => s.event.startsWith('Lock')).reduce((a, s) => a + s.share, 0);
    assert.equal(lockShare(alone.result!), 0, JSON.stringify(alone.result!.insight.waits!.shares));
    // Only the UPDATE is timed, not pgload's BEGIN and ROLLBACK around it: one round trip per request.
    assert.equal(alone.result!.load.client?.roundTripsPerRequest, undefined);
    const withBg = await run([...main, '--background', holder, '--background-clients', '2']);
    assert.equal(withBg.code, 0, withBg.stderr);
    assert.ok(lockShare(withBg.result!) > 0.2, JSON.stringify(withBg.result!.insight.waits!.shares));
    // Slower by the lock: its median is at least the background's hold time.
    assert.ok(withBg.result!.load.latency.p50Ms > alone.result!.load.latency.p50Ms, `${withBg.result!.load.latency.p50Ms} vs ${alone.result!.load.latency.p50Ms}`);
    await withAdmin(async (c) => assert.equal((await c.query<{ s: number }>('SELECT sum(v)::int AS s FROM bg_t')).rows[0].s, 0));
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('bad input before anything runs: a background write without --allow-writes, DDL, a missing file, a rate with clients flags alone', async () => {
    const upd = tmp('w.sql', 'UPDATE bg_t SET v = v + 1 WHERE id = 1;\n');
    const w = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--background', upd]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /The background statement: .*--allow-writes/);
    const ddl = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--allow-writes', '--background', tmp('d.sql', 'DROP TABLE bg_t;\n')]);
    assert.equal(ddl.code, 2);
    assert.match(ddl.stderr, /The background statement: /);
    const missing = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--background', '/nonexistent/x.sql']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--background \/nonexistent\/x\.sql: no such file/);
    const alone = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--background-clients', '2']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--background-clients goes with --background FILE/);
    await withAdmin(async (c) => assert.equal((await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'bg_t'")).rows[0].n, 1));
  });
});
