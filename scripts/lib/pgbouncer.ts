/**
 * A real connection pooler for tests and the demo: Debian's PgBouncer (`apt-get install pgbouncer`), started on a
 * free loopback port in front of a PostgreSQL, in transaction or session pooling, with its own temporary folder
 * (configuration, user list, log). As root it runs as the unprivileged `postgres` user (PgBouncer refuses root).
 */
import { startWaitMs, waitedText } from './patience';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './embedded-pg';

export const PGBOUNCER_BINARY = process.env.PGLOAD_PGBOUNCER ?? '/usr/sbin/pgbouncer';

export interface PoolerTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PgBouncerOptions {
  poolMode: 'transaction' | 'session' | 'statement';
  /** Whether the user may read the admin console (SHOW POOLS, SHOW STATS): `stats_users`. */
  statsUser?: boolean;
  /** Startup parameters PgBouncer drops instead of refusing (`ignore_startup_parameters`). */
  ignoreStartupParameters?: string[];
  /** Server connections per database/user pair (default_pool_size). */
  poolSize?: number;
  /** Any other `[pgbouncer]` setting. */
  settings?: Record<string, string>;
}

export interface PgBouncer {
  host: string;
  port: number;
  /** postgres://user:password@127.0.0.1:port/database, through the pooler. */
  url: string;
  poolMode: PgBouncerOptions['poolMode'];
  /** The pooler's log (for a failing test). */
  log(): string;
  stop(): Promise<void>;
}

/** Whether this machine has PgBouncer (tests that need it say why they cannot run otherwise). */
export function hasPgBouncer(): boolean {
  return fs.existsSync(PGBOUNCER_BINARY);
}

export async function startPgBouncer(target: PoolerTarget, options: PgBouncerOptions): Promise<PgBouncer> {
  if (!hasPgBouncer()) throw new Error(`PgBouncer is not installed (${PGBOUNCER_BINARY}): apt-get install -y pgbouncer`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-pgbouncer-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const { userlist, config, settings } = writeConfig(dir, port, target, options);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) ownedByPostgres([dir, userlist, config]);
  const child: ChildProcess = spawn(PGBOUNCER_BINARY, [...(asRoot ? ['-u', 'postgres'] : []), config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const log = () => {
    let file = '';
    try {
      file = fs.readFileSync(settings.logfile, 'utf8');
    } catch {
      // not written yet
    }
    return (output + file).split('\n').slice(-60).join('\n');
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that ends without stop() (an interrupted run) takes its pooler with it.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  void exited.then(() => process.off('exit', orphaned));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const waitMs = startWaitMs(10_000);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) {
      const text = log();
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`PgBouncer exited at start (code ${child.exitCode}):\n${text}`);
    }
    if (await listening('127.0.0.1', port)) break;
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`PgBouncer did not listen on 127.0.0.1:${port} ${waitedText(waitMs)}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const enc = encodeURIComponent;
  return {
    host: '127.0.0.1',
    port,
    url: `postgres://${enc(target.user)}:${enc(target.password)}@127.0.0.1:${port}/${enc(target.database)}`,
    poolMode: options.poolMode,
    log,
    stop,
  };
}

/** The user list and pgbouncer.ini in `dir`: every database to the target server, the options' pool mode and settings. */
function writeConfig(dir: string, port: number, target: PoolerTarget, options: PgBouncerOptions): { userlist: string; config: string; settings: Record<string, string> } {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const userlist = path.join(dir, 'userlist.txt');
  fs.writeFileSync(userlist, `${quote(target.user)} ${quote(target.password)}\n`, { mode: 0o600 });
  const settings: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: '',
    auth_type: 'scram-sha-256',
    auth_file: userlist,
    pool_mode: options.poolMode,
    default_pool_size: String(options.poolSize ?? 20),
    max_client_conn: '500',
    logfile: path.join(dir, 'pgbouncer.log'),
    pidfile: path.join(dir, 'pgbouncer.pid'),
    ...(options.statsUser ? { stats_users: target.user } : {}),
    ...(options.ignoreStartupParameters ? { ignore_startup_parameters: options.ignoreStartupParameters.join(',') } : {}),
    ...options.settings,
  };
  const ini =
    `[databases]\n* = host=${target.host} port=${target.port}\n\n[pgbouncer]\n` +
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') +
    '\n';
  const config = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(config, ini);
  return { userlist, config, settings };
}

/** PgBouncer refuses to run as root: its files go to the `postgres` user it then runs as. */
function ownedByPostgres(files: string[]): void {
  const owner = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (owner.status !== 0) throw new Error('PgBouncer refuses to run as root and there is no `postgres` user to run it as');
  const uid = Number(owner.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  for (const f of files) fs.chownSync(f, uid, gid);
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
