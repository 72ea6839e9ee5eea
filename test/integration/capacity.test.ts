import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { capacity } from '../../src/core/analysis/capacity';
import type { CapacityResult } from '../../src/shared/result';
import { pgload, tmp } from '../support/cli';
import { mdcRateFor } from '../support/queue';
import { testDb, waitNoPgloadSessions } from '../support/server';

const conn = () => ({ url: testDb().url });

describe('pgload capacity', function () {
  this.timeout(240_000);

  it('pg_sleep(0.01) on 4 sessions at a Poisson rate: the boundary for p95 ≤ 30 ms brackets what the M/D/4 queue gives', async () => {
    const r = await capacity({ base: { sql: 'SELECT pg_sleep(0.01)', connection: conn() }, objectiveP95Ms: 30, demand: { kind: 'rate', sessions: 4 }, max: 2000, budgetMs: 100_000, precision: 0.1 });
    // The queue's answer, for the service time this server gave alone (10 ms of sleep, plus the round trip).
    const theory = mdcRateFor(30, 4, r.alone.p50Ms);
    const b = r.boundary;
    assert.ok(b.kind === 'bracketed' || (b.kind === 'unresolved' && b.meets !== null), JSON.stringify(b));
    const meets = b.kind === 'bracketed' ? b.meets : (b as { meets: number }).meets;
    const fails = b.kind === 'bracketed' ? b.fails : r.saturation!.throughputQps;
    assert.ok(theory >= 0.85 * meets && theory <= 1.15 * fails, `M/D/4 gives ${theory.toFixed(1)}/s; the search bracketed ${meets}–${fails} (${r.steps.map((s) => `${s.demand.toFixed(0)} ${s.verdict}`).join(', ')})`);
    // No step above what 4 sessions serve back to back: arrivals there queue without end and are never run.
    assert.ok(r.steps.every((s) => s.demand < r.saturation!.throughputQps), r.steps.map((s) => s.demand).join(', '));
    // Little's law on the arrivals: a step that meets served what arrived.
    for (const s of r.steps.filter((x) => x.verdict === 'meets')) assert.ok(Math.abs(s.throughputQps - s.demand) / s.demand < 0.15, `${s.demand}/s asked, ${s.throughputQps} q/s served`);
    assert.equal(r.capacity, meets);
    assert.match(r.answer, /requests\/s meet p95 ≤ 30\.0 ms/);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a statement that alone misses the objective: no load meets it, said after one measurement', async () => {
    const r = await capacity({ base: { sql: 'SELECT pg_sleep(0.2)', connection: conn() }, objectiveP95Ms: 100, demand: { kind: 'users', thinkTimeMs: 1000, thinkTimeDistribution: 'exponential', poolSize: 2, maxOverflow: 0, poolTimeoutMs: 30_000 }, max: 100, budgetMs: 30_000 });
    assert.deepEqual(r.boundary, { kind: 'below-minimum', fails: 1 });
    assert.equal(r.steps.length, 0);
    assert.equal(r.capacity, null);
    assert.match(r.answer, /^The statement alone takes p50 20\d ms \(p95 \S+ ms\), more than the objective p95 ≤ 100 ms: no load meets it\./);
  });

  it('the CLI: an objective never missed up to the limit claims no boundary, and --min-users above it fails the gate', async () => {
    const json = tmp('capacity.json');
    const args = ['capacity', '--url', testDb().url, '--sql', 'SELECT 1', '--max-p95', '300ms', '--think-time', '50ms', '--pool-size', '2', '--max-overflow', '0', '--max-users', '8', '--budget', '30s', '--no-progress', '--json', json];
    const r = await pgload([...args, '--min-users', '10']);
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as CapacityResult;
    assert.equal(out.kind, 'capacity');
    assert.deepEqual(out.boundary, { kind: 'above-maximum', meets: 8 });
    assert.match(r.stdout, /Up to 8 users pausing 50\.0 ms — the most this search tried — meet p95 ≤ 300 ms .*nothing is claimed beyond it/);
    assert.match(r.stderr, /the capacity within p95 ≤ 300 ms is 8 users pausing 50\.0 ms, below the 10 users pausing 50\.0 ms required/);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('the CLI refuses what it cannot search, before anything runs', async () => {
    const url = testDb().url;
    const cases: Array<[string[], RegExp]> = [
      [['--sql', 'SELECT 1'], /--max-p95 is the objective the search holds the p95 to: give it, like --max-p95 500ms/],
      [['--sql', 'SELECT 1', '--max-p95', '100ms', '--by', 'rate', '--think-time', '1s'], /--think-time is the pause of users; with --by rate the arrivals come at the rate searched/],
      [['--sql', 'SELECT 1', '--max-p95', '100ms', '--by', 'queue'], /--by queue: use users \(application users who pause\) or rate \(requests per second\)/],
      [['--sql', 'SELECT 1', '--max-p95', '100ms', '--budget', '5s'], /A budget of 5 s is too small: the search needs at least 20 s/],
    ];
    for (const [extra, expect] of cases) {
      const r = await pgload(['capacity', '--url', url, '--no-progress', ...extra]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expect);
    }
  });
});
