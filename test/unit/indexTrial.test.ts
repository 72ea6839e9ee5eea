/** Index trials before anything connects: what is refused, how each index is named and built, and how it is told. */
import * as assert from 'node:assert/strict';
import { INDEX_TRIALS_REFUSED, indexTrial, planIndexes } from '../../src/core/analysis/indexTrial';
import { isLocalHost } from '../../src/core/connection/local';
import { indexStatements, tryKind } from '../../src/shared/hintSql';
import { indexTrialLines } from '../../src/shared/format';
import { PgloadError } from '../../src/core/errors';

describe('Index trials: the checks before anything connects', () => {
  it('each index is built CONCURRENTLY under a name pgload can drop; a given name is kept', async () => {
    const [a, b] = await planIndexes(['CREATE INDEX ON orders (status, created DESC);', 'create index concurrently lines_oq on public.order_lines (order_id) include (qty)']);
    assert.deepEqual(a, { sql: 'CREATE INDEX CONCURRENTLY pgload_trial_1_orders ON orders (status, created DESC)', name: 'pgload_trial_1_orders', table: 'orders' });
    assert.deepEqual(b, { sql: 'CREATE INDEX CONCURRENTLY lines_oq on public.order_lines (order_id) include (qty)', name: 'lines_oq', table: 'public.order_lines' });
  });

  it('refuses what is not one plain CREATE INDEX, saying why', async () => {
    const refused = async (sql: string[], why: RegExp) => assert.rejects(planIndexes(sql), (e: unknown) => e instanceof PgloadError && why.test(e.message));
    await refused([], /needs an index/);
    await refused(['CREATE UNIQUE INDEX ON orders (id)'], /UNIQUE index is a constraint/);
    await refused(['DROP INDEX orders_pkey'], /is not one CREATE INDEX statement/);
    await refused(['CREATE INDEX ON a (x); DROP TABLE a'], /is not one CREATE INDEX statement/);
    await refused(['CREATE INDEX ON (('], /is not one CREATE INDEX statement/);
  });

  it('without the opt-in nothing connects: the refusal says how to allow it on a scratch copy', async () => {
    // A port nobody listens on: a connection attempt would fail differently.
    await assert.rejects(
      indexTrial({ base: { sql: 'SELECT 1', connection: { url: 'postgres://u@127.0.0.1:1/db' } }, indexes: ['CREATE INDEX ON t (x)'], allowIndexTrials: false }),
      (e: unknown) => e instanceof PgloadError && e.message === INDEX_TRIALS_REFUSED,
    );
    assert.match(INDEX_TRIALS_REFUSED, /--allow-index-trials/);
    assert.match(INDEX_TRIALS_REFUSED, /allowIndexTrials/);
  });

  it('a server that is not this machine is refused unless confirmed, before anything connects', async () => {
    let asked = '';
    await assert.rejects(
      indexTrial(
        { base: { sql: 'SELECT 1', connection: { url: 'postgres://u@db.example.invalid:5432/shop' } }, indexes: ['CREATE INDEX ON t (x)'], allowIndexTrials: true },
        { confirmRemote: async (t) => ((asked = t), false) },
      ),
      (e: unknown) => e instanceof PgloadError && /u@db\.example\.invalid:5432\/shop is not this machine/.test(e.message) && /Nothing was run/.test(e.message),
    );
    assert.equal(asked, 'u@db.example.invalid:5432/shop');
    for (const h of ['localhost', '127.0.0.1', '127.0.1.1', '::1', '/var/run/postgresql', '']) assert.ok(isLocalHost(h), h);
    for (const h of ['db.example.com', '10.0.0.5', 'localhost.example.com']) assert.ok(!isLocalHost(h), h);
  });

  it("Try it knows an index suggestion (one or a pair) from a setting; the trial's lines say what was built and dropped", () => {
    assert.deepEqual(indexStatements('CREATE INDEX CONCURRENTLY ON a (x);\nCREATE INDEX CONCURRENTLY ON b (y);'), ['CREATE INDEX CONCURRENTLY ON a (x)', 'CREATE INDEX CONCURRENTLY ON b (y)']);
    assert.equal(tryKind("SET LOCAL work_mem = '64MB';"), 'setting');
    assert.equal(tryKind('CREATE INDEX CONCURRENTLY ON a (x);'), 'index');
    assert.equal(tryKind('CREATE INDEX ON a (x); DROP TABLE a;'), null);
    assert.equal(tryKind('VACUUM a'), null);
    const lines = indexTrialLines({
      target: 'u@localhost:5432/shop',
      indexes: [{ sql: 'CREATE INDEX CONCURRENTLY pgload_trial_1_a ON a (x)', name: 'pgload_trial_1_a', table: 'a', buildMs: [261, 283], sizeBytes: 1_782_784, kept: false }],
    });
    assert.deepEqual(lines, [
      "Index trial on u@localhost:5432/shop (allowed for this database): built before B's legs, dropped before A's.",
      '  CREATE INDEX CONCURRENTLY pgload_trial_1_a ON a (x): built 2 times in 261 ms, 283 ms, 1.7 MB; dropped at the end.',
    ]);
  });
});
