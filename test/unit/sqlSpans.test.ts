import * as assert from 'node:assert/strict';
import { ensureParser, splitStatements } from '../../src/core/sql';
import { statementSpans } from '../../src/core/sqlSpans';
import { seededRandom } from '../../src/core/load/random';

/** What the editor's lexical split must agree on with the real parser: every range, text and `$n` count. */
function agree(doc: string): void {
  // (libpg-query refuses an empty string outright; there is nothing to split.)
  const real = (doc === '' ? [] : splitStatements(doc)).map((s) => ({ text: s.text, start: s.start, end: s.end, paramCount: s.paramCount }));
  const quick = statementSpans(doc).map((s) => ({ text: s.text, start: s.start, end: s.end, paramCount: s.paramCount }));
  assert.deepEqual(quick, real, `for the document:\n${doc}`);
}

const TRICKY = [
  "-- report queries\nSELECT 1;\n\n/* second */ select a\n  from t -- trailing\n;\nSELECT 'x;y' AS s",
  "SELECT 'ééé 😀;';\nSELECT 'ü' AS \"a;b\"",
  "SELECT 'it''s; fine', \"quo\"\"ted;\" FROM t; SELECT 2",
  "SELECT E'back\\'slash; still' AS a; SELECT e'\\\\'; SELECT 'plain\\'; SELECT 3",
  "SELECT $$ a ; b $$, $tag$ ; $$ ; $tag$; SELECT $1 + $12 FROM t WHERE x = $3",
  '/* outer /* nested ; */ still ; */ SELECT 1; /* only a comment ; */',
  'SELECT (SELECT 1); ; ; SELECT 2;;',
  "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + 1; SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; END; SELECT f(1)",
  "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; CALL p()",
  "CREATE FUNCTION g() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql; SELECT g()",
  "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2)); SELECT 1",
  "SELECT U&'d\\0061t\\+000061;' AS u, B'101', X'1F', N'n;' ; SELECT 1",
  "SELECT a$b, $1::int FROM t$1 WHERE c = 'x'--;\n; SELECT 2 /* c */ -- d\n",
  "SELECT 1 -- trailing comment ; not a split\n; SELECT ';' -- end",
  "BEGIN; UPDATE t SET a = 1 WHERE id = $1; COMMIT;",
  "SELECT 1.5e10, .5, 1e-3 FROM t; WITH x AS (SELECT $2) SELECT * FROM x",
  '',
  '   \n-- nothing here\n/* nor here */\n',
];

describe('Statement ranges without the parser (editor CodeLens)', () => {
  before(() => ensureParser());

  it('agree with the real parser on tricky documents (strings, comments, dollar quotes, atomic bodies, rules)', () => {
    for (const doc of TRICKY) agree(doc);
  });

  it('agree with the real parser on 500 generated documents of mixed pieces', () => {
    const pieces = [
      "SELECT 'a;b'",
      'SELECT "x;y" FROM t',
      "SELECT E'q\\';'",
      'SELECT $$;$$',
      'SELECT $t$ $$ ; $t$',
      'SELECT $1, $2',
      'SELECT (1)',
      'SELECT 1 /* ; */',
      '-- ; comment\nSELECT 2',
      "SELECT 'é😀;'",
      'SELECT CASE WHEN true THEN 1 END',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END',
      'WITH a AS (SELECT $3) SELECT * FROM a',
      'SELECT 1',
      '',
    ];
    const random = seededRandom(42);
    for (let d = 0; d < 500; d++) {
      const parts: string[] = [];
      const count = 1 + Math.floor(random() * 6);
      for (let k = 0; k < count; k++) parts.push(pieces[Math.floor(random() * pieces.length)]);
      const seps = [';', ';\n', ' ; ', ';\n\n-- x\n', ';/* y */'];
      agree(parts.map((p, k) => p + (k < parts.length - 1 || random() < 0.5 ? seps[Math.floor(random() * seps.length)] : '')).join(''));
    }
  });

  it('a document with a syntax error still gets its ranges (the parser would give none)', () => {
    const doc = 'SELECT 1;\nSELEC oops FROM;\nSELECT $2';
    assert.throws(() => splitStatements(doc));
    assert.deepEqual(
      statementSpans(doc).map((s) => [s.text, s.paramCount]),
      [
        ['SELECT 1', 0],
        ['SELEC oops FROM', 0],
        ['SELECT $2', 2],
      ],
    );
  });

  it('an unclosed string or comment runs to the end of the document instead of throwing', () => {
    assert.deepEqual(
      statementSpans("SELECT 1; SELECT 'open; SELECT 2").map((s) => s.text),
      ['SELECT 1', "SELECT 'open; SELECT 2"],
    );
    assert.deepEqual(
      statementSpans('SELECT 1; /* open ; SELECT 2').map((s) => s.text),
      ['SELECT 1'],
    );
  });
});
