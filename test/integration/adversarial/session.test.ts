/**
 * Adversarial probes, session state and parsing: a statement that tries to make its own session writable for the
 * requests after it, or a text that pgload and the server would read as different statements. Every probe asserts
 * that nothing persisted (rows, tables, the sequence, large objects, slots, server settings).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Client } from 'pg';
import type { ProfileResult } from '../../../src/shared/result';
import { assertRefused, run, setUpVictims, unchanged, url } from '../../support/adversary';
import { pgload, tmp } from '../../support/cli';
import { testDb, withAdmin } from '../../support/server';

/** Turns the session's default read-only off on one request; writes on every request that finds it off. */
const FLIP_THEN_WRITE = "SELECT CASE WHEN current_setting('default_transaction_read_only') = 'off' THEN adv_write() ELSE length(set_config('default_transaction_read_only', 'off', false)) END";
/** Sets search_path on one request; any later request that finds it set fails (so a leak shows as failures). */
const LEAK_DETECTOR = "SELECT CASE WHEN current_setting('search_path') = 'leaked' THEN 1 / (random() * 0)::int ELSE length(set_config('search_path', 'leaked', false)) END";

const json = (stdout: string) => JSON.parse(stdout) as ProfileResult;

describe('Adversarial: a statement cannot change its session for the requests after it', function () {
  this.timeout(120_000);
  before(setUpVictims);

  it('default_transaction_read_only turned off by one request: the next requests are still read-only, no row changes', async () => {
    const r = await unchanged(() => run(FLIP_THEN_WRITE, '--json', '-'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).load.requests.failed, 0, 'no request ever found the default off');
  });

  it('the same with a prepared statement (parsed once per session, bound on every request)', async () => {
    const r = await unchanged(() => run(FLIP_THEN_WRITE, '--prepared', '--json', '-'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).load.requests.failed, 0);
  });

  it('the same on two worker threads', async () => {
    const r = await unchanged(() => run(FLIP_THEN_WRITE, '--workers', '2', '--clients', '4', '--json', '-'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).load.requests.failed, 0);
  });

  it('the same at a fixed arrival rate (open loop) and through the application-pool emulation', async () => {
    for (const extra of [['--rate', '200/s'], ['--users', '4', '--pool-size', '2', '--max-overflow', '0']]) {
      const r = await unchanged(() => run(FLIP_THEN_WRITE, ...extra, '--json', '-'));
      assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(json(r.stdout).load.requests.failed, 0, extra.join(' '));
    }
  });

  it('any setting a request makes is gone by the next request (search_path set by one request is never seen)', async () => {
    const r = await run(LEAK_DETECTOR, '--clients', '2', '--requests', '40', '--json', '-');
    assert.equal(r.code, 0, r.stderr);
    const result = json(r.stdout);
    assert.equal(result.load.requests.failed, 0);
    assert.equal(result.errors.length, 0, JSON.stringify(result.errors));
  });

  it('a superuser connection (the test server\'s) is named in the report, with the advice to use a role that cannot write', async () => {
    const r = await run('SELECT 1', '--json', '-');
    assert.equal(r.code, 0, r.stderr);
    const result = json(r.stdout);
    assert.deepEqual(result.server.role, { name: testDb().user, superuser: true });
    assert.ok(result.insight.counters.notes.some((n) => /a superuser: .*Profile as a role that cannot write/.test(n)), result.insight.counters.notes.join('\n'));
  });

  it('transaction_read_only turned off inside the request is refused by the server; nothing written, no load', async () => {
    assertRefused(await unchanged(() => run("SELECT length(set_config('transaction_read_only', 'off', false)) + adv_write()")), /25001 transaction read-write mode must be set before any query/);
  });

  it('in a mix: one script flips the default, the other writes — every write is refused', async () => {
    const a = tmp('flip.sql', "SELECT length(set_config('default_transaction_read_only', 'off', false))");
    const b = tmp('write.sql', 'SELECT adv_write()');
    const mix = await unchanged(() => pgload(['run', '--url', url(), '--mix', `${a}@50`, '--mix', `${b}@50`, '--clients', '2', '--requests', '20', '--no-progress']));
    assertRefused(mix, /25006 .*write\.sql, statement 1: cannot execute INSERT in a read-only transaction/);
  });

  it('in a transaction script: a flip followed by a write inside the same request is refused', async () => {
    const file = tmp('tx.sql', "SELECT length(set_config('default_transaction_read_only', 'off', false));\nSELECT adv_write();\n");
    const r = await unchanged(() => pgload(['run', '--url', url(), '--file', file, '--transaction', '--clients', '2', '--requests', '10', '--no-progress']));
    assertRefused(r, /25006 statement 2: cannot execute INSERT in a read-only transaction/);
  });

  it('beside a background that flips the default: the profiled statement never finds it off', async () => {
    const bg = tmp('bg.sql', "SELECT length(set_config('default_transaction_read_only', 'off', false))");
    const probe = "SELECT CASE WHEN current_setting('default_transaction_read_only') = 'off' THEN adv_write() ELSE 1 END";
    const r = await unchanged(() => run(probe, '--background', bg, '--duration', '2s', '--json', '-'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).load.requests.failed, 0);
  });

  it('SELECT … FOR UPDATE that calls a writing function runs in a transaction that is rolled back: no row changes', async () => {
    const r = await unchanged(() => run('SELECT adv_write() FROM adv_rows WHERE id = 1 FOR UPDATE', '--clients', '1'));
    assert.equal(r.code, 0, r.stderr);
  });

  it('a writing function with --allow-writes, EXPLAIN ANALYZE included: every execution rolled back', async () => {
    const r = await unchanged(() => run('SELECT adv_write()', '--allow-writes', '--json', '-'));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(json(r.stdout).insight.plans.some((p) => p.json), 'EXPLAIN ANALYZE ran it too');
  });

  it('nextval in a read-only run is refused by the server: the sequence does not move', async () => {
    assertRefused(await unchanged(() => run("SELECT nextval('adv_seq')")), /25006 cannot execute nextval\(\) in a read-only transaction/);
  });

  it('pg_notify is never delivered: the request that sends it is rolled back', async () => {
    const listener = new Client({ connectionString: testDb().url });
    await listener.connect();
    const got: string[] = [];
    listener.on('notification', (n) => got.push(n.payload ?? ''));
    await listener.query('LISTEN adv_channel');
    try {
      const r = await run("SELECT pg_notify('adv_channel', 'escaped')");
      assert.equal(r.code, 0, r.stderr);
      await listener.query('SELECT 1');
      assert.deepEqual(got, []);
    } finally {
      await listener.end();
    }
  });
});

describe('Adversarial: the server runs exactly the statement pgload parsed', function () {
  this.timeout(120_000);
  before(setUpVictims);
  // pgload's parser reads 'x\'' as one literal; with standard_conforming_strings off the server would read a literal,
  // then "; DROP TABLE adv_victim" — unless it is sent as one statement (extended protocol) with the setting on.
  const SMUGGLE = "SELECT 'x\\''; DROP TABLE adv_victim; --'";

  async function withDatabaseDefault<T>(setting: string, value: string, fn: () => Promise<T>): Promise<T> {
    const db = testDb().database;
    await withAdmin((c) => c.query(`ALTER DATABASE "${db}" SET ${setting} = ${value}`));
    try {
      return await fn();
    } finally {
      await withAdmin((c) => c.query(`ALTER DATABASE "${db}" RESET ${setting}`));
    }
  }

  it('standard_conforming_strings = off as the database default: the smuggled DROP never runs (baseline, EXPLAIN, load)', async () => {
    await withDatabaseDefault('standard_conforming_strings', 'off', async () => {
      const r = await unchanged(() => run(SMUGGLE, '--json', '-'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).load.requests.failed, 0);
    });
  });

  it('the same with --prepared, and in a sampling query (sql: generator)', async () => {
    await withDatabaseDefault('standard_conforming_strings', 'off', async () => {
      const prepared = await unchanged(() => run(SMUGGLE, '--prepared'));
      assert.equal(prepared.code, 0, prepared.stderr);
      const sampling = await unchanged(() => run('SELECT $1::text', '--param', "1=sql:SELECT 'x\\''; DROP TABLE adv_victim; --'"));
      assert.equal(sampling.code, 0, sampling.stderr);
    });
  });

  it('--set standard_conforming_strings=off is refused with the reason', async () => {
    assertRefused(await unchanged(() => run('SELECT 1', '--set', 'standard_conforming_strings=off')), /standard_conforming_strings.*pgload keeps it on/);
  });

  it('two statements in one --sql are refused before anything connects', async () => {
    assertRefused(await unchanged(() => run('SELECT 1; DROP TABLE adv_victim')), /holds 2 statements/);
  });

  it('a statement of a file with several is sent alone (the rest of the file never reaches the server)', async () => {
    const file = tmp('two.sql', 'SELECT 1;\nDROP TABLE adv_victim;\n');
    const r = await unchanged(() => pgload(['run', '--url', url(), '--file', file, '--statement', '1', '--clients', '1', '--requests', '3', '--no-progress']));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(file));
  });
});
