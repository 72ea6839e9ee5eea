/**
 * The PostgreSQL the integration tests talk to: the one in PGLOAD_TEST_URL when set, else an embedded
 * PostgreSQL started once for the whole test process (mocha global fixture) and stopped at the end.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { testDatabase, type TestDatabase } from '../../scripts/lib/embedded-pg';

export type TestDb = TestDatabase;

let current: TestDb | undefined;

export function testDb(): TestDb {
  if (!current) throw new Error('The test database is not started: run the integration tests through mocha with test/support/fixture.ts');
  return current;
}

export async function startTestDb(): Promise<TestDb> {
  current = await testDatabase({ database: 'pgload_test', settings: { max_connections: '120', shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' } });
  return current;
}

export async function stopTestDb(): Promise<void> {
  await current?.stop();
  current = undefined;
}

/** A plain admin session for setting up tables and inspecting the server (not a pgload session). */
export async function admin(): Promise<Client> {
  const c = new Client({ connectionString: testDb().url, application_name: 'pgload-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await admin();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** pgload sessions currently on the server (any state). */
export async function pgloadSessions(c: Client): Promise<number> {
  const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload' AND pid <> pg_backend_pid()`);
  return r.rows[0].n;
}

/** Polls until no pgload session is left on the server at `url` (the test server by default), up to `ms`; returns the count at the end. */
export async function waitNoPgloadSessions(ms = 2000, url = testDb().url): Promise<number> {
  const c = new Client({ connectionString: url, application_name: 'pgload-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const deadline = Date.now() + ms;
    let n = await pgloadSessions(c);
    while (n > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      n = await pgloadSessions(c);
    }
    return n;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * An SQL expression that is `then` from the `n`th execution on and `otherwise` before, counted over the whole server by
 * a sequence made for it: failures and slow requests by construction, not by the clock or by chance. Every request is
 * rolled back, and nothing a statement does to its session outlives it — but a sequence is not transactional, so the
 * count holds; nextval needs writes allowed (allowWrites / --allow-writes). Wrap constant errors so the planner cannot
 * fold them (`1/(random() * 0)::int`, not `1/0`).
 */
export async function fromNthExecution(n: number, then: string, otherwise: string): Promise<string> {
  const name = `pgload_test_nth_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE SEQUENCE ${name}`));
  return `CASE WHEN nextval('${name}') >= ${n} THEN ${then} ELSE ${otherwise} END`;
}
