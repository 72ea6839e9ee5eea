import * as assert from 'node:assert/strict';
import { addPairs, createHistogram, decodeHistogram, encodeHistogram, latencyStats, logBuckets, percentileCurve, recordedPairs, recordUs } from '../../src/core/load/histogram';
import { Timeline, chooseIntervalMs } from '../../src/core/load/timeline';

/** A seeded PRNG (mulberry32) so the sample is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latencies like a real query: log-normal around 60 ms with a long tail, in microseconds. */
function sample(n: number): number[] {
  const r = rng(42);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    out.push(Math.round(60_000 * Math.exp(0.8 * z)));
  }
  return out;
}

function exactPercentile(sorted: number[], p: number): number {
  // HDR's definition: the smallest value with at least p % of the values at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[rank - 1];
}

describe('HDR latency recording', () => {
  const values = sample(20_000);
  const sorted = [...values].sort((a, b) => a - b);
  const h = createHistogram();
  for (const v of values) recordUs(h, v);

  it('percentiles match the exact percentiles of a known sample to within 1 %', () => {
    const s = latencyStats(h);
    const pairs: Array<[number, number]> = [
      [50, s.p50Ms],
      [90, s.p90Ms],
      [95, s.p95Ms],
      [99, s.p99Ms],
      [99.9, s.p999Ms],
    ];
    for (const [p, got] of pairs) {
      const exact = exactPercentile(sorted, p) / 1000;
      assert.ok(Math.abs(got - exact) / exact <= 0.01, `p${p}: HDR ${got} ms vs exact ${exact} ms`);
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length / 1000;
    assert.ok(Math.abs(s.meanMs - mean) / mean <= 0.01, `mean ${s.meanMs} vs ${mean}`);
    assert.equal(s.count, values.length);
    assert.ok(Math.abs(s.maxMs - sorted[sorted.length - 1] / 1000) / s.maxMs <= 0.001);
    assert.ok(Math.abs(s.minMs - sorted[0] / 1000) / s.minMs <= 0.001);
  });

  it('log buckets cover every sample once and are contiguous', () => {
    const buckets = logBuckets(h);
    assert.equal(buckets.reduce((a, b) => a + b.count, 0), values.length);
    assert.ok(buckets.length <= 60);
    for (let i = 1; i < buckets.length; i++) assert.ok(Math.abs(buckets[i].fromMs - buckets[i - 1].toMs) < 1e-9);
    assert.ok(buckets[0].fromMs <= sorted[0] / 1000 && buckets[buckets.length - 1].toMs >= sorted[sorted.length - 1] / 1000);
  });

  it('the percentile curve rises from the minimum to the maximum', () => {
    const curve = percentileCurve(h);
    assert.equal(curve[0].percentile, 0);
    assert.equal(curve[curve.length - 1].percentile, 100);
    for (let i = 1; i < curve.length; i++) assert.ok(curve[i].ms >= curve[i - 1].ms);
  });

  it('survives encoding for later merging: the decoded histogram gives the same percentiles', () => {
    const back = latencyStats(decodeHistogram(encodeHistogram(h)));
    const orig = latencyStats(h);
    assert.equal(back.count, orig.count);
    for (const k of ['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'p999Ms'] as const) assert.equal(back[k], orig[k], k);
    // min and max come back at the histogram's resolution (0.1 %).
    assert.ok(Math.abs(back.maxMs - orig.maxMs) / orig.maxMs <= 0.001);
    assert.ok(Math.abs(back.minMs - orig.minMs) / orig.minMs <= 0.001);
  });

  it("a worker thread's batches as value/count pairs add up to the same histogram as every latency recorded in one", () => {
    // Ten batches of a long-tailed sample, each sent as pairs and added into a histogram the receiver reuses.
    const all = sample(20_000);
    const whole = createHistogram();
    const merged = createHistogram();
    const batch = createHistogram();
    const received = createHistogram();
    for (let b = 0; b < 10; b++) {
      batch.reset();
      for (const v of all.slice(b * 2000, (b + 1) * 2000)) {
        recordUs(batch, v);
        recordUs(whole, v);
      }
      received.reset();
      addPairs(received, recordedPairs(batch));
      merged.add(received);
    }
    const [a, w] = [latencyStats(merged), latencyStats(whole)];
    assert.equal(a.count, 20_000);
    for (const k of ['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'p999Ms'] as const) assert.equal(a[k], w[k], k);
    // min and max at the histogram's resolution (0.1 %), as after encoding.
    for (const k of ['minMs', 'maxMs'] as const) assert.ok(Math.abs(a[k] - w[k]) / w[k] <= 0.001, `${k}: ${a[k]} against ${w[k]}`);
  });

  it('an empty histogram gives zeros, no buckets and no curve', () => {
    const e = createHistogram();
    assert.equal(latencyStats(e).count, 0);
    assert.deepEqual(logBuckets(e), []);
    assert.deepEqual(percentileCurve(e), []);
  });
});

describe('Load timeline', () => {
  it('keeps per-interval counts, errors and percentiles', () => {
    const t = new Timeline(100);
    for (let i = 0; i < 10; i++) t.record(1000 * (i + 1));
    t.error();
    t.tick(100);
    t.record(5000);
    const points = t.finish(150);
    assert.equal(points.length, 2);
    assert.equal(points[0].count, 10);
    assert.equal(points[0].errors, 1);
    assert.equal(points[0].qps, 100);
    assert.ok(Math.abs(points[0].maxMs! - 10) < 0.1);
    assert.equal(points[1].count, 1);
    assert.equal(points[1].durationMs, 50);
  });

  it('merges neighbours exactly and doubles the interval when a long run has too many points', () => {
    const t = new Timeline(100);
    let doubled = false;
    for (let i = 1; i <= 240; i++) {
      for (let k = 0; k < 10; k++) t.record(1000);
      doubled = t.tick(i * 100) || doubled;
    }
    assert.ok(doubled);
    assert.equal(t.intervalMs, 200);
    const points = t.finish(24_000);
    assert.equal(points.length, 120);
    assert.equal(points.reduce((a, p) => a + p.count, 0), 2400);
    assert.ok(points.every((p) => p.durationMs === 200 && p.count === 20));
  });

  it('chooses an interval that gives about a hundred points', () => {
    assert.equal(chooseIntervalMs(1000), 50);
    assert.equal(chooseIntervalMs(30_000), 500);
    assert.equal(chooseIntervalMs(600_000), 10_000);
  });
});

describe('Chart-ready shapes', () => {
  it('a narrow distribution still gets a readable number of histogram bars', () => {
    const h = createHistogram();
    const r = rng(7);
    for (let i = 0; i < 1000; i++) recordUs(h, 2_500_000 + r() * 3_000_000); // 2.5–5.5 s, like a saturated server
    const buckets = logBuckets(h);
    assert.ok(buckets.length >= 15 && buckets.length <= 60, `${buckets.length} buckets`);
    assert.equal(buckets.reduce((a, b) => a + b.count, 0), 1000);
  });

  it('slow queries: sparse intervals merge until each holds enough requests, and a sliver at the end joins the last', () => {
    const t = new Timeline(200);
    // 20 s at 11 requests/s: about 2 per 200 ms interval.
    let now = 0;
    for (let i = 1; i <= 100; i++) {
      if (i % 2 === 0) t.record(4_000_000);
      if (i % 3 === 0) t.record(4_500_000);
      now = i * 200;
      t.tick(now);
    }
    t.record(5_000_000);
    const points = t.finish(now + 3); // a 3 ms sliver
    assert.ok(points.length >= 20 && points.length < 100, `${points.length} points`);
    const counts = points.map((p) => p.count).sort((a, b) => a - b);
    assert.ok(counts[Math.floor(counts.length / 2)] >= 3);
    assert.ok(points.every((p) => p.qps < 20), `no spike: ${Math.max(...points.map((p) => p.qps))}`);
    assert.equal(points.reduce((a, p) => a + p.count, 0), 50 + 33 + 1);
  });
});
