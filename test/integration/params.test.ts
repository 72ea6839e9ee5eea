import * as assert from 'node:assert/strict';
import { profile } from '../../src/core/load/runner';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { pgload, tmp } from '../support/cli';

const conn = () => ({ url: testDb().url });
const quick = { clients: 2, requests: 200, baselineRuns: 1, explain: false, sampleIntervalMs: 0, maxErrors: 0 };

describe('Parameters and prepared statements on a real PostgreSQL', function () {
  this.timeout(60_000);

  before(() =>
    withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS param_users');
      await c.query(`CREATE TABLE param_users (id int PRIMARY KEY, region text NOT NULL)`);
      await c.query(`INSERT INTO param_users SELECT g, (ARRAY['eu','us','ap'])[1 + g % 3] FROM generate_series(1, 5000) g`);
    }),
  );
  after(() => withAdmin((c) => c.query('DROP TABLE IF EXISTS param_users')));

  it('every generator sends values the server accepts and that lie in range (the statement fails on any other)', async () => {
    // Division by zero for any value outside what the generators may produce: a failed request would be counted.
    const sql = `SELECT CASE WHEN $1::int BETWEEN 1 AND 5000 AND $2::text IN ('eu','us') AND $3::int BETWEEN 1 AND 5000 AND $4::numeric BETWEEN 0.5 AND 1.5
                 THEN (SELECT count(*) FROM param_users WHERE id = $1::int) ELSE 1/0 END`;
    const r = await profile({
      ...quick,
      sql,
      connection: conn(),
      params: [
        { index: 1, spec: 'zipf:1..5000' },
        { index: 2, spec: 'list:eu,us' },
        { index: 3, spec: 'sql:SELECT id FROM param_users ORDER BY id LIMIT 5000' },
        { index: 4, spec: 'num:0.5..1.5' },
      ],
    });
    assert.equal(r.load.requests.failed, 0, JSON.stringify(r.errors));
    assert.equal(r.load.requests.ok, 200);
    assert.deepEqual(r.options.params!.map((p) => p.spec), ['zipf:1..5000', 'list:eu,us', 'sql:SELECT id FROM param_users ORDER BY id LIMIT 5000', 'num:0.5..1.5']);
    assert.equal(r.options.params![0].sample.length, 5);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('--seed repeats the values of a run; another seed draws others', async () => {
    const run = (seed: number) => profile({ ...quick, clients: 1, requests: 20, sql: 'SELECT region FROM param_users WHERE id = $1', connection: conn(), params: [{ index: 1, spec: 'int:1..5000' }], seed });
    const [a, b, c] = [await run(42), await run(42), await run(43)];
    assert.deepEqual(a.options.params![0].sample, b.options.params![0].sample);
    assert.notDeepEqual(a.options.params![0].sample, c.options.params![0].sample);
    assert.equal(a.options.seed, 42);
  });

  it('prepared statements are planned once per session; unnamed ones every time (pg_stat_statements)', async function () {
    const tracked = await withAdmin(async (c) => {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      return (await c.query(`SELECT current_setting('pg_stat_statements.track_planning', true) AS v`)).rows[0].v === 'on';
    });
    if (!tracked) this.skip();
    const sql = 'SELECT id, region FROM param_users WHERE id = $1';
    const plansAndCalls = async (prepared: boolean) => {
      await withAdmin((c) => c.query('SELECT pg_stat_statements_reset()'));
      await profile({ ...quick, clients: 2, requests: 400, sql, connection: conn(), params: [{ index: 1, spec: 'int:1..5000' }], prepared });
      return withAdmin(async (c) => {
        const r = await c.query<{ plans: string; calls: string }>(`SELECT sum(plans) AS plans, sum(calls) AS calls FROM pg_stat_statements WHERE query = $1`, [sql]);
        return { plans: Number(r.rows[0].plans), calls: Number(r.rows[0].calls) };
      });
    };
    const unnamed = await plansAndCalls(false);
    const prepared = await plansAndCalls(true);
    assert.ok(unnamed.calls >= 400 && unnamed.plans >= unnamed.calls, `unnamed: ${JSON.stringify(unnamed)}`);
    // 3 sessions (baseline + 2 clients), each planning a few custom plans before settling on a generic one.
    assert.ok(prepared.calls >= 400 && prepared.plans <= 30, `prepared: ${JSON.stringify(prepared)}`);
  });

  it('bad generators are refused before the run, with the reason, and nothing is left on the server', async () => {
    const url = testDb().url;
    const base = ['run', '--url', url, '--clients', '2', '--requests', '10', '--no-progress'];
    const ragged = tmp('ragged.csv', 'id,region\n1,eu\n2,us,extra\n');
    const cases: Array<[string[], RegExp]> = [
      [['--sql', 'SELECT $1::int', '--param', '1=sql:SELECT id FROM param_users WHERE id < 0'], /sampling query for \$1 returned no rows/],
      [['--sql', 'SELECT $1::int', '--param', '1=sql:DELETE FROM param_users'], /sampling query for \$1 must be a plain SELECT/],
      [['--sql', 'SELECT $1::int', '--param', '1=sql:SELECT nosuchcolumn FROM param_users'], /sampling query for \$1 failed: 42703 column "nosuchcolumn" does not exist/],
      [['--sql', 'SELECT $1::int', '--param', `1=csv:${ragged}:id`], /ragged\.csv line 3: 3 fields where the header has 2/],
      [['--sql', 'SELECT $1::int, $2::int', '--param', '1=int:1..9'], /no values were given for \$2/],
      [['--sql', 'SELECT 1', '--param', '1=int:1..9'], /the statement has no parameters/],
    ];
    for (const [args, re] of cases) {
      const r = await pgload([...base, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '', 'no report: nothing was measured');
    }
    assert.equal(await waitNoPgloadSessions(2000), 0);
    assert.equal(await withAdmin(async (c) => (await c.query('SELECT count(*)::int AS n FROM param_users')).rows[0].n), 5000);
  });

  it('the CLI report shows the generators, example values, the protocol and the seed', async () => {
    const csv = tmp('ids.csv', 'id,region\n10,eu\n20,us\n30,ap\n');
    const r = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT region FROM param_users WHERE id = $1 AND region <> $2', '--param', `1=csv:${csv}:id`, '--param', '2=list:xx', '--prepared', '--seed', '7', '--clients', '2', '--requests', '20', '--no-progress', '--no-explain']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Parameters +\$1 csv:.*ids\.csv:id \(e\.g\. (10|20|30), (10|20|30), (10|20|30)\) · \$2 list:xx \(e\.g\. xx, xx, xx\) · prepared statement · seed 7/);
  });
});
