/**
 * Adversarial probes through PgBouncer in transaction pooling: whatever a statement does to the server session it is
 * lent (settings, read-only defaults, temporary tables) must not reach the application's next client of the pool.
 * A pool of two server sessions, so that the application's client is lent the very sessions pgload used.
 */
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import type { ProfileResult } from '../../../src/shared/result';
import { hasPgBouncer, startPgBouncer, type PgBouncer } from '../../../scripts/lib/pgbouncer';
import { setUpVictims, unchanged } from '../../support/adversary';
import { pgload } from '../../support/cli';
import { testDb, withAdmin } from '../../support/server';

describe('Adversarial: through PgBouncer in transaction pooling, nothing leaks to the next client', function () {
  this.timeout(120_000);
  let pooler: PgBouncer;

  before(async function () {
    if (!hasPgBouncer()) throw new Error('PgBouncer is not installed: npm test installs it (or apt-get install -y pgbouncer)');
    await setUpVictims();
    await withAdmin((c) =>
      c.query(`CREATE OR REPLACE FUNCTION adv_mktemp() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN CREATE TEMP TABLE IF NOT EXISTS adv_tmp (x int); RETURN 1; END $$`),
    );
    const db = testDb();
    pooler = await startPgBouncer({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database }, { poolMode: 'transaction', statsUser: true, poolSize: 2, settings: { server_login_retry: '1' } });
  });
  after(async () => {
    await pooler?.stop();
  });

  /** What the application's own client sees on every server session of the pool (one query per lent session). */
  async function seenByTheApplication(): Promise<Array<Record<string, string>>> {
    const clients = [0, 1].map(() => new Client({ connectionString: pooler.url }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      // Two transactions held open at once: the pool lends each its own server session, so both are seen.
      await Promise.all(clients.map((c) => c.query('BEGIN')));
      const rows = await Promise.all(
        clients.map(
          async (c) =>
            (
              await c.query<Record<string, string>>(
                `SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('work_mem') AS work_mem,
                        current_setting('default_transaction_read_only') AS default_read_only, current_setting('search_path') AS search_path,
                        (SELECT count(*)::text FROM pg_class WHERE relname = 'adv_tmp' AND relpersistence = 't') AS temp_tables, pg_backend_pid()::text AS pid`,
              )
            ).rows[0],
        ),
      );
      await Promise.all(clients.map((c) => c.query('ROLLBACK')));
      return rows;
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
  }

  const run = (sql: string, ...more: string[]) => pgload(['run', '--url', pooler.url, '--sql', sql, '--clients', '2', '--requests', '40', '--no-progress', '--json', '-', ...more], {}, 90_000);

  it('a statement_timeout of 1 ms set by the statement is not on the server sessions the application gets next', async () => {
    const before = await seenByTheApplication();
    const r = await run("SELECT set_config('statement_timeout', '1ms', false)");
    assert.equal(r.code, 0, r.stderr);
    const after = await seenByTheApplication();
    assert.deepEqual(after.map((x) => x.statement_timeout), before.map((x) => x.statement_timeout));
    assert.notEqual(after[0].pid, after[1].pid, 'both server sessions of the pool were seen');
  });

  it('work_mem, search_path and default_transaction_read_only set by the statement: all back to the defaults', async () => {
    const before = await seenByTheApplication();
    const r = await run("SELECT set_config('work_mem', '64kB', false), set_config('search_path', 'evil', false), set_config('default_transaction_read_only', 'on', false)");
    assert.equal(r.code, 0, r.stderr);
    const after = await seenByTheApplication();
    for (const k of ['work_mem', 'search_path', 'default_read_only']) assert.deepEqual(after.map((x) => x[k]), before.map((x) => x[k]), k);
  });

  it('the default turned off by one request, writes whenever a request is not read-only: none ever is, no row changes', async () => {
    const r = await unchanged(() => run("SELECT CASE WHEN current_setting('transaction_read_only') = 'off' THEN adv_write() ELSE length(set_config('default_transaction_read_only', 'off', false)) END"));
    assert.equal(r.code, 0, r.stderr);
    // No request ever ran read-write (it would then have written).
    assert.equal((JSON.parse(r.stdout) as ProfileResult).load.requests.failed, 0);
  });

  it('a temporary table made by a function is gone with its transaction', async () => {
    const r = await run('SELECT adv_mktemp()');
    // CREATE TEMP TABLE is allowed in a read-only transaction; it is rolled back with it.
    assert.ok(r.code === 0 || r.code === 2, r.stderr);
    assert.deepEqual((await seenByTheApplication()).map((x) => x.temp_tables), ['0', '0']);
  });
});
