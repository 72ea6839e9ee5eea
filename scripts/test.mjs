// `npm test`: type-check, lint, then every test tier in its own process; prints per-tier counts and one
// closing line "N passed, N failed". Exits non-zero when anything failed.
// Usage: node scripts/test.mjs [tier …]   (tiers: typecheck lint unit integration webview extension e2e bench)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

const TIERS = {
  typecheck: { cmd: bin('tsc'), args: ['-p', '.', '--noEmit'], counts: false },
  lint: { cmd: bin('eslint'), args: ['--max-warnings', '0', 'src', 'test', 'scripts', 'webview'], counts: false },
  unit: { cmd: bin('mocha'), args: ['--config', 'test/.mocharc.unit.json'], counts: true },
  integration: { cmd: bin('mocha'), args: ['--config', 'test/.mocharc.integration.json'], counts: true },
  webview: { cmd: bin('mocha'), args: ['--config', 'test/.mocharc.webview.json'], counts: true },
  // Scripts run under node with tsx's loader, not tsx's command (which keeps an IPC folder in the temp folder).
  extension: { cmd: process.execPath, args: ['--require', 'tsx/cjs', 'scripts/test-vscode.ts'], counts: true },
  e2e: { cmd: bin('mocha'), args: ['--config', 'test/.mocharc.e2e.json'], counts: true },
  // The benchmark's smoke run (a few seconds) so that it never rots; its timings are printed, not asserted.
  bench: { cmd: process.execPath, args: ['--require', 'tsx/cjs', 'scripts/bench.ts', '--quick', '--out', 'test-results/bench'], counts: false },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((t) => !(t in TIERS));
if (unknown.length > 0) {
  console.error(`unknown tier(s): ${unknown.join(', ')}; known: ${Object.keys(TIERS).join(', ')}`);
  process.exit(2);
}
const order = wanted.length > 0 ? wanted : Object.keys(TIERS);

/**
 * What the tiers need from the system, provisioned here so that `npm install && npm test` passes on a machine with
 * nothing but Node: Debian's packages when this process may install them (root with apt-get), otherwise the exact
 * command to run. Each names the tiers that need it and why.
 */
const SYSTEM_PACKAGES = [
  // Its fonts named, as recommends are not installed: chromium-common recommends udev, whose set-up runs systemd-tmpfiles,
  // which creates /root/.ssh (seen with Debian's chromium 156).
  { pkg: 'chromium', with: ['fonts-liberation'], present: () => existsSync('/usr/bin/chromium'), tiers: ['webview', 'e2e'], why: 'the panel is rendered in a real Chromium' },
  { pkg: 'libkrb5-dev', present: () => existsSync('/usr/include/krb5.h') || existsSync('/usr/include/gssapi/gssapi.h'), tiers: ['extension', 'e2e'], why: "code-server (the real VS Code the extension runs in) builds its kerberos module against these headers" },
  { pkg: 'pgbouncer', present: () => existsSync('/usr/sbin/pgbouncer'), tiers: ['integration'], why: 'the pooler tests put a real PgBouncer in front of the test server' },
  { pkg: 'postgresql-15-hypopg', present: () => existsSync('/usr/share/postgresql/15/extension/hypopg.control'), tiers: ['integration'], why: "the index advice is checked with HypoPG on Debian's PostgreSQL 15" },
];

function provision(tiers) {
  const missing = SYSTEM_PACKAGES.filter((p) => p.tiers.some((t) => tiers.includes(t)) && !p.present());
  if (missing.length === 0) return { ok: true };
  const names = missing.flatMap((p) => [p.pkg, ...(p.with ?? [])]);
  // Only what is named and what it depends on: recommended packages set up services and write outside the project.
  const command = `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
  for (const p of missing) console.log(`npm test: ${p.pkg} is missing: ${p.why} (${p.tiers.join(', ')} tests)`);
  const apt = ['/usr/bin/apt-get', '/bin/apt-get'].find((x) => existsSync(x));
  if (!apt || process.getuid?.() !== 0) {
    return { ok: false, message: `cannot install ${names.join(', ')} from here (${apt ? 'not root' : 'no apt-get'}): run "${command}" as root, then npm test again` };
  }
  console.log(`npm test: installing ${names.join(', ')} from Debian's packages (apt-get, about a minute)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...names]]) {
    const r = spawnSync(apt, args, { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, message: `apt-get ${args[0]} failed (${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}): run "${command}" as root, then npm test again` };
  }
  const still = missing.filter((p) => !p.present()).map((p) => p.pkg);
  return still.length === 0 ? { ok: true } : { ok: false, message: `${still.join(', ')} still missing after apt-get install: run "${command}" as root and look at its output` };
}

function run(name, { cmd, args }) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(`\n=== ${name}: ${[cmd.replace(root + '/', ''), ...args].join(' ')}`);
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', ...RUN_ENV } });
    let out = '';
    const tee = (stream, target) =>
      stream.on('data', (d) => {
        out += d;
        target.write(d);
      });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out, seconds: (Date.now() - started) / 1000 }));
  });
}

/** Paths under the home folder, three levels deep: a tier must not leave anything there (tests write only into
 * the clone and the system temp folder; Chromium and code-server get throwaway HOME folders). */
function homeEntries() {
  const found = new Set();
  const walk = (dir, depth) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      found.add(p);
      if (depth < 3 && e.isDirectory() && !e.isSymbolicLink()) walk(p, depth + 1);
    }
  };
  walk(homedir(), 1);
  return found;
}
// npm's own cache and logs are npm's, written by the install, not by a test.
const ownedByNpm = (p) => p.startsWith(join(homedir(), '.npm'));
const homeBefore = homeEntries();

/**
 * A clean guest in the temp folder too. What the tiers share there lives in one folder of this run, removed at the end:
 * the embedded PostgreSQL's binaries (copied where its server user can enter them), and tsx keeps no cache. After each
 * tier, anything it left in the temp folder under pgload's or its tools' names is a failure of that tier (and removed).
 */
const runDir = mkdtempSync(join(tmpdir(), 'pgload-test-run-'));
chmodSync(runDir, 0o755);
const RUN_ENV = { PGLOAD_EMBEDDED_CACHE: runDir, TSX_DISABLE_CACHE: '1' };
const OURS = /^(pgload-|tsx-|playwright|node-compile-cache$)/;
const tmpOurs = () => new Set(readdirSync(tmpdir()).filter((n) => OURS.test(n) && join(tmpdir(), n) !== runDir));
let tmpBefore = tmpOurs();
process.on('exit', () => rmSync(runDir, { recursive: true, force: true }));

const rows = [];
/** Mocha's failure report of each tier, repeated after the summary so that a log cut to its end still says which
 * test failed and why. */
const failures = [];
let passed = 0;
let failed = 0;
let pending = 0;
const provisioned = provision(order);
if (!provisioned.ok) {
  failed += 1;
  rows.push(`system       FAILED  ${provisioned.message}`);
  console.error(`npm test: ${provisioned.message}`);
}
for (const name of order) {
  const tier = TIERS[name];
  const r = await run(name, tier);
  if (tier.counts) {
    const p = Number(/(\d+) passing/.exec(r.out)?.[1] ?? 0);
    let f = Number(/(\d+) failing/.exec(r.out)?.[1] ?? 0);
    const s = Number(/(\d+) pending/.exec(r.out)?.[1] ?? 0);
    // A crash before mocha's summary counts as one failure, so it can never read as a pass.
    if (r.code !== 0 && f === 0) f = 1;
    if (p + f === 0) f = 1;
    const report = /\n\s*\d+ failing\n([\s\S]*)$/.exec(r.out)?.[1];
    if (f > 0) failures.push(`--- ${name}\n${report ? report.trim().split('\n').slice(0, 60).join('\n') : r.out.trim().split('\n').slice(-30).join('\n')}`);
    passed += p;
    failed += f;
    pending += s;
    rows.push(`${name.padEnd(12)} ${String(p).padStart(4)} passed ${String(f).padStart(4)} failed ${String(s).padStart(4)} skipped  ${r.seconds.toFixed(1)} s`);
  } else {
    if (r.code === 0) passed += 1;
    else failed += 1;
    rows.push(`${name.padEnd(12)} ${r.code === 0 ? 'ok' : 'FAILED'}  ${r.seconds.toFixed(1)} s`);
  }
  const left = [...tmpOurs()].filter((n) => !tmpBefore.has(n));
  if (left.length > 0) {
    failed += 1;
    rows.push(`${'tmp'.padEnd(12)} FAILED  ${name} left in ${tmpdir()}: ${left.slice(0, 6).join(', ')}${left.length > 6 ? ` and ${left.length - 6} more` : ''}`);
    for (const n of left) rmSync(join(tmpdir(), n), { recursive: true, force: true });
  }
  tmpBefore = tmpOurs();
}
const written = [...homeEntries()].filter((p) => !homeBefore.has(p) && !ownedByNpm(p));
if (written.length > 0) {
  failed += 1;
  rows.push(`home         FAILED  the tests wrote into ${homedir()}: ${written.slice(0, 8).join(', ')}${written.length > 8 ? ` and ${written.length - 8} more` : ''}`);
} else {
  passed += 1;
  rows.push(`home         ok      nothing written into ${homedir()}`);
}
if (failures.length > 0) console.log(`\n=== failures\n${failures.join('\n\n')}`);
console.log('\n=== summary');
for (const row of rows) console.log(row);
console.log(`${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
