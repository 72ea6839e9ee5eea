import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CheckOutcome } from '../../src/shared/result';
import { pgload, tmp } from '../support/cli';
import { testDb, waitNoPgloadSessions } from '../support/server';

/** A check file (and its SQL file) in a fresh folder. */
function checkFile(yaml: string): string {
  const file = tmp('pgload.yml', yaml);
  fs.mkdirSync(path.join(path.dirname(file), 'queries'));
  fs.writeFileSync(path.join(path.dirname(file), 'queries', 'q.sql'), '-- two statements\nSELECT pg_sleep(0.01);\nSELECT $1::int + 1;\n');
  return file;
}

describe('pgload check: budgets as a CI gate', function () {
  this.timeout(60_000);
  const url = () => testDb().url;

  it('every budget met: exit 0 and a summary table; the JSON carries each result', async () => {
    const file = checkFile(`
defaults: { clients: 2, duration: 1s }
checks:
  - name: sleep 10 ms
    file: queries/q.sql
    statement: 1
    budgets: { p50: 100ms, p95: "< 200ms", qps: 50, errors: 0 }
  - name: plus one
    file: queries/q.sql
    statement: 2
    params: [ "int:1..1000" ]
    requests: 100
    budgets: { p99: 1s, hints: critical }
`);
    const json = tmp('check.json');
    const r = await pgload(['check', file, '--url', url(), '--json', json, '--no-progress']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}check +clients +p50 +p95 +p99 +queries\/s +failed +result$/m);
    assert.match(r.stdout, /^ {2}sleep 10 ms +2 +\d+(\.\d+)? m?s .* PASS$/m);
    assert.match(r.stdout, /^2 passed, 0 failed$/m);
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as { kind: string; checks: CheckOutcome[] };
    assert.equal(out.kind, 'check');
    assert.deepEqual(out.checks.map((c) => c.status), ['passed', 'passed']);
    assert.equal(out.checks[1].result!.load.requests.ok, 100);
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a budget broken: exit 3, the figure against the budget, and a Markdown summary', async () => {
    const file = checkFile(`
checks:
  - name: too slow for its budget
    sql: SELECT pg_sleep(0.02)
    clients: 2
    requests: 20
    budgets: { p95: 5ms, qps: 1000 }
`);
    const md = tmp('summary.md');
    const r = await pgload(['check', file, '--url', url(), '--markdown', md, '--no-progress']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL too slow for its budget: p95 2\d\.\d ms is above the budget 5\.00 ms/);
    assert.match(r.stdout, /FAIL too slow for its budget: throughput \d+\.\d q\/s is below the budget 1000 q\/s/);
    assert.match(fs.readFileSync(md, 'utf8'), /\| too slow for its budget \| 2 \| .* \| ❌ p95 .* above the budget/);
  });

  it('a capacity check: the search runs instead of one load; a capacity below min-users fails the gate with both figures', async () => {
    const file = checkFile(`
checks:
  - name: holds ten users
    sql: SELECT 1
    capacity: { thinkTime: 50ms, poolSize: 2, maxOverflow: 0, maxUsers: 8, budget: 20s }
    budgets: { p95: 300ms, min-users: 10 }
`);
    const json = tmp('capacity-check.json');
    const r = await pgload(['check', file, '--url', url(), '--json', json, '--no-progress']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL holds ten users: the capacity within p95 ≤ 300 ms is 8 users pausing 50\.0 ms, below the budget 10 users pausing 50\.0 ms/);
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as { checks: CheckOutcome[] };
    assert.equal(out.checks[0].capacity!.boundary.kind, 'above-maximum');
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  it('a wrong check file: exit 2 with where and what, before anything runs', async () => {
    const cases: Array<[string, RegExp]> = [
      ['checks:\n  - name: x\n   sql: [\n', /is not valid YAML at line \d+, column \d+/],
      ['checks: []\n', /needs a non-empty "checks" list/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n', /check "x" has no "budgets"/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n    budgets: { p96: 1ms }\n', /unknown budget "p96"; the budgets are p50, p90, p95/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n    budgets: { qps: "< 10" }\n', /qps is a lower bound, write it as qps: > …/],
      ['checks:\n  - name: x\n    file: queries/q.sql\n    budgets: { p95: 1s }\n', /holds 2 statements; say which with "statement: N"/],
      ['checks:\n  - name: x\n    file: queries/missing.sql\n    budgets: { p95: 1s }\n', /queries\/missing\.sql: no such file \(paths are relative to the check file\)/],
      ['checks:\n  - name: x\n    sql: DROP TABLE t\n    budgets: { p95: 1s }\n', /check "x": pgload does not run schema changes/],
      ['checks:\n  - name: x\n    sql: SELECT $1::int\n    budgets: { p95: 1s }\n', /check "x": The statement uses \$1 and no values were given for \$1/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n    clinets: 4\n    budgets: { p95: 1s }\n', /check 1 has an unknown key "clinets"/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n    clients: 0\n    budgets: { p95: 1s }\n', /check "x": "clients" 0: 0 is too small; the smallest allowed is 1/],
      ['defaults:\n  duration: soon\nchecks:\n  - name: x\n    sql: SELECT 1\n    budgets: { p95: 1s }\n', /"duration" "soon": "soon" is not a duration/],
      ['checks:\n  - name: x\n    sql: SELECT 1\n    budgets: { p95: 1s }\n  - name: x\n    sql: SELECT 2\n    budgets: { p95: 1s }\n', /two checks are named "x"/],
    ];
    for (const [yaml, re] of cases) {
      const r = await pgload(['check', checkFile(yaml), '--url', url(), '--no-progress']);
      assert.equal(r.code, 2, `${yaml}\n${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '', 'nothing ran');
    }
    const none = await pgload(['check', '/nonexistent/pgload.yml']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /pgload\.yml does not exist; write one like the example in "pgload check --help"/);
  });
});
