import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseShard, shareOf, splitOptions } from '../../src/core/load/shard/split';
import { agreedStart, announcement, LEAD_MS, readAnnouncements } from '../../src/core/load/shard/meet';
import { mergeShards } from '../../src/core/report/merge';
import { createHistogram, decodeHistogram, encodeHistogram, latencyStats, recordUs } from '../../src/core/load/histogram';
import { Timeline } from '../../src/core/load/timeline';
import { normalizeOptions } from '../../src/core/options';
import { formatTextReport } from '../../src/shared/format';
import { parseResult } from '../../src/core/report/resultFile';
import type { ProfileResult } from '../../src/shared/result';

const BASE = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/result-demo-50-clients.json'), 'utf8')) as ProfileResult;

/** Latencies (µs) that differ by shard on purpose: shard k's are k times slower, so averaging percentiles is wrong. */
function latencies(shard: number, n: number): number[] {
  let seed = shard * 7919;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => Math.round(shard * 5000 * (1 + 9 * next() ** 3)));
}

/** The rank-based percentile of a sorted list (HDR's definition), computed without any histogram. */
const rankPercentile = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)) - 1];

/** A shard's result as `pgload run --shard i/n --json` writes it, with its requests' latencies recorded as the run does. */
function shardResult(index: number, count: number, us: number[], releasedServerMs: number): ProfileResult {
  const hist = createHistogram();
  const timeline = new Timeline(100, true);
  us.forEach((v, i) => {
    recordUs(hist, v);
    timeline.record(v);
    if (i % 50 === 49) timeline.tick(((i + 1) / 50) * 100);
  });
  const wallMs = (us.length / 50) * 100;
  timeline.finish(wallMs);
  const stats = latencyStats(hist);
  return {
    ...BASE,
    load: { ...BASE.load, clients: 5, requests: { total: us.length, ok: us.length, failed: 0 }, wallMs, throughputQps: (us.length * 1000) / wallMs, latency: stats, overThreshold: { thresholdMs: 500, count: 0, percent: 0 } },
    errors: [{ code: '57014', message: 'canceling statement due to statement timeout', count: index, phase: 'load', firstAtMs: 10 * index }],
    hdr: { ...BASE.hdr, load: encodeHistogram(hist) },
    shard: {
      index,
      count,
      runId: 'r1',
      totals: { clients: 5 * count, requests: null, ratePerSecond: null, users: null },
      start: { how: 'together', plannedServerMs: 1_000_000, phaseMs: 0, releasedServerMs, clockOffsetMs: 0, clockUncertaintyMs: 0.3, waitedMs: 100 },
      slots: timeline.raw!,
      connectMs: [1, 2, 3, 4, 5].map((x) => x * index),
      insight: index === 1,
    },
  };
}

describe('A run split into shards', () => {
  it('the shares of a total add up to it exactly for every number of shards, and differ by at most one', () => {
    for (const total of [1, 7, 10, 100, 999, 1_000_003]) {
      for (let n = 1; n <= Math.min(total, 37); n++) {
        const shares = Array.from({ length: n }, (_, i) => shareOf(total, i + 1, n));
        assert.equal(shares.reduce((a, b) => a + b, 0), total, `${total} in ${n}`);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `${total} in ${n}: ${shares}`);
      }
    }
  });

  it('--shard reads "i/n" and "auto/n" (JOB_COMPLETION_INDEX, 0-based, as an Indexed Job sets it) and names what is wrong', () => {
    assert.deepEqual(parseShard('3/8', {}), { index: 3, count: 8 });
    assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '0' }), { index: 1, count: 4 });
    assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '3' }), { index: 4, count: 4 });
    assert.throws(() => parseShard('auto/4', {}), /JOB_COMPLETION_INDEX.*not set.*--shard 1\/4/);
    assert.throws(() => parseShard('auto/4', { JOB_COMPLETION_INDEX: '4' }), /past the last of 4 shards/);
    assert.throws(() => parseShard('5/4', {}), /numbered 1 to 4/);
    assert.throws(() => parseShard('three', {}), /like --shard 3\/8/);
  });

  it('each shard gets its share of clients, requests, rate and users, its own seed, and only shard 1 the insight', () => {
    const o = (i: number) => normalizeOptions({ sql: 'SELECT 1', clients: 10, requests: 1001, seed: 5, shard: { index: i, count: 3 } });
    const shards = [1, 2, 3].map(o);
    assert.deepEqual(shards.map((s) => s.clients), [3, 3, 4]);
    assert.deepEqual(shards.map((s) => s.requests), [333, 334, 334]);
    assert.equal(new Set(shards.map((s) => s.seed)).size, 3, 'three seeds');
    assert.deepEqual(shards.map((s) => [s.explain, s.sampleIntervalMs > 0]), [[true, true], [false, false], [false, false]]);
    assert.equal(new Set(shards.map((s) => (s.shard as { runId: string }).runId)).size, 1, 'the same run id without --run-id');
    // Already split options are not split again.
    assert.equal(normalizeOptions(shards[2]).clients, 4);

    const rate = [1, 2, 3, 4].map((i) => splitOptions({ sql: 'x', clients: 8, maxErrors: 0, seed: 1, explain: true, sampleIntervalMs: 100, durationMs: 5000, rate: { perSecond: 100, distribution: 'constant' as const, maxOutstanding: 1000, seed: 1 }, connection: {} }, { index: i, count: 4 }, 200));
    assert.deepEqual(rate.map((s) => s.rate!.perSecond), [25, 25, 25, 25]);
    // Shard i sends the i-th of every 4 arrivals: together, one every 10 ms as one process would.
    assert.deepEqual(rate.map((s) => s.shard.phaseMs), [0, 10, 20, 30]);
    assert.equal(rate.reduce((a, s) => a + s.rate!.maxOutstanding, 0), 1000);
  });

  it('a share that would be empty is refused, naming the total and what to give instead', () => {
    assert.throws(() => normalizeOptions({ sql: 'SELECT 1', clients: 2, shard: { index: 1, count: 3 } }), /Shard 1 of 3 would get none of the 2 clients: give at least 3 clients \(--clients\) or use at most 2 shards/);
  });

  it('the shards agree on one start from the same announcements, and contradictions are refused', () => {
    const names = [announcement('r1', 2, 3, 5000), announcement('r1', 1, 3, 7000), announcement('other', 3, 3, 1), 'pgload', announcement('r1', 3, 3, 6000)];
    const seen = readAnnouncements(names, { runId: 'r1', index: 1, count: 3 });
    assert.deepEqual([...seen.entries()].sort(), [[1, 7000], [2, 5000], [3, 6000]]);
    assert.equal(agreedStart(seen), 7000 + LEAD_MS);
    assert.ok(announcement('a-run-id-of-20-chars', 999, 1000, Date.UTC(2100, 0, 1)).length <= 63, 'fits application_name');
    assert.throws(() => readAnnouncements([announcement('r1', 2, 4, 1)], { runId: 'r1', index: 1, count: 3 }), /counts 4 shards where this one counts 3/);
    assert.throws(() => readAnnouncements([announcement('r1', 2, 3, 1), announcement('r1', 2, 3, 2)], { runId: 'r1', index: 1, count: 3 }), /Two processes are shard 2 of 3/);
  });
});

describe('pgload merge', () => {
  const count = 4;
  const lat = [1, 2, 3, 4].map((k) => latencies(k, 500 + 100 * k));
  const shards = lat.map((us, i) => shardResult(i + 1, count, us, 1_000_000 + [0, 3, 1, 7][i]));
  const merged = mergeShards(shards.map((result, i) => ({ name: `shard-${i + 1}.json`, result })));

  it('the merged percentiles are those of every request together, not the average of the shards\' percentiles', () => {
    const all = lat.flat().sort((a, b) => a - b);
    for (const [p, got] of [[50, merged.load.latency.p50Ms], [95, merged.load.latency.p95Ms], [99, merged.load.latency.p99Ms]] as const) {
      const exact = rankPercentile(all, p) / 1000;
      assert.ok(Math.abs(got - exact) / exact <= 0.001, `p${p}: merged ${got} ms vs ${exact} ms from the sorted latencies`);
    }
    const averaged = shards.reduce((a, s) => a + s.load.latency.p95Ms, 0) / count;
    assert.ok(Math.abs(averaged - merged.load.latency.p95Ms) / merged.load.latency.p95Ms > 0.05, `averaging gives ${averaged} ms, the truth is ${merged.load.latency.p95Ms} ms`);
    assert.equal(merged.load.latency.count, all.length);
    assert.equal(merged.load.requests.ok, all.length);
    assert.equal(decodeHistogram(merged.hdr.load).totalCount, all.length);
  });

  it('sums the counts and errors by SQLSTATE, aligns the timelines on the server clock, and says how the shards started', () => {
    assert.equal(merged.load.clients, 20);
    assert.equal(merged.options.clients, 20);
    assert.deepEqual(merged.errors.map((e) => [e.code, e.count, e.firstAtMs]), [['57014', 1 + 2 + 3 + 4, 10]]);
    assert.equal(merged.timeline.reduce((a, p) => a + p.count, 0), lat.flat().length, 'every request in one interval');
    // The slowest shard ran longest and released 7 ms after the first: the merged run ends there.
    assert.equal(merged.load.wallMs, 7 + shards[3].load.wallMs);
    assert.equal(merged.shards!.start.spreadMs, 7);
    assert.deepEqual(merged.shards!.members.map((m) => m.releasedAfterMs), [0, 3, 1, 7]);
    assert.deepEqual([merged.load.connectMs.p50Ms, merged.load.connectMs.maxMs], [6, 20]);
    assert.equal(merged.shard, undefined);
    // Written and read back as the panel and "pgload compare" read any result.
    assert.equal(parseResult(JSON.stringify(merged), 'all.json').load.requests.ok, merged.load.requests.ok);
    const text = formatTextReport(merged);
    assert.match(text, /4 shards \(run r1\) released their clients together once all were ready, within 7\.00 ms of each other/);
    assert.match(text, /shard 4: 5 clients · 900 ok · 0 failed/);
  });

  it('refuses what is not one whole run: a missing shard, a shard twice, another run, a run that was not split', () => {
    const named = (rs: ProfileResult[]) => rs.map((result, i) => ({ name: `f${i}.json`, result }));
    assert.throws(() => mergeShards(named(shards.slice(0, 3))), /Shard 4 of 4 is missing from run r1: a merge of some shards would understate the load/);
    assert.throws(() => mergeShards(named([...shards, shards[1]])), /Shard 2 of 4 is given twice/);
    assert.throws(() => mergeShards(named([...shards.slice(0, 3), { ...shards[3], shard: { ...shards[3].shard!, runId: 'r2' } }])), /of run r2, but f0.json is of run r1/);
    assert.throws(() => mergeShards(named([BASE])), /is not a shard's result/);
  });
});
