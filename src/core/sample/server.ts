/**
 * The sample database's server: a PostgreSQL cluster in a folder of pgload's storage, run from the fetched binaries
 * with pg_ctl, listening on 127.0.0.1 only (no Unix socket), password-checked (SCRAM). When pgload runs as root it
 * runs the server as `nobody`, since PostgreSQL refuses root; the folders must then be enterable by that user.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { PgloadError } from '../errors';

const run = promisify(execFile);

/** The sample's fixed names: one role, one database, shaped like the shop of the demo. */
export const SAMPLE_USER = 'pgload';
export const SAMPLE_DATABASE = 'shop';

/** The server settings of the story pgload exists for: a small work_mem, room for 100 users, query statistics. */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  max_connections: '120',
  work_mem: '4MB',
  hash_mem_multiplier: '1',
  shared_preload_libraries: 'pg_stat_statements',
  logging_collector: 'off',
};

export interface SampleLayout {
  /** The binaries' folder (holding native/bin). */
  binaries: string;
  /** The cluster's data folder. */
  data: string;
}

/** The user the server runs as: ourselves, or `nobody` when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
  if (!line) throw new PgloadError('usage', 'pgload runs as root here and PostgreSQL refuses to run as root; the sample runs its server as the user "nobody", which this machine does not have. Run VS Code as a normal user, or use a database of your own.');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Every folder from `p` up must be enterable by the server's user (root's home usually is not). */
function assertEnterable(p: string, user: { uid: number; gid: number } | undefined): void {
  if (!user) return;
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    const enter = st.uid === user.uid ? st.mode & 0o100 : st.gid === user.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!enter) throw new PgloadError('usage', `PostgreSQL runs as "nobody" here (pgload runs as root) and cannot enter ${d}. Choose a folder others can enter with pgload.sample.folder (e.g. /var/lib/pgload-sample), or run VS Code as a normal user.`);
    if (d === path.dirname(d)) return;
  }
}

function bin(layout: SampleLayout, name: string): string {
  return path.join(layout.binaries, 'native', 'bin', process.platform === 'win32' ? `${name}.exe` : name);
}

async function tool(layout: SampleLayout, name: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const user = serverUser();
  try {
    const r = await run(bin(layout, name), args, { timeout: timeoutMs, ...(user ?? {}), env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' } });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new PgloadError('connection', `The sample PostgreSQL's ${name} failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' ')}`);
  }
}

/** Whether the data folder holds a cluster already. */
export function initialised(layout: SampleLayout): boolean {
  return fs.existsSync(path.join(layout.data, 'PG_VERSION'));
}

/** Makes the cluster (the role with this password, SCRAM on 127.0.0.1 only). */
export async function initCluster(layout: SampleLayout, password: string): Promise<void> {
  const user = serverUser();
  assertEnterable(layout.binaries, user);
  assertEnterable(path.dirname(layout.data), user);
  fs.rmSync(layout.data, { recursive: true, force: true });
  // initdb takes an empty folder that is the server user's; the password waits beside it, for its eyes only.
  fs.mkdirSync(layout.data, { recursive: true, mode: 0o700 });
  const pwfile = `${layout.data}.pwfile`;
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) for (const f of [layout.data, pwfile]) fs.chownSync(f, user.uid, user.gid);
    await tool(layout, 'initdb', ['-D', layout.data, '-U', SAMPLE_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** The port of a server already running on this data folder (its postmaster.pid names it), if one is. */
export function runningPort(layout: SampleLayout): number | undefined {
  const pidFile = path.join(layout.data, 'postmaster.pid');
  let lines: string[];
  try {
    lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, another user's (the server runs as nobody when we are root).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Starts the server on `port` (or a free one) unless it runs already; returns the port it listens on. */
export async function startServer(layout: SampleLayout, port?: number): Promise<number> {
  const already = runningPort(layout);
  if (already) return already;
  const p = port && (await portFree(port)) ? port : await freePort();
  const options = Object.entries({ ...SERVER_SETTINGS, port: String(p) })
    .map(([k, v]) => `-c ${k}=${v === '' ? "''" : v}`)
    .join(' ');
  await tool(layout, 'pg_ctl', ['start', '-D', layout.data, '-w', '-t', '60', '-l', path.join(layout.data, 'server.log'), '-o', options]);
  return p;
}

/** Stops the server (fast: sessions are ended) when it runs. */
export async function stopServer(layout: SampleLayout): Promise<void> {
  if (!runningPort(layout)) return;
  await tool(layout, 'pg_ctl', ['stop', '-D', layout.data, '-m', 'fast', '-w', '-t', '30']);
}

/** Creates the shop database and loads `seedSql` into it, unless it is there. */
export async function seedShop(port: number, password: string, seedSql: string): Promise<void> {
  const admin = new Client({ host: '127.0.0.1', port, user: SAMPLE_USER, password, database: 'postgres' });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const has = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [SAMPLE_DATABASE]);
    if (has.rowCount) return;
    await admin.query(`CREATE DATABASE ${SAMPLE_DATABASE}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const shop = new Client({ host: '127.0.0.1', port, user: SAMPLE_USER, password, database: SAMPLE_DATABASE });
  shop.on('error', () => undefined);
  await shop.connect();
  try {
    await shop.query(seedSql);
  } catch (err) {
    // Half a shop is no sample: the next start seeds it again.
    await shop.end().catch(() => undefined);
    const again = new Client({ host: '127.0.0.1', port, user: SAMPLE_USER, password, database: 'postgres' });
    again.on('error', () => undefined);
    await again.connect().then(() => again.query(`DROP DATABASE IF EXISTS ${SAMPLE_DATABASE} WITH (FORCE)`)).catch(() => undefined);
    await again.end().catch(() => undefined);
    throw err;
  }
  await shop.end().catch(() => undefined);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
