import * as assert from 'node:assert/strict';
import { batchInterval, CapacitySearch, judge, quantileRanks, type SearchRange } from '../../src/core/analysis/capacitySearch';
import { capacityAnswer, type AnswerInput } from '../../src/core/analysis/capacityAnswer';
import { stepLength } from '../../src/core/analysis/capacity';
import type { CapacityResult, CapacityStep, CapacityVerdict } from '../../src/shared/result';
import { capacityPhaseAnswer, fixWords } from '../../src/core/analysis/diagnoseCapacity';
import { mdcRateFor, mdcSojournQuantile } from '../support/queue';

/** Runs the search against a verdict known for every demand; returns the demands tried and the boundary. */
function searchWith(range: SearchRange, verdict: (d: number) => CapacityVerdict, limit = 40) {
  const s = new CapacitySearch(range);
  const tried: number[] = [];
  for (let d = s.next(); d !== null && tried.length < limit; d = s.next()) {
    tried.push(d);
    s.record(d, verdict(d));
  }
  return { tried, boundary: s.boundary(), contradictions: s.contradictions() };
}

describe('Capacity: the p95 interval and the verdict', () => {
  it('the ranks around the 95th of 200 requests, and no upper end for 20', () => {
    const r = quantileRanks(200, 0.95);
    assert.ok(r.low >= 182 && r.low <= 185, `low rank ${r.low}`);
    assert.ok(r.high !== null && r.high >= 196 && r.high <= 199, `high rank ${r.high}`);
    assert.equal(quantileRanks(20, 0.95).high, null);
  });

  it('batches whose p95s move give a wide interval; steady ones a narrow one; the partial last batch is left out', () => {
    const calm = batchInterval([20, 21, 20, 19, 20].map((p95Ms) => ({ ok: 200, p95Ms })))!;
    const stormy = batchInterval([12, 60, 15, 45, 20].map((p95Ms) => ({ ok: 200, p95Ms })))!;
    assert.ok(calm.highMs - calm.lowMs < 3, JSON.stringify(calm));
    assert.ok(stormy.lowMs < 10 && stormy.highMs > 50, JSON.stringify(stormy));
    const withTail = batchInterval([...[20, 21, 20, 19, 20].map((p95Ms) => ({ ok: 200, p95Ms })), { ok: 3, p95Ms: 900 }])!;
    assert.deepEqual(withTail, calm);
    assert.equal(batchInterval([{ ok: 100, p95Ms: 10 }, { ok: 100, p95Ms: 11 }]), null);
  });

  it('meets or misses only when the interval is on one side of the objective', () => {
    assert.equal(judge({ lowMs: 100, highMs: 140 }, 150), 'meets');
    assert.equal(judge({ lowMs: 160, highMs: 200 }, 150), 'fails');
    assert.equal(judge({ lowMs: 120, highMs: 170 }, 150), 'unclear');
    assert.equal(judge({ lowMs: 100, highMs: null }, 150), 'unclear');
  });
});

describe('Capacity: the search', () => {
  it('users: brackets a boundary at 37 from a start of 20 and narrows it to one user', () => {
    const { tried, boundary } = searchWith({ start: 20, min: 1, max: 1000, precision: 0.05, whole: true }, (d) => (d <= 37 ? 'meets' : 'fails'));
    assert.deepEqual(boundary, { kind: 'bracketed', meets: 37, fails: 38 });
    assert.ok(tried.length <= 8, `${tried.length} steps: ${tried.join(', ')}`);
  });

  it('users: tries the Little\'s-law bound before doubling past it', () => {
    const { tried, boundary } = searchWith({ start: 21, min: 1, max: 1000, precision: 0.05, whole: true, upperGuess: 57.9 }, (d) => (d <= 50 ? 'meets' : 'fails'));
    assert.deepEqual(tried.slice(0, 3), [21, 42, 58]);
    assert.ok(boundary.kind === 'bracketed' && boundary.meets === 50 && boundary.fails <= 52, JSON.stringify(boundary));
  });

  it('a rate: halves the headroom below the ceiling (never runs it) down to the precision', () => {
    const { tried, boundary } = searchWith({ start: 50, min: 1, max: 10_000, precision: 0.05, whole: false, ceiling: 100 }, (d) => (d <= 71.3 ? 'meets' : 'fails'));
    assert.ok(!tried.includes(100) && tried.every((d) => d < 100), tried.join(', '));
    assert.equal(boundary.kind, 'bracketed');
    if (boundary.kind !== 'bracketed') return;
    assert.ok(boundary.meets <= 71.3 && boundary.fails > 71.3 && (boundary.fails - boundary.meets) / boundary.meets <= 0.05, JSON.stringify(boundary));
  });

  it('steps too close to tell narrow nothing: the bracket stays between the steps that were judged', () => {
    const { boundary, tried } = searchWith({ start: 20, min: 1, max: 1000, precision: 0.05, whole: true }, (d) => (d <= 34 ? 'meets' : d < 41 ? 'unclear' : 'fails'));
    assert.equal(boundary.kind, 'bracketed');
    if (boundary.kind !== 'bracketed') return;
    assert.equal(boundary.meets, 34);
    assert.ok(boundary.fails >= 41 && boundary.fails <= 43, `fails at ${boundary.fails}`);
    assert.ok(tried.length < 40, 'it ends');
  });

  it('every step misses: below the minimum; every step meets: above the maximum, nothing claimed beyond', () => {
    assert.deepEqual(searchWith({ start: 40, min: 1, max: 1000, precision: 0.05, whole: true }, () => 'fails').boundary, { kind: 'below-minimum', fails: 1 });
    assert.deepEqual(searchWith({ start: 40, min: 1, max: 300, precision: 0.05, whole: true }, () => 'meets').boundary, { kind: 'above-maximum', meets: 300 });
  });

  it('a step that met above one that missed is reported as a contradiction, not used', () => {
    const s = new CapacitySearch({ start: 20, min: 1, max: 100, precision: 0.05, whole: true });
    s.record(20, 'meets');
    s.record(40, 'fails');
    s.record(50, 'meets');
    assert.deepEqual(s.boundary(), { kind: 'bracketed', meets: 20, fails: 40 });
    assert.deepEqual(s.contradictions(), [{ met: 50, failed: 40 }]);
  });

  it('a step near saturation measures for many relaxation times and warms up first; far from it, for its requests', () => {
    const rate = { kind: 'rate' as const, sessions: 4 };
    const far = stepLength(rate, 100, 10, 30, 400);
    const near = stepLength(rate, 380, 10, 30, 400);
    assert.equal(far.wantMs, 3000);
    assert.ok(near.wantMs > 10 * far.wantMs && near.warmMs > far.warmMs, `${JSON.stringify(near)} against ${JSON.stringify(far)}`);
  });
});

describe('Capacity: the answer in words', () => {
  const step = (demand: number, p95Ms: number, verdict: CapacityVerdict, extra: Partial<CapacityStep> = {}): CapacityStep => ({
    demand,
    wallMs: 10_000,
    ok: 500,
    failed: 0,
    throughputQps: demand,
    p50Ms: p95Ms / 2,
    p95Ms,
    p95Interval: { lowMs: p95Ms * 0.9, highMs: p95Ms * 1.1 },
    verdict,
    poolWaitP95Ms: null,
    dbP95Ms: null,
    ...extra,
  });
  const base: AnswerInput = {
    objective: { p95Ms: 500 },
    demand: { kind: 'users', thinkTimeMs: 5000, thinkTimeDistribution: 'exponential', poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000 },
    alone: { p50Ms: 60, p95Ms: 70 },
    saturation: { sessions: 120, throughputQps: 17, p95Ms: 7000 },
    steps: [],
    boundary: { kind: 'unresolved', meets: null, fails: null },
    precision: 0.05,
    max: 1000,
  };

  it('a statement that alone takes 600 ms: no load meets 500 ms', () => {
    const a = capacityAnswer({ ...base, alone: { p50Ms: 600, p95Ms: 640 }, boundary: { kind: 'below-minimum', fails: 1 } });
    assert.match(a.answer, /^The statement alone takes p50 600 ms \(p95 640 ms\), more than the objective p95 ≤ 500 ms: no load meets it\./);
  });

  it('bracketed by users: the two steps, the precision, and the server as the limit when it served near its most', () => {
    const a = capacityAnswer({ ...base, steps: [step(37, 420, 'meets', { throughputQps: 6.5 }), step(41, 620, 'fails', { throughputQps: 16 })], boundary: { kind: 'bracketed', meets: 37, fails: 41 } });
    assert.match(a.answer, /^37 users pausing 5\.00 s meet p95 ≤ 500 ms \(p95 420 ms, .*\); 41 users pausing 5\.00 s miss it \(p95 620 ms/);
    assert.match(a.answer, /The capacity within the objective is 37 users, known to within 4 \(11 %\)\./);
    assert.match(a.limitedBy!, /^the throughput 120 sessions give this statement: .* 94 % of the most they served back to back \(17\.0 q\/s\)/);
  });

  it('a pool whose wait exceeds the database time is named as the limit', () => {
    const a = capacityAnswer({ ...base, steps: [step(30, 400, 'meets'), step(34, 700, 'fails', { poolWaitP95Ms: 500, dbP95Ms: 150, throughputQps: 5 })], boundary: { kind: 'bracketed', meets: 30, fails: 34 } });
    assert.match(a.limitedBy!, /^the application's pool: at 34 users pausing 5\.00 s its sessions are all busy/);
  });

  it('above the maximum: met everywhere it looked, nothing claimed beyond', () => {
    const a = capacityAnswer({ ...base, steps: [step(1000, 90, 'meets')], boundary: { kind: 'above-maximum', meets: 1000 } });
    assert.match(a.answer, /the most this search tried — meet p95 ≤ 500 ms .*nothing is claimed beyond it\. Search further with --max-users\./);
    assert.equal(a.limitedBy, null);
  });
});

describe('The M/D/c queue the capacity test is checked against', function () {
  this.timeout(30_000);
  it('an M/D/1 at 80 %: a fifth of the arrivals find the server free (time D), the rest wait — P(wait = 0) = 1 − ρ', () => {
    // Deterministic 10 ms service: exactly the arrivals that found the server idle spend 10 ms in the system.
    const q20 = mdcSojournQuantile(80, 1, 10, 0.19, 50_000);
    const q25 = mdcSojournQuantile(80, 1, 10, 0.25, 50_000);
    assert.ok(Math.abs(q20 - 10) < 1e-9 && q25 > 10, `${q20} then ${q25}`);
    // Four servers at 10 ms serve at most 400/s: the rate that keeps p95 under 30 ms lies below it, above half of it.
    const rate = mdcRateFor(30, 4, 10.5);
    assert.ok(rate > 250 && rate < 380, `rate ${rate}`);
  });
});

describe('diagnose --max-p95: the capacity as is and with the best fix', () => {
  const search = (boundary: CapacityResult['boundary'], capacity: number | null, status: CapacityResult['status'] = 'completed') =>
    ({ objective: { p95Ms: 500 }, demand: { kind: 'users', thinkTimeMs: 5500, thinkTimeDistribution: 'exponential', poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000 }, boundary, capacity, status, answer: '(the search’s own answer)' }) as CapacityResult;

  it('brackets that do not overlap: more capacity with the fix, said with both figures, the evidence strong', () => {
    const a = capacityPhaseAnswer({ asIs: search({ kind: 'bracketed', meets: 37, fails: 41 }, 37), withFix: search({ kind: 'bracketed', meets: 45, fails: 48 }, 45), fixNote: null }, 'work_mem = 8MB');
    assert.match(a.text, /^Within p95 ≤ 500 ms: \(the search’s own answer\) With work_mem = 8MB: 45 users — more than the 37 users as it is, beyond both searches' precision\./);
    assert.deepEqual(a.withFix, { what: 'work_mem = 8MB', capacity: 45, differs: true });
    assert.equal(a.evidence, 'strong');
  });

  it('brackets that overlap: no difference claimed, whatever the two capacities', () => {
    const a = capacityPhaseAnswer({ asIs: search({ kind: 'bracketed', meets: 37, fails: 41 }, 37), withFix: search({ kind: 'bracketed', meets: 39, fails: 44 }, 39), fixNote: null }, 'prepared statements');
    assert.match(a.text, /With prepared statements: 39 users — the two brackets overlap \(37–41 as it is, 39–44 with it\), so no difference in capacity can be claimed\./);
    const none = capacityPhaseAnswer({ asIs: search({ kind: 'unresolved', meets: null, fails: 100 }, null), withFix: search({ kind: 'unresolved', meets: null, fails: null }, null), fixNote: null }, 'pool_size = 1, max_overflow = 0');
    assert.match(none.text, /With pool_size = 1, max_overflow = 0: no demand found to meet it — the two brackets overlap \(below 100 as it is, not bounded with it\)/);
    assert.equal(a.withFix!.differs, false);
  });

  it("the sweep's speed check in the same diagnosis: a speed that moved beyond the noise makes the capacity weak evidence and says so; one that held, or was too noisy to tell, leaves it", () => {
    const asIs = search({ kind: 'bracketed', meets: 73, fails: 96 }, 73);
    const check = (verdict: 'held' | 'unclear' | 'shifted' | 'drifted', changePct: number, againQps: number) => ({ clients: 1, firstQps: 15.4, firstSe: 0.4, againQps, againSe: 0.35, changePct, beyondNoise: verdict === 'shifted' || verdict === 'drifted', verdict });
    // The demo's: 1 client 15.4 → 13.1 q/s (−15.3 %, beyond the noise).
    const drifted = capacityPhaseAnswer({ asIs, withFix: null, fixNote: null }, null, check('drifted', -15.3, 13.1));
    assert.equal(drifted.evidence, 'weak');
    assert.match(drifted.text, /The evidence is weak: the server's speed changed during this diagnosis \(the sweep's speed check: 1 client gave 13\.1 q\/s after its last step against 15\.4 q\/s at its start, −15\.3 %\), and the steps here were also measured at different times\.$/);
    assert.equal(capacityPhaseAnswer({ asIs, withFix: search({ kind: 'bracketed', meets: 90, fails: 99 }, 90), fixNote: null }, 'work_mem = 8MB', check('shifted', 7.1, 16.5)).evidence, 'weak');
    for (const [v, pct, q] of [['held', -4.3, 14.7], ['unclear', -6, 14.5]] as const) {
      const a = capacityPhaseAnswer({ asIs, withFix: null, fixNote: null }, null, check(v, pct, q));
      assert.equal(a.evidence, 'strong', v);
      assert.doesNotMatch(a.text, /speed/, v);
    }
    assert.equal(capacityPhaseAnswer({ asIs, withFix: null, fixNote: null }, null).evidence, 'strong', 'no sweep in the diagnosis');
  });

  it('no fix, or a search cut by the budget: said, and the evidence weak when the search did not finish', () => {
    const a = capacityPhaseAnswer({ asIs: search({ kind: 'unresolved', meets: 20, fails: null }, 20, 'partial'), withFix: null, fixNote: 'no change measured here lowered p95 significantly, so there was no fix to search with' }, null);
    assert.match(a.text, /Not searched with a fix: no change measured here lowered p95 significantly/);
    assert.equal(a.withFix, null);
    assert.equal(a.evidence, 'weak');
    assert.equal(fixWords({ pool: { size: 4, maxOverflow: 0 } }), 'pool_size = 4, max_overflow = 0');
    assert.equal(fixWords({ settings: { work_mem: '8MB' } }), 'work_mem = 8MB');
  });
});

describe('A capacity search that starts from a load already judged', () => {
  it('a known failure at 100 users: the search starts at its start below it and brackets between, never above 100', () => {
    const { tried, boundary } = (() => {
      const s = new CapacitySearch({ start: 14, min: 1, max: 1000, precision: 0.05, whole: true, upperGuess: 59 });
      s.seed(100, 'fails');
      const out: number[] = [];
      for (let d = s.next(); d !== null && out.length < 20; d = s.next()) {
        out.push(d);
        s.record(d, d <= 37 ? 'meets' : 'fails');
      }
      return { tried: out, boundary: s.boundary() };
    })();
    assert.equal(tried[0], 14);
    assert.ok(tried.every((d) => d < 100), tried.join(', '));
    assert.deepEqual(boundary, { kind: 'bracketed', meets: 37, fails: 38 });
  });

  it('a known success above the start: the search goes up from it; a known failure below the start: it halves below', () => {
    const up = new CapacitySearch({ start: 14, min: 1, max: 1000, precision: 0.05, whole: true });
    up.seed(100, 'meets');
    assert.equal(up.next(), 200);
    const start = new CapacitySearch({ start: 39, min: 1, max: 1000, precision: 0.05, whole: true });
    start.seed(10, 'meets');
    assert.equal(start.next(), 39, 'a known success below the start: the start');
    const down = new CapacitySearch({ start: 14, min: 1, max: 1000, precision: 0.05, whole: true });
    down.seed(10, 'fails');
    assert.equal(down.next(), 5);
  });
});
