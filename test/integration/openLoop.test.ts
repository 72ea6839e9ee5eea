import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { profile } from '../../src/core/load/runner';
import { testDb, waitNoPgloadSessions } from '../support/server';

const conn = () => ({ url: testDb().url });
const base = { baselineRuns: 1, explain: false, sampleIntervalMs: 0 } as const;

describe('Fixed arrival rate (open loop)', function () {
  this.timeout(60_000);

  it('100/s over pg_sleep(0.02) with 1 connection: corrected latency grows with the backlog, uncorrected stays near 20 ms', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: conn(), clients: 1, durationMs: 3000, ...base, rate: { perSecond: 100, distribution: 'constant', maxOutstanding: 1000, seed: 1 } });
    const ol = r.load.openLoop!;
    assert.ok(ol.uncorrected.p50Ms >= 20 && ol.uncorrected.p50Ms < 24, `uncorrected p50 ${ol.uncorrected.p50Ms}`);
    // One connection serves at most ~48/s: after 3 s about 150 requests wait; the last ones waited ~3 s.
    assert.ok(r.load.latency.p95Ms > 1500, `corrected p95 ${r.load.latency.p95Ms}`);
    assert.ok(r.load.latency.p50Ms > 10 * ol.uncorrected.p50Ms, `corrected p50 ${r.load.latency.p50Ms}`);
    assert.ok(ol.achievedQps > 40 && ol.achievedQps < 52, `achieved ${ol.achievedQps}/s`);
    assert.ok(ol.late > 200, `${ol.late} sent late`);
    assert.equal(ol.dropped, 0);
    // Every scheduled request was served: the backlog drains after the duration.
    assert.ok(r.load.requests.ok >= 295 && r.load.requests.ok <= 302, `${r.load.requests.ok} served`);
    // The corrected latency over time rises: a backlog, not a steady state.
    const firstP95 = r.timeline[1].p95Ms!;
    const lastP95 = r.timeline[r.timeline.length - 2].p95Ms!;
    assert.ok(lastP95 > 5 * firstP95, `p95 over time ${firstP95} → ${lastP95}`);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a rate the sessions can serve: achieved ≈ target, corrected ≈ uncorrected', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.01)', connection: conn(), clients: 4, durationMs: 2000, ...base, rate: { perSecond: 50, distribution: 'constant', maxOutstanding: 500, seed: 1 } });
    const ol = r.load.openLoop!;
    assert.ok(Math.abs(ol.achievedQps - 50) < 5, `achieved ${ol.achievedQps}`);
    assert.ok(r.load.latency.p50Ms < ol.uncorrected.p50Ms + 3, `corrected ${r.load.latency.p50Ms} vs uncorrected ${ol.uncorrected.p50Ms}`);
    assert.ok(r.load.requests.ok >= 98 && r.load.requests.ok <= 101);
  });

  it('max outstanding drops and counts what does not fit', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.05)', connection: conn(), clients: 1, durationMs: 1000, ...base, rate: { perSecond: 200, distribution: 'constant', maxOutstanding: 5, seed: 1 } });
    const ol = r.load.openLoop!;
    assert.ok(ol.dropped > 100, `${ol.dropped} dropped`);
    assert.ok(r.load.requests.ok + ol.dropped >= 195 && r.load.requests.ok + ol.dropped <= 201);
  });

  it('Poisson arrivals: the same seed gives the same number of requests in the same time', async () => {
    const run = (seed: number) => profile({ sql: 'SELECT 1', connection: conn(), clients: 2, durationMs: 1500, ...base, rate: { perSecond: 80, distribution: 'poisson', maxOutstanding: 800, seed } });
    const [a, b] = [await run(42), await run(42)];
    assert.equal(a.load.requests.ok, b.load.requests.ok);
    assert.ok(Math.abs(a.load.requests.ok - 120) < 40, `${a.load.requests.ok} arrivals in 1.5 s at 80/s`);
  });

  it('the CLI reports target vs achieved and both latencies, and checks --rate', () => {
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    const run = (args: string[]) => spawnSync(process.execPath, [cli, 'run', '--url', testDb().url, '--no-progress', '--no-explain', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const ok = run(['--sql', 'SELECT pg_sleep(0.02)', '--clients', '1', '--rate', '100/s', '--duration', '1s']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Arrivals: 100\/s constant · achieved \d+\.\d\/s — the rate could not be met/);
    assert.match(ok.stdout, /from sending \(uncorrected\): p50 2\d\.\d ms/);
    const bad = run(['--sql', 'SELECT 1', '--rate', 'fast']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--rate fast: write requests per second from 0\.01 to 1,000,000, like --rate 100\/s/);
  });
});
