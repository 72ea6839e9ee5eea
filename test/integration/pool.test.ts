import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { profile } from '../../src/core/load/runner';
import { testDb, waitNoPgloadSessions } from '../support/server';
import { pgload, tmp } from '../support/cli';
import * as fs from 'node:fs';
import type { ProfileResult } from '../../src/shared/result';
import { formatTextReport } from '../../src/shared/format';

const conn = () => ({ url: testDb().url });

describe('Application pool emulation', function () {
  this.timeout(60_000);

  it('40 users on a pool of 4 over pg_sleep(0.05): pool wait ≈ 9 × database time at p50 (queueing theory, within 20 %)', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.05)', connection: conn(), durationMs: 4000, baselineRuns: 1, explain: false, pool: { users: 40, size: 4, maxOverflow: 0, timeoutMs: 30_000 } });
    const p = r.load.pool!;
    assert.equal(p.sessions, 4);
    assert.equal(p.maxInUse, 4);
    assert.equal(r.load.clients, 4);
    // Closed loop: each request finds the 36 others queued ahead of it, 4 at a time, 50 ms each.
    const ratio = p.waitMs.p50Ms / p.dbMs.p50Ms;
    assert.ok(ratio >= 9 * 0.8 && ratio <= 9 * 1.2, `wait/db at p50 = ${ratio.toFixed(2)} (${p.waitMs.p50Ms} / ${p.dbMs.p50Ms} ms)`);
    assert.ok(p.dbMs.p50Ms >= 50 && p.dbMs.p50Ms < 2 * 50, `db p50 ${p.dbMs.p50Ms} ms`);
    // 4 sessions serve the queue: throughput = 4 ÷ time in the database (Little's law on the sessions), at most 80 q/s.
    const expected = 4 / (p.dbMs.meanMs / 1000);
    assert.ok(r.load.throughputQps > 0.85 * expected && r.load.throughputQps <= 80, `${r.load.throughputQps} q/s for 4 sessions of ${p.dbMs.meanMs} ms`);
    assert.equal(p.timeouts, 0);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('users who pause between requests send what Little\'s law says, far below the same users back to back', async () => {
    const pool = { users: 40, size: 4, maxOverflow: 0, timeoutMs: 30_000 };
    const input = { sql: 'SELECT pg_sleep(0.02)', connection: conn(), durationMs: 3000, baselineRuns: 1, explain: false, sampleIntervalMs: 0 };
    const stampede = await profile({ ...input, pool });
    const paused = await profile({ ...input, pool: { ...pool, thinkTimeMs: 500, thinkTimeDistribution: 'exponential' } });
    const p = paused.load.pool!;
    assert.ok(p.think, 'the pauses are measured');
    assert.ok(p.think.meanMs >= 500 * 0.75 && p.think.meanMs <= 500 * 1.35, `mean pause ${p.think.meanMs} ms for 500 asked`);
    // N = X × (R + Z): 40 users each cycling through a latency and a pause.
    const little = (40 * 1000) / (paused.load.latency.meanMs + p.think.meanMs);
    assert.ok(Math.abs(paused.load.throughputQps - little) / little < 0.2, `${paused.load.throughputQps} q/s measured, ${little} by Little's law`);
    assert.ok(Math.abs(p.think.expectedQps - little) / little < 0.05, `the result's own figure ${p.think.expectedQps}`);
    // 4 sessions of 20 ms serve at most ~200 q/s; 40 users pausing 0.5 s ask ~77 q/s: the pool is rarely full.
    assert.ok(paused.load.throughputQps < 0.6 * stampede.load.throughputQps, `${paused.load.throughputQps} q/s pausing against ${stampede.load.throughputQps} back to back`);
    assert.ok(p.waitMs.p50Ms < stampede.load.pool!.waitMs.p50Ms / 5, `pool wait p50 ${p.waitMs.p50Ms} ms pausing, ${stampede.load.pool!.waitMs.p50Ms} ms back to back`);
    const text = formatTextReport(paused);
    assert.match(text, /40 users pausing 500 ms \(exponential\) between requests over a pool of 4/);
    assert.match(text, /Demand: 40 users ÷ \(latency \S+ ms \+ pause \S+ ms, means\) = \S+ q\/s by Little's law; measured \S+ q\/s/);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a pool_timeout shorter than the queue gives counted timeouts with SQLAlchemy\'s message', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.05)', connection: conn(), durationMs: 2000, baselineRuns: 1, explain: false, maxErrors: 0, pool: { users: 20, size: 2, maxOverflow: 0, timeoutMs: 200 } });
    const p = r.load.pool!;
    assert.ok(p.timeouts > 10, `${p.timeouts} timeouts`);
    assert.equal(r.load.requests.failed, p.timeouts);
    const g = r.errors.find((e) => e.code === 'POOL_TIMEOUT')!;
    assert.equal(g.message, 'QueuePool limit of size 2 overflow 0 reached, connection timed out, timeout 0.20');
    assert.ok(p.waitMs.maxMs <= 260, `no successful request waited longer than the timeout: ${p.waitMs.maxMs}`);
  });

  it('20 + 100 overflow for 100 users gives every user a session: no pool wait, all the time in the database', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: conn(), durationMs: 2000, baselineRuns: 1, explain: false, sampleIntervalMs: 0, pool: { users: 100, size: 20, maxOverflow: 100, timeoutMs: 30_000 } });
    const p = r.load.pool!;
    assert.equal(p.sessions, 100);
    assert.ok(p.waitMs.p95Ms < 1, `pool wait p95 ${p.waitMs.p95Ms}`);
    assert.ok(p.dbMs.p50Ms >= 20);
  });

  it('the CLI splits the report into pool wait and database time, and checks its flags', () => {
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    const run = (args: string[]) => spawnSync(process.execPath, [cli, 'run', '--url', testDb().url, '--no-progress', '--no-explain', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const ok = run(['--sql', 'SELECT pg_sleep(0.02)', '--users', '12', '--pool-size', '3', '--duration', '1500ms']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Under load \(12 users over a pool of 3 \(pool_timeout 30\.0 s\) × 1\.50 s\)/);
    assert.match(ok.stdout, /Wait \+ database: p50 \S+ ms \+ 2\d\.\d ms/);
    assert.match(ok.stdout, /of the time was waiting for a pooled connection: the latency is queueing in the application, not the query/);
    const bad = run(['--sql', 'SELECT 1', '--users', '10']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /An application pool needs both --users and --pool-size/);
    const alone = run(['--sql', 'SELECT 1', '--clients', '2', '--think-time', '2s']);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /--think-time is the pause of each application user: give --users and --pool-size with it/);
    const dist = run(['--sql', 'SELECT 1', '--users', '2', '--pool-size', '2', '--think-time', '2s', '--think-dist', 'poisson']);
    assert.equal(dist.status, 2);
    assert.match(dist.stderr, /--think-dist poisson: use exponential \(as users pause, the default\) or constant/);
  });

  it('pgload pools compares two configurations side by side: the small pool queues in the application at the same database time', async () => {
    const json = tmp('pools.json');
    const r = await pgload(['pools', '--url', testDb().url, '--sql', 'SELECT pg_sleep(0.02)', '--users', '20', '--pool', '10+10', '--pool', '2', '--duration', '1500ms', '--no-progress', '--json', json]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}pool +sessions +queries\/s +p50 +p95 +p99 +p95 wait +p95 db +wait % +timeouts +failed$/m);
    assert.match(r.stdout, /^ {2}10 \+ 10 +20 /m);
    assert.match(r.stdout, /^ {2}2 +2 /m);
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as { kind: string; runs: ProfileResult[] };
    assert.equal(out.kind, 'pool-comparison');
    const [big, small] = out.runs.map((x) => x.load.pool!);
    assert.deepEqual([big.sessions, small.sessions], [20, 2]);
    // Both spend ~20 ms in the database; only the small pool makes requests wait (18 queued ahead, 2 at a time).
    assert.ok(big.dbMs.p50Ms >= 20 && small.dbMs.p50Ms >= 20 && small.dbMs.p50Ms < 30);
    assert.ok(big.waitMs.p95Ms < 2 && small.waitMs.p50Ms > 5 * small.dbMs.p50Ms, `waits: ${big.waitMs.p95Ms} / ${small.waitMs.p50Ms}`);
    assert.match(r.stdout, /Highest throughput: 10 \+ 10 \(/);
    const bad = await pgload(['pools', '--url', testDb().url, '--sql', 'SELECT 1', '--users', '4', '--pool', '2']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Give two to four pool configurations to compare, like --pool 20\+100 --pool 4 \(got 1\)/);
  });
});
