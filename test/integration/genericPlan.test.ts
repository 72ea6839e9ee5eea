/**
 * Prepared statements switch to a generic plan after five executions: on skewed data (one value in 99 % of the rows)
 * the generic plan is made for a rare value and runs for the common one. Known by construction.
 */
import * as assert from 'node:assert/strict';
import { formatTextReport } from '../../src/shared/format';
import { profile } from '../../src/core/load/runner';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';

const conn = () => ({ url: testDb().url });

describe('Prepared statements: the generic plan against the plan for the values', function () {
  this.timeout(120_000);
  before(() =>
    withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS gp_skew, gp_even');
      // 99 % of the rows have k = 1, the rest a value of their own: the average says "few rows", k = 1 has all of them.
      await c.query("CREATE TABLE gp_skew AS SELECT g AS id, CASE WHEN g % 100 = 0 THEN g ELSE 1 END AS k, md5(g::text) AS pad FROM generate_series(1, 200000) g");
      await c.query("CREATE TABLE gp_even AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS pad FROM generate_series(1, 200000) g");
      await c.query('CREATE INDEX ON gp_skew (k); CREATE INDEX ON gp_even (k); ANALYZE gp_skew, gp_even');
    }),
  );
  after(() => withAdmin((c) => c.query('DROP TABLE IF EXISTS gp_skew, gp_even')));

  it('skewed data: the baseline runs past the switch, sees the generic plan taken, and the hint names both plans with plan_cache_mode as the action', async () => {
    const r = await profile({ sql: 'SELECT count(*), max(pad) FROM gp_skew WHERE k = $1', params: [{ index: 1, spec: 'list:1' }], prepared: true, connection: conn(), clients: 2, requests: 10, baselineRuns: 1, sampleIntervalMs: 0, settings: { max_parallel_workers_per_gather: '0' } });
    assert.equal(r.baseline.latency.count, 5, 'five warm executions after the cold one: past the switch');
    const g = r.insight.genericPlan!;
    assert.ok(g.used && g.used.customPlans === 5 && g.used.genericPlans >= 1, JSON.stringify(g.used));
    const h = r.hints.find((x) => x.id === 'generic-plan');
    assert.ok(h, r.hints.map((x) => x.id).join(', '));
    assert.match(h.detail, /switched to the generic plan after 5 executions \(5 custom, \d+ generic\)/);
    assert.match(h.detail, /the generic plan is Aggregate → (Index|Bitmap)[^;]*on gp_skew.*; the plan made for the values is Aggregate → Seq Scan on gp_skew/);
    assert.equal(h.sql, 'SET LOCAL plan_cache_mode = force_custom_plan;');
    assert.ok(formatTextReport(r).includes(h.title));
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('evenly spread data: generic and custom plans are the same plan, and there is no hint; unprepared runs are not checked', async () => {
    const r = await profile({ sql: 'SELECT count(*), max(pad) FROM gp_even WHERE k = $1', params: [{ index: 1, spec: 'int:0..999' }], prepared: true, connection: conn(), clients: 2, requests: 10, baselineRuns: 1, sampleIntervalMs: 0, settings: { max_parallel_workers_per_gather: '0' } });
    assert.ok(r.insight.genericPlan?.generic?.json && r.insight.genericPlan.custom?.json, JSON.stringify(r.insight.genericPlan));
    assert.ok(!r.hints.some((x) => x.id === 'generic-plan'), r.hints.map((x) => `${x.id}: ${x.detail}`).join(' | '));
    const unprepared = await profile({ sql: 'SELECT count(*), max(pad) FROM gp_skew WHERE k = $1', params: [{ index: 1, spec: 'list:1' }], connection: conn(), clients: 2, requests: 4, baselineRuns: 1, sampleIntervalMs: 0 });
    assert.equal(unprepared.insight.genericPlan, undefined);
    assert.equal(unprepared.baseline.latency.count, 1);
  });
});
