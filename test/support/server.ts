/**
 * The PostgreSQL the integration tests talk to: the one in PGLOAD_TEST_URL when set, else an embedded
 * PostgreSQL started once for the whole test process (mocha global fixture) and stopped at the end.
 */
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../scripts/lib/embedded-pg';

export interface TestDb {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  embedded?: EmbeddedServer;
}

let current: TestDb | undefined;

export function testDb(): TestDb {
  if (!current) throw new Error('The test database is not started: run the integration tests through mocha with test/support/fixture.ts');
  return current;
}

export async function startTestDb(): Promise<TestDb> {
  const given = process.env.PGLOAD_TEST_URL;
  if (given) {
    const u = new URL(given.replace(/^postgres(ql)?:/, 'http:'));
    current = {
      url: given,
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    };
    return current;
  }
  const embedded = await startEmbeddedPostgres({ database: 'pgload_test', settings: { max_connections: '120', shared_preload_libraries: 'pg_stat_statements' } });
  current = { url: embedded.url, host: embedded.host, port: embedded.port, user: embedded.user, password: embedded.password, database: embedded.database, embedded };
  return current;
}

export async function stopTestDb(): Promise<void> {
  await current?.embedded?.stop();
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

/** Polls until no pgload session is left, up to `ms`; returns the count at the end. */
export async function waitNoPgloadSessions(ms = 2000): Promise<number> {
  return withAdmin(async (c) => {
    const deadline = Date.now() + ms;
    let n = await pgloadSessions(c);
    while (n > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      n = await pgloadSessions(c);
    }
    return n;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
