/**
 * Adversarial probes, effects outside the transaction: functions whose work a ROLLBACK cannot undo (another
 * connection, files, signals, statistics, replication, session locks, sequences, SQL given as text), called directly
 * or hidden behind functions, views, triggers, defaults, rules, policies and operators. Each is refused with exit 2 and
 * a sentence naming the function, and the database is unchanged; --allow-writes unlocks none of it.
 */
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import { assertRefused, run, setUpVictims, unchanged, url } from '../../support/adversary';
import { pgload, tmp } from '../../support/cli';
import { testDb, withAdmin } from '../../support/server';

describe('Adversarial: functions whose effects escape the transaction are refused', function () {
  this.timeout(120_000);
  before(async () => {
    await setUpVictims();
    await withAdmin((c) =>
      c.query(`
        CREATE OR REPLACE FUNCTION adv_hidden_kill(p int) RETURNS bool LANGUAGE plpgsql AS $$ BEGIN RETURN pg_terminate_backend(p); END $$;
        CREATE OR REPLACE FUNCTION adv_atomic_reload() RETURNS bool LANGUAGE sql BEGIN ATOMIC SELECT pg_reload_conf(); END;
        CREATE OR REPLACE FUNCTION adv_old_sql_reset() RETURNS void LANGUAGE sql AS 'SELECT pg_stat_reset()';
        CREATE OR REPLACE FUNCTION adv_dynamic(q text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE q; RETURN 1; END $$;
        CREATE OR REPLACE FUNCTION adv_two_deep() RETURNS bool LANGUAGE plpgsql AS $$ BEGIN RETURN adv_hidden_kill(0); END $$;
        CREATE OR REPLACE VIEW adv_view AS SELECT id, pg_stat_reset()::text AS r FROM adv_rows;
        CREATE TABLE IF NOT EXISTS adv_trig (id int, v int);
        CREATE OR REPLACE FUNCTION adv_trig_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_cancel_backend(0); RETURN NEW; END $$;
        DROP TRIGGER IF EXISTS adv_trig_t ON adv_trig;
        CREATE TRIGGER adv_trig_t BEFORE INSERT ON adv_trig FOR EACH ROW EXECUTE FUNCTION adv_trig_fn();
        CREATE OR REPLACE FUNCTION adv_default() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_lock(7); RETURN 1; END $$;
        CREATE TABLE IF NOT EXISTS adv_defaults (id int, v int DEFAULT adv_default());
        CREATE TABLE IF NOT EXISTS adv_ruled (id int);
        CREATE OR REPLACE RULE adv_rule AS ON INSERT TO adv_ruled DO ALSO SELECT pg_reload_conf();
        CREATE OR REPLACE FUNCTION adv_op_fn(int, int) RETURNS bool LANGUAGE plpgsql AS $$ BEGIN RETURN pg_reload_conf(); END $$;
        DROP OPERATOR IF EXISTS ===> (int, int);
        CREATE OPERATOR ===> (LEFTARG = int, RIGHTARG = int, FUNCTION = adv_op_fn);
        CREATE TABLE IF NOT EXISTS adv_policed (id int);
        ALTER TABLE adv_policed ENABLE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS adv_pol ON adv_policed;
        CREATE POLICY adv_pol ON adv_policed USING (adv_hidden_kill(0));
      `),
    );
  });

  // Called by name in the statement: refused before anything connects (the parse tree alone).
  const direct: Array<[string, string]> = [
    ["SELECT dblink_exec('dbname=postgres', 'DROP TABLE adv_victim')", 'dblink_exec'],
    ["SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(x int)", 'dblink'],
    ["SELECT dblink_connect('adv', 'dbname=postgres')", 'dblink_connect'],
    ["SELECT lo_import('/etc/hostname')", 'lo_import'],
    ["SELECT lo_export(1, '/tmp/adv-export')", 'lo_export'],
    ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()', 'pg_terminate_backend'],
    ['SELECT pg_catalog.pg_cancel_backend(1)', 'pg_cancel_backend'],
    ['SELECT "pg_reload_conf"()', 'pg_reload_conf'],
    ['SELECT PG_ROTATE_LOGFILE()', 'pg_rotate_logfile'],
    ['SELECT pg_stat_statements_reset()', 'pg_stat_statements_reset'],
    ['SELECT pg_stat_reset()', 'pg_stat_reset'],
    ["SELECT pg_stat_reset_shared('bgwriter')", 'pg_stat_reset_shared'],
    ['SELECT pg_advisory_lock(1)', 'pg_advisory_lock'],
    ['SELECT pg_advisory_unlock_all()', 'pg_advisory_unlock_all'],
    ["SELECT setval('adv_seq', 1000)", 'setval'],
    ["SELECT query_to_xml('DELETE FROM adv_rows RETURNING 1', true, false, '')", 'query_to_xml'],
    ["SELECT pg_logical_emit_message(false, 'adv', 'x')", 'pg_logical_emit_message'],
    ["SELECT pg_create_logical_replication_slot('adv_slot', 'test_decoding')", 'pg_create_logical_replication_slot'],
    ['SELECT pg_switch_wal()', 'pg_switch_wal'],
    ['SELECT 1 FROM adv_rows WHERE id = 1 AND (SELECT pg_log_backend_memory_contexts(pg_backend_pid()))', 'pg_log_backend_memory_contexts'],
  ];
  for (const [sql, fn] of direct) {
    it(`${fn}: refused before anything connects, naming it`, async () => {
      const r = await unchanged(() => run(sql));
      assertRefused(r, new RegExp(`calls ${fn}\\b.*ROLLBACK`, 's'));
    });
  }

  it('--allow-writes does not unlock them, and says so', async () => {
    const r = await unchanged(() => run("SELECT dblink_exec('dbname=postgres', 'DROP TABLE adv_victim')", '--allow-writes'));
    assertRefused(r, /--allow-writes does not allow it either/);
  });

  // Hidden from the statement's text: found through the catalog once connected, before the baseline runs.
  const hidden: Array<[string, RegExp, string[]]> = [
    ['SELECT adv_hidden_kill(0)', /calls pg_terminate_backend \(through public\.adv_hidden_kill \(plpgsql\) → pg_terminate_backend\)/, []],
    ['SELECT adv_two_deep()', /through public\.adv_two_deep \(plpgsql\) → public\.adv_hidden_kill \(plpgsql\) → pg_terminate_backend/, []],
    ['SELECT adv_atomic_reload()', /calls pg_reload_conf .*adv_atomic_reload \(sql\)/, []],
    ['SELECT adv_old_sql_reset()', /calls pg_stat_reset .*adv_old_sql_reset \(sql\)/, []],
    ['SELECT count(*) FROM adv_view', /calls pg_stat_reset \(through view public\.adv_view → pg_stat_reset\)/, []],
    ["SELECT adv_dynamic('SELECT 1')", /dynamic SQL \(EXECUTE of a text\) in public\.adv_dynamic/, []],
    ['INSERT INTO adv_trig VALUES (1, 1)', /calls pg_cancel_backend .*adv_trig → its trigger → public\.adv_trig_fn/, ['--allow-writes']],
    ['INSERT INTO adv_defaults (id) VALUES (1)', /calls pg_advisory_lock .*adv_defaults → a column default → public\.adv_default/, ['--allow-writes']],
    ['INSERT INTO adv_ruled VALUES (1)', /calls pg_reload_conf .*adv_ruled → its rule/, ['--allow-writes']],
    ['SELECT 1 ===> 2', /calls pg_reload_conf .*operator ===> → public\.adv_op_fn/, []],
    ['SELECT count(*) FROM adv_policed', /calls pg_terminate_backend .*adv_policed → its row security policy → public\.adv_hidden_kill/, []],
  ];
  for (const [sql, message, extra] of hidden) {
    it(`hidden behind the catalog: ${sql} is refused with the path to the call`, async () => {
      const r = await unchanged(() => run(sql, ...extra));
      assertRefused(r, message);
    });
  }

  it('the admin session a hidden pg_terminate_backend aimed at is still alive', async () => {
    const victim = new Client({ connectionString: testDb().url });
    await victim.connect();
    try {
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      assertRefused(await run(`SELECT adv_hidden_kill(${pid})`), /pg_terminate_backend/);
      assert.equal((await victim.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await victim.end();
    }
  });

  it('in a mix, a background, a sampling query and a check file: refused the same way', async () => {
    const bad = tmp('bad.sql', 'SELECT adv_hidden_kill(0)');
    const ok = tmp('ok.sql', 'SELECT 1');
    assertRefused(await unchanged(() => pgload(['run', '--url', url(), '--mix', `${ok}@50`, '--mix', `${bad}@50`, '--clients', '2', '--requests', '4', '--no-progress'])), /pg_terminate_backend/);
    assertRefused(await unchanged(() => run('SELECT 1', '--background', bad, '--duration', '1s')), /pg_terminate_backend/);
    assertRefused(await unchanged(() => run('SELECT $1::int', '--param', '1=sql:SELECT pg_cancel_backend(0)::int')), /sampling query for \$1.*pg_cancel_backend/s);
    const check = tmp('pgload.yml', `checks:\n  - name: sneaky\n    sql: SELECT pg_stat_reset()\n    clients: 1\n    requests: 2\n    budgets: { p95: 1s }\n`);
    const c = await unchanged(() => pgload(['check', check, '--url', url(), '--no-progress']));
    assert.notEqual(c.code, 0, c.stdout);
    assert.match(c.stdout + c.stderr, /pg_stat_reset/);
  });

  it('pgload top never offers to profile a statistics reset', async () => {
    await withAdmin((c) => c.query('SELECT pg_stat_statements_reset()').catch(() => undefined));
    const r = await pgload(['top', '--url', url(), '--limit', '50']);
    assert.equal(r.code, 0, r.stderr);
    for (const block of r.stdout.split(/\n\s*\d+\. /).filter((b) => /pg_stat_statements_reset/.test(b))) assert.doesNotMatch(block, /profile: pgload run/);
  });
});
