import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { budgetOutcomes, capacityOutcomes, evaluateBudgets, parseCheckFile } from '../../src/core/analysis/check';
import type { CapacityResult, ProfileResult } from '../../src/shared/result';
import { scratchDir } from '../support/scratch';

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/result-demo-50-clients.json'), 'utf8')) as ProfileResult;

describe('check files: where each check and its statement are (the Test Explorer jumps there)', () => {
  it('a check from a file points at its statement (offsets in the SQL file); an inline one at its place in the YAML', async () => {
    const dir = scratchDir('pgload-checkfile-');
    const sql = '-- two\nSELECT 1;\n\nSELECT 2 AS two;\n';
    fs.writeFileSync(path.join(dir, 'q.sql'), sql);
    const yml = ['checks:', '  - name: from the file', '    file: q.sql', '    statement: 2', '    budgets: { p95: 1s }', '  - name: inline', '    sql: SELECT 3', '    budgets: { qps: 5 }', ''].join('\n');
    const f = await parseCheckFile(yml, path.join(dir, 'pgload.yml'));
    assert.deepEqual(f.checks.map((c) => c.at), [{ line: 1, column: 4 }, { line: 5, column: 4 }]);
    const src = f.checks[0].source!;
    assert.equal(src.file, path.join(dir, 'q.sql'));
    assert.equal(sql.slice(src.start, src.end), 'SELECT 2 AS two');
    assert.equal(f.checks[1].source, undefined);
  });

  it('every budget against a result says the figure and whether it held; evaluateBudgets keeps the broken ones', async () => {
    const l = recorded.load.latency;
    const f = await parseCheckFile(`checks:\n  - sql: SELECT 1\n    budgets: { p95: ${Math.ceil(l.p95Ms) + 1}ms, p50: ${Math.max(1, Math.floor(l.p50Ms / 2))}ms, qps: 1000000, errors: 0 }\n`, 'x.yml');
    const o = budgetOutcomes(recorded, f.checks[0].budgets);
    assert.deepEqual(o.map((x) => [x.budget.metric, x.ok]), [['p95', true], ['p50', false], ['qps', false], ['errors', recorded.load.requests.failed === 0]]);
    assert.match(o[0].text, /^p95 .+ is within the budget .+$/);
    assert.match(o[1].text, /^p50 .+ is above the budget .+$/);
    assert.deepEqual(evaluateBudgets(recorded, f.checks[0].budgets), o.filter((x) => !x.ok).map((x) => x.text));
  });
});

describe('check files: capacity checks (min-users, min-rate)', () => {
  const capacityFixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/capacity-users-pool-4.json'), 'utf8')) as CapacityResult;

  it('min-users with p95 becomes a capacity search: p95 its objective, the demand from "capacity:", the capacity its budget', async () => {
    const f = await parseCheckFile('checks:\n  - sql: SELECT 1\n    capacity: { thinkTime: 5s, poolSize: 20, maxOverflow: 100, budget: 2m }\n    budgets: { p95: 500ms, min-users: 100 }\n', 'x.yml');
    const c = f.checks[0];
    assert.deepEqual(c.capacity, { objectiveMs: 500, demand: { kind: 'users', thinkTimeMs: 5000, thinkTimeDistribution: 'exponential', poolSize: 20, maxOverflow: 100, poolTimeoutMs: 30_000 }, max: 1000, budgetMs: 120_000 });
    assert.deepEqual(c.budgets.map((b) => b.metric), ['min-users']);
  });

  it('the capacity found against the budget: at or above it passes, below it fails, each with the figure', () => {
    const budget = { metric: 'min-users' as const, limit: capacityFixture.capacity!, text: String(capacityFixture.capacity) };
    const [held] = capacityOutcomes(capacityFixture, [budget]);
    assert.equal(held.ok, true);
    assert.match(held.text, new RegExp(`^the capacity within p95 ≤ 100 ms is ${capacityFixture.capacity} users pausing 200 ms, at or above the budget`));
    const [missed] = capacityOutcomes(capacityFixture, [{ ...budget, limit: capacityFixture.capacity! + 1 }]);
    assert.equal(missed.ok, false);
    assert.match(missed.text, /, below the budget \d+ users pausing 200 ms$/);
  });

  it('refused with what to write: min-users without p95, with other budgets, both mins, capacity without a min, thinkTime with min-rate', async () => {
    const cases: Array<[string, RegExp]> = [
      ['budgets: { min-users: 100 }', /min-users is the capacity within a p95 objective; give the p95 budget too, like budgets: \{ p95: 500ms, min-users: 100 \}/],
      ['budgets: { p95: 500ms, min-users: 100, qps: 10 }', /a capacity check measures its capacity only; put qps in a check of its own/],
      ['budgets: { p95: 500ms, min-users: 100, min-rate: 5 }', /give min-users or min-rate, not both/],
      ['capacity: { poolSize: 4 }\n    budgets: { p95: 500ms }', /"capacity" describes the search of a min-users or min-rate budget/],
      ['capacity: { thinkTime: 1s }\n    budgets: { p95: 500ms, min-rate: 5 }', /"thinkTime" is the pause of users; min-rate searches an arrival rate/],
      ['capacity: { queue: 3 }\n    budgets: { p95: 500ms, min-users: 5 }', /has an unknown key "queue"/],
      ['budgets: { p95: 500ms, min-users: 2.5 }', /budget min-users 2\.5: give a whole number of users, like 100/],
    ];
    for (const [body, expect] of cases) await assert.rejects(parseCheckFile(`checks:\n  - sql: SELECT 1\n    ${body}\n`, 'x.yml'), expect, body);
  });
});
