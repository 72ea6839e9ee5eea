import * as assert from 'node:assert/strict';
import { parseMixFlag, pickByWeight, prepareScripts } from '../../src/core/load/script';
import { ensureParser } from '../../src/core/sql';
import { seededRandom } from '../../src/core/load/random';

describe('scripts: transactions and mixes', () => {
  before(() => ensureParser());

  it('--mix FILE@WEIGHT: the weight a positive whole number (1 without @); anything else named', () => {
    assert.deepEqual(parseMixFlag('browse.sql@70'), { file: 'browse.sql', weight: 70 });
    assert.deepEqual(parseMixFlag('q.sql'), { file: 'q.sql', weight: 1 });
    assert.deepEqual(parseMixFlag('dir@x/q.sql@3'), { file: 'dir@x/q.sql', weight: 3 });
    for (const bad of ['q.sql@0', 'q.sql@-1', 'q.sql@1.5', 'q.sql@', 'q.sql@ten', '@5']) assert.throws(() => parseMixFlag(bad), /--mix/, bad);
  });

  it('picks by weight: over many draws each script\'s share is its weight\'s', () => {
    const rnd = seededRandom(3);
    const counts = [0, 0, 0];
    const scripts = [{ weight: 70 }, { weight: 20 }, { weight: 10 }];
    for (let i = 0; i < 100_000; i++) counts[pickByWeight(scripts, rnd())]++;
    assert.deepEqual(counts.map((c) => Math.round(c / 1000)), [70, 20, 10]);
    assert.equal(pickByWeight(scripts, 0), 0);
    assert.equal(pickByWeight(scripts, 0.9999999), 2);
  });

  it('the whole stands as one statement for the result: the highest $n, a write makes it rolled back, one fingerprint', () => {
    const p = prepareScripts([{ name: 'a.sql', weight: 1, sql: 'SELECT $1::int;\nUPDATE t SET v = $2 WHERE id = $1;' }], true);
    assert.equal(p.mode, 'rolled-back');
    assert.equal(p.statement.paramCount, 2);
    assert.equal(p.statement.kind, 'dml');
    assert.equal(p.scripts[0].transaction, true);
    assert.equal(p.statement.text, 'SELECT $1::int;\nUPDATE t SET v = $2 WHERE id = $1');
    const read = prepareScripts([{ name: 'r.sql', weight: 2, sql: 'SELECT 1' }, { name: 's.sql', weight: 1, sql: 'SELECT 2' }], false);
    assert.equal(read.mode, 'read-only');
    assert.match(read.statement.text, /^-- r\.sql @2\nSELECT 1;\n-- s\.sql @1\nSELECT 2$/);
    assert.equal(read.scripts[0].transaction, false);
  });

  it('refuses what cannot run in a request, naming the script and the statement', () => {
    assert.throws(() => prepareScripts([{ name: 'e.sql', weight: 1, sql: 'SELECT 1;\nSAVEPOINT a;' }], false), /e\.sql, statement 2 \(SAVEPOINT a\): transaction control is refused/);
    assert.throws(() => prepareScripts([{ name: 'e.sql', weight: 1, sql: '-- nothing' }], false), /e\.sql holds no statement/);
    assert.throws(() => prepareScripts([{ name: 'a.sql', weight: 1, sql: 'SELECT 1' }, { name: 'a.sql', weight: 2, sql: 'SELECT 2' }], false), /a\.sql is given twice/);
    assert.throws(() => prepareScripts([{ name: 'a.sql', weight: 0, sql: 'SELECT 1' }], false), /weight of a\.sql must be a whole number/);
  });
});
