/**
 * A diagnosis without a server: its plan within the budget, the settings it tries, and its answers on measurements
 * whose right answer is known by construction (the answers read figures; these figures are set, not measured).
 */
import { impactWords } from '../../src/shared/report/diagnose';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { formatDiagnoseReport } from '../../src/shared/report/diagnose';
import { noPoolSizeNote, phaseBudget, planDiagnosis, sweepCeiling } from '../../src/core/analysis/diagnose';
import { buildAnswers, settingCandidates, type AnswerInput } from '../../src/core/analysis/answers';
import { recheckVerdict, sweepRecommendation } from '../../src/core/analysis/scaling';
import { formatMs, formatQps } from '../../src/shared/format';
import { isTryable, parseSetLocal } from '../../src/shared/hintSql';
import type { AbResult, Comparison, ComparisonMetric, DiagnosePhase, DiagnoseResult, Hint, ProfileResult, SweepResult, SweepStep } from '../../src/shared/result';

const root = path.resolve(__dirname, '../..');
const base = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/result-pool-40-users.json'), 'utf8')) as ProfileResult;

/** The recorded run with other figures: p95, throughput, the pool's wait and database p95, requests. */
function run(f: { p95: number; qps: number; wait?: number; db?: number; ok?: number; settings?: Record<string, string>; hints?: Hint[] }): ProfileResult {
  const r = structuredClone(base);
  r.load.latency.p95Ms = f.p95;
  r.load.throughputQps = f.qps;
  r.load.requests.ok = f.ok ?? 1000;
  if (r.load.pool) {
    r.load.pool.waitMs.p95Ms = f.wait ?? 0;
    r.load.pool.dbMs.p95Ms = f.db ?? f.p95;
  }
  r.options.settings = f.settings ?? {};
  r.hints = f.hints ?? [];
  return r;
}

function metric(name: ComparisonMetric['name'], a: number, b: number, significant: boolean): ComparisonMetric {
  const change = (b - a) / a;
  const better = !significant ? null : name === 'qps' ? (b > a ? 'b' : 'a') : b < a ? 'b' : 'a';
  return { name, unit: name === 'qps' ? 'q/s' : 'ms', a, b, change, ciA: [a, a], ciB: [b, b], significant, better };
}

/** An A/B whose comparison says what the test needs: each metric significant or not. */
function ab(a: ProfileResult, b: ProfileResult, sig: { p50?: boolean; p95?: boolean; p99?: boolean; qps?: boolean }, disappeared: Hint[] = []): AbResult {
  const metrics = [
    metric('p50', a.load.latency.p50Ms, b.load.latency.p50Ms, sig.p50 ?? false),
    metric('p95', a.load.latency.p95Ms, b.load.latency.p95Ms, sig.p95 ?? false),
    metric('p99', a.load.latency.p99Ms, b.load.latency.p99Ms, sig.p99 ?? false),
    metric('qps', a.load.throughputQps, b.load.throughputQps, sig.qps ?? false),
  ];
  const comparison = { metrics, summary: 'set by the test', hints: { appeared: [], disappeared, kept: [] }, plan: null } as unknown as Comparison;
  return { schemaVersion: 1, kind: 'ab', tool: { name: 'pgload', version: 't' }, order: ['A', 'B', 'B', 'A'], rounds: 2, a, b, comparison };
}

function step(clients: number, qps: number): SweepStep {
  return { clients, throughputQps: qps, throughputSe: qps * 0.01, batches: 10, wallMs: 5000, extended: null, p50Ms: 10, p95Ms: 20, p99Ms: 30, ok: 500, failed: 0 };
}

function sweepOf(steps: SweepStep[], poolSize: number, saturated = true, evidence: 'strong' | 'weak' = 'strong'): SweepResult {
  return { steps, recommendation: { poolSize, saturated, evidence, reason: `${poolSize} concurrent queries give the best throughput measured. More concurrent queries than ${poolSize} only queue.` } } as unknown as SweepResult;
}

const done = (id: DiagnosePhase['id']): DiagnosePhase => ({ id, label: id, plannedMs: 10_000, actualMs: 10_000, status: 'done' });
const PHASES = (['load', 'sweep', 'pools', 'settings', 'orm'] as const).map(done);

function input(over: Partial<AnswerInput>): AnswerInput {
  const load = run({ p95: 1770, qps: 17 });
  return { app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000 }, emulated: { size: 20, maxOverflow: 100 }, load, sweep: null, pools: null, settings: [], candidates: [], orm: null, sqlB: null, abClients: 2, phases: PHASES, ...over };
}

describe('diagnose: the plan within the budget', () => {
  it("without a pool size, the note names the A/Bs that ran at pgload's concurrency, and that the settings' ran at the application's load", () => {
    assert.equal(noPoolSizeNote(8, false, false), "Without a measured pool size, the A/B of prepared statements against unnamed ran at 8 concurrent queries (at most 8 when the sweep gives no pool size); the settings' A/B ran at your application's load.");
    assert.match(noPoolSizeNote(4, true, true), /^Without a measured pool size, the A\/Bs of prepared statements against unnamed, your alternative SQL, the index trial ran at 4 concurrent queries/);
  });

  it('gives every phase at least its floor and adds up to the budget', () => {
    for (const budget of [48_000, 180_000, 240_000, 600_000]) {
      const plan = planDiagnosis(budget, false);
      assert.deepEqual(plan.map((p) => p.id), ['load', 'sweep', 'pools', 'settings', 'orm']);
      const total = plan.reduce((n, p) => n + p.plannedMs, 0);
      assert.ok(Math.abs(total - budget) <= plan.length, `${total} vs ${budget}`);
      assert.ok(plan.every((p) => p.status === 'planned' && p.actualMs === null));
    }
    assert.equal(planDiagnosis(240_000, true).at(-1)!.id, 'sql-b');
    // On a database marked for index trials, the index phase comes before capacity; its floor is 10 s.
    assert.deepEqual(planDiagnosis(240_000, false, true, true).map((p) => p.id), ['load', 'sweep', 'pools', 'settings', 'orm', 'index', 'capacity']);
    assert.throws(() => planDiagnosis(50_000, false, false, true), /need at least 58 s \(load 8 s, sweep 12 s, pools 10 s, settings 10 s, orm 8 s, index 10 s\)/);
  });

  it('refuses a budget smaller than the phases need, saying what fits and that nothing ran', () => {
    assert.throws(
      () => planDiagnosis(20_000, false),
      (e: Error) => /A budget of 20 s is too small for a diagnosis: its phases need at least 48 s \(load 8 s, sweep 12 s, pools 10 s, settings 10 s, orm 8 s\)\. Give a budget of 48 s or more .*nothing was run\./.test(e.message),
    );
    assert.throws(() => planDiagnosis(50_000, true), /need at least 56 s/);
  });

  it('an overrun before the pool comparison is taken from the optional phases after it, never from the pool question', () => {
    // The load phase ran 9 s over its plan: the sweep and the pool comparison keep theirs, the debt passes on.
    let carry = -9_000;
    const spent: Record<string, number> = {};
    const ids = ['sweep', 'pools', 'settings', 'orm'] as const;
    for (const [i, id] of ids.entries()) {
      const { budgetMs, passOnMs } = phaseBudget(id, 20_000, carry, 20_000 * (ids.length - i));
      spent[id] = budgetMs;
      carry = budgetMs - budgetMs + passOnMs; // each phase uses exactly its time
    }
    assert.deepEqual(spent, { sweep: 20_000, pools: 20_000, settings: 11_000, orm: 20_000 });
  });

  it('time a phase left (a skipped phase) is shared by the phases still to run in proportion to their plans', () => {
    // 30 s left over, three phases of 10, 10 and 20 s to run: the first takes a quarter, passes on the rest.
    assert.deepEqual(phaseBudget('orm', 10_000, 30_000, 40_000), { budgetMs: 17_500, passOnMs: 22_500 });
    assert.deepEqual(phaseBudget('pools', 20_000, 5_000, 20_000), { budgetMs: 25_000, passOnMs: 0 });
    assert.deepEqual(phaseBudget('capacity', 20_000, 22_500 - 7_500, 30_000), { budgetMs: 30_000, passOnMs: 5_000 });
  });

  it('sweeps up to four clients per vCPU (at least 8), within the sessions the pool opens', () => {
    assert.equal(sweepCeiling(100, 2), 8);
    assert.equal(sweepCeiling(100, 16), 64);
    assert.equal(sweepCeiling(6, 2), 6);
    assert.equal(sweepCeiling(100, undefined), 32);
  });
});

describe('diagnose: the settings it tries', () => {
  const hint = (sql: string, node: string): Hint => ({ id: 'node-spill', severity: 'warning', title: 'spilled', detail: '', node, action: '', sql });

  it('tries work_mem once, at the largest value suggested, only above what the run had, and settings of one query only', () => {
    const r = run({ p95: 1, qps: 1, hints: [hint("SET LOCAL work_mem = '8MB';", 'Sort #2'), hint("SET LOCAL work_mem = '64MB';", 'Hash #5'), hint("SET LOCAL work_mem = '8MB';", 'Sort #7"'), hint("SET LOCAL work_mem = '2MB';", 'Sort #9'), hint('SET LOCAL jit = off;', 'Result #1'), hint('CREATE INDEX CONCURRENTLY ON t (a);', 'Seq Scan on t #3')] });
    const c = settingCandidates(r);
    assert.deepEqual(c.map((x) => [x.name, x.value, x.sql]), [['work_mem', '64MB', "SET LOCAL work_mem = '64MB';"], ['jit', 'off', 'SET LOCAL jit = off;']]);
    // The hints that suggested a value at or below the one tried are kept with it (their nodes are named in the answer).
    assert.deepEqual(c[0].hints.map((h) => h.node), ['Sort #2', 'Hash #5', 'Sort #7"']);
    // A run at work_mem 64kB: 2MB is above it and tried; at 128MB nothing suggested is.
    const low = run({ p95: 1, qps: 1, settings: { work_mem: '64kB' }, hints: [hint("SET LOCAL work_mem = '2MB';", 'Sort #9')] });
    assert.deepEqual(settingCandidates(low).map((x) => x.value), ['2MB']);
    assert.deepEqual(settingCandidates({ ...low, options: { ...low.options, settings: { work_mem: '128MB' } } }), []);
  });

  it('reads a hint’s SET LOCAL, and Try it takes only the settings pgload tries', () => {
    assert.deepEqual(parseSetLocal("SET LOCAL work_mem = '64MB';"), { name: 'work_mem', value: '64MB' });
    assert.deepEqual(parseSetLocal('set local max_parallel_workers_per_gather to 0'), { name: 'max_parallel_workers_per_gather', value: '0' });
    assert.equal(parseSetLocal('CREATE INDEX ON t (a);'), null);
    assert.ok(isTryable('SET LOCAL plan_cache_mode = force_custom_plan;'));
    assert.ok(!isTryable("SET LOCAL search_path = 'x';"));
  });
});

describe('diagnose: the pool answer says what the numbers say', () => {
  const sweep = sweepOf([step(1, 10), step(2, 19), step(4, 19.5), step(8, 19)], 2);

  it('a smaller pool with a significantly lower p95: "instead of", with the figures printed next to it', () => {
    const cur = run({ p95: 1770, qps: 17, wait: 0, db: 1770 });
    const rec = run({ p95: 900, qps: 19, wait: 800, db: 110 });
    const a = buildAnswers(input({ sweep, pools: ab(cur, rec, { p95: true, p50: true }) })).pool!;
    assert.equal(a.recommended!.poolSize, 2);
    assert.equal(a.saturationClients, 2);
    assert.match(a.text, /^Your pool lets 120 queries run at once \(pool_size 20 \+ max_overflow 100\); with 100 users, up to 100 do\./);
    assert.ok(a.text.includes(`see p95 ${formatMs(900)} instead of ${formatMs(1770)}; throughput ${formatQps(19)} q/s against ${formatQps(17)} q/s (+12 %), which this comparison cannot tell apart from noise`), a.text);
    assert.ok(a.text.includes(`They wait in the pool (p95 ${formatMs(800)}), not inside PostgreSQL, where p95 falls from ${formatMs(1770)} to ${formatMs(110)}`), a.text);
    assert.equal(a.evidence, 'strong');
  });

  it('throughput said as it went: a smaller pool that lowers p95 but loses throughput says so', () => {
    const a = buildAnswers(input({ sweep, pools: ab(run({ p95: 11_800, qps: 8.4 }), run({ p95: 6_290, qps: 6.9 }), { p95: true, qps: true }) })).pool!;
    assert.match(a.text, /see p95 6\.29 s instead of 11\.8 s, but less throughput: 6\.9 q\/s against 8\.4 q\/s \(−18 %\) — at 2 the server is not kept busy/);
    const more = buildAnswers(input({ sweep, pools: ab(run({ p95: 1000, qps: 10 }), run({ p95: 500, qps: 20 }), { p95: true, qps: true }) })).pool!;
    assert.match(more.text, /and more throughput: 20\.0 q\/s instead of 10\.0 q\/s/);
  });

  it('no significant difference: says so, and never "instead of"', () => {
    const a = buildAnswers(input({ sweep, pools: ab(run({ p95: 1000, qps: 17 }), run({ p95: 980, qps: 17.2 }), {}) })).pool!;
    assert.match(a.text, /no significant difference on p95/);
    assert.doesNotMatch(a.text, /instead of/);
    assert.match(a.text, /98 fewer connections held on the server/);
    assert.match(a.text, /at about the same throughput \(17\.2 q\/s against 17\.0 q\/s\)/);
  });

  it('a large throughput change the comparison cannot call real is said with its figures, never "the same throughput" (the demo: 84 requests a side)', () => {
    const a = buildAnswers(input({ sweep, pools: ab(run({ p95: 12_400, qps: 10.1, ok: 84 }), run({ p95: 12_400, qps: 6.4, ok: 84 }), {}) })).pool!;
    assert.match(a.text, /no significant difference on p95; throughput 6\.4 q\/s against 10\.1 q\/s \(−37 %\), which this comparison cannot tell apart from noise/);
    assert.doesNotMatch(a.text, /same throughput/);
  });

  it('a smaller pool that made p95 worse: says keep a larger pool', () => {
    const a = buildAnswers(input({ sweep, pools: ab(run({ p95: 500, qps: 17 }), run({ p95: 900, qps: 16 }), { p95: true }) })).pool!;
    assert.match(a.text, /saw a worse p95/);
    assert.match(a.text, /Keep a pool above 2, below 100/);
  });

  it('weak evidence: few requests, or a phase cut by the budget', () => {
    const few = buildAnswers(input({ sweep, pools: ab(run({ p95: 1770, qps: 17, ok: 40 }), run({ p95: 900, qps: 19, ok: 45 }), { p95: true }) })).pool!;
    assert.equal(few.evidence, 'weak');
    assert.match(few.text, /The evidence is weak: only 40 requests on a side\./);
    const cut = buildAnswers(input({ sweep, pools: ab(run({ p95: 1770, qps: 17 }), run({ p95: 900, qps: 19 }), { p95: true }), phases: PHASES.map((p) => (p.id === 'pools' ? { ...p, status: 'cut' as const, note: 'ran A then B once' } : p)) })).pool!;
    assert.match(cut.text, /the phase was cut short by the budget/);
  });

  it('throughput still rising at the largest step: no pool size is claimed', () => {
    const a = buildAnswers(input({ sweep: sweepOf([step(1, 10), step(2, 20), step(4, 40)], 4, false) })).pool!;
    assert.equal(a.recommended, null);
    assert.equal(a.saturationClients, null);
    assert.match(a.text, /Throughput still rose at 4 concurrent queries .* no measured reason to shrink the pool/);
  });

  it('no sweep: says where the time went instead of guessing', () => {
    const a = buildAnswers(input({ phases: PHASES.map((p) => (p.id === 'sweep' ? { ...p, status: 'cut' as const, note: 'the 3 s left could not hold 3 steps of 1 s' } : p)) })).pool!;
    assert.equal(a.recommended, null);
    assert.match(a.text, /was not measured: the 3 s left could not hold 3 steps of 1 s\./);
  });

  it('a sweep whose server changed speed claims no pool size, and the pool answer and the headline say why, with the figures', () => {
    // The steps saturate at 2, but the first step measured again at the end gave 40 % more: the steps do not compare.
    const steps = [step(1, 10), step(2, 17.9), step(4, 17.5)];
    const recheck = recheckVerdict(steps[0], { ...steps[0], throughputQps: 14 });
    const drifted = { steps, recheck, recommendation: sweepRecommendation(steps, false, recheck) } as unknown as SweepResult;
    assert.equal(drifted.recommendation, null);
    const answers = buildAnswers(input({ sweep: drifted }));
    assert.equal(answers.pool!.recommended, null);
    assert.equal(answers.pool!.evidence, 'weak');
    assert.match(answers.pool!.text, /Where this server stops gaining throughput is not claimed\. The server's speed changed during the sweep\. Measured again after the last step, 1 client gave 14\.0 ± [\d.]+ q\/s against 10\.0 ± [\d.]+ q\/s at the start \(\+40\.0 %, beyond the noise\)/);
    assert.match(answers.demand!.text, /That capacity is uncertain: the server's speed changed during the sweep \(1 client gave 14\.0 q\/s after its last step against 10\.0 q\/s at its start\)\./);
    assert.equal(answers.demand!.evidence, 'weak');
  });

  it('a pool capped to the server’s free connections says what was measured', () => {
    const a = buildAnswers(input({ emulated: { size: 20, maxOverflow: 75 } })).pool!;
    assert.match(a.text, /this server's free connections held 20 \+ 75, so that is what was measured/);
  });
});

describe('diagnose: settings, findings and the ORM answer', () => {
  const spill: Hint = { id: 'sort-spill', severity: 'warning', title: 'A sort spilled to disk', detail: 'Sort #2 wrote 1,000 blocks.', node: 'Sort #2', action: 'more memory', sql: "SET LOCAL work_mem = '64MB';", estimate: { share: 0.4, perRequestMs: 40, plan: 'under-load' } };
  const candidates = [{ name: 'work_mem', value: '64MB', sql: "SET LOCAL work_mem = '64MB';", hints: [spill] }];

  it('a setting that helped significantly "helps", names the spill that went away, and carries its SQL', () => {
    const r = ab(run({ p95: 100, qps: 20 }), run({ p95: 60, qps: 30, settings: { work_mem: '64MB' } }), { p95: true, qps: true }, [spill]);
    const [s] = buildAnswers(input({ load: run({ p95: 1770, qps: 17, hints: [spill] }), settings: [r], candidates })).settings;
    assert.equal(s.helps, true);
    assert.equal(s.measured!.p95ChangePct, -40);
    assert.equal(s.measured!.throughputChangePct, 50);
    assert.equal(s.measured!.significant, true);
    assert.deepEqual(s.measured!.significantOn, { p95: 'better', qps: 'better' });
    assert.match(s.text, /^work_mem = 64MB helps: p95 −40 % and throughput \+50 % significantly; p50 ±0\.0 % within the noise with 2 concurrent queries \(1,000 and 1,000 requests, A B B A\); with it, these are gone from the plan: A sort spilled to disk \(Sort #2\)\./);
    assert.equal(s.scope, 'query');
  });

  it('a setting that lowered p99 only: its answer names p99 as the figure that moved and p95 as within the noise, and the headline, which counts p95, says the two apart', () => {
    // The demo's work_mem A/B: p95 −24 % within the noise, p99 significantly lower.
    const a = run({ p95: 1970, qps: 14.4 });
    const b = run({ p95: 1491, qps: 14.7, settings: { work_mem: '64MB' } });
    a.load.latency.p99Ms = 2316;
    b.load.latency.p99Ms = 1964;
    const answers = buildAnswers(input({ settings: [ab(a, b, { p99: true })], candidates }));
    const [s] = answers.settings;
    assert.equal(s.helps, true);
    assert.deepEqual(s.measured!.significantOn, { p99: 'better' });
    assert.equal(s.measured!.p99ChangePct, -15.2);
    assert.match(s.text, /^work_mem = 64MB helps: p99 −15 % significantly; p50 ±0\.0 %, p95 −24 % and throughput \+2\.1 % within the noise with /);
    assert.doesNotMatch(s.text, /a significant improvement/);
    assert.match(answers.best!.text, /^No change measured here lowered p95 significantly; SET LOCAL work_mem = '64MB' improved p99 −15 %, not p95 \(answer 2\)\. What would move it/);
  });

  it('a setting within the noise "does not help measurably"; one significantly worse "does not help"', () => {
    const noise = buildAnswers(input({ settings: [ab(run({ p95: 100, qps: 20 }), run({ p95: 97, qps: 20.3, settings: { work_mem: '64MB' } }), {})], candidates })).settings[0];
    assert.equal(noise.helps, false);
    assert.match(noise.text, /does not help measurably: .* within the noise/);
    const worse = buildAnswers(input({ settings: [ab(run({ p95: 100, qps: 20 }), run({ p95: 150, qps: 15, settings: { work_mem: '64MB' } }), { p95: true, qps: true })], candidates })).settings[0];
    assert.equal(worse.helps, false);
    assert.match(worse.text, /does not help: .* significantly worse on p95, qps/);
  });

  it('a suggested setting that was not measured says so: a suggestion, not an answer', () => {
    const s = buildAnswers(input({ candidates, phases: PHASES.map((p) => (p.id === 'settings' ? { ...p, status: 'cut' as const, note: 'the 2 s left could not hold 2 legs' } : p)) })).settings[0];
    assert.equal(s.measured, null);
    assert.match(s.text, /was not measured: the 2 s left could not hold 2 legs\. A suggestion, not an answer\./);
  });

  it('findings come ranked by what they cost per request, and a spill carries the work_mem measurement', () => {
    const small: Hint = { ...spill, id: 'row-misestimate', title: 'misestimate', node: 'Seq Scan #4', sql: undefined, estimate: { share: 0.1, perRequestMs: 5, plan: 'alone' } };
    const none: Hint = { id: 'planning-time', severity: 'info', title: 'planning', detail: 'd', action: 'a' };
    const r = ab(run({ p95: 100, qps: 20 }), run({ p95: 60, qps: 30, settings: { work_mem: '64MB' } }), { p95: true });
    const q = buildAnswers(input({ load: run({ p95: 1770, qps: 17, hints: [none, small, spill] }), settings: [r], candidates })).query;
    assert.deepEqual(q.map((x) => x.title), ['A sort spilled to disk', 'misestimate', 'planning']);
    assert.match(q[0].evidence, /Measured: work_mem = 64MB gave p95 −40 %\./);
  });

  it('one cause, one finding: a spill seen as its node and as its temporary files is said once; the work_mem advice is answer 2\'s', () => {
    const est = { share: 0.11, perRequestMs: 1173, plan: 'under-load' as const };
    const hashSpill: Hint = { ...spill, id: 'hashagg-spill', title: 'A hash aggregate spilled to disk', node: 'Aggregate #3', estimate: est };
    const temp: Hint = { ...spill, id: 'temp-io', title: 'Temporary files were written and read', node: 'Aggregate #3', sql: undefined, estimate: est };
    const advice: Hint = { id: 'work-mem-advice', severity: 'info', title: 'work_mem 8MB would keep this query in memory', detail: 'd', action: 'a' };
    const q = buildAnswers(input({ load: run({ p95: 1770, qps: 17, hints: [hashSpill, temp, advice] }), candidates })).query;
    assert.deepEqual(q.map((x) => x.title), ['A hash aggregate spilled to disk']);
    assert.match(q[0].evidence, /\(Also seen as: temporary files were written and read\.\)/);
  });

  it('the ORM answer: prepared not faster → "costs nothing measurable"; no alternative SQL → how to give one; always what pgload cannot see', () => {
    const orm = buildAnswers(input({ orm: ab(run({ p95: 100, qps: 20 }), run({ p95: 99, qps: 20.1 }), {}) })).orm!;
    assert.match(orm.text, /costs nothing measurable in the database against prepared statements/);
    assert.match(orm.text, /--sql-b or --file-b/);
    assert.match(orm.cannotSee, /the time inside your application/);
    const faster = buildAnswers(input({ orm: ab(run({ p95: 100, qps: 20 }), run({ p95: 70, qps: 28 }), { p95: true, qps: true }) })).orm!;
    assert.match(faster.text, /Prepared statements were significantly faster/);
  });

  it('the alternative SQL: faster, no different, or not measured — each said as measured', () => {
    const phases = [...PHASES, done('sql-b')];
    const faster = buildAnswers(input({ phases, sqlB: ab(run({ p95: 100, qps: 20 }), run({ p95: 50, qps: 40 }), { p95: true, qps: true }) })).orm!;
    assert.equal(faster.alternative!.p95ChangePct, -50);
    assert.match(faster.text, /Your alternative SQL is significantly faster than the statement: p95 −50 % and throughput \+100 % significantly; p50 ±0\.0 % within the noise at 2 concurrent queries\./);
    const same = buildAnswers(input({ phases, sqlB: ab(run({ p95: 100, qps: 20 }), run({ p95: 99, qps: 20 }), {}) })).orm!;
    assert.match(same.text, /Your alternative SQL makes no significant difference/);
    const cut = buildAnswers(input({ phases: [...PHASES, { ...done('sql-b'), status: 'cut', note: 'the 1 s left could not hold 2 legs' }] })).orm!;
    assert.equal(cut.alternative, null);
    assert.match(cut.text, /Your alternative SQL was not measured: the 1 s left could not hold 2 legs\./);
  });
});

describe('diagnose: the headline at the application demand', () => {
  /** The recorded pool run with the figures a case needs: rate, latencies, pauses and CPU share. */
  function demandRun(f: { qps: number; meanMs: number; p50: number; p95: number; pauseMs?: number; cpu?: number }): ProfileResult {
    const r = run({ p95: f.p95, qps: f.qps });
    r.load.latency.meanMs = f.meanMs;
    r.load.latency.p50Ms = f.p50;
    r.baseline.latency.p50Ms = 60;
    if (f.pauseMs !== undefined) r.load.pool!.think = { meanMs: f.pauseMs, expectedQps: 0 };
    r.insight.waits = { intervalMs: 100, samples: 100, shares: [{ event: 'CPU', samples: 95, share: f.cpu ?? 0.95, avgSessions: 2 }] } as unknown as ProfileResult['insight']['waits'];
    return r;
  }
  const saturating = sweepOf([step(1, 10), step(2, 17.9), step(4, 17.5)], 2);

  it('100 users pausing 5.5 s at 17 q/s on a server that gives 17.9 q/s: 95 % used, requests queue, Little\'s law holds', () => {
    // N = X (R + Z): 100 = 17 × (0.38 + 5.5) — the figures agree by construction.
    const d = buildAnswers(input({ app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, thinkTimeMs: 5500 }, load: demandRun({ qps: 17, meanMs: 380, p50: 311, p95: 1770, pauseMs: 5502 }), sweep: saturating })).demand!;
    assert.equal(d.backToBack, false);
    assert.ok(Math.abs(d.utilization! - 17 / 17.9) < 1e-9);
    assert.match(d.text, /^At your demand, 100 users pausing 5\.50 s between requests sent 17\.0 q\/s\. Each request costs the server about 55\.9 ms of its capacity for this statement \(the most the sweep got was 17\.9 q\/s, at 2 concurrent queries\); its sessions were on CPU in 95 % of the samples: the demand uses 95 % of it\./);
    assert.match(d.text, /At 95 % requests queue: p95 1\.77 s is 5\.7× p50 \(311 ms\) and 29\.5× the statement alone \(60\.0 ms\)\. The pool only decides where they wait; less work per request \(answer 3\), or more server capacity \(CPUs\), is what moves it\./);
    assert.match(d.text, /Little's law: 100 users ÷ \(latency 380 ms \+ pause 5\.50 s\) = 17\.0 q\/s against 17\.0 q\/s measured\.$/);
    assert.equal(d.evidence, 'strong');
  });

  it('no pause given: says it assumed back-to-back users and what that means', () => {
    const d = buildAnswers(input({ load: demandRun({ qps: 17, meanMs: 5880, p50: 5800, p95: 7800 }), sweep: saturating })).demand!;
    assert.equal(d.backToBack, true);
    assert.match(d.text, /^Assuming back-to-back users: no pause between requests was given \(--think-time\), so each of the 100 users sends its next request as soon as the last one answers — a stampede that holds the server at its limit whatever the pool\./);
    // Back-to-back users hold the server at its limit (the e2e diagnosis: 55.3 q/s of 55.3): they queue, but no more
    // than all of them — never "without end", which only arrivals at a rate can do.
    const full = buildAnswers(input({ load: demandRun({ qps: 17.9, meanMs: 5600, p50: 5500, p95: 7800 }), sweep: saturating })).demand!;
    assert.ok(full.utilization! >= 1);
    assert.match(full.text, /At 100 % requests queue: .* The pool only decides where they wait/);
    assert.doesNotMatch(full.text, /without end/);
  });

  it('figures that break Little\'s law are said to disagree, and the evidence is weak; a server with room says so', () => {
    const d = buildAnswers(input({ app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, thinkTimeMs: 5500 }, load: demandRun({ qps: 5, meanMs: 70, p50: 62, p95: 90, pauseMs: 5500 }), sweep: saturating })).demand!;
    assert.match(d.text, /At 28 % the server has room: p95 90\.0 ms is 1\.5× p50/);
    assert.match(d.text, /= 18\.0 q\/s against 5\.0 q\/s measured — 72 % apart: the run was too short for the users to settle, so these figures are weak\.$/);
    assert.equal(d.evidence, 'weak');
  });

  it('an index built in the index phase is a measured fix (answer 3): it leads the best fix and its finding, and is no longer an estimate', () => {
    const suggestion = { id: 'index-suggestion', severity: 'warning', title: 'An index on orders (status, created DESC) would cut the plan cost 12.6×', detail: 'Seq Scan on orders reads 250,000 rows.', action: '', node: 'Seq Scan on orders #5', sql: 'CREATE INDEX CONCURRENTLY ON orders (status, created DESC);', verified: { method: 'hypopg', costBefore: 24412, costAfter: 1935, planShape: '' }, estimate: { share: 0.92, perRequestMs: 280, plan: 'alone', basis: 'planner-cost' } } as unknown as Hint;
    const spill: Hint = { id: 'node-spill', severity: 'warning', title: 'spilled', detail: '', node: 'Sort #2', action: '', sql: "SET LOCAL work_mem = '8MB';", estimate: { share: 0.1, perRequestMs: 30, plan: 'alone' } };
    const load = run({ p95: 600, qps: 24, hints: [spill, suggestion] });
    const a = run({ p95: 600, qps: 24 });
    a.load.latency.p50Ms = 312;
    const b = run({ p95: 40, qps: 326 });
    b.load.latency.p50Ms = 22.5;
    const index = { ...ab(a, b, { p50: true, p95: true, qps: true }), indexTrial: { target: 'postgres@localhost:5432/shop', indexes: [{ sql: 'CREATE INDEX CONCURRENTLY pgload_trial_1_orders ON orders (status, created DESC)', name: 'pgload_trial_1_orders', table: 'orders', buildMs: [261, 283], sizeBytes: 1_782_784, kept: false }] } };
    const answers = buildAnswers(input({ load, index }));
    assert.match(answers.best!.text, /^Best measured fix: an index on orders \(status, created DESC\) — p95 600 ms → 40\.0 ms \(−93\.3 %\) with 2 concurrent queries \(answer 3\)\./);
    assert.doesNotMatch(answers.best!.text, /Estimated, not measured: CREATE INDEX/);
    assert.deepEqual(answers.best!.change, { indexes: ['CREATE INDEX CONCURRENTLY pgload_trial_1_orders ON orders (status, created DESC)'] });
    const first = answers.query[0];
    assert.equal(first.sql, suggestion.sql);
    assert.match(first.evidence, /Measured on this database \(an index trial, A B B A at 2 concurrent queries\): p50 −93 %, p95 −93 %, throughput \+1258 %; pgload_trial_1_orders built in 261 ms, 283 ms, 1\.7 MB; dropped after\./);
    assert.equal(first.impactMs, 289.5);
    assert.equal(first.measured, true);
    assert.equal(impactWords(first), 'saved 290 ms per request at p50, measured');
    assert.equal(impactWords({ impactMs: 30 }), 'up to 30.0 ms per request');
  });

  it('estimated fixes follow the measured ones, ranked by what they would buy: an index HypoPG checked, twice the CPUs at 95 %', () => {
    const load = demandRun({ qps: 17, meanMs: 380, p50: 311, p95: 1770, pauseMs: 5502 });
    const index = { id: 'missing-index', severity: 'warning', title: 'Index candidate', detail: '', action: '', node: 'Seq Scan #4', sql: 'CREATE INDEX ON orders (customer_id);', verified: { method: 'hypopg', costBefore: 1000, costAfter: 820, planShape: '' } } as unknown as Hint;
    load.hints = [index, { ...index, sql: 'CREATE INDEX ON orders (status);', verified: { method: 'hypopg', costBefore: 1000, costAfter: 1000, planShape: '' } } as unknown as Hint];
    const best = buildAnswers(input({ app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, thinkTimeMs: 5500 }, load, sweep: saturating })).best!;
    assert.match(best.text, /^No change measured here lowered p95 significantly\./);
    assert.match(best.text, /Estimated, not measured: twice the CPUs — the demand would use about 47 % of the server instead of 95 %, estimated on the assumption that this statement's throughput grows with the cores \(its sessions were on CPU in 95 % of the samples\); CREATE INDEX ON orders \(customer_id\) — plan cost −18 % \(1000 → 820\), estimated with a hypothetical index \(answer 3\)\.$/);
    assert.doesNotMatch(best.text, /status/, 'an index that does not lower the cost is no fix');
    // A pair of indexes (the search's best second index given the first) is one fix, said as both together.
    load.hints = [{ ...index, sql: 'CREATE INDEX ON orders (status, created);\nCREATE INDEX ON lines (order_id, qty);', verified: { method: 'hypopg', costBefore: 1000, costAfter: 100, planShape: '', costWithFirst: 400 } } as unknown as Hint];
    const pair = buildAnswers(input({ app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, thinkTimeMs: 5500 }, load, sweep: saturating })).best!;
    assert.match(pair.text, /Estimated, not measured: CREATE INDEX ON orders \(status, created\) and CREATE INDEX ON lines \(order_id, qty\) together — plan cost −90 % \(1000 → 100\), estimated with hypothetical indexes \(answer 3\); twice the CPUs/);
    // Back-to-back users would keep twice the CPUs as busy: no CPUs offered; nor on a server with room.
    assert.doesNotMatch(buildAnswers(input({ load, sweep: saturating })).best!.text, /CPUs —/);
    const calm = demandRun({ qps: 5, meanMs: 70, p50: 62, p95: 90, pauseMs: 5500 });
    assert.doesNotMatch(buildAnswers(input({ app: { users: 100, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, thinkTimeMs: 5500 }, load: calm, sweep: saturating })).best!.text, /CPUs —/);
  });

  it('a rate the server cannot serve: more than 100 % of it, the queue grew, the evidence is weak; a rate it serves: kept up', () => {
    const app = { users: 120, poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000, rateQps: 25 };
    const over = demandRun({ qps: 17.5, meanMs: 9000, p50: 8000, p95: 16000 });
    over.load.clients = 120;
    over.load.openLoop = { targetQps: 25, distribution: 'poisson', achievedQps: 17.5, uncorrected: over.load.latency, late: 900, dropped: 40, maxOutstanding: 250 };
    const d = buildAnswers(input({ app, load: over, sweep: saturating })).demand!;
    assert.equal(d.backToBack, false);
    assert.ok(Math.abs(d.utilization! - 25 / 17.9) < 1e-9, 'the rate that arrived, not the one served');
    assert.match(d.text, /^At your demand, 25\.0 requests\/s arriving \(Poisson\) on your pool's 120 sessions were served at 17\.5 q\/s\./);
    assert.match(d.text, /At 140 % — more than the server serves of this statement — requests queue without end/);
    assert.match(d.text, /Little's law: 25\.0 requests\/s × mean latency 9\.00 s = 225\.0 requests inside on average, on the 120 sessions or waiting for one\. Only 17\.5 q\/s were served of 25\.0 arriving \(30 % apart\), and 40 requests were dropped when 250 were outstanding: the server fell behind/);
    assert.equal(d.evidence, 'weak');
    const kept = demandRun({ qps: 10.1, meanMs: 80, p50: 70, p95: 150 });
    kept.load.clients = 120;
    kept.load.openLoop = { targetQps: 10, distribution: 'poisson', achievedQps: 10.1, uncorrected: kept.load.latency, late: 0, dropped: 0, maxOutstanding: 100 };
    const k = buildAnswers(input({ app: { ...app, rateQps: 10 }, load: kept, sweep: saturating })).demand!;
    assert.match(k.text, /= 0\.8 requests inside on average, on the 120 sessions or waiting for one; 10\.1 q\/s served of 10\.0 arriving: the server kept up\.$/);
    assert.equal(k.evidence, 'strong');
  });
});

describe('diagnose: the first line is the best measured fix', () => {
  const sweep = sweepOf([step(1, 10), step(2, 19), step(4, 19.5), step(8, 19)], 2);

  it('the pool that lowered p95 most leads, the setting that also helped follows; figures from their comparisons', () => {
    const pools = ab(run({ p95: 1770, qps: 17 }), run({ p95: 900, qps: 19, wait: 800, db: 110 }), { p95: true });
    const setting = ab(run({ p95: 100, qps: 20 }), run({ p95: 60, qps: 30, settings: { work_mem: '64MB' } }), { p95: true });
    const candidates = [{ name: 'work_mem', value: '64MB', sql: "SET LOCAL work_mem = '64MB';", hints: [] }];
    const best = buildAnswers(input({ sweep, pools, settings: [setting], candidates, settingsLoad: '100 users back to back over your pool (20 + 100)' })).best!;
    assert.equal(best.answer, 1);
    assert.equal(best.text, "Best measured fix: pool_size = 2, max_overflow = 0 — p95 1.77 s → 900 ms (−49.2 %) with 100 users back to back over your pool (20 + 100) (answer 1). Also significant: SET LOCAL work_mem = '64MB' (p95 −40 %).");
  });

  it('nothing significantly better: says so, and claims no fix', () => {
    const pools = ab(run({ p95: 1770, qps: 17 }), run({ p95: 1700, qps: 17 }), {});
    const best = buildAnswers(input({ sweep, pools })).best!;
    assert.equal(best.p95ChangePct, null);
    assert.match(best.text, /^No change measured here lowered p95 significantly\./);
  });
});

describe('diagnose: the report shows the nodes its findings name', () => {
  it('every node a finding names ("Aggregate #3") is in the plan tree the terminal report prints', () => {
    const d = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(root, 'test/fixtures/diagnose-demo-100-users.json.gz'))).toString('utf8')) as DiagnoseResult;
    const text = formatDiagnoseReport(d);
    const tree = text.slice(text.indexOf('Plan (under load; each node'));
    const named = d.answers.query.flatMap((q) => (q.node ? [q.node] : []));
    assert.ok(named.length >= 2, named.join(', '));
    for (const node of named) assert.match(tree, new RegExp(`^ +${node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} — \\S+ m?s own, `, 'm'), node);
  });
});

describe('diagnose: the node that grew most names the load and what busy sessions waited on', () => {
  it('with users who pause: the load in their words; an idle session (a user pausing) is not what the server waited on', () => {
    const d = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(root, 'test/fixtures/diagnose-demo-100-users.json.gz'))).toString('utf8')) as DiagnoseResult;
    const load = structuredClone(d.runs.load);
    load.insight.waits!.shares = [
      { event: 'Idle (waiting for the client)', samples: 56, share: 0.56, avgSessions: 50 },
      { event: 'CPU', samples: 30, share: 0.3, avgSessions: 30 },
    ];
    const q = buildAnswers(input({ load, settingsLoad: '100 users pausing 5.50 s over your pool (20 + 100)' })).query;
    const grew = q.find((x) => /grew most under load/.test(x.title))!;
    assert.match(grew.title, / with 100 users pausing 5\.50 s over your pool \(20 \+ 100\)$/);
    assert.match(grew.evidence, /the sessions mostly waited on CPU \(30 % of samples\)/);
  });
});
