import * as assert from 'node:assert/strict';
import { formatTextReport } from '../../src/shared/format';
import { profile } from '../../src/core/load/runner';
import { testDb } from '../support/server';

const conn = () => ({ url: testDb().url });

describe("pgload's own overhead in every result", function () {
  this.timeout(60_000);

  it('a normal run reports its CPU per request and event-loop delay, and is never called busy', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.01)', connection: conn(), clients: 4, durationMs: 1500, baselineRuns: 1, explain: false, sampleIntervalMs: 0 });
    const c = r.load.client!;
    assert.ok(c.cpuMs > 0 && c.cpuUsPerRequest > 0, JSON.stringify(c));
    assert.ok(c.eventLoopDelayMaxMs >= c.eventLoopDelayP99Ms);
    // pgload itself is not busy at 4 clients of 10 ms. Whether the machine gave it a CPU in time depends on what else
    // runs: when it did not, the run must say so as such ("could not get a CPU in time"), never "pgload was busy".
    assert.ok(c.cpuShareOfOneCore < 0.85, JSON.stringify(c));
    const hint = r.hints.find((h) => h.id === 'client-bound');
    assert.equal(Boolean(hint), c.clientBound, JSON.stringify(c));
    if (hint) assert.match(hint.detail, /pgload could not get a CPU in time/);
    assert.match(formatTextReport(r), /pgload itself +\d+ µs CPU per request · \d+ % of a core · event-loop delay added p50 \S+ ms \/ p99 \S+ ms \(latency p50 may read [\d.<\s]+ %, p99 [\d.<\s]+ % high\)/);
  });

  it('a quiet pg_sleep(0.1) run is never client-bound: the monitor\'s own 10 ms period is not counted as delay', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.1)', connection: conn(), clients: 4, durationMs: 1500, baselineRuns: 1, explain: false, sampleIntervalMs: 0 });
    const c = r.load.client!;
    // An idle loop's monitor reads its own period (10 ms) at the median; what pgload added is far below it.
    assert.ok(c.eventLoopDelayP50Ms! < 5, `added delay p50 ${c.eventLoopDelayP50Ms} ms`);
    assert.equal(c.clientBound, false, JSON.stringify(c));
    assert.ok(!r.hints.some((h) => h.id === 'client-bound'), JSON.stringify(r.hints.map((h) => h.id)));
  });

  it('when pgload itself is blocked (a listener that hogs the event loop), the run says its latencies include that', async () => {
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    // A progress listener that blocks for 60 ms on every update: responses wait in pgload, not in the database.
    const r = await profile(
      { sql: 'SELECT pg_sleep(0.005)', connection: conn(), clients: 4, durationMs: 2000, baselineRuns: 1, explain: false, sampleIntervalMs: 0 },
      { onProgress: (p) => p.phase === 'load' && busy(60) },
    );
    const c = r.load.client!;
    assert.equal(c.clientBound, true, JSON.stringify(c));
    assert.ok(c.eventLoopDelayP99Ms > 20, JSON.stringify(c));
    const hint = r.hints.find((h) => h.id === 'client-bound');
    assert.ok(hint, JSON.stringify(r.hints.map((h) => h.id)));
    assert.match(hint.detail, /event loop ran callbacks late — by \S+ ms at the median, \S+ ms at p99, \S+ ms at most/);
    assert.match(hint.detail, /the p50 \(\S+ ms\) may read up to \S+ ms \(\d+(\.\d)? %\) high, the p99 \(\S+ ms\) up to \S+ ms \(\d+(\.\d)? %\)/);
    assert.match(formatTextReport(r), /CLIENT-BOUND: latencies include pgload's own queueing/);
  });
});
