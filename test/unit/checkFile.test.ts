import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { budgetOutcomes, evaluateBudgets, parseCheckFile } from '../../src/core/analysis/check';
import type { ProfileResult } from '../../src/shared/result';
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
