import * as assert from 'node:assert/strict';
import type { TopResult } from '../../src/shared/result';
import { pgload } from '../support/cli';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';

/** The database URL with another database name. */
function urlFor(database: string): string {
  const u = new URL(testDb().url);
  u.pathname = `/${database}`;
  return u.toString();
}

describe('pgload top: the server\'s top statements from pg_stat_statements', function () {
  this.timeout(60_000);

  before(async () => {
    await withAdmin(async (c) => {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      // status: three values (most common values in pg_stats); customer_id: 1 … 500 evenly (a histogram).
      await c.query(`DROP TABLE IF EXISTS top_orders;
        CREATE TABLE top_orders AS SELECT g AS id, 1 + (g % 500) AS customer_id, (ARRAY['paid','new','shipped'])[1 + g % 3] AS status FROM generate_series(1, 20000) g;
        ANALYZE top_orders`);
      await c.query('SELECT pg_stat_statements_reset()');
      for (let i = 0; i < 50; i++) await c.query(`SELECT * FROM top_orders WHERE customer_id = ${1 + i}`);
      for (let i = 0; i < 20; i++) await c.query("SELECT o.id FROM top_orders o WHERE o.status = 'paid' ORDER BY o.id LIMIT 5");
      for (let i = 0; i < 5; i++) await c.query('UPDATE top_orders SET status = status WHERE id = 1');
      for (let i = 0; i < 3; i++) await c.query('SELECT pg_sleep(0.05)');
    });
  });

  it('lists them by mean time with their figures; suggests generators from pg_stats; says how each can be profiled', async () => {
    const r = await pgload(['top', '--url', testDb().url, '--order', 'mean', '--limit', '50', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    const top = JSON.parse(r.stdout) as TopResult;
    assert.equal(top.kind, 'top');
    assert.equal(top.order, 'mean');
    // pg_sleep(0.05) has the highest mean: first.
    assert.match(top.statements[0].query, /pg_sleep/);
    assert.ok(top.statements[0].meanMs >= 50, String(top.statements[0].meanMs));
    for (let i = 1; i < top.statements.length; i++) assert.ok(top.statements[i - 1].meanMs >= top.statements[i].meanMs, 'ordered by mean');

    const byCustomer = top.statements.find((s) => /FROM top_orders WHERE customer_id = \$1/.test(s.query));
    assert.ok(byCustomer, top.statements.map((s) => s.query).join('\n'));
    assert.equal(byCustomer.calls, 50);
    assert.equal(byCustomer.profile, 'read-only');
    assert.equal(byCustomer.params.length, 1);
    assert.equal(byCustomer.params[0].source, 'top_orders.customer_id');
    // Evenly spread: the histogram's range, within the column's 1 … 500.
    const m = /^int:(\d+)\.\.(\d+)$/.exec(byCustomer.params[0].spec ?? '');
    assert.ok(m && Number(m[1]) >= 1 && Number(m[1]) <= 10 && Number(m[2]) >= 490 && Number(m[2]) <= 500, byCustomer.params[0].spec ?? 'null');

    const byStatus = top.statements.find((s) => /o\.status = \$1/.test(s.query));
    assert.ok(byStatus);
    // Three values cover every row: the most common values; the LIMIT is a guess and says so.
    assert.deepEqual(byStatus.params[0].spec?.replace(/^list:/, '').split(',').sort(), ['new', 'paid', 'shipped']);
    assert.equal(byStatus.params[1].source, 'LIMIT');
    assert.match(byStatus.params[1].why, /guess/);

    const update = top.statements.find((s) => /^UPDATE top_orders/.test(s.query));
    assert.equal(update?.profile, 'rolled-back');
    // The table an UPDATE changes is known too: its $1 is compared with top_orders.id.
    assert.equal(update?.params[0]?.source, 'top_orders.id', JSON.stringify(update?.params));
    const total = top.statements.reduce((a, s) => a + s.shareOfTotal, 0);
    assert.ok(total > 0 && total <= 1.0001, String(total));
  });

  it('the text lists each statement with a "profile:" line that runs as printed, with the suggested generators', async () => {
    const r = await pgload(['top', '--url', testDb().url, '--limit', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Top \d+ statements by total time on /);
    const block = r.stdout.split('\n\n').find((b) => /FROM top_orders WHERE customer_id = \$1/.test(b));
    assert.ok(block, r.stdout);
    assert.match(block, /\$1: int:\d+\.\.\d+ — whole numbers across top_orders\.customer_id's range/);
    const line = /profile: pgload run --sql '([^']+)' --param '1=(int:\d+\.\.\d+)'/.exec(block);
    assert.ok(line, block);
    const run = await pgload(['run', '--url', testDb().url, '--sql', line[1], '--param', `1=${line[2]}`, '--clients', '2', '--requests', '20', '--json', '-']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { load: { requests: { ok: number } } }).load.requests.ok, 20);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('leaves out what pgload itself sent (its checks, EXPLAIN, wait sampling) and says so; the profiled statement\'s own requests stay', async () => {
    const ran = await pgload(['run', '--url', testDb().url, '--sql', "SELECT count(*) FROM top_orders WHERE status = 'new'", '--clients', '2', '--requests', '40', '--no-progress']);
    assert.equal(ran.code, 0, ran.stderr);
    const r = await pgload(['top', '--url', testDb().url, '--limit', '1000', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    const top = JSON.parse(r.stdout) as TopResult;
    // pgload's own: EXPLAIN and the transaction around it, the read-only check, the pooler probe, wait sampling, the counters, the capacity read, top's own.
    const own = top.statements.filter((s) => /^\s*(EXPLAIN|SHOW|BEGIN|ROLLBACK|PREPARE|DEALLOCATE)\b|pg_backend_pid\(\) AS pid|wait_event_type|pg_stat_database|pg_stat_statements_info|AS su_reserved|queryid::text/i.test(s.query));
    assert.deepEqual(own.map((s) => s.query), []);
    assert.ok(top.notes.some((n) => /statements? pgload itself sent .* left out/.test(n)), top.notes.join(' | '));
    // The load's own requests are what the server ran: they stay.
    assert.ok(top.statements.some((s) => /FROM top_orders WHERE status = \$1/.test(s.query) && s.calls >= 40));
  });

  it('pg_stat_statements missing in the database: the exact lines to enable it, exit 2; bad flags named', async () => {
    await withAdmin(async (c) => {
      await c.query('DROP DATABASE IF EXISTS top_noext');
      await c.query('CREATE DATABASE top_noext');
    });
    const r = await pgload(['top', '--url', urlFor('top_noext')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pg_stat_statements is not installed in database "top_noext" \(it is in shared_preload_libraries, so only the extension is missing\)/);
    assert.match(r.stderr, /CREATE EXTENSION pg_stat_statements;/);
    const order = await pgload(['top', '--url', testDb().url, '--order', 'fastest']);
    assert.equal(order.code, 2);
    assert.match(order.stderr, /--order fastest: use one of total, mean, temp, calls/);
    const limit = await pgload(['top', '--url', testDb().url, '--limit', '0']);
    assert.equal(limit.code, 2);
    assert.match(limit.stderr, /--limit/);
    await withAdmin((c) => c.query('DROP DATABASE IF EXISTS top_noext'));
  });
});
