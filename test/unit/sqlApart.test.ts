import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCheckFile } from '../../src/core/analysis/check';
import { ensureParser } from '../../src/core/sql';
import { statementNumber, statementsApart } from '../../src/core/sqlApart';
import { scratchDir } from '../support/scratch';

describe('every statement on its own: a syntax error in one never blocks another', () => {
  before(() => ensureParser());
  const doc = '-- orders\nSELECT 1 AS a;\n\nSELECT é.x FROM t AS é;\nSELECT 3 FROM WHERE x;\nSELECT 4 AS d';

  it('the statements that parse are parsed (offsets in the document); the broken one carries its error at the file’s line and column', () => {
    const all = statementsApart(doc);
    assert.deepEqual(all.map((s) => s.statement?.text ?? null), ['SELECT 1 AS a', 'SELECT é.x FROM t AS é', null, 'SELECT 4 AS d']);
    for (const s of all) if (s.statement) assert.equal(doc.slice(s.statement.start, s.statement.end), s.statement.text);
    assert.deepEqual(all.map((s) => s.statement?.index ?? s.span.index), [0, 1, 2, 3]);
    const broken = all[2].error!;
    assert.match(broken.message, /^SQL syntax error at line 5, column 15 \(statement 3\): syntax error at or near "WHERE"$/);
    assert.equal(doc.slice(broken.location!.offset, broken.location!.offset + 5), 'WHERE');
  });

  it('statement N of a file, alone; N past the end says how many there are', () => {
    assert.equal(statementNumber(doc, 4).statement.text, 'SELECT 4 AS d');
    assert.equal(statementNumber(doc, 4).count, 4);
    assert.throws(() => statementNumber(doc, 3), /line 5, column 15 \(statement 3\)/);
    assert.throws(() => statementNumber(doc, 7), /it holds 4 statements, not 7/);
    assert.throws(() => statementNumber('-- nothing', 1), /it holds no statement/);
  });

  it('a check of statement 1 loads while statement 2 of its file is broken; the check of statement 2 names the file, the line and the statement', async () => {
    const dir = scratchDir('pgload-apart-');
    fs.writeFileSync(path.join(dir, 'q.sql'), 'SELECT 1 AS ok;\nSELECT 2 FROM WHERE x;\n');
    const one = await parseCheckFile('checks:\n  - file: q.sql\n    statement: 1\n    budgets: { p95: 1s }\n', path.join(dir, 'pgload.yml'));
    assert.equal(one.checks[0].input.sql, 'SELECT 1 AS ok');
    await assert.rejects(
      parseCheckFile('checks:\n  - file: q.sql\n    statement: 2\n    budgets: { p95: 1s }\n', path.join(dir, 'pgload.yml')),
      /q\.sql: SQL syntax error at line 2, column 15 \(statement 2\): syntax error at or near "WHERE"/,
    );
    await assert.rejects(parseCheckFile('checks:\n  - file: q.sql\n    statement: 5\n    budgets: { p95: 1s }\n', path.join(dir, 'pgload.yml')), /q\.sql: it holds 2 statements, not 5/);
  });
});
