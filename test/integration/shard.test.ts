import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { ProfileResult } from '../../src/shared/result';
import { decodeHistogram } from '../../src/core/load/histogram';
import { testDb, waitNoPgloadSessions } from '../support/server';
import { pgload, tmp } from '../support/cli';

/** Every recorded latency of a result, expanded from its histogram (value × count), sorted: no histogram addition. */
function latenciesOf(results: ProfileResult[]): number[] {
  const out: number[] = [];
  for (const r of results) {
    const h = decodeHistogram(r.hdr.load) as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } };
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      for (let i = 0; i < v.countAtValueIteratedTo; i++) out.push(v.valueIteratedTo);
    }
  }
  return out.sort((a, b) => a - b);
}
const rank = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)) - 1] / 1000;

describe('pgload run --shard: one load from several processes, merged exactly', function () {
  this.timeout(180_000);
  const url = () => testDb().url;
  const load = ['--sql', 'SELECT pg_sleep(0.005)', '--clients', '10', '--requests', '401', '--no-progress'];

  it('4 processes numbered by JOB_COMPLETION_INDEX (as a Kubernetes Indexed Job) share the load exactly, start together, and merge to the histogram of every request', async () => {
    const files = [0, 1, 2, 3].map((i) => tmp(`shard-${i + 1}.json`));
    const runs = await Promise.all(files.map((json, i) => pgload(['run', '--url', url(), ...load, '--shard', 'auto/4', '--run-id', 'it-four', '--json', json], { JOB_COMPLETION_INDEX: String(i) }, 120_000)));
    runs.forEach((r, i) => assert.equal(r.code, 0, `shard ${i + 1}: ${r.stderr}`));
    const shards = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as ProfileResult);

    // The shares add up to the totals, and only shard 1 measured what runs once.
    assert.deepEqual(shards.map((s) => s.shard!.index), [1, 2, 3, 4]);
    assert.equal(shards.reduce((a, s) => a + s.load.clients, 0), 10);
    assert.equal(shards.reduce((a, s) => a + s.load.requests.total, 0), 401);
    assert.deepEqual(shards.map((s) => s.shard!.insight), [true, false, false, false]);
    assert.ok(shards[0].insight.plans.length > 0 && shards[0].baseline.latency.count > 0, 'shard 1 has the baseline and the plan');
    assert.ok(shards.slice(1).every((s) => s.insight.plans.length === 0 && s.baseline.latency.count === 0 && /run once per run, on shard 1/.test(s.insight.counters.notes.join(' '))));
    assert.match(runs[1].stdout, /Shard 2 of 4 \(run it-four\): 3 of 10 clients, 100 of 401 requests/);
    // One agreed instant for all; each released at it (its own clock corrected by the server's).
    assert.equal(new Set(shards.map((s) => s.shard!.start.plannedServerMs)).size, 1, 'the same planned instant');

    const all = tmp('all.json');
    const m = await pgload(['merge', ...files, '--json', all, '--max-p95', '10s']);
    assert.equal(m.code, 0, m.stderr);
    const merged = JSON.parse(fs.readFileSync(all, 'utf8')) as ProfileResult;
    const every = latenciesOf(shards);
    assert.equal(merged.load.requests.ok, 401);
    assert.equal(merged.load.latency.count, every.length);
    for (const [p, got] of [[50, merged.load.latency.p50Ms], [95, merged.load.latency.p95Ms], [99, merged.load.latency.p99Ms]] as const) {
      assert.equal(got, rank(every, p), `merged p${p} is the p${p} of every request`);
    }
    // The spread the report claims is the one the shards' own release instants show.
    const released = shards.map((s) => s.shard!.start.releasedServerMs - s.shard!.start.phaseMs);
    assert.ok(Math.abs(merged.shards!.start.spreadMs - (Math.max(...released) - Math.min(...released))) < 0.02);
    assert.match(m.stdout, /4 shards \(run it-four\) released their clients together once all were ready, within [\d.]+ (ms|µs) of each other/);
    await waitNoPgloadSessions();
  });

  it('a shard whose others never come fails after --shard-wait, naming the missing shards, with nothing left on the server', async () => {
    const r = await pgload(['run', '--url', url(), ...load, '--shard', '1/3', '--run-id', 'it-alone', '--shard-wait', '2s']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Only 1 of 3 shards of run it-alone were ready within 2 s \(missing: 2, 3\); nothing was measured under load/);
    await waitNoPgloadSessions();
  });

  it('merge refuses an incomplete set of shards, naming the missing one', async () => {
    const files = [1, 2].map((i) => tmp(`half-${i}.json`));
    const runs = await Promise.all(files.map((json, i) => pgload(['run', '--url', url(), '--sql', 'SELECT 1', '--clients', '2', '--requests', '20', '--no-progress', '--no-explain', '--shard', `${i + 1}/2`, '--run-id', 'it-half', '--json', json])));
    runs.forEach((r) => assert.equal(r.code, 0, r.stderr));
    const m = await pgload(['merge', files[0]]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /Shard 2 of 2 is missing from run it-half/);
  });
});
