/**
 * What the adversarial probes share: a schema of victims (rows to protect, a sequence, functions that write) set up on
 * the test server, a fingerprint of everything a probe must leave unchanged, and the CLI run as an attacker would.
 */
import * as assert from 'node:assert/strict';
import type { Client } from 'pg';
import { pgload, type Ran } from './cli';
import { testDb, withAdmin } from './server';

export const url = (): string => testDb().url;

/** The victims: rows, a table to drop, a sequence, a function that writes and one that signals. Idempotent. */
export async function setUpVictims(): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(`
      CREATE TABLE IF NOT EXISTS adv_rows (id int PRIMARY KEY, v int NOT NULL);
      INSERT INTO adv_rows SELECT g, g FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
      CREATE TABLE IF NOT EXISTS adv_victim (id int);
      CREATE SEQUENCE IF NOT EXISTS adv_seq;
      CREATE OR REPLACE FUNCTION adv_write() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO adv_rows VALUES ((SELECT coalesce(max(id), 0) + 1 FROM adv_rows), -1); RETURN 1; END $$;
      CREATE EXTENSION IF NOT EXISTS dblink;
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    `);
  });
}

/** Everything a probe must leave as it was: the rows, the tables, the sequence, large objects, slots, server settings. */
export interface World {
  rows: string;
  victim: boolean;
  sequence: string;
  largeObjects: number;
  slots: number;
  statementTimeout: string;
}

export async function world(c?: Client): Promise<World> {
  const read = async (x: Client): Promise<World> => {
    const r = await x.query<World>(`
      SELECT (SELECT count(*) || ':' || coalesce(sum(v), 0) FROM adv_rows) AS rows,
             to_regclass('adv_victim') IS NOT NULL AS victim,
             (SELECT last_value || ':' || is_called FROM adv_seq) AS sequence,
             (SELECT count(*)::int FROM pg_largeobject_metadata) AS "largeObjects",
             (SELECT count(*)::int FROM pg_replication_slots) AS slots,
             (SELECT setting FROM pg_settings WHERE name = 'statement_timeout') AS "statementTimeout"`);
    return r.rows[0];
  };
  return c ? read(c) : withAdmin(read);
}

/** Runs `fn` and asserts that the world is the same afterwards. */
export async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
  const before = await world();
  const out = await fn();
  assert.deepEqual(await world(), before, 'the probe changed the database');
  return out;
}

/** pgload run with a short load (2 clients × 12 requests unless the probe sets its own load); then the probe's arguments. */
export function run(sql: string, ...more: string[]): Promise<Ran> {
  const own = (flags: string[]) => more.some((m) => flags.includes(m));
  const load = [...(own(['--clients', '--users']) ? [] : ['--clients', '2']), ...(own(['--requests', '--duration']) ? [] : ['--requests', '12'])];
  return pgload(['run', '--url', url(), '--sql', sql, ...load, '--no-progress', ...more], {}, 90_000);
}

/** A refusal: exit 2, a sentence naming `what`, never "unexpected error" or a stack trace. */
export function assertRefused(r: Ran, what: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at \S+ \(/);
}
