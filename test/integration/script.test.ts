import * as assert from 'node:assert/strict';
import type { ProfileResult } from '../../src/shared/result';
import { pgload, tmp } from '../support/cli';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';

async function run(args: string[]): Promise<{ code: number; stderr: string; result?: ProfileResult }> {
  const r = await pgload(['run', '--url', testDb().url, '--no-progress', '--json', '-', ...args]);
  const code = r.code ?? -1;
  return { code, stderr: r.stderr, result: code === 0 || code === 1 ? (JSON.parse(r.stdout) as ProfileResult) : undefined };
}

describe('transactions and mixes: what an endpoint really sends', function () {
  this.timeout(90_000);

  before(async () => {
    await withAdmin((c) =>
      c.query(`DROP TABLE IF EXISTS tx_accounts; CREATE TABLE tx_accounts (id int PRIMARY KEY, balance int NOT NULL);
               INSERT INTO tx_accounts SELECT g, 100 FROM generate_series(1, 500) g`),
    );
  });

  it('--transaction: three statements per request, each timed apart with its share of the request and its plan alone', async () => {
    const file = tmp('endpoint.sql', [
      '-- an endpoint: read the account, its neighbours, a total',
      'SELECT balance FROM tx_accounts WHERE id = $1;',
      'SELECT pg_sleep(0.005), count(*) FROM tx_accounts WHERE id BETWEEN $1 AND $1 + 10;',
      'SELECT sum(balance) FROM tx_accounts;',
      '',
    ].join('\n'));
    const r = await run(['--file', file, '--transaction', '--param', '1=int:1..490', '--clients', '4', '--duration', '2s']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.result!;
    assert.equal(res.options.executionMode, 'read-only');
    const st = res.load.statements!;
    assert.deepEqual(st.map((s) => s.index), [1, 2, 3]);
    assert.equal(st[1].sql, 'SELECT pg_sleep(0.005), count(*) FROM tx_accounts WHERE id BETWEEN $1 AND $1 + 10');
    // Every request ran every statement once.
    for (const s of st) assert.equal(s.latency.count, res.load.requests.ok);
    // The 5 ms sleep is the largest part of each request; the parts add up to less than the whole (BEGIN, COMMIT).
    assert.ok(st[1].latency.p50Ms >= 5, String(st[1].latency.p50Ms));
    assert.ok(st[1].shareOfRequest > st[0].shareOfRequest && st[1].shareOfRequest > st[2].shareOfRequest);
    const sum = st.reduce((a, s) => a + s.shareOfRequest, 0);
    assert.ok(sum > 0.3 && sum < 1, String(sum));
    assert.ok(st.every((s) => s.planAlone?.json), 'each statement has its plan alone');
    assert.equal(res.load.scripts, undefined, 'one script: no per-script figures');
    // BEGIN, three statements, ROLLBACK: five responses that can each wait behind pgload's event loop.
    assert.equal(res.load.client?.roundTripsPerRequest, 5);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a write inside the transaction is rolled back with --allow-writes; a failure is counted on its statement', async () => {
    const file = tmp('transfer.sql', 'UPDATE tx_accounts SET balance = balance - 1 WHERE id = $1;\nSELECT 1 / ($1 % 5) FROM tx_accounts WHERE id = $1;\nUPDATE tx_accounts SET balance = balance + 1 WHERE id = 1;\n');
    const r = await run(['--file', file, '--transaction', '--allow-writes', '--param', '1=int:1..500', '--clients', '2', '--requests', '200', '--max-errors', '0']);
    assert.equal(r.code, 1, r.stderr);
    const res = r.result!;
    assert.equal(res.options.executionMode, 'rolled-back');
    const st = res.load.statements!;
    // $1 % 5 = 0 one time in five: statement 2 fails, never 1 or 3.
    assert.ok(st[1].failed > 10 && st[1].failed < 80, String(st[1].failed));
    assert.equal(st[0].failed, 0);
    assert.equal(st[2].failed, 0);
    assert.equal(st[1].failed, res.load.requests.failed);
    assert.match(res.errors.find((e) => e.phase === 'load')!.message, /^statement 2: division by zero$/);
    await withAdmin(async (c) => assert.equal((await c.query<{ s: number }>('SELECT sum(balance)::int AS s FROM tx_accounts')).rows[0].s, 50_000));
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('--mix a@3 --mix b@1: each request picks a script by weight; figures per script and overall', async () => {
    const a = tmp('fast.sql', 'SELECT balance FROM tx_accounts WHERE id = 7;\n');
    const b = tmp('slow.sql', 'SELECT pg_sleep(0.01);\nSELECT count(*) FROM tx_accounts;\n');
    const r = await run(['--mix', `${a}@3`, '--mix', `${b}@1`, '--clients', '4', '--requests', '400']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.result!;
    const [fast, slow] = res.load.scripts!;
    assert.deepEqual([fast.weight, slow.weight, fast.transaction, slow.transaction, slow.statements], [3, 1, false, true, 2]);
    assert.equal(fast.requests.ok + slow.requests.ok, 400);
    // 400 draws at 3:1: the share is 0.75 within a wide margin (binomial sd ≈ 0.022).
    assert.ok(Math.abs(fast.share - 0.75) < 0.1, String(fast.share));
    assert.ok(slow.latency.p50Ms > fast.latency.p50Ms && slow.latency.p50Ms >= 10);
    assert.equal(res.load.statements!.length, 3);
    assert.equal(res.load.requests.ok, 400);
    // Every request is a transaction pgload rolls back: 3 in 4 make three round trips (BEGIN, the statement, ROLLBACK),
    // 1 in 4 four (BEGIN, two statements, ROLLBACK): 3.25 on average.
    assert.equal(res.load.client?.roundTripsPerRequest, 3.25);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('the text report lists the scripts and each statement with its share', async () => {
    const file = tmp('two.sql', 'SELECT 1;\nSELECT pg_sleep(0.002);\n');
    const r = await pgload(['run', '--url', testDb().url, '--no-progress', '--file', file, '--transaction', '--clients', '2', '--requests', '40']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Statements \(each timed apart, inside its request\)\n {2}#1 SELECT 1 — p50 .+ of its request\n {2}#2 SELECT pg_sleep\(0\.002\) — p50 /);
    assert.match(r.stdout, /Throughput +[\d.,]+ requests\/s/);
  });

  it('bad input is refused before anything runs, the statement named: DDL, COPY, BEGIN/COMMIT inside, weights, flags that do not go together', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--file', tmp('ddl.sql', 'SELECT 1;\nDROP TABLE tx_accounts;\n'), '--transaction'], /ddl\.sql, statement 2 \(DROP TABLE tx_accounts\): pgload does not run schema changes/],
      [['--file', tmp('copy.sql', 'SELECT 1;\nCOPY tx_accounts TO STDOUT;\n'), '--transaction'], /copy\.sql, statement 2 \(COPY tx_accounts TO STDOUT\): /],
      [['--file', tmp('begin.sql', 'BEGIN;\nSELECT 1;\n'), '--transaction'], /begin\.sql, statement 1 \(BEGIN\): transaction control is refused inside a request/],
      [['--file', tmp('commit.sql', 'SELECT 1;\nCOMMIT;\n'), '--transaction'], /commit\.sql, statement 2 \(COMMIT\): transaction control is refused/],
      [['--file', tmp('w.sql', 'SELECT 1;\nUPDATE tx_accounts SET balance = 0;\n'), '--transaction'], /w\.sql, statement 2 \(UPDATE tx_accounts SET balance = 0\): This statement changes data/],
      [['--mix', `${tmp('m.sql', 'SELECT 1;\n')}@0`], /--mix .*m\.sql@0: the weight after @ must be a whole number from 1 to 1000000/],
      [['--mix', `${tmp('m2.sql', 'SELECT 1;\n')}@1.5`], /the weight after @ must be a whole number/],
      [['--mix', tmp('m3.sql', 'SELECT 1;\n'), '--sql', 'SELECT 1'], /Give either --mix scripts or --sql\/--file, not both/],
      [['--file', tmp('s.sql', 'SELECT 1;\nSELECT 2;\n'), '--transaction', '--statement', '2'], /--transaction runs every statement of the file; leave out --statement/],
      [['--file', tmp('p.sql', 'SELECT 1;\nSELECT 2;\n'), '--transaction', '--prepared'], /Prepared statements go with one statement/],
      [['--mix', '/nonexistent/a.sql@2'], /--mix \/nonexistent\/a\.sql: no such file/],
    ];
    for (const [args, expected] of cases) {
      const r = await pgload(['run', '--url', testDb().url, '--no-progress', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
    }
    await withAdmin(async (c) => assert.equal((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_accounts')).rows[0].n, 500));
  });
});
