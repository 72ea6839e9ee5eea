/** Mocha global fixture for the integration tier: one real PostgreSQL for the whole run. */
import { startTestDb, stopTestDb } from './server';

export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  const db = await startTestDb();
  console.log(`  test PostgreSQL: ${db.embedded ? 'embedded' : 'PGLOAD_TEST_URL'} on ${db.host}:${db.port}/${db.database} (${Date.now() - started} ms)`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestDb();
}
