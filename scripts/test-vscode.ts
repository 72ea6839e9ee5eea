/**
 * Runs test/extension (the `vscode` API suite) inside a real VS Code: code-server + Chromium here, or
 * @vscode/test-electron where VS Code can be downloaded (`--electron`). The suite is the same file.
 *
 *   tsx scripts/test-vscode.ts            code-server (this machine: no internet)
 *   tsx scripts/test-vscode.ts --electron desktop VS Code through @vscode/test-electron
 */
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { testDatabase, type TestDatabase } from './lib/embedded-pg';
import { launchChromium, startCodeServer } from './lib/code-server';

const root = path.resolve(__dirname, '..');

export { testDatabase, type TestDatabase };

/** A workspace folder with SQL files and settings pointing at the test database (no password in them). */
export function makeWorkspace(db: TestDatabase, extraSettings: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-ws-'));
  fs.mkdirSync(path.join(dir, '.vscode'));
  fs.writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'pgload.connections': [{ name: 'test', host: db.host, port: db.port, database: db.database, user: db.user, sslmode: 'disable' }],
        'pgload.defaultConnection': 'test',
        'pgload.askBeforeRun': false,
        'pgload.clients': 2,
        // Request counts the tests can assert (the editor's default is 10 s).
        'pgload.durationSeconds': 0,
        'pgload.requests': 20,
        ...extraSettings,
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(dir, 'queries.sql'),
    [
      '-- pgload test queries',
      'SELECT pg_sleep(0.01) AS first;',
      '',
      'SELECT count(*) FROM generate_series(1, 1000) AS g WHERE g % 7 = 0;',
      '',
      'SELECT pg_sleep(5) AS slow;',
      '',
      "SELECT '<img src=x onerror=\"window.__xss=1\">' AS payload, pg_sleep(0.002);",
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'broken.sql'), '-- a report query\nSELECT 1;\n\nSELECT id,\n  FROM orders;\n');
  // Checks for the Test Explorer: one passes, one fails by construction (no server answers a million a second),
  // one file does not parse.
  fs.writeFileSync(
    path.join(dir, 'pgload.yml'),
    [
      'defaults:',
      '  clients: 2',
      '  requests: 20',
      'checks:',
      '  - name: first within 5s',
      '    file: queries.sql',
      '    statement: 1',
      '    budgets:',
      '      p95: 5s',
      '      errors: 0',
      '  - name: count at a million a second',
      '    file: queries.sql',
      '    statement: 2',
      '    budgets:',
      '      qps: 1000000',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'broken.pgload.yml'), 'checks:\n  - name: no budgets\n    sql: SELECT 1\n    colour: red\n');
  // A run that outlasts any test: only a cancel on the server ends its sessions early.
  fs.writeFileSync(path.join(dir, 'long.sql'), 'SELECT pg_sleep(120) AS very_long;\n');
  return dir;
}

export async function bundleExtensionTests(): Promise<string> {
  const outfile = path.join(root, 'out', 'test', 'extension', 'index.js');
  await build({
    entryPoints: [path.join(root, 'test/extension/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

async function viaCodeServer(suite: string, workspace: string, db: TestDatabase): Promise<number> {
  const resultFile = path.join(os.tmpdir(), `pgload-extension-result-${process.pid}.json`);
  const shots = path.join(root, 'test-results');
  fs.mkdirSync(shots, { recursive: true });
  fs.rmSync(resultFile, { force: true });
  const server = await startCodeServer({
    env: { PGLOAD_TEST_ADMIN_URL: db.url, PGLOAD_TEST_PASSWORD: db.password, PGLOAD_EXTENSION_RESULT_FILE: resultFile, PGLOAD_SCREENSHOT_DIR: shots },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const list = Array.isArray(args) ? args : [args];
      const text = typeof list[0] === 'string' ? format(list[0], ...list.slice(1)) : list.map((a) => JSON.stringify(a)).join(' ');
      if (/ENOTFOUND|extension gallery|marketplace/i.test(text)) return; // no network here, by design
      // A test in the host asks for a screenshot of what is on screen (it cannot see the page): once the element
      // shows, the picture is taken and a marker file says so (or says why not).
      const shot = /PGLOAD_SCREENSHOT (\S+) (.+)/.exec(text);
      if (shot) {
        const [, name, selector] = shot;
        const file = path.join(shots, `${name}.png`);
        void page
          .locator(selector)
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 })
          .then(() => page.screenshot({ path: file }))
          .then(() => fs.writeFileSync(`${file}.taken`, ''))
          .catch((err: Error) => fs.writeFileSync(`${file}.failed`, err.message));
        return;
      }
      const done = /PGLOAD_EXTENSION_TESTS_DONE failures=(\d+)/.exec(text);
      if (done) {
        resolveExit(Number(done[1]) > 0 ? 1 : 0);
        return;
      }
      process.stdout.write(`${type === 'error' ? '[host error] ' : ''}${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    process.env.PGLOAD_TEST_USER_DATA = server.userDataDir;
    const url = server.workbenchUrl(workspace, [
      ['extensionDevelopmentPath', server.remote(root)],
      ['extensionTestsPath', server.remote(suite)],
    ]);
    await page.goto(url);
    const poll = setInterval(() => {
      if (!fs.existsSync(resultFile)) return;
      try {
        const r = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { failures: number; passes: number; failed: string[] };
        // The host's own summary can be lost when it shuts down: print it from the result file.
        process.stdout.write(`\n  ${r.passes} passing (in the extension host)\n`);
        if (r.failures > 0) process.stdout.write(`  ${r.failures} failing\n${r.failed.map((f, i) => `  ${i + 1}) ${f}`).join('\n')}\n`);
        resolveExit(r.failures > 0 ? 1 : 0);
      } catch {
        // being written
      }
    }, 250);
    exited.finally(() => clearInterval(poll));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((r) => (timer = setTimeout(() => r(-1), 10 * 60_000)));
    const code = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (code === -1) {
      process.stdout.write('extension tests did not finish within 10 minutes\n');
      await page.screenshot({ path: path.join(root, 'test-results', 'extension-timeout.png') }).catch(() => undefined);
      return 1;
    }
    return code;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    fs.rmSync(resultFile, { force: true });
  }
}

async function viaElectron(suite: string, workspace: string, db: TestDatabase): Promise<number> {
  const { runTests } = await import('@vscode/test-electron');
  process.env.PGLOAD_TEST_ADMIN_URL = db.url;
  process.env.PGLOAD_TEST_PASSWORD = db.password;
  try {
    await runTests({ extensionDevelopmentPath: root, extensionTestsPath: suite, launchArgs: [workspace, '--disable-extensions'] });
    return 0;
  } catch {
    return 1;
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
  const suite = await bundleExtensionTests();
  const db = await testDatabase({ database: 'pgload_vscode', settings: { shared_preload_libraries: 'pg_stat_statements' } });
  const workspace = makeWorkspace(db);
  let code = 1;
  try {
    code = process.argv.includes('--electron') ? await viaElectron(suite, workspace, db) : await viaCodeServer(suite, workspace, db);
  } finally {
    await db.stop();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
  process.exitCode = code;
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`extension tests could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
