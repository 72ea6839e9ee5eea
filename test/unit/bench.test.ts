import * as assert from 'node:assert/strict';
import { caseVerdict, envelopeShareNote, figuresFromLatencies, median, pairMeets, parseChildTimes, parsePgbenchLog, parsePgbenchTps, percentileOf, percentilesReliable, ratios, type ToolFigures } from '../../scripts/lib/benchlib';

describe('Benchmark arithmetic (npm run bench)', () => {
  it('reads pgbench per-transaction logs, counting failed and skipped transactions apart', () => {
    const log = ['0 0 1520 0 1763712000 123456', '0 1 980 0 1763712000 125000', '1 0 failed 0 1763712000 126000', '1 1 skipped 0 1763712000 127000 15', '2 0 2010 0 1763712001 5000 3 0', '', 'garbage'].join('\n');
    assert.deepEqual(parsePgbenchLog(log), { latenciesUs: [1520, 980, 2010], failed: 2 });
  });

  it('nearest-rank percentiles and figures in ms', () => {
    const us = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
    assert.equal(percentileOf([...us].sort((a, b) => a - b), 50), 50_000);
    assert.equal(percentileOf([...us], 95), 95_000);
    assert.equal(percentileOf([...us], 99), 99_000);
    assert.ok(Number.isNaN(percentileOf([], 50)));
    assert.deepEqual(figuresFromLatencies([3000, 1000, 2000], 1, 42), { qps: 42, p50Ms: 2, p95Ms: 3, p99Ms: 3, count: 3, failed: 1, zeroShare: 0 });
  });

  it('reads tps from pgbench output', () => {
    assert.equal(parsePgbenchTps('latency average = 0.160 ms\ninitial connection time = 3.1 ms\ntps = 62471.902391 (without initial connection time)\n'), 62471.902391);
    assert.equal(parsePgbenchTps('no tps here'), null);
  });

  it('ratios pgload ÷ pgbench per repeat, their median and spread, and each leg pair against the target', () => {
    const f = (qps: number, p50Ms: number, p95Ms: number) => ({ qps, p50Ms, p95Ms, p99Ms: p95Ms, count: 1, failed: 0 });
    const pgload = [f(80, 11, 22), f(90, 10, 20), f(100, 10.5, 21)];
    const pgbench = [f(100, 10, 20), f(100, 10, 20), f(100, 10, 20)];
    const q = ratios(pgload, pgbench, 'qps');
    assert.deepEqual(q, { median: 0.9, min: 0.8, max: 1 });
    assert.equal(median([3, 1, 2, 10]), 2.5);
    assert.equal(pairMeets(pgload[0], pgbench[0], { minQps: 0.8 }), true);
    assert.equal(pairMeets(pgload[0], pgbench[0], { minQps: 0.81 }), false);
    assert.equal(pairMeets(pgload[2], pgbench[2], { minQps: 0.8, maxP50: 1.05, maxP95: 1.1 }), true);
    assert.equal(pairMeets(pgload[0], pgbench[0], { minQps: 0.8, maxP50: 1.05 }), false, 'p50 ×1.1');
  });

  it('a verdict needs three leg pairs that agree: one fast leg is "undecided", mixed pairs are "undecided", none met is "missed"', () => {
    const f = (qps: number, userUs: number, sysUs: number): ToolFigures => ({ qps, p50Ms: 1, p95Ms: 2, p99Ms: 3, count: 1, failed: 0, cpu: { userUs, sysUs } });
    const pgbench = [f(1000, 1, 4), f(1000, 1, 4), f(1000, 1, 4)];
    const t = { minQps: 0.9, maxCpu: 1.8 };
    // 8 µs ÷ 5 µs = 1.6: within 1.8; 10 µs ÷ 5 µs = 2: not.
    assert.deepEqual(caseVerdict([f(950, 4, 4)], [pgbench[0]], t), { verdict: 'undecided', met: 1, pairs: 1 });
    assert.deepEqual(caseVerdict([f(950, 4, 4), f(950, 4, 4), f(950, 4, 4)], pgbench, t), { verdict: 'met', met: 3, pairs: 3 });
    assert.deepEqual(caseVerdict([f(950, 4, 4), f(950, 5, 5), f(950, 4, 4)], pgbench, t), { verdict: 'undecided', met: 2, pairs: 3 });
    assert.deepEqual(caseVerdict([f(850, 4, 4), f(950, 5, 5), f(800, 4, 4)], pgbench, t), { verdict: 'missed', met: 0, pairs: 3 });
    assert.deepEqual(ratios([f(950, 4, 4), f(950, 5, 5), f(950, 4, 4)], pgbench, 'cpu'), { median: 1.6, min: 1.6, max: 2 });
    // A side without a CPU figure neither meets nor misses the CPU bound.
    assert.equal(pairMeets({ ...f(950, 0, 0), cpu: undefined }, pgbench[0], t), true);
  });

  it("reads a child's user and system time from bash's times, leaving the rest of stderr", () => {
    assert.deepEqual(parseChildTimes('warning: x\n0m0.004s 0m0.001s\n0m2.345s 1m1.500s\n'), { userMs: 2345, sysMs: 61_500, rest: 'warning: x' });
    assert.equal(parseChildTimes('no times here\n'), null);
  });
});

describe("Benchmark arithmetic: the envelope's share of pgbench's rate", () => {
  const f = (qps: number) => ({ qps, p50Ms: 1, p95Ms: 1, p99Ms: 1, count: 1, failed: 0 });
  it('says the target is out of reach when pgbench itself, sending the envelope, stays below it in every repeat', () => {
    // pgbench alone 100k, with the envelope 76–80k: ×0.76–0.80, below a ×0.9 target each time.
    const share = ratios([f(78_000), f(76_000), f(80_000)], [f(100_000), f(100_000), f(100_000)], 'qps');
    const note = envelopeShareNote(share, { minQps: 0.9 }, 3);
    assert.match(note!, /reached ×0\.78 \(0\.76–0\.80\) of its rate without it/);
    assert.match(note!, /below ×0\.9 in every repeat/);
    // One repeat is not enough to say so.
    const one = ratios([f(78_000)], [f(100_000)], 'qps');
    assert.doesNotMatch(envelopeShareNote(one, { minQps: 0.9 }, 1)!, /out of reach/);
  });

  it('gives the share without claiming the target is out of reach when one repeat reached it', () => {
    const share = ratios([f(85_000), f(92_000), f(88_000)], [f(100_000), f(100_000), f(100_000)], 'qps');
    const note = envelopeShareNote(share, { minQps: 0.9 }, 3);
    assert.match(note!, /reached ×0\.88 \(0\.85–0\.92\)/);
    assert.doesNotMatch(note!, /out of reach/);
  });

  it('says nothing when the envelope cost pgbench nothing or was not measured', () => {
    assert.equal(envelopeShareNote(ratios([f(101)], [f(100)], 'qps'), { minQps: 0.9 }, 3), undefined);
    assert.equal(envelopeShareNote(ratios([], [], 'qps'), { minQps: 0.9 }, 3), undefined);
  });
});

describe("Benchmark arithmetic: pgbench's lazy clock", () => {
  it('latencies logged as 0 µs make pgbench percentiles unreliable: no latency ratio, and no target missed for it', () => {
    const [fig, rat] = [figuresFromLatencies, ratios];
    const lazy = fig([0, 0, 0, 0, 0, 0, 0, 0, 350, 400], 0, 30_000);
    assert.equal(lazy.zeroShare, 0.8);
    assert.equal(percentilesReliable(lazy), false);
    const ours = fig([300, 310, 320, 330, 340, 350, 360, 370, 380, 390], 0, 20_000);
    const p50 = rat([ours], [lazy], 'p50Ms');
    assert.ok(Number.isNaN(p50.median));
    assert.equal(rat([ours], [lazy], 'qps').median, 20_000 / 30_000);
    assert.equal(pairMeets(ours, lazy, { minQps: 0.6, maxP50: 1.05 }), true);
  });
});
