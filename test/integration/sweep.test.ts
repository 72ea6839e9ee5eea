import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { sweep } from '../../src/core/sweep';
import type { SweepResult } from '../../src/shared/result';
import { testDb } from '../support/server';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

describe('Concurrency sweep on a real PostgreSQL', function () {
  this.timeout(120_000);

  it('pg_sleep(0.05) scales almost linearly: 16 clients ≥ 14 × one client, κ ≈ 0, no peak in range', async () => {
    const r = await sweep({ sql: 'SELECT pg_sleep(0.05)', connection: { url: testDb().url }, steps: [1, 2, 4, 8, 16], maxClients: 16, stepDurationMs: 2000 });
    assert.deepEqual(r.steps.map((s) => s.clients), [1, 2, 4, 8, 16]);
    const one = r.steps[0].throughputQps;
    const sixteen = r.steps[4].throughputQps;
    assert.ok(sixteen >= 14 * one, `16 clients ${sixteen} q/s vs 1 client ${one} q/s`);
    assert.ok(r.usl && r.usl.kappa < 1e-4, JSON.stringify(r.usl));
    assert.ok(r.usl.peakClients === null || r.usl.peakClients > 16, `peak ${r.usl.peakClients}`);
    assert.ok(r.notes.some((n) => /No peak within/.test(n)), r.notes.join(' | '));
    assert.equal(r.recommendation?.poolSize, 16);
    assert.ok(r.curve.length >= 5);
  });

  it('a CPU-bound query on this 2-core machine peaks at a small N, and the recommended pool is ≤ 8', async () => {
    const r = await sweep({ sql: 'SELECT count(*) FROM generate_series(1, 300000)', connection: { url: testDb().url }, steps: [1, 2, 4, 8, 16, 32], maxClients: 32, stepDurationMs: 4000 });
    // Past the CPUs throughput is a plateau whose highest step is chance; the peak is where the plateau starts.
    const best = r.steps.reduce((a, b) => (b.throughputQps > a.throughputQps ? b : a));
    const plateau = r.steps.find((s) => s.throughputQps + 2 * Math.hypot(s.throughputSe, best.throughputSe) >= 0.95 * best.throughputQps)!;
    const shown = r.steps.map((s) => `${s.clients}:${s.throughputQps.toFixed(0)}±${s.throughputSe.toFixed(1)}`).join(' ');
    assert.ok(plateau.clients <= 8, `throughput reaches its peak at ${plateau.clients} clients: ${shown}`);
    assert.ok(r.recommendation && r.recommendation.poolSize <= 8, JSON.stringify(r.recommendation));
    assert.match(r.recommendation.reason, /within 5 % \(or the measurement noise\) of the best measured/);
    // Latency keeps growing past the CPUs while throughput does not: the point of a smaller pool.
    assert.ok(r.steps[5].p95Ms > 4 * r.steps[1].p95Ms, `p95 at 32 ${r.steps[5].p95Ms} vs at 2 ${r.steps[1].p95Ms}`);
  });

  it('the CLI sweep prints the table and the recommendation, trims steps above the free connections, and refuses bad steps', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'sweep', '--url', testDb().url, '--no-progress', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const ok = run(['--sql', 'SELECT pg_sleep(0.01)', '--steps', '1,2,4,5000', '--step-duration', '700ms', '--json', '-']);
    assert.equal(ok.status, 0, ok.stderr);
    const result = JSON.parse(ok.stdout) as SweepResult;
    assert.deepEqual(result.steps.map((s) => s.clients), [1, 2, 4]);
    assert.ok(result.notes.some((n) => /Steps above \d+ clients were left out: the server has \d+ free connections/.test(n)));
    assert.match(ok.stderr, /clients +queries\/s +p50 +p95 +p99/);
    assert.match(ok.stderr, /Pool size: \d+\./);
    const bad = run(['--sql', 'SELECT 1', '--steps', '1,2']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--steps 1,2: give at least three steps/);
  });
});
