import * as assert from 'node:assert/strict';
import { PgloadError } from '../../src/core/errors';
import { ensureParser, parseSingleStatement, splitStatements, statementAt } from '../../src/core/sql';

describe('SQL parsing (libpg-query)', () => {
  before(() => ensureParser());

  it('splits a document into statements with exact offsets, without comments or semicolons', () => {
    const doc = "-- report queries\nSELECT 1;\n\n/* second */ select a\n  from t -- trailing\n;\nSELECT 'x;y' AS s";
    const s = splitStatements(doc);
    assert.equal(s.length, 3);
    assert.deepEqual(
      s.map((x) => x.text),
      ['SELECT 1', 'select a\n  from t', "SELECT 'x;y' AS s"],
    );
    for (const x of s) assert.equal(doc.slice(x.start, x.end), x.text);
  });

  it('keeps offsets right after multi-byte and astral characters (editor offsets are UTF-16)', () => {
    const doc = "SELECT 'ééé 😀';\nSELECT 'ü' AS u;";
    const s = splitStatements(doc);
    assert.deepEqual(
      s.map((x) => doc.slice(x.start, x.end)),
      ["SELECT 'ééé 😀'", "SELECT 'ü' AS u"],
    );
  });

  it('classifies statements: query, DML (also in a CTE), DDL, utility, transaction control', () => {
    const kinds = (sql: string) => splitStatements(sql).map((x) => `${x.kind}${x.locksRows ? '+locks' : ''}`);
    assert.deepEqual(kinds('SELECT 1; SHOW work_mem; VALUES (1)'), ['query', 'query', 'query']);
    assert.deepEqual(kinds('SELECT * FROM t FOR UPDATE'), ['query+locks']);
    assert.deepEqual(kinds('DELETE FROM t; UPDATE t SET a=1; INSERT INTO t VALUES (1)'), ['dml', 'dml', 'dml']);
    assert.deepEqual(kinds('MERGE INTO t USING u ON t.id=u.id WHEN MATCHED THEN DELETE'), ['dml']);
    assert.deepEqual(kinds('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d'), ['dml']);
    assert.deepEqual(kinds('CREATE TABLE x (a int); DROP TABLE x; TRUNCATE t; SELECT * INTO y FROM t'), ['ddl', 'ddl', 'ddl', 'ddl']);
    assert.deepEqual(kinds('SET work_mem = 1; VACUUM t; COPY t TO STDOUT; EXPLAIN SELECT 1'), ['utility', 'utility', 'utility', 'utility']);
    assert.deepEqual(kinds('BEGIN; COMMIT; ROLLBACK'), ['transaction', 'transaction', 'transaction']);
  });

  it('fingerprints ignore constants and formatting but not structure', () => {
    const [a, b, c] = splitStatements('SELECT * FROM t WHERE id = 1; select *\n from t where id=42; SELECT * FROM t WHERE name = 1');
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
    assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
  });

  it('counts $n parameters by the highest number used', () => {
    assert.equal(parseSingleStatement('SELECT $2::int + $1').paramCount, 2);
    assert.equal(parseSingleStatement('SELECT 1').paramCount, 0);
  });

  it('reports a syntax error at the right line and column', () => {
    const doc = "SELECT 'é';\nSELECT *\n  FORM t";
    assert.throws(
      () => splitStatements(doc),
      (e: PgloadError) => {
        assert.equal(e.kind, 'input');
        assert.equal(e.location?.line, 3);
        assert.equal(e.location?.column, 3);
        assert.equal(doc.slice(e.location!.offset, e.location!.offset + 4), 'FORM');
        assert.match(e.message, /line 3, column 3: syntax error at or near "FORM"/);
        return true;
      },
    );
  });

  it('refuses several statements where one is expected, naming them', () => {
    assert.throws(
      () => parseSingleStatement('SELECT 1;\nSELECT 2;'),
      (e: PgloadError) => e.kind === 'input' && /holds 2 statements/.test(e.message) && /2\. line 2, column 1: SELECT 2/.test(e.message),
    );
  });

  it('says what is missing for empty and comment-only SQL', () => {
    assert.throws(() => parseSingleStatement('   \n '), /No SQL was given/);
    assert.throws(() => parseSingleStatement('-- nothing here\n/* still nothing */'), /only comments/);
  });

  it('rejects text with NUL bytes as not SQL', () => {
    assert.throws(() => splitStatements('SELECT 1\u0000'), /NUL character at line 1, column 9/);
  });

  it('finds the statement under the cursor', () => {
    const doc = 'SELECT 1;\n\nSELECT 2;';
    const s = splitStatements(doc);
    assert.equal(statementAt(s, 3)?.text, 'SELECT 1');
    assert.equal(statementAt(s, doc.indexOf('2'))?.text, 'SELECT 2');
    assert.equal(statementAt(s, 9)?.text, 'SELECT 1'); // just after the semicolon
  });
});

describe('SQL syntax error positions after astral characters', () => {
  before(() => ensureParser());
  it('maps the parser character position to the editor offset', () => {
    const doc = "SELECT '😀' FROM WHERE";
    assert.throws(
      () => splitStatements(doc),
      (e: PgloadError) => doc.slice(e.location!.offset, e.location!.offset + 5) === 'WHERE' && e.location!.column === doc.indexOf('WHERE') + 1,
    );
  });
});
