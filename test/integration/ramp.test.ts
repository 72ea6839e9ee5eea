import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { ProfileResult } from '../../src/shared/result';
import { profile } from '../../src/core/load/runner';
import { testDb, waitNoPgloadSessions } from '../support/server';
import { pgload, tmp } from '../support/cli';

const base = { baselineRuns: 1, explain: false, sampleIntervalMs: 0 } as const;

describe('Ramp: clients added over time (load mode)', function () {
  this.timeout(90_000);

  it('8 clients over 1.6 s, then held: each stage runs its clients, and throughput follows them on a statement that only waits', async () => {
    // pg_sleep(0.02) costs the server nothing: throughput is clients / 20 ms, by construction, until every client runs.
    const r = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: { url: testDb().url }, clients: 8, durationMs: 3200, rampMs: 1600, ...base });
    assert.equal(r.options.rampMs, 1600);
    const ramp = r.load.ramp!;
    assert.equal(ramp.overMs, 1600);
    assert.deepEqual(ramp.stages.map((s) => s.clients), [1, 2, 3, 4, 5, 6, 7, 8, 8]);
    assert.deepEqual(ramp.stages.map((s) => s.fromMs), [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600]);
    // Every request is counted in exactly one stage.
    assert.equal(ramp.stages.reduce((a, s) => a + s.ok, 0), r.load.requests.ok);
    assert.equal(ramp.stages.reduce((a, s) => a + s.failed, 0), r.load.requests.failed);
    // One client cannot pass 50/s (20 ms a request); eight held clients run several times that: measured against the
    // same run's first stage, not a fixed rate (a busy machine slows both).
    const first = ramp.stages[0];
    const hold = ramp.stages[ramp.stages.length - 1];
    assert.ok(first.throughputQps <= 52, `one client: ${first.throughputQps} q/s`);
    assert.ok(hold.throughputQps > 3 * first.throughputQps, `held 8 clients ${hold.throughputQps} q/s vs 1 client ${first.throughputQps} q/s`);
    for (const s of ramp.stages) assert.ok(s.p50Ms === null || s.p50Ms >= 20, `stage of ${s.clients}: p50 ${s.p50Ms}`);
    assert.equal(r.cleanup.leftoverSessions, 0);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('the CLI: --ramp with --duration prints the stages; --ramp alone is refused before anything runs', async () => {
    const json = tmp('ramp.json');
    const r = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT pg_sleep(0.01)', '--clients', '4', '--duration', '2s', '--ramp', '1s', '--no-explain', '--json', json, '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4 clients added in steps over 1\.00 s × 2\.00 s/);
    assert.match(r.stdout, /Ramp: clients added in 4 steps over 1\.00 s, then held/);
    const result = JSON.parse(fs.readFileSync(json, 'utf8')) as ProfileResult;
    assert.equal(result.load.ramp!.stages.length, 5);
    for (const s of result.load.ramp!.stages) assert.ok(r.stdout.includes(`${s.clients} client`), r.stdout);
    const refused = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--ramp', '1s']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /A ramp runs for a time: give a duration longer than the ramp/);
  });
});
