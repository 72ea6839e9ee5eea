import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatRate, formatSweepReport } from '../../src/shared/format';
import { peakClaim } from '../../src/shared/report/compare';
import { sweep } from '../../src/core/analysis/sweep';
import { stateFromSweep } from '../../src/shared/panelState';
import type { SweepResult } from '../../src/shared/result';
import { testDb, withAdmin } from '../support/server';
import { scratchDir } from '../support/scratch';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

describe('Concurrency sweep on a real PostgreSQL', function () {
  this.timeout(120_000);

  it('pg_sleep(0.05) scales linearly: swept three times, each says "no saturation up to 16 — sweep higher" and recommends 16', async () => {
    // Steps of 0.7 s are too short for 20 requests per client at 50 ms: every step runs on to ≥ 1 s and says so.
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await sweep({ sql: 'SELECT pg_sleep(0.05)', connection: { url: testDb().url }, steps: [1, 2, 4, 8, 16], maxClients: 16, stepDurationMs: 700 });
      assert.deepEqual(r.steps.map((s) => s.clients), [1, 2, 4, 8, 16]);
      const one = r.steps[0].throughputQps;
      const sixteen = r.steps[4].throughputQps;
      assert.ok(sixteen >= 12 * one, `16 clients ${sixteen} q/s vs 1 client ${one} q/s`);
      for (const s of r.steps) {
        assert.ok(s.ok >= 20 * s.clients, `${s.clients} clients completed ${s.ok} requests`);
        assert.equal(s.extended, 'extended', `${s.clients} clients ran ${s.wallMs} ms`);
      }
      assert.ok(r.notes.some((n) => /Steps run longer than 0\.7 s to complete ≥ 20 requests per client/.test(n)), r.notes.join(' | '));
      assert.ok(r.usl && r.usl.kappa < 1e-3, JSON.stringify(r.usl));
      assert.equal(r.recommendation?.saturated, false, r.recommendation?.reason);
      assert.match(r.recommendation!.reason, /^No saturation up to 16 clients: throughput still rises .* — sweep higher \(--max-clients 32\)/);
      // A sleep runs at one speed: the first step measured again after the last agrees with it.
      assert.equal(r.recheck?.verdict, 'held', JSON.stringify(r.recheck));
      assert.equal(r.recheck.clients, 1);
      assert.match(formatSweepReport(r), /Speed check: measured again after the last step, 1 client gave [\d.]+ ± [\d.]+ q\/s against [\d.]+ ± [\d.]+ q\/s at the start \([+−][\d.]+ %, within 5 %\): the server's speed held through the sweep\./);
      sizes.push(r.recommendation!.poolSize);
    }
    assert.deepEqual(sizes, [16, 16, 16]);
  });

  it('a CPU-bound query on this 2-core machine reaches its plateau at a small N, and the recommended pool is ≤ 8 with its reason', async () => {
    const r = await sweep({ sql: 'SELECT count(*) FROM generate_series(1, 300000)', connection: { url: testDb().url }, steps: [1, 2, 4, 8, 16], maxClients: 16, stepDurationMs: 3000 });
    const shown = r.steps.map((s) => `${s.clients}:${s.throughputQps.toFixed(0)}±${(s.throughputSe ?? NaN).toFixed(1)}`).join(' ');
    if (r.recheck?.verdict === 'drifted') {
      // This machine's cores change speed under it (seen: 1, 2, 4, 8, 16 clients at 15, 31, 32, 33, 44 q/s). Then the
      // steps do not compare, and the sweep must say so rather than size a pool from them.
      assert.equal(r.recommendation, null, `${shown} ${JSON.stringify(r.recheck)}`);
      assert.match(formatSweepReport(r), /No pool size: the server's speed changed during the sweep/);
      return;
    }
    assert.ok(r.recommendation && r.recommendation.poolSize <= 8, `${JSON.stringify(r.recommendation)} ${shown}`);
    assert.equal(r.recommendation.saturated, true, r.recommendation.reason);
    assert.match(r.recommendation.reason, /within 5 % of it|not significantly below it|the best throughput measured/);
    // The sentence quotes the figures of the steps it names.
    const pick = r.steps.find((s) => s.clients === r.recommendation!.poolSize)!;
    assert.ok(r.recommendation.reason.includes(formatRate(pick.throughputQps, pick.throughputSe)), `${r.recommendation.reason} / ${pick.throughputQps}`);
    // Past the CPUs latency grows with the clients while throughput does not (Little's law: latency ≈ N ÷ throughput).
    assert.ok(r.steps[4].p50Ms > 3 * r.steps[1].p50Ms, `p50 at 16 ${r.steps[4].p50Ms} vs at 2 ${r.steps[1].p50Ms}`);
  });

  it("the server's speed changed mid-sweep (by construction: each request sleeps what a table says, halved before the third step): no pool size, no peak, and the reason with both figures", async () => {
    const table = `pgload_test_pace_${process.pid}`;
    await withAdmin((c) => c.query(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (ms int); INSERT INTO ${table} VALUES (20)`));
    try {
      const r = await sweep(
        { sql: `SELECT pg_sleep(ms / 1000.0) FROM ${table}`, connection: { url: testDb().url }, steps: [1, 2, 4], maxClients: 4, stepDurationMs: 700 },
        { onStep: (i, of, _clients, p) => i === 3 && !p && of === 4 && void withAdmin((c) => c.query(`UPDATE ${table} SET ms = 10`)) },
      );
      assert.deepEqual(r.steps.map((s) => s.clients), [1, 2, 4]);
      // 1 client at 20 ms a request first, at 10 ms when measured again: about twice the rate.
      assert.equal(r.recheck?.verdict, 'drifted', JSON.stringify(r.recheck));
      assert.ok(r.recheck.changePct > 50, String(r.recheck.changePct));
      assert.equal(r.recommendation, null);
      assert.equal(r.status, 'completed');
      // The curve is drawn but claims no peak; the notes say nothing of one.
      assert.equal(peakClaim(r), r.usl ? 'drifted' : null);
      assert.ok(!r.notes.some((n) => /peak/i.test(n)), r.notes.join(' | '));
      const text = formatSweepReport(r);
      assert.match(text, /No pool size: the server's speed changed during the sweep\. Measured again after the last step, 1 client gave [\d.]+ ± [\d.]+ q\/s against [\d.]+ ± [\d.]+ q\/s at the start \(\+\d+\.\d %, beyond the noise\)/);
      assert.doesNotMatch(text, /Pool size: \d/);
    } finally {
      await withAdmin((c) => c.query(`DROP TABLE IF EXISTS ${table}`));
    }
  });

  it('cancelled during its third step: the result says cancelled, keeps the steps measured, and the panel shows it cancelled', async () => {
    const ac = new AbortController();
    const r = await sweep(
      { sql: 'SELECT pg_sleep(0.02)', connection: { url: testDb().url }, steps: [1, 2, 4, 8], maxClients: 8, stepDurationMs: 800 },
      { signal: ac.signal, onStep: (i) => i === 3 && setTimeout(() => ac.abort(), 200) },
    );
    assert.equal(r.status, 'cancelled');
    assert.ok(r.steps.length >= 2 && r.steps.length <= 3, `${r.steps.length} steps`);
    assert.ok(r.notes.some((n) => /^Cancelled (during the step with 4 clients|after \d of 4 steps)/.test(n)), r.notes.join(' | '));
    // The step it was cancelled in keeps its figures, marked partial; the curve and the pool size stand on the complete steps.
    assert.deepEqual(r.steps.filter((s) => !s.partial).map((s) => s.clients), [1, 2]);
    const cut = r.steps.find((s) => s.partial);
    if (cut) {
      assert.equal(cut.clients, 4);
      assert.match(formatSweepReport(r), /^\s+4\*\s/m);
    }
    assert.ok(r.curve.every((c) => c.clients <= 2), JSON.stringify(r.curve));
    assert.equal(stateFromSweep('run-1', r, 'test').state, 'cancelled');
    const whole = await sweep({ sql: 'SELECT 1', connection: { url: testDb().url }, steps: [1, 2], maxClients: 2, stepDurationMs: 500 });
    assert.equal(whole.status, 'completed');
    assert.equal(stateFromSweep('run-2', whole, 'test').state, 'done');
  });

  it('cancelled while measuring the first step again: every step stands, the pool size is weak and says the speed was not checked', async () => {
    const ac = new AbortController();
    const r = await sweep(
      { sql: 'SELECT pg_sleep(0.02)', connection: { url: testDb().url }, steps: [1, 2, 4], maxClients: 4, stepDurationMs: 600 },
      { signal: ac.signal, onStep: (i, of, clients, p) => i === of && !p && clients === 1 && setTimeout(() => ac.abort(), 200) },
    );
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(r.steps.map((s) => [s.clients, s.partial ?? false]), [[1, false], [2, false], [4, false]]);
    assert.equal(r.recheck, null);
    assert.equal(r.recommendation?.evidence, 'weak');
    assert.match(r.recommendation!.reason, /The sweep was cancelled while measuring 1 client again after the last step: whether the server's speed held was not checked\.$/);
    assert.match(formatSweepReport(r), /Speed check: not done — the sweep was cancelled while measuring 1 client again after the last step\./);
  });

  it('the statement is prepared once: a CSV parameter file deleted after the first step does not break the later steps', async () => {
    const dir = scratchDir('pgload-sweep-csv-');
    const csv = path.join(dir, 'ids.csv');
    fs.writeFileSync(csv, 'id\n1\n2\n3\n');
    try {
      const r = await sweep(
        { sql: 'SELECT pg_sleep(0.005), $1::int', connection: { url: testDb().url }, steps: [1, 2, 3], maxClients: 3, stepDurationMs: 500, params: [{ index: 1, spec: `csv:${csv}:id` }] },
        { onStep: (i) => i === 2 && fs.rmSync(csv, { force: true }) },
      );
      assert.deepEqual(r.steps.map((s) => s.clients), [1, 2, 3]);
      assert.ok(r.steps.every((s) => s.ok > 0 && s.failed === 0), JSON.stringify(r.steps));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI sweep prints the table and the recommendation, trims steps above the free connections, and refuses bad steps', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'sweep', '--url', testDb().url, '--no-progress', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const ok = run(['--sql', 'SELECT pg_sleep(0.01)', '--steps', '1,2,4,5000', '--step-duration', '700ms', '--json', '-']);
    assert.equal(ok.status, 0, ok.stderr);
    const result = JSON.parse(ok.stdout) as SweepResult;
    assert.deepEqual(result.steps.map((s) => s.clients), [1, 2, 4]);
    assert.ok(result.notes.some((n) => /Steps above \d+ clients were left out: the server has \d+ free connections/.test(n)));
    assert.match(ok.stderr, /clients +queries\/s +± noise +p50 +p95 +p99 +failed +ran/);
    assert.match(ok.stderr, /Pool size: \d+( or more)?\./);
    // Progress names each step, the speed check last.
    const shown = spawnSync(process.execPath, [CLI, 'sweep', '--url', testDb().url, '--sql', 'SELECT 1', '--steps', '1,2,3', '--step-duration', '500ms'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stderr, /pgload: step 3\/4: 3 clients for 500 ms\npgload: step 4\/4: 1 client again \(the speed check\) for 500 ms\n/);
    const bad = run(['--sql', 'SELECT 1', '--steps', '1,2']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--steps 1,2: give at least three steps/);
  });
});
