/**
 * Index trials on a real PostgreSQL: nothing is built without the opt-in; with it, the index is built for B's legs,
 * measured, and gone at the end — however the trial ends (completed, cancelled) — unless kept on request.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import type { AbResult } from '../../src/shared/result';
import { CLI, pgload } from '../support/cli';
import { testDb, withAdmin } from '../support/server';

const SQL = 'SELECT count(*) FROM it_big WHERE k = 7';
const INDEX = 'CREATE INDEX ON it_big (k)';
const indexes = () => withAdmin(async (c) => (await c.query<{ n: string }>("SELECT indexname AS n FROM pg_indexes WHERE tablename = 'it_big' ORDER BY 1")).rows.map((r) => r.n));
const short = ['--clients', '2', '--duration', '3s', '--rounds', '2', '--no-progress'];

describe('Index trials (pgload ab --index … --allow-index-trials)', function () {
  this.timeout(120_000);
  const url = () => testDb().url;

  before(() =>
    withAdmin((c) =>
      c.query(`DROP TABLE IF EXISTS it_big;
        CREATE TABLE it_big AS SELECT g AS id, g % 5000 AS k, md5(g::text) AS pad FROM generate_series(1, 300000) g;
        ANALYZE it_big;`),
    ),
  );
  after(() => withAdmin((c) => c.query('DROP TABLE IF EXISTS it_big')));

  it('without --allow-index-trials nothing is built: exit 2, the reason and how to allow it on a scratch copy', async () => {
    const r = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, ...short]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /builds one only where its owner allowed it: a scratch or development copy\. Add --allow-index-trials/);
    assert.match(r.stderr, /nothing was run/);
    assert.deepEqual(await indexes(), []);
  });

  it('with it: built before B, measured in alternating legs, B faster by construction, dropped at the end', async () => {
    const r = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--allow-index-trials', '--json', '-', ...short]);
    assert.equal(r.code, 0, r.stderr);
    const ab = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as AbResult;
    const t = ab.indexTrial!;
    assert.deepEqual(ab.order, ['A', 'B', 'B', 'A']);
    assert.equal(t.indexes[0].name, 'pgload_trial_1_it_big');
    // A B B A: one build before the B legs, dropped before the last A leg.
    assert.equal(t.indexes[0].buildMs.length, 1);
    assert.ok(t.indexes[0].sizeBytes! > 1_000_000, `a 300,000-entry index: ${t.indexes[0].sizeBytes} bytes`);
    assert.equal(t.indexes[0].kept, false);
    // By construction: 300,000 rows read per request against 60 index entries.
    assert.equal(ab.comparison.verdict, 'faster', ab.comparison.summary);
    assert.ok(ab.b.load.latency.p50Ms < ab.a.load.latency.p50Ms / 3, `${ab.a.load.latency.p50Ms} → ${ab.b.load.latency.p50Ms} ms`);
    assert.match(JSON.stringify(ab.b.insight.plans), /pgload_trial_1_it_big/, "B's plan uses the index");
    assert.doesNotMatch(JSON.stringify(ab.a.insight.plans), /pgload_trial_1_it_big/, "A's plan does not");
    assert.deepEqual(await indexes(), [], 'dropped at the end');
    const text = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--allow-index-trials', ...short]);
    assert.match(text.stdout, /Index trial on postgres@127\.0\.0\.1:\d+\/pgload_test \(allowed for this database\): built before B's legs, dropped before A's\.\n {2}CREATE INDEX CONCURRENTLY pgload_trial_1_it_big ON it_big \(k\): built once in [\d.]+ ms, [\d.]+ MB; dropped at the end\./);
    assert.match(text.stdout, /B \(\+ index on it_big\)/);
  });

  it('--keep-index keeps it (built again after the last A leg); a name already there is refused', async () => {
    const r = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--allow-index-trials', '--keep-index', ...short]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /built 2 times in .*; kept, as asked\./);
    assert.deepEqual(await indexes(), ['pgload_trial_1_it_big']);
    const again = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--allow-index-trials', ...short]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /An index named pgload_trial_1_it_big exists already/);
    assert.deepEqual(await indexes(), ['pgload_trial_1_it_big'], 'the kept index is not touched by the refused trial');
    await withAdmin((c) => c.query('DROP INDEX pgload_trial_1_it_big'));
  });

  it('cancelled during a B leg (SIGINT): the index is dropped all the same', async () => {
    const child = spawn(process.execPath, [CLI, 'ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--allow-index-trials', '--clients', '2', '--duration', '16s', '--rounds', '2'], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } });
    let stderr = '';
    let sent = false;
    let during: string[] = [];
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && /leg 2 of 4: B/.test(stderr)) {
        sent = true;
        setTimeout(async () => {
          during = await indexes();
          child.kill('SIGINT');
        }, 2500);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sent, stderr);
    assert.deepEqual(during, ['pgload_trial_1_it_big'], 'built while B ran');
    assert.equal(code, 130, stderr);
    assert.deepEqual(await indexes(), [], stderr);
  });

  it('refused before connecting: another change with --index, a UNIQUE index, a server not on this machine without a terminal', async () => {
    const both = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', INDEX, '--setting', 'work_mem=8MB', '--allow-index-trials', ...short]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--index is a change of its own/);
    const unique = await pgload(['ab', '--url', url(), '--sql', SQL, '--index', 'CREATE UNIQUE INDEX ON it_big (id)', '--allow-index-trials', ...short]);
    assert.equal(unique.code, 2);
    assert.match(unique.stderr, /a UNIQUE index is a constraint/);
    const remote = await pgload(['ab', '--url', 'postgres://app@db.example.invalid/shop', '--sql', SQL, '--index', INDEX, '--allow-index-trials', ...short]);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /app@db\.example\.invalid:5432\/shop is not this machine: pgload builds an index on another server only once you confirm it/);
    assert.deepEqual(await indexes(), []);
  });
});
