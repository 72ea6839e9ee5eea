import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { compareResults } from '../../src/core/analysis/compare';
import type { AbResult, Comparison, ProfileResult } from '../../src/shared/result';
import { pgload, tmp } from '../support/cli';
import { testDb, withAdmin } from '../support/server';

describe('Comparing runs on a real PostgreSQL', function () {
  this.timeout(120_000);

  after(() => withAdmin((c) => c.query('DROP TABLE IF EXISTS cmp_items')));

  it('two runs of the same query, each its own pgload process as a user runs them: "no significant difference"', async () => {
    const files = [tmp('a.json'), tmp('b.json')];
    for (const f of files) {
      // A query that mostly waits (20 ms asleep, well under 1 ms of CPU): a busy machine moves its median by far less
      // than the 10 % noise floor, so the two runs differ only by chance and must compare as equal.
      const r = await pgload(['run', '--url', testDb().url, '--sql', 'SELECT pg_sleep(0.02), count(*) FROM generate_series(1, 500)', '--clients', '2', '--requests', '200', '--warmup', '10', '--no-explain', '--sample-interval', '0', '--no-progress', '--json', f]);
      assert.equal(r.code, 0, r.stderr);
    }
    const c = compareResults(...(files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8'))) as [ProfileResult, ProfileResult]));
    assert.equal(c.verdict, 'no-significant-difference', c.summary);
    assert.match(c.summary, /^No significant difference/);
    assert.equal(c.metrics[0].significant, false, JSON.stringify(c.metrics[0]));
  });

  it('before and after adding an index: significantly faster, the plan change and the CLI regression gate', async () => {
    await withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS cmp_items');
      await c.query('CREATE TABLE cmp_items (id int, k int, payload text)');
      await c.query(`INSERT INTO cmp_items SELECT g, g % 50000, repeat('x', 40) FROM generate_series(1, 300000) g`);
      await c.query('VACUUM ANALYZE cmp_items');
    });
    const sql = 'SELECT id, payload FROM cmp_items WHERE k = 4242';
    const before = tmp('before.json');
    const after = tmp('after.json');
    const args = (json: string) => ['run', '--url', testDb().url, '--sql', sql, '--clients', '2', '--requests', '200', '--no-progress', '--json', json];
    const r1 = await pgload(args(before));
    assert.equal(r1.code, 0, r1.stderr);
    await withAdmin((c) => c.query('CREATE INDEX cmp_items_k ON cmp_items (k)'));
    try {
      const r2 = await pgload(args(after));
      assert.equal(r2.code, 0, r2.stderr);
    } finally {
      await withAdmin((c) => c.query('DROP INDEX IF EXISTS cmp_items_k'));
    }
    const json = tmp('cmp.json');
    const cmp = await pgload(['compare', before, after, '--json', json, '--max-regression', '10%']);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.match(cmp.stdout, /after\.json is significantly faster: median/);
    assert.match(cmp.stdout, /^ {2}p95 +\S+ ms +\[.+\] +\S+ ms +\[.+\] +−\d+\.\d % +after\.json better$/m);
    assert.match(cmp.stdout, /Plan: The plan changed: before\.json: .*Seq Scan on cmp_items.*; after\.json: .*(Index|Bitmap).*cmp_items/);
    const c = JSON.parse(fs.readFileSync(json, 'utf8')) as Comparison;
    assert.equal(c.verdict, 'faster');
    assert.ok(c.distribution!.cliffsDelta < -0.9);
    // The other way round it is a regression: exit 3 with the figures.
    const back = await pgload(['compare', after, before, '--max-regression', '10%']);
    assert.equal(back.code, 3, back.stderr);
    assert.match(back.stderr, /REGRESSION: p50 rose \d+(\.\d)? % \(.+ → .+ ms\), above the allowed 10 %/);
  });

  it('bad arguments: one file, a missing file, a sweep file, a bad percentage', async () => {
    const sweepFile = tmp('sweep.json', JSON.stringify({ schemaVersion: 1, kind: 'sweep' }));
    const cases: Array<[string[], RegExp]> = [
      [['compare', 'a.json'], /takes two result files \(before and after\), got 1/],
      [['compare', '/nonexistent/a.json', '/nonexistent/b.json'], /\/nonexistent\/a\.json: no such file/],
      [['compare', sweepFile, sweepFile], /is a sweep result/],
      [['compare', sweepFile, sweepFile, '--max-regression', 'lots'], /--max-regression lots: write a percentage, like 10%/],
    ];
    for (const [args, re] of cases) {
      const r = await pgload(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

describe('pgload ab: two variants in alternating legs', function () {
  this.timeout(120_000);

  before(() =>
    withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS ab_items');
      await c.query('CREATE TABLE ab_items AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 300000) g');
      await c.query('VACUUM ANALYZE ab_items');
    }),
  );
  after(() => withAdmin((c) => c.query('DROP TABLE IF EXISTS ab_items')));

  it('work_mem=64MB against the default on a spilling sort: the spill hint only on A, and the legs alternate', async () => {
    const json = tmp('ab.json');
    const r = await pgload([
      'ab', '--url', testDb().url, '--sql', 'SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY h) AS r FROM ab_items) s',
      '--setting', 'work_mem=64MB', '--clients', '2', '--duration', '3s', '--rounds', '2', '--no-progress', '--json', json,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ab = JSON.parse(fs.readFileSync(json, 'utf8')) as AbResult;
    assert.deepEqual(ab.order, ['A', 'B', 'B', 'A']);
    assert.ok(ab.a.hints.some((h) => h.id === 'sort-spill'), `A (work_mem 4MB) spills: ${JSON.stringify(ab.a.hints.map((h) => h.id))} ${JSON.stringify(ab.a.insight.plans.map((p) => p.unavailable ?? p.executionMs))}`);
    assert.ok(!ab.b.hints.some((h) => h.id === 'sort-spill'), 'B (64MB) sorts in memory');
    assert.ok(ab.comparison.hints.disappeared.some((h) => h.id === 'sort-spill'));
    assert.deepEqual(ab.b.options.settings, { work_mem: '64MB' });
    // Each side's legs merged exactly: the counts add up and the histogram holds every request.
    assert.equal(ab.a.load.latency.count, ab.a.load.requests.ok);
    assert.equal(ab.a.timeline.reduce((n, p) => n + p.count, 0), ab.a.load.requests.total);
    assert.match(r.stdout, /^A\/B in 4 alternating legs \(A B B A\)/);
    assert.match(r.stdout, /− hint gone in B \(work_mem=64MB\): \[warning\] A sort spilled to disk/);
    assert.match(r.stdout, /Plan: Temporary-file blocks: [\d,]+ → 0\./);
  });

  it('B the same as A, or both SQL sources for B: refused before anything runs', async () => {
    const same = await pgload(['ab', '--url', testDb().url, '--sql', 'SELECT 1']);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /B is the same as A: give B other SQL \(--sql-b \/ --file-b\) or other settings \(--setting NAME=VALUE\)/);
    const both = await pgload(['ab', '--url', testDb().url, '--sql', 'SELECT 1', '--sql-b', 'SELECT 2', '--file-b', 'x.sql']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /Give either --sql-b or --file-b, not both/);
    const ddl = await pgload(['ab', '--url', testDb().url, '--sql', 'SELECT 1', '--sql-b', 'DROP TABLE ab_items']);
    assert.equal(ddl.code, 2);
    assert.match(ddl.stderr, /does not run schema changes/);
  });
});
