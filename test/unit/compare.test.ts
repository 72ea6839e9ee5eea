import * as assert from 'node:assert/strict';
import { mannWhitney, noDifferenceReason, normalTail, percentileInterval } from '../../src/core/analysis/compare';
import { createHistogram, recordUs } from '../../src/core/load/histogram';
import { parseResult } from '../../src/core/report/resultFile';
import { seededRandom } from '../../src/core/load/random';

/** A histogram of n log-normal latencies around `medianMs` (a realistic, skewed shape). */
function latencies(n: number, medianMs: number, seed: number, spread = 0.3) {
  const random = seededRandom(seed);
  const h = createHistogram();
  for (let i = 0; i < n; i++) {
    // Box–Muller: a standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    recordUs(h, medianMs * 1000 * Math.exp(spread * z));
  }
  return h;
}

describe('Comparing runs: the statistics', () => {
  it('Mann–Whitney on small exact samples matches the textbook U (with ties)', () => {
    const a = createHistogram();
    const b = createHistogram();
    for (const v of [1, 2, 3, 3]) recordUs(a, v * 1000);
    for (const v of [3, 4, 5]) recordUs(b, v * 1000);
    // Pairs (b > a) + half the ties: b=3 → 2 + 2×0.5 = 3; b=4 → 4; b=5 → 4 → U = 11 of 12.
    const r = mannWhitney(a, b)!;
    assert.equal(r.u, 11);
    assert.ok(Math.abs(r.cliffsDelta - (2 * 11) / 12 + 1) < 1e-12);
  });

  it('two samples from the same distribution: no shift (p large, δ ≈ 0)', () => {
    const r = mannWhitney(latencies(5000, 20, 1), latencies(5000, 20, 2))!;
    assert.ok(r.p > 0.01, `p ${r.p}`);
    assert.ok(Math.abs(r.cliffsDelta) < 0.05, `δ ${r.cliffsDelta}`);
  });

  it('a 20 % slower B: significant with δ > 0.147; a faster B: δ < 0', () => {
    const slower = mannWhitney(latencies(5000, 20, 1), latencies(5000, 24, 2))!;
    assert.ok(slower.p < 1e-6 && slower.cliffsDelta > 0.147, JSON.stringify(slower));
    const faster = mannWhitney(latencies(5000, 20, 1), latencies(5000, 10, 2))!;
    assert.ok(faster.cliffsDelta < -0.9, JSON.stringify(faster));
  });

  it('no difference says which test it failed: a change under the floor, intervals that overlap, a p not small enough, a negligible δ', () => {
    assert.equal(noDifferenceReason({ change: -0.05, ciA: [90, 110], ciB: [50, 60] }, { p: 1e-9, cliffsDelta: -0.5 }, 0.1), 'a change under 10 % is not counted (two runs of the same query differ that much)');
    // The demo's work_mem A/B: median −13 %, its intervals overlapping, Mann–Whitney p 0.0029, δ −0.12.
    assert.equal(
      noDifferenceReason({ change: -0.132, ciA: [600, 660], ciB: [520, 610] }, { p: 0.0029, cliffsDelta: -0.12 }, 0.1),
      "the medians' 95 % intervals overlap, and Mann–Whitney's p is not below 0.001, and a Cliff's δ under 0.147 in size is a negligible shift",
    );
    assert.equal(noDifferenceReason({ change: -0.2, ciA: [90, 110], ciB: [70, 85] }, { p: 1e-6, cliffsDelta: -0.1 }, 0.1), "a Cliff's δ under 0.147 in size is a negligible shift");
    assert.equal(noDifferenceReason({ change: 0.2, ciA: [90, 110], ciB: [120, 130] }, null, 0.1), 'too few requests to test the distributions');
  });

  it('normal tail: known values', () => {
    assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7);
    assert.ok(Math.abs(normalTail(1.959964) - 0.025) < 1e-6);
    assert.ok(Math.abs(normalTail(3) - 0.0013499) < 1e-6);
    assert.ok(Math.abs(normalTail(-1) - 0.8413447) < 1e-6);
  });

  it('percentile intervals contain the true percentile and narrow with more requests', () => {
    // Log-normal median 20 ms, σ 0.3: p95 = 20·e^(0.3·1.645) = 32.8 ms.
    const truth = 20 * Math.exp(0.3 * 1.6449);
    const small = percentileInterval(latencies(500, 20, 3), 95);
    const large = percentileInterval(latencies(50_000, 20, 3), 95);
    for (const [lo, hi] of [small, large]) assert.ok(lo <= truth * 1.01 && hi >= truth * 0.99, `[${lo}, ${hi}] vs ${truth}`);
    assert.ok(large[1] - large[0] < (small[1] - small[0]) / 4, `${large} vs ${small}`);
  });
});

describe('Comparing runs: bad files', () => {
  it('each kind of wrong file gets its own message', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /x\.json is not JSON .*"pgload run --json FILE"/],
      ['[1,2]', /is not a pgload result/],
      ['{"schemaVersion":1,"kind":"sweep"}', /is a sweep result; compare takes results of single runs/],
      ['{"schemaVersion":9,"load":{}}', /has result schema version 9; this pgload reads version 1/],
      ['{"schemaVersion":1,"sql":"SELECT 1"}', /is missing parts of a result/],
      ['{"hello":"world"}', /no schemaVersion/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseResult(text, 'x.json'), re, text);
  });
});

describe('Comparing runs: names that say what differs, figures in the report format', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { autoLabels, compareResults, regressions } = require('../../src/core/analysis/compare') as typeof import('../../src/core/analysis/compare');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { formatMs } = require('../../src/shared/format') as typeof import('../../src/shared/format');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const base = JSON.parse(fs.readFileSync(`${__dirname}/../fixtures/result-demo-50-clients.json`, 'utf8')) as import('../../src/shared/result').ProfileResult;
  const variant = (over: (r: typeof base) => void) => {
    const r = structuredClone(base);
    over(r);
    return r;
  };

  it('the setting that differs (the server’s value for the run without it), else the SQL, the clients, prepared, the time', () => {
    const withMem = variant((r) => (r.options.settings = { work_mem: '64MB' }));
    assert.deepEqual(autoLabels(variant((r) => (r.options.settings = {})), withMem), [`work_mem=${base.server.settings.work_mem}`, 'work_mem=64MB']);
    assert.deepEqual(autoLabels(base, variant((r) => (r.fingerprint = 'other'))), ['SQL A', 'SQL B']);
    assert.deepEqual(autoLabels(base, variant((r) => (r.load.clients = base.load.clients * 2))), [`${base.load.clients} clients`, `${base.load.clients * 2} clients`]);
    assert.deepEqual(autoLabels(variant((r) => (r.options.prepared = false)), variant((r) => (r.options.prepared = true))), ['unnamed', 'prepared']);
    const [a, b] = autoLabels(base, variant((r) => (r.startedAt = '2026-11-30T20:49:11.336Z')));
    assert.doesNotMatch(a + b, /T\d\d:|Z$/, 'no ISO timestamps');
  });

  it('a run against itself: no significant difference, because the change is under the floor', () => {
    const c = compareResults(base, base);
    assert.equal(c.verdict, 'no-significant-difference');
    assert.match(c.summary, /^No significant difference: B's median is up 0 % on A's \(Mann–Whitney p 1\.0000, Cliff's δ 0\.00\), within the noise: a change under 10 % is not counted/);
  });

  it('the summary and the regression gate write latencies as the report does (3 significant figures, ms or s)', () => {
    // Two recorded runs whose latencies differ by construction: 50 clients of the demo query, 40 users on a pool of 4 + 2.
    const pool = JSON.parse(fs.readFileSync(`${__dirname}/../fixtures/result-pool-40-users.json`, 'utf8')) as typeof base;
    const c = compareResults(pool, base, { labels: ['pool', 'demo'] });
    assert.notEqual(c.verdict, 'no-significant-difference', c.summary);
    const m = /median (\S+ (?:ms|s)) → (\S+ (?:ms|s)) \(/.exec(c.summary);
    assert.ok(m, c.summary);
    assert.equal(m[1], formatMs(c.metrics[0].a));
    assert.equal(m[2], formatMs(c.metrics[0].b));
    const gate = regressions({ ...c, metrics: [{ name: 'p50', unit: 'ms', a: 273.66, b: 1200.13, change: 3.385, ciA: [270, 277], ciB: [1190, 1210], significant: true, better: 'a' }] }, 0.1);
    assert.deepEqual(gate, ['p50 rose 338.5 % (274 ms → 1.20 s), above the allowed 10 %']);
  });
});
