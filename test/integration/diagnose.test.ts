/**
 * `pgload diagnose` on a real server: the phases within the budget, answers that state the figures they stand on,
 * a pool larger than the server's free connections capped (and said), a statement failing alone stopped before any
 * load, bad input refused before anything runs, cancel keeping the answers so far — every session closed.
 */
import * as assert from 'node:assert/strict';
import { diagnose } from '../../src/core/analysis/diagnose';
import { profile } from '../../src/core/load/runner';
import { PgloadError } from '../../src/core/errors';
import { formatMs } from '../../src/shared/format';
import type { DiagnoseResult } from '../../src/shared/result';
import { pgload } from '../support/cli';
import { sleep, testDb, waitNoPgloadSessions, withAdmin } from '../support/server';

/** ~10–30 ms alone: a sort that spills at work_mem 64kB (so a hint suggests more), on the CPUs. */
const SORT_SQL = 'SELECT count(*) FROM (SELECT md5(g::text) AS k FROM generate_series(1, 20000) g ORDER BY 1) s';

/**
 * Little's law on a diagnosis: users = rate × (latency + pause) for users, rate served = rate arriving for arrivals;
 * when the figures are more than 10 % apart the headline must say so and call its evidence weak.
 */
function assertLittle(d: DiagnoseResult): void {
  const h = d.answers.demand!;
  const load = d.runs.load.load;
  const pause = load.pool?.think?.meanMs ?? 0;
  const expected = d.app.rateQps ?? (d.app.users * 1000) / (load.latency.meanMs + pause);
  assert.ok(Math.abs(h.littleQps - expected) / expected < 1e-9, `Little's figure ${h.littleQps} against ${expected}`);
  const apart = Math.abs(load.throughputQps - expected) / expected > 0.1 || (load.openLoop?.dropped ?? 0) > 0;
  assert.equal(/these figures are weak/.test(h.text), apart, `${load.throughputQps} q/s against ${expected}: ${h.text}`);
  if (apart) assert.equal(h.evidence, 'weak');
}

describe('pgload diagnose (real server)', function () {
  this.timeout(240_000);

  describe('a full diagnosis: a spilling sort, 200 users on a pool of 150 + 50', () => {
    let d: DiagnoseResult;
    let free: number;
    const budgetMs = 50_000;
    before(async () => {
      free = await withAdmin(async (c) => {
        const r = await c.query<{ n: number }>(
          "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS n",
        );
        return r.rows[0].n;
      });
      d = await diagnose({ base: { sql: SORT_SQL, connection: { url: testDb().url }, settings: { work_mem: '64kB' }, serverVcpus: 2 }, app: { users: 200, poolSize: 150, maxOverflow: 50, poolTimeoutMs: 30_000 }, budgetMs });
    });

    it('runs the five phases it planned, within the budget (with room for a busy machine), and closes every session', async () => {
      assert.deepEqual(d.phases.map((p) => p.id), ['load', 'sweep', 'pools', 'settings', 'orm']);
      assert.ok(d.phases.every((p) => p.actualMs !== null && ['done', 'cut', 'skipped'].includes(p.status)), JSON.stringify(d.phases));
      assert.ok(d.elapsedMs <= budgetMs * 1.4, `${d.elapsedMs} ms for a ${budgetMs} ms budget`);
      assert.equal(d.status === 'partial', d.phases.some((p) => p.status === 'cut'));
      assert.equal(await waitNoPgloadSessions(), 0);
      for (const r of [d.runs.load, ...(d.runs.pools ? [d.runs.pools.a, d.runs.pools.b] : []), ...d.runs.settings.flatMap((s) => [s.a, s.b])]) assert.equal(r.cleanup.leftoverSessions, 0);
    });

    it('caps a pool larger than the server’s free connections, and says so', () => {
      assert.ok(free < 200, `the test server has ${free} free connections`);
      const p = d.runs.load.load.pool!;
      assert.equal(p.users, 200);
      assert.ok(p.size + p.maxOverflow <= free - 2, `emulated ${p.size} + ${p.maxOverflow} with ${free} free`);
      assert.ok(d.notes.some((n) => /Your pool allows 150 \+ 50 = 200 sessions .* the server has \d+ free connections .* "too many clients" errors past that/.test(n)), d.notes.join('\n'));
      assert.match(d.answers.pool!.text, /this server's free connections held \d+ \+ \d+, so that is what was measured/);
    });

    it('the pool answer: a measured saturation point within the sessions, and the figures in its sentence are the ones in the result', () => {
      const a = d.answers.pool!;
      assert.ok(d.runs.sweep && d.runs.sweep.steps.length >= 3, 'the sweep ran');
      if (a.saturationClients !== null) assert.ok(a.saturationClients <= d.runs.load.load.clients);
      assert.ok(a.text.includes(formatMs(a.current.p95Ms)) || a.recommended === null, a.text);
      if (a.recommended) {
        assert.ok(d.runs.pools, 'the recommended pool was run');
        assert.equal(a.recommended.p95Ms, d.runs.pools!.b.load.latency.p95Ms);
        assert.equal(a.current.p95Ms, d.runs.pools!.a.load.latency.p95Ms);
        const sig = d.runs.pools!.comparison.metrics.find((m) => m.name === 'p95')!;
        // "p95 X instead of Y" only when the lower p95 is significant; otherwise the sentence says there is no difference.
        // (The sweep's clause and the throughput may say "instead of" too: only the pool comparison's p95 counts here.)
        assert.equal(/see p95 [\d.]+ m?s instead of/.test(a.text), sig.significant && sig.better === 'b', a.text);
      }
    });

    it('work_mem, suggested by the spill, was measured and its verdict matches its comparison', () => {
      const s = d.answers.settings.find((x) => x.name === 'work_mem');
      assert.ok(s, `settings tried: ${d.answers.settings.map((x) => x.name).join(', ')}; hints: ${d.runs.load.hints.map((h) => h.id).join(', ')}`);
      assert.equal(s.scope, 'query');
      assert.match(s.sql, /^SET LOCAL work_mem = '\d+[kMG]B';$/);
      const run = d.runs.settings.find((r) => r.b.options.settings.work_mem === s.value);
      if (!run) {
        assert.equal(s.measured, null);
        assert.match(s.text, /was not measured/);
        return;
      }
      assert.equal(run.a.options.settings.work_mem, '64kB');
      const sig = run.comparison.metrics.filter((m) => m.significant);
      assert.equal(s.helps, sig.length > 0 && sig.every((m) => m.better === 'b'));
      assert.equal(s.measured!.significant, sig.length > 0);
      assert.match(s.text, s.helps ? /helps: .* significantly(; .* within the noise)? with / : /does not help/);
    });

    it('the headline says it assumed back-to-back users, and its figures satisfy Little\'s law', () => {
      const h = d.answers.demand!;
      assert.equal(h.backToBack, true);
      assert.match(h.text, /^Assuming back-to-back users: no pause between requests was given/);
      assert.equal(h.rateQps, d.runs.load.load.throughputQps);
      // A short load phase (a 50 s budget) cuts requests in flight at its end: the headline must say when the figures disagree.
      const apart = Math.abs(h.littleQps - h.rateQps) / h.littleQps;
      assert.equal(/the run was too short for the users to settle, so these figures are weak/.test(h.text), apart > 0.1, `${h.littleQps} against ${h.rateQps}: ${h.text}`);
      if (apart > 0.1) assert.equal(h.evidence, 'weak');
      if (h.utilization !== null) assert.ok(h.utilization > 0.5, `back-to-back users use ${h.utilization} of the server`);
      assertLittle(d);
    });

    it('the query and ORM answers carry their evidence and what pgload cannot see', () => {
      assert.ok(d.answers.query.length >= 1);
      assert.ok(d.answers.query.some((q) => /spill|sort/i.test(q.title)), d.answers.query.map((q) => q.title).join('\n'));
      const orm = d.answers.orm!;
      assert.ok(orm.prepared || /was not measured/.test(orm.text), orm.text);
      assert.match(orm.cannotSee, /inside your application/);
    });
  });

  it('the demand as a rate: 100 requests/s of pg_sleep(0.02) on a pool of 2 + 2 use half of what 4 sessions serve, and flow balances', async () => {
    // By construction: each session serves at most 50 requests/s of a 20 ms sleep, so 4 sessions at most ~200/s.
    const d = await diagnose({ base: { sql: 'SELECT pg_sleep(0.02)', connection: { url: testDb().url } }, app: { users: 4, poolSize: 2, maxOverflow: 2, poolTimeoutMs: 30_000, rateQps: 100 }, budgetMs: 50_000 });
    const load = d.runs.load.load;
    assert.equal(load.openLoop?.targetQps, 100);
    assert.equal(load.clients, 4);
    assert.equal(d.app.rateQps, 100);
    const h = d.answers.demand!;
    assert.equal(h.backToBack, false);
    assert.doesNotMatch(h.text, /Assuming back-to-back/);
    assert.match(h.text, /At your demand, 100 requests\/s arriving \(Poisson\) on your pool's 4 sessions were served at [\d.]+ q\/s\./);
    // What arrived was served (within 10 %), and the sentence says so; Little's law gives how many were inside.
    assert.ok(Math.abs(load.throughputQps - 100) / 100 < 0.1, `served ${load.throughputQps} q/s of 100`);
    assert.match(h.text, /the server kept up\./);
    const inside = (100 * load.latency.meanMs) / 1000;
    assert.ok(h.text.includes(`= ${inside.toFixed(1)} requests inside on average`), h.text);
    assert.ok(h.utilization !== null && h.utilization > 0.4 && h.utilization < 0.7, `utilization ${h.utilization}: ${h.text}`);
    // The arrivals wait for a session apart from the time in PostgreSQL, as a pool's users do.
    assert.ok(load.openLoop!.waitMs!.p95Ms >= 0 && load.openLoop!.uncorrected.p50Ms >= 20);
    assert.match(d.answers.settings.length ? d.answers.settings[0].text : 'no setting', /no setting|requests\/s arriving over your pool/);
    assertLittle(d);
    assert.equal(await waitNoPgloadSessions(), 0);
  });

  it('a CPU-bound statement at half the saturation the test measured first: the headline says about half of the server, kept up', async () => {
    // The saturation, measured first: back to back on 4 sessions (2 cores here: more sessions only queue).
    const cpu = 'SELECT count(*) FROM (SELECT md5(g::text) FROM generate_series(1, 30000) g) s';
    const sat = await profile({ sql: cpu, connection: { url: testDb().url }, clients: 4, durationMs: 4_000, explain: false, sampleIntervalMs: 0 });
    const xmax = sat.load.throughputQps;
    const rate = Math.round(xmax / 2);
    const d = await diagnose({ base: { sql: cpu, connection: { url: testDb().url }, serverVcpus: 2 }, app: { users: 4, poolSize: 2, maxOverflow: 2, poolTimeoutMs: 30_000, rateQps: rate }, budgetMs: 50_000 });
    const h = d.answers.demand!;
    // The sweep's best throughput is the same saturation measured again: the utilization is about a half, and the
    // server time a request costs about 1 / saturation (a busy 2-core machine moves both: generous bounds).
    assert.ok(h.utilization !== null && h.utilization > 0.3 && h.utilization < 0.8, `utilization ${h.utilization} at ${rate}/s of ${xmax.toFixed(1)}/s: ${h.text}`);
    assert.ok(h.serviceMs !== null && Math.abs(h.serviceMs - 1000 / xmax) / (1000 / xmax) < 0.4, `service ${h.serviceMs} ms against ${(1000 / xmax).toFixed(1)} ms`);
    assert.match(h.text, new RegExp(`the demand uses ${Math.round(h.utilization * 100)} % of it\\.`));
    assert.match(h.text, h.utilization >= 0.5 ? /requests begin to queue when they arrive together/ : /the server has room/);
    assertLittle(d);
    assert.equal(await waitNoPgloadSessions(), 0);
  });

  it('--max-p95: a capacity phase finds the rate within p95 ≤ 200 ms of a 50 ms statement on 4 sessions, below what they serve', async () => {
    // By construction: 4 sessions serve at most 80 requests/s of pg_sleep(0.05); at the capacity the steps meet 200 ms.
    const r = await pgload(['diagnose', '--url', testDb().url, '--sql', 'SELECT pg_sleep(0.05)', '--rate', '10/s', '--pool-size', '2', '--max-overflow', '2', '--max-p95', '200ms', '--budget', '80s', '--no-progress', '--json', '-'], {}, 150_000);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as DiagnoseResult;
    assert.equal(d.app.objectiveP95Ms, 200);
    assert.equal(d.phases.at(-1)!.id, 'capacity');
    const c = d.runs.capacity!.asIs;
    assert.deepEqual(c.demand, { kind: 'rate', sessions: 4 });
    assert.equal(c.objective.p95Ms, 200);
    const a = d.answers.capacity!;
    assert.match(a.text, /^Within p95 ≤ 200 ms: /);
    assert.equal(a.capacity, c.capacity);
    if (c.capacity !== null) assert.ok(c.capacity >= 20 && c.capacity < 80, `capacity ${c.capacity}/s: ${a.text}`);
    // Every step that met the objective served what arrived (flow balance), and its p95 is the one judged.
    for (const s of c.steps.filter((x) => x.verdict === 'meets')) assert.ok(Math.abs(s.throughputQps - s.demand) / s.demand < 0.15, `${s.demand}/s served at ${s.throughputQps}`);
    // With a best fix the search ran again with it or says why not; without one, it says there was none.
    const best = d.answers.best!;
    if (best.change) assert.ok(d.runs.capacity!.withFix !== null || /Not searched with a fix: the \d+ s left could not hold/.test(a.text), a.text);
    else assert.match(a.text, /Not searched with a fix: no change measured here lowered p95 significantly/);
    assertLittle(d);
    if (process.env.PGLOAD_TEST_SHOW) console.log(d.phases.map((p) => `${p.id} ${p.plannedMs} → ${p.actualMs} ${p.status} ${p.note ?? ''}`).join('\n'), '\n', best.text, '\n', a.text);
    assert.equal(await waitNoPgloadSessions(), 0);
  });

  it('a statement that fails alone stops the diagnosis before any load, with the server’s error', async () => {
    const t0 = Date.now();
    await assert.rejects(
      diagnose({ base: { sql: 'SELECT 1 / (g - g) FROM generate_series(1, 2) g', connection: { url: testDb().url } }, app: { users: 10, poolSize: 2, maxOverflow: 0, poolTimeoutMs: 1000 }, budgetMs: 60_000 }),
      (e: PgloadError) => e.kind === 'statement' && /division by zero/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 30_000);
    assert.equal(await waitNoPgloadSessions(), 0);
  });

  it('bad input is refused before anything connects: a small budget (saying what fits), users below 1', async () => {
    const nowhere = { url: 'postgres://nobody@127.0.0.1:1/none' };
    await assert.rejects(
      diagnose({ base: { sql: 'SELECT 1', connection: nowhere }, app: { users: 10, poolSize: 2, maxOverflow: 0, poolTimeoutMs: 1000 }, budgetMs: 10_000 }),
      (e: PgloadError) => e.kind === 'usage' && /too small for a diagnosis: its phases need at least 48 s/.test(e.message),
    );
    await assert.rejects(diagnose({ base: { sql: 'SELECT 1', connection: nowhere }, app: { users: 0, poolSize: 2, maxOverflow: 0, poolTimeoutMs: 1000 }, budgetMs: 60_000 }), /users \(--users\) must be a whole number of at least 1, got 0/);
    const cli = await pgload(['diagnose', '--sql', 'SELECT 1', '--url', nowhere.url, '--budget', '10s']);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /A budget of 10 s is too small for a diagnosis: .* Give a budget of 48 s or more .*nothing was run/);
    const users = await pgload(['diagnose', '--sql', 'SELECT 1', '--url', nowhere.url, '--users', '0']);
    assert.equal(users.code, 2);
    assert.match(users.stderr, /--users 0/);
    const both = await pgload(['diagnose', '--sql', 'SELECT 1', '--url', nowhere.url, '--rate', '17/s', '--users', '100']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--rate is the demand as requests per second; --users and --think-time describe it as users who pause\. Give one or the other/);
    const rate = await pgload(['diagnose', '--sql', 'SELECT 1', '--url', nowhere.url, '--rate', 'lots']);
    assert.equal(rate.code, 2);
    assert.match(rate.stderr, /--rate lots: write requests per second from 1 to 1,000,000, like --rate 100\/s/);
  });

  it('cancelled during the application load: the answers so far come back marked partial, every session closed', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = diagnose(
      { base: { sql: 'SELECT pg_sleep(0.05)', connection: { url: testDb().url } }, app: { users: 8, poolSize: 2, maxOverflow: 2, poolTimeoutMs: 30_000 }, budgetMs: 60_000 },
      { signal: ac.signal, onProgress: (x) => x.phase === 'load' && x.done > 20 && ac.abort() },
    );
    const d = await p;
    assert.ok(Date.now() - t0 < 30_000, `settled after ${Date.now() - t0} ms`);
    assert.equal(d.status, 'partial');
    assert.equal(d.runs.load.status, 'cancelled');
    assert.ok(d.phases.slice(1).every((x) => x.status === 'cancelled'), JSON.stringify(d.phases));
    assert.ok(d.notes.some((n) => /cancelled/.test(n)));
    assert.equal(await waitNoPgloadSessions(), 0);
    await sleep(0);
  });
});
