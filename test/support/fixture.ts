/** Mocha global fixture for the integration tier: one real PostgreSQL for the whole run. */
import type { Context } from 'mocha';
import { startTestDb, stopTestDb, testDb } from './server';

export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  const db = await startTestDb();
  console.log(`  test PostgreSQL: ${db.embedded ? 'embedded' : 'PGLOAD_TEST_URL'} on ${db.host}:${db.port}/${db.database} (${Date.now() - started} ms)`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestDb();
}

/**
 * A failed test's message, diff and stack never show the test database's password: an assertion that prints a URL,
 * a command line or a server message gets it masked before the reporter prints it (and before CI keeps the log).
 */
export const mochaHooks = {
  afterEach(this: Context) {
    const err = this.currentTest?.err as (Error & { actual?: unknown; expected?: unknown }) | undefined;
    if (!err) return;
    let password: string | undefined;
    try {
      password = testDb().password;
    } catch {
      return; // no server was started: nothing to mask
    }
    if (!password) return;
    const mask = (v: unknown) => (typeof v === 'string' ? v.split(password).join('***') : v);
    err.message = mask(err.message) as string;
    if (err.stack) err.stack = mask(err.stack) as string;
    err.actual = mask(err.actual);
    err.expected = mask(err.expected);
  },
};
