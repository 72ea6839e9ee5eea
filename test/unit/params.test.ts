import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkParams, makeSource, makeSources, parseParamFlag, parseParamSpec, readCsvColumn, zipfSampler } from '../../src/core/load/params';
import { seededRandom } from '../../src/core/load/random';
import { scratchDir } from '../support/scratch';

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(observed: number[], probabilities: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => sum + (o - n * probabilities[i]) ** 2 / (n * probabilities[i]), 0);
}

// Upper 0.1 % points of the chi-square distribution (a correct generator exceeds them once in a thousand seeds).
const CHI2_999 = { 9: 27.88, 10: 29.59, 19: 43.82 } as const;

function zipfProbabilities(n: number, s: number): number[] {
  const w = Array.from({ length: n }, (_, i) => (i + 1) ** -s);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

describe('Parameter generators', () => {
  it('int: uniform over the whole range, both ends included (chi-square, fixed seed)', () => {
    const next = makeSource(parseParamSpec('int:1..20', '$1'), seededRandom(42));
    const counts = new Array(20).fill(0);
    for (let i = 0; i < 40_000; i++) {
      const v = Number(next());
      assert.ok(Number.isInteger(v) && v >= 1 && v <= 20, `${v} out of range`);
      counts[v - 1]++;
    }
    const chi = chiSquare(counts, new Array(20).fill(1 / 20));
    assert.ok(chi < CHI2_999[19], `chi-square ${chi.toFixed(1)} ≥ ${CHI2_999[19]}`);
  });

  it('zipf: P(k) ∝ k^-s for s = 1.5, 1 and 0.5 (chi-square, fixed seed)', () => {
    for (const s of [1.5, 1, 0.5]) {
      const draw = zipfSampler(10, s, seededRandom(7));
      const counts = new Array(10).fill(0);
      for (let i = 0; i < 50_000; i++) counts[draw() - 1]++;
      const chi = chiSquare(counts, zipfProbabilities(10, s));
      assert.ok(chi < CHI2_999[9], `s=${s}: chi-square ${chi.toFixed(1)} ≥ ${CHI2_999[9]} (${counts.join(' ')})`);
    }
  });

  it('zipf over a large range keeps the head and the tail right (ranks 1–10 and the rest)', () => {
    const n = 100_000;
    const s = 1.1;
    const p = zipfProbabilities(n, s);
    const expected = [...p.slice(0, 10), p.slice(10).reduce((a, b) => a + b, 0)];
    const next = makeSource(parseParamSpec(`zipf:1000..${1000 + n - 1}:${s}`, '$1'), seededRandom(3));
    const counts = new Array(11).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = Number(next()) - 1000;
      assert.ok(v >= 0 && v < n);
      counts[Math.min(v, 10)]++;
    }
    const chi = chiSquare(counts, expected);
    assert.ok(chi < CHI2_999[10], `chi-square ${chi.toFixed(1)}`);
  });

  it('a uniform draw is not mistaken for Zipfian: the test has the power to fail', () => {
    const next = makeSource(parseParamSpec('int:1..10', '$1'), seededRandom(7));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 50_000; i++) counts[Number(next()) - 1]++;
    assert.ok(chiSquare(counts, zipfProbabilities(10, 1.5)) > 1000);
  });

  it('num stays in range; list picks every value about equally, with \\, inside a value', () => {
    const num = makeSource(parseParamSpec('num:-2.5..2.5', '$1'), seededRandom(1));
    for (let i = 0; i < 1000; i++) {
      const v = Number(num());
      assert.ok(v >= -2.5 && v <= 2.5);
    }
    assert.deepEqual(parseParamSpec('list:a\\,b,c, d', '$1'), { kind: 'list', values: ['a,b', 'c', ' d'] });
    const next = makeSource(parseParamSpec('list:open,closed,pending', '$1'), seededRandom(5));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 30_000; i++) {
      const v = next()!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), ['closed', 'open', 'pending']);
    assert.ok(chiSquare(Object.values(counts), [1 / 3, 1 / 3, 1 / 3]) < 13.82, JSON.stringify(counts));
  });

  it('the same seed repeats the values; another seed does not; adding a parameter does not shift another', () => {
    const checked = checkParams([{ index: 1, spec: 'int:1..1000000' }], 1);
    const draw = (seed: number) => {
      const [next] = makeSources(checked, new Map(), seed);
      return Array.from({ length: 20 }, () => next());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    const two = checkParams([{ index: 1, spec: 'int:1..1000000' }, { index: 2, spec: 'list:x,y' }], 2);
    const [first] = makeSources(two, new Map(), 42);
    assert.deepEqual(Array.from({ length: 20 }, () => first()), draw(42));
  });
});

describe('Parameter generators: bad input', () => {
  it('parses N=SPEC and names what is wrong in each bad spec', () => {
    assert.deepEqual(parseParamFlag('1=int:1..100000'), { index: 1, spec: 'int:1..100000' });
    assert.deepEqual(parseParamFlag('$2=list:a,b'), { index: 2, spec: 'list:a,b' });
    const bad: Array<[string, RegExp]> = [
      ['int:1..100000', /write the parameter number, "=" and a generator/],
      ['0=int:1..2', /numbered from \$1/],
      ['1=int:5..1', /low end above its high end \(5 > 1\)/],
      ['1=int:1.5..3', /needs whole numbers for int/],
      ['1=int:1-10', /needs a range LOW\.\.HIGH/],
      ['1=zipf:0..10', /low end of at least 1/],
      ['1=zipf:1..10:0', /exponent above 0/],
      ['1=list:', /at least one value/],
      ['1=csv:users.csv', /a file and a column/],
      ['1=sql:  ', /needs a query/],
      ['1=uuid:v4', /is not a generator pgload knows; use one of int:/],
    ];
    for (const [flag, re] of bad) assert.throws(() => parseParamFlag(flag), re, flag);
  });

  it('a generator for a parameter the statement lacks, a missing one, or two for one', () => {
    assert.throws(() => checkParams([{ index: 1, spec: 'int:1..2' }], 0), /the statement has no parameters; remove --param 1=/);
    assert.throws(() => checkParams([{ index: 1, spec: 'int:1..2' }, { index: 3, spec: 'int:1..2' }], 2), /only uses \$1 … \$2; remove --param 3=/);
    assert.throws(() => checkParams([{ index: 1, spec: 'int:1..2' }], 3), /uses \$1 … \$3 and no values were given for \$2, \$3/);
    assert.throws(() => checkParams([{ index: 1, spec: 'int:1..2' }, { index: 1, spec: 'list:a' }], 1), /\$1 has two generators/);
    assert.equal(checkParams([{ index: 2, spec: 'list:a' }, { index: 1, spec: 'int:1..2' }], 2)[0].index, 1);
  });

  describe('CSV files', () => {
    const dir = scratchDir('pgload-csv-');
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads a column by name or number, with quoted commas', () => {
      const p = file('ok.csv', 'id,name\n1,"Smith, J"\n2,Lee\n');
      assert.deepEqual(readCsvColumn(p, 'name', '$1'), ['Smith, J', 'Lee']);
      assert.deepEqual(readCsvColumn(p, '1', '$1'), ['1', '2']);
    });

    it('a row with the wrong number of columns names the line and the counts', () => {
      const p = file('ragged.csv', 'id,name\n1,a\n2,b,extra\n');
      assert.throws(() => readCsvColumn(p, 'id', '$1'), /ragged\.csv line 3: 3 fields where the header has 2/);
    });

    it('a missing file, an unknown column, an empty file and a header without rows', () => {
      assert.throws(() => readCsvColumn(path.join(dir, 'nope.csv'), 'id', '$1'), /The CSV file for \$1 \(.*nope\.csv\): no such file/);
      assert.throws(() => readCsvColumn('/dev/zero', 'id', '$1'), /The CSV file for \$1 \(\/dev\/zero\): is a device, not a regular file/);
      assert.throws(() => readCsvColumn(dir, 'id', '$1'), /is a folder/);
      assert.throws(() => readCsvColumn(file('cols.csv', 'id,name\n1,a\n'), 'email', '$1'), /has no column "email"; its columns are 1: id, 2: name/);
      assert.throws(() => readCsvColumn(file('empty.csv', ''), 'id', '$1'), /has nothing in it/);
      assert.throws(() => readCsvColumn(file('header.csv', 'id\n'), 'id', '$1'), /a header and no values/);
    });
  });
});
