import * as assert from 'node:assert/strict';
import { formatTextReport } from '../../src/shared/format';
import { profile } from '../../src/core/load/runner';
import { pgload } from '../support/cli';
import { INSIGHT_SCENARIOS, INSIGHT_SETUP_SQL } from '../support/insight';
import { testDb, withAdmin } from '../support/server';

const conn = () => ({ url: testDb().url });

describe('EXPLAIN insight on real plans', function () {
  this.timeout(120_000);
  before(() => withAdmin((c) => c.query(INSIGHT_SETUP_SQL)));

  for (const s of INSIGHT_SCENARIOS) {
    it(`${s.name}: the ${s.hint} hint appears with its numbers and node`, async () => {
      const r = await profile({ sql: s.sql, connection: conn(), clients: 2, requests: 6, baselineRuns: 1, settings: s.settings });
      assert.equal(r.status, 'completed');
      const alone = r.insight.plans.find((p) => p.when === 'alone');
      assert.ok(alone?.json, `a plan alone: ${alone?.unavailable}`);
      const ids: string[] = Array.isArray(s.hint) ? s.hint : [s.hint];
      const h = r.hints.find((x) => ids.includes(x.id));
      assert.ok(h, `hint ${ids.join(' or ')} among ${r.hints.map((x) => x.id).join(', ')}`);
      assert.match(h.node ?? '', s.node);
      assert.match(h.detail, /\d/, 'the detail carries numbers');
      assert.ok(h.action.length > 20);
      assert.ok(formatTextReport(r).includes(h.title), 'the CLI report shows it');
    });
  }

  it('the sort spill comes with work_mem advice that counts the clients and weighs them against the server\'s memory, given or this machine\'s', async () => {
    const s = INSIGHT_SCENARIOS.find((x) => x.name === 'sort-spill')!;
    const r = await profile({ sql: s.sql, connection: conn(), clients: 8, requests: 16, baselineRuns: 1, settings: s.settings });
    const spill = r.hints.find((h) => h.id === 'sort-spill')!;
    assert.match(spill.detail, /wrote \d+(\.\d+)?[kM]B to temporary files: work_mem \(64kB\) was too small/);
    const advice = r.hints.find((h) => h.id === 'work-mem-advice');
    assert.ok(advice);
    assert.match(advice.detail, /with 8 concurrent clients that is up to \S+ at once/);
    // The server runs on this machine: its memory is this machine's, and said to be.
    assert.match(advice.detail, /Against the server's \S+ of memory \(this machine's\), less shared_buffers \(128MB\)/);
    assert.match(advice.sql ?? '', /^SET LOCAL work_mem = '\d+MB';$/);
    const temp = r.hints.find((h) => h.id === 'temp-io');
    assert.ok(temp && /Sort #\d+ wrote \d/.test(temp.detail));
    assert.match(temp.action, /^See the spill hint for Sort #\d+ and the work_mem advice/);
    assert.ok(r.insight.counters.database && r.insight.counters.database.temp_files > 0, 'pg_stat_database saw the temp files');
    // Given by the user (an Aurora db.r6g.large has 16 GiB), through the CLI flag.
    const cli = await pgload(['run', '--url', testDb().url, '--sql', s.sql, '--clients', '8', '--requests', '16', '--baseline-runs', '1', '--set', 'work_mem=64kB', '--set', 'max_parallel_workers_per_gather=0', '--server-memory', '16GB', '--sample-interval', '0', '--no-progress']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /Against the server's 16GB of memory \(as given\), less shared_buffers \(128MB\)/);
    for (const bad of ['16', 'lots', '1MB', '100TB']) {
      const r2 = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT 1', '--server-memory', bad]);
      assert.equal(r2.code, 2, bad);
      assert.match(r2.stderr, /--server-memory \S+: .*(not a memory size; write it like 16GB|out of range; give from 64MB to 64TB)/);
      assert.equal(r2.stdout, '');
    }
  });

  it('count(DISTINCT …), an ordered-set aggregate, a window function and a CTE at work_mem 64kB each get a spill hint and work_mem advice, in the CLI report too', async () => {
    for (const name of ['distinct-agg', 'ordered-set-agg', 'window-spill', 'cte-spill']) {
      const s = INSIGHT_SCENARIOS.find((x) => x.name === name)!;
      const r = await profile({ sql: s.sql, connection: conn(), clients: 2, requests: 4, baselineRuns: 1, settings: s.settings, sampleIntervalMs: 0 });
      const spills = r.hints.filter((h) => ['sort-spill', 'node-spill', 'hash-batches', 'hashagg-spill'].includes(h.id));
      assert.ok(spills.length > 0, `${name}: ${r.hints.map((h) => h.id).join(', ')}`);
      const advice = r.hints.find((h) => h.id === 'work-mem-advice');
      assert.ok(advice, name);
      const temp = r.hints.find((h) => h.id === 'temp-io')!;
      for (const h of spills) assert.ok(temp.action.includes(h.node!), `${name}: temp-io names ${h.node}: ${temp.action}`);
      const text = formatTextReport(r);
      for (const h of spills) assert.ok(text.includes(h.title), `${name}: the report shows "${h.title}"`);
    }
  });

  it('a query with no problem gets no warning-level hint', async () => {
    const r = await profile({ sql: 'SELECT id FROM ins_inner WHERE id = 42', connection: conn(), clients: 2, durationMs: 1500, baselineRuns: 2 });
    // About the query: whether pgload itself got the CPU in time (client-bound) is about the machine it shares.
    assert.deepEqual(r.hints.filter((h) => h.severity !== 'info' && h.id !== 'client-bound').map((h) => h.id), []);
    assert.ok(r.insight.plans.every((p) => p.json), 'both plans captured');
  });

  it('keeps both plans, alone and under load, and compares them', async () => {
    const r = await profile({ sql: 'SELECT count(*) FROM ins_par WHERE k < 500', connection: conn(), clients: 4, durationMs: 2000, baselineRuns: 1 });
    const whens = r.insight.plans.map((p) => p.when);
    assert.deepEqual(whens, ['alone', 'under-load']);
    assert.ok(r.insight.plans.every((p) => p.json && p.executionMs! > 0));
    assert.deepEqual(r.insight.plans[0].options, ['ANALYZE', 'BUFFERS', 'SETTINGS']);
    assert.ok(r.insight.planDiff?.sameShape);
    assert.equal(r.insight.planDiff!.rows[0].node, r.insight.planDiff!.rows[0].node);
    assert.match(r.insight.planDiff!.notes[0], /Same plan shape\. The whole plan took [\d.]+ ms alone and [\d.]+ ms under load/);
  });

  it('a statement EXPLAIN cannot take: the insight says so and the run still works', async () => {
    const r = await profile({ sql: 'SHOW work_mem', connection: conn(), clients: 2, requests: 10, baselineRuns: 1 });
    assert.equal(r.status, 'completed');
    assert.equal(r.load.requests.ok, 10);
    assert.match(r.insight.plans[0].unavailable ?? '', /EXPLAIN cannot take this kind of statement; the run itself is not affected/);
  });

  it('DML explained with writes allowed changes nothing', async () => {
    await withAdmin((c) => c.query('DROP TABLE IF EXISTS ins_dml; CREATE TABLE ins_dml AS SELECT generate_series(1, 1000) AS id'));
    const r = await profile({ sql: 'DELETE FROM ins_dml WHERE id > 10', connection: conn(), clients: 2, durationMs: 1500, allowWrites: true, baselineRuns: 1 });
    assert.ok(r.insight.plans.some((p) => p.json && JSON.stringify(p.json).includes('ModifyTable')));
    assert.equal(await withAdmin(async (c) => (await c.query('SELECT count(*)::int AS n FROM ins_dml')).rows[0].n), 1000);
  });
});

describe('What the server waited on', function () {
  this.timeout(60_000);

  it('sessions sleeping in pg_sleep show as Timeout:PgSleep', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.1)', connection: conn(), clients: 4, durationMs: 2000, baselineRuns: 1, explain: false });
    const w = r.insight.waits!;
    assert.ok(w.samples >= 10, `${w.samples} samples`);
    assert.equal(w.shares[0].event, 'Timeout:PgSleep');
    assert.ok(w.shares[0].share > 0.8, JSON.stringify(w.shares));
    assert.ok(w.avgActive > 3 && w.avgActive <= 4, `avg active ${w.avgActive}`);
    assert.ok(w.timeline.length >= 1);
    assert.ok(w.overheadPct < 2, `sampling used ${w.overheadPct} % of the server's capacity`);
  });

  it('a CPU-bound query shows as CPU, and too many active sessions for the CPUs gives a hint', async () => {
    const r = await profile({ sql: 'SELECT count(*) FROM generate_series(1, 2000000)', connection: conn(), clients: 6, durationMs: 3000, baselineRuns: 1, explain: false, serverVcpus: 2 });
    const w = r.insight.waits!;
    assert.equal(w.shares[0].event, 'CPU', JSON.stringify(w.shares));
    assert.equal(w.serverVcpus, 2);
    assert.equal(w.vcpusSource, 'given');
    const h = r.hints.find((x) => x.id === 'cpu-saturation');
    assert.ok(h, r.hints.map((x) => x.id).join(','));
    assert.match(h.title, /sessions were active on 2 vCPUs/);
    // No sweep of it was given: the pool size is a rule of thumb, said to be one, below the run's 6 sessions.
    assert.match(h.action, /^Let fewer queries run at once than this run's 6: a rule of thumb — not a measurement — is about 4 connections for 2 vCPUs/);
  });
});

describe('pg_stat_statements', function () {
  this.timeout(60_000);

  it('without the extension: a clear note, not an error', async () => {
    await withAdmin((c) => c.query('DROP EXTENSION IF EXISTS pg_stat_statements'));
    const r = await profile({ sql: 'SELECT 1', connection: conn(), clients: 2, requests: 20, baselineRuns: 1 });
    assert.equal(r.insight.counters.statement, null);
    assert.ok(r.insight.counters.notes.some((n) => /pg_stat_statements is not installed in this database/.test(n)));
  });

  it('with the extension: the statement\'s calls and server time over the run', async () => {
    await withAdmin((c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
    const r = await profile({ sql: 'SELECT pg_sleep(0.005), 42 AS answer', connection: conn(), clients: 2, requests: 40, baselineRuns: 1 });
    const st = r.insight.counters.statement;
    assert.ok(st, JSON.stringify(r.insight.counters.notes));
    assert.ok(st.calls >= 40 && st.calls <= 50, `calls ${st.calls}`);
    assert.ok(st.meanExecMs >= 5 && st.meanExecMs < 20, `mean ${st.meanExecMs}`);
  });

  it("finds the statement's own entry by its query id, not the busiest one", async () => {
    await withAdmin((c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
    // Another statement runs many more times during the run: the entry whose calls grew most is not ours.
    let busy = true;
    const noise = withAdmin(async (c) => {
      while (busy) await c.query('SELECT 1 AS noise_of_another_client');
    });
    try {
      const r = await profile({ sql: 'SELECT pg_sleep(0.005), 43 AS answer', connection: conn(), clients: 2, requests: 40, baselineRuns: 1 });
      assert.ok(r.insight.plans.find((p) => p.when === 'alone')?.queryId, 'the plan carries the query id');
      const st = r.insight.counters.statement;
      assert.ok(st, JSON.stringify(r.insight.counters.notes));
      assert.ok(st.calls >= 40 && st.calls <= 50, `calls ${st.calls}`);
      assert.ok(st.meanExecMs >= 5 && st.meanExecMs < 20, `mean ${st.meanExecMs}`);
    } finally {
      busy = false;
      await noise;
    }
  });

  it("a rolled-back DELETE shows the DELETE's figures, not its ROLLBACK's", async () => {
    await withAdmin((c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; DROP TABLE IF EXISTS pss_del; CREATE TABLE pss_del AS SELECT g AS id FROM generate_series(1, 100) g'));
    const r = await profile({ sql: 'WITH s AS (SELECT pg_sleep(0.004)) DELETE FROM pss_del WHERE id > 50 AND EXISTS (SELECT 1 FROM s)', connection: conn(), clients: 2, requests: 30, allowWrites: true, baselineRuns: 1 });
    const st = r.insight.counters.statement;
    assert.ok(st, JSON.stringify(r.insight.counters.notes));
    assert.ok(st.meanExecMs >= 4, `mean ${st.meanExecMs} ms is the DELETE's (it sleeps 4 ms), not the ROLLBACK's`);
    assert.equal((await withAdmin((c) => c.query('SELECT count(*)::int AS n FROM pss_del'))).rows[0].n, 100);
  });
});
