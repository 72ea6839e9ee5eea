/**
 * `npm run bench`: pgload against pgbench on the same statements, settings and machine, alternating, each case
 * repeated; then pgload's own budgets (recording cost, memory, plan analysis, payload size, activation, CodeLens).
 *
 *   npm run bench                 the full comparison (a few minutes) and the budgets
 *   npm run bench -- --quick      a few seconds: one small case and the budgets at a smaller scale (CI smoke)
 *   options: --repeats N  --duration S  --out DIR  --only TEXT (cases whose name or protocol contains TEXT)
 *   PGLOAD_BENCH_URL: use that server instead of an embedded one
 *
 * Also: what the read-only envelope (BEGIN READ ONLY … ROLLBACK around every request) costs, pgbench alone both ways.
 * Timings are printed and written (Markdown + JSON under bench-results/), never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Module from 'node:module';
import { Client } from 'pg';
import { createHistogram, logBuckets, latencyStats, percentileCurve, recordUs } from '../src/core/load/histogram';
import { analyzePlan } from '../src/core/insight/plan';
import { nodeTimes } from '../src/core/insight/nodeTime';
import { ensureParser, fingerprintOf } from '../src/core/sql';
import { statementSpans } from '../src/core/sqlSpans';
import { matchRuns } from '../src/extension/lensMatch';
import { formatLensTitle } from '../src/shared/format';
import { Timeline } from '../src/core/load/timeline';
import type { CapturedPlan, ProfileResult } from '../src/shared/result';
import { startEmbeddedPostgres } from './lib/embedded-pg';
import { hasFlag, optionValue } from './lib/args';
import { caseVerdict, cpuTotal, envelopeShareNote, figuresFromLatencies, hasTarget, parseChildTimes, parsePgbenchLog, parsePgbenchTps, PAIRS_FOR_A_VERDICT, ratios, type CpuPerRequest, type Ratio, type Target, type ToolFigures, type Verdict } from './lib/benchlib';

const root = path.resolve(__dirname, '..');
const quick = hasFlag('quick');
const repeats = Number(optionValue('repeats', quick ? '1' : '3'));
const durationS = Number(optionValue('duration', quick ? '1' : '5'));
const outDir = path.resolve(optionValue('out', path.join(root, 'bench-results')));

/** The DB-bound statement: JOIN + EXISTS + ORDER BY … LIMIT on pgbench's tables, ~10 ms alone at scale 10. */
const DB_QUERY = `SELECT a.aid, a.abalance, b.bbalance
FROM pgbench_accounts a
JOIN pgbench_branches b ON b.bid = a.bid
WHERE a.aid BETWEEN 1 AND 60000
  AND EXISTS (SELECT 1 FROM pgbench_tellers t WHERE t.bid = a.bid AND t.tbalance >= 0)
ORDER BY a.abalance DESC, a.aid
LIMIT 10`;

interface Case {
  name: string;
  sql: string;
  clients: number;
  protocol: 'simple' | 'prepared';
  /** pgbench -j and pgload --workers: the same number of threads on both sides. */
  threads: number;
  target: Target;
  /**
   * A third leg per repeat: pgbench sending the transaction pgload sends (BEGIN READ ONLY, the statement and ROLLBACK in
   * one pipeline, named and parsed once per session under -M prepared, as pgload does on a session of its own). Against
   * it both tools ask the server for the same work and the ratio is the load generator's alone; against pgbench sending
   * the statement alone, the ratio also holds what the envelope costs the server, which pgload keeps by design — and
   * pgbench's own two rates, with the envelope ÷ without, show how much of the gap that is.
   */
  sameTransaction?: boolean;
}

function cases(): Case[] {
  const only = optionValue('only', '').toLowerCase();
  return allCases().filter((c) => !only || `${c.name} ${c.protocol} ${c.clients}`.toLowerCase().includes(only));
}

function allCases(): Case[] {
  // SELECT 1 prepared on one thread is the per-request cost case: pgbench's throughput and its CPU per request.
  const select1 = { minQps: 0.9, maxCpu: 1.8 };
  if (quick) return [{ name: 'SELECT 1', sql: 'SELECT 1', clients: 10, protocol: 'prepared', threads: 1, target: select1, sameTransaction: true }];
  const out: Case[] = [];
  for (const protocol of ['simple', 'prepared'] as const) {
    for (const clients of [10, 50, 100]) out.push({ name: 'SELECT 1', sql: 'SELECT 1', clients, protocol, threads: 1, target: protocol === 'prepared' ? select1 : { minQps: 0 }, sameTransaction: protocol === 'prepared' });
    for (const clients of [1, 10, 50, 100]) out.push({ name: 'DB-bound JOIN + EXISTS', sql: DB_QUERY, clients, protocol, threads: 1, target: { minQps: 0.98, maxP50: 1.05, maxP95: 1.1 } });
  }
  // Two threads on each side: pgbench -j 2 against pgload --workers 2.
  for (const clients of [50, 100]) out.push({ name: 'SELECT 1, 2 threads', sql: 'SELECT 1', clients, protocol: 'prepared', threads: 2, target: { minQps: 0.8 }, sameTransaction: true });
  return out;
}

function findPgbench(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...fs.readdirSync('/usr/lib/postgresql', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `/usr/lib/postgresql/${d.name}/bin`)]) {
    const p = path.join(dir, 'pgbench');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

/** A command's output and its CPU time (user and system, its threads and children included), measured by a parent shell. */
function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; cpu: { userMs: number; sysMs: number } | null }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bench', cmd, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const t = parseChildTimes(stderr);
      resolve({ code: code ?? 1, stdout, stderr: t ? t.rest : stderr, cpu: t });
    });
  });
}

const perRequest = (cpu: { userMs: number; sysMs: number }, requests: number): CpuPerRequest => ({ userUs: (cpu.userMs * 1000) / requests, sysUs: (cpu.sysMs * 1000) / requests });

/** pgload's transaction as a pgbench script: one pipeline, one round trip. */
const inEnvelope = (sql: string) => `\\startpipeline\nBEGIN READ ONLY;\n${sql};\nROLLBACK;\n\\endpipeline\n`;

/** pgbench on a case: the statement alone, or (`enveloped`) inside pgload's transaction. */
function runPgbench(pgbench: string, url: string, c: Case, enveloped: boolean): Promise<ToolFigures> {
  const sql = c.sql.replace(/\s*\n\s*/g, ' ');
  return pgbenchScript(pgbench, url, enveloped ? inEnvelope(sql) : `${sql};\n`, c.protocol, c.clients, c.threads);
}

/** pgbench running a script of its own (one transaction = one pass through it): its rate and per-transaction latencies. */
async function pgbenchScript(pgbench: string, url: string, body: string, protocol: 'simple' | 'extended' | 'prepared', clients: number, threads: number): Promise<ToolFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-bench-'));
  try {
    const script = path.join(dir, 'script.sql');
    fs.writeFileSync(script, body);
    // The case's threads: pgbench -j N, as pgload --workers N.
    const r = await run(pgbench, ['-n', '-f', script, '-M', protocol, '-c', String(clients), '-j', String(threads), '-T', String(durationS), '--log', `--log-prefix=${path.join(dir, 'tx')}`, url], process.env);
    if (r.code !== 0) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
    const logs = fs.readdirSync(dir).filter((f) => f.startsWith('tx'));
    let latencies: number[] = [];
    let failed = 0;
    for (const f of logs) {
      const parsed = parsePgbenchLog(fs.readFileSync(path.join(dir, f), 'utf8'));
      latencies = latencies.concat(parsed.latenciesUs);
      failed += parsed.failed;
    }
    const f = figuresFromLatencies(latencies, failed, parsePgbenchTps(r.stdout) ?? latencies.length / durationS);
    return r.cpu && f.count > 0 ? { ...f, cpu: perRequest(r.cpu, f.count + f.failed) } : f;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface EnvelopeRow {
  sql: string;
  clients: number;
  alone: { qps: number; p50Ms: number };
  enveloped: { qps: number; p50Ms: number };
}

/**
 * What every request's envelope costs the server and the protocol, without pgload in the loop: pgbench runs the statement
 * alone and inside BEGIN READ ONLY … ROLLBACK as one pipeline, in alternating legs (medians of the legs).
 */
async function envelopeRows(pgbench: string, url: string): Promise<EnvelopeRow[]> {
  const out: EnvelopeRow[] = [];
  const statements = quick ? ['SELECT 1'] : ['SELECT 1', 'SELECT pg_sleep(0.05)'];
  for (const sql of statements) {
    const legs: Record<'alone' | 'enveloped', ToolFigures[]> = { alone: [], enveloped: [] };
    const order = quick ? (['alone', 'enveloped'] as const) : (['alone', 'enveloped', 'enveloped', 'alone', 'alone', 'enveloped'] as const);
    for (const leg of order) {
      const body = leg === 'alone' ? `${sql};\n` : inEnvelope(sql);
      legs[leg].push(await pgbenchScript(pgbench, url, body, 'extended', 10, 1));
    }
    const med = (xs: ToolFigures[], k: 'qps' | 'p50Ms') => [...xs.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const row = { sql, clients: 10, alone: { qps: med(legs.alone, 'qps'), p50Ms: med(legs.alone, 'p50Ms') }, enveloped: { qps: med(legs.enveloped, 'qps'), p50Ms: med(legs.enveloped, 'p50Ms') } };
    console.log(`envelope: ${sql} · 10 clients · alone ${row.alone.qps.toFixed(0)} q/s p50 ${row.alone.p50Ms.toFixed(3)} ms · enveloped ${row.enveloped.qps.toFixed(0)} q/s p50 ${row.enveloped.p50Ms.toFixed(3)} ms`);
    out.push(row);
  }
  return out;
}

async function runPgload(url: string, c: Case): Promise<ToolFigures & { client?: ProfileResult['load']['client'] }> {
  const argv = [path.join(root, 'dist', 'cli.js'), 'run', '--url', url, '--sql', c.sql, '--clients', String(c.clients), '--duration', `${durationS}s`, '--no-explain', '--sample-interval', '0', '--baseline-runs', '1', '--no-progress', '--json', '-', '--max-errors', '0', '--workers', String(c.threads)];
  if (c.protocol === 'prepared') argv.push('--prepared');
  const r = await run(process.execPath, argv, process.env);
  if (r.code !== 0) throw new Error(`pgload failed (${r.code}): ${r.stderr}`);
  const res = JSON.parse(r.stdout) as ProfileResult;
  const l = res.load.latency;
  const total = res.load.requests.total;
  const cl = res.load.client;
  const cpu = cl && cl.cpuSystemMs !== undefined && total > 0 ? perRequest({ userMs: cl.cpuMs - cl.cpuSystemMs, sysMs: cl.cpuSystemMs }, total) : undefined;
  const processCpu = r.cpu && total > 0 ? perRequest(r.cpu, total) : undefined;
  return { qps: res.load.throughputQps, p50Ms: l.p50Ms, p95Ms: l.p95Ms, p99Ms: l.p99Ms, count: res.load.requests.ok, failed: res.load.requests.failed, client: cl, cpu, processCpu };
}

async function prepareData(pgbench: string | null, url: string): Promise<void> {
  const scale = quick ? 1 : 10;
  if (pgbench) {
    const r = spawnSync(pgbench, ['-i', '-q', '-s', String(scale), url], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pgbench -i failed: ${r.stderr}`);
    return;
  }
  // The same tables as pgbench -i, for benchmarking pgload alone.
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history;
      CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
      CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
      CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
      INSERT INTO pgbench_branches SELECT g, 0 FROM generate_series(1, ${scale}) g;
      INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0 FROM generate_series(1, ${scale * 10}) g;
      INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, ${scale * 100000}) g;
      VACUUM ANALYZE;`);
  } finally {
    await c.end();
  }
}

// ---- pgload's own budgets ---------------------------------------------------------------------------------------
interface Budget {
  name: string;
  measured: string;
  target: string;
  met: boolean;
}

function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function budgets(): Promise<Budget[]> {
  return [...recordingBudgets(), ...planBudgets(), ...payloadBudgets(), ...activationBudgets(), ...(await lensBudgets())];
}

/** HDR recording: time per sample and memory. */
function recordingBudgets(): Budget[] {
  const out: Budget[] = [];
  // Recording: 10 M samples (1 M in quick mode) of realistic latencies.
  const n = quick ? 1_000_000 : 10_000_000;
  const h = createHistogram();
  const values = new Float64Array(1 << 16).map((_, i) => 200 + ((i * 7919) % 200_000));
  for (let i = 0; i < 100_000; i++) recordUs(h, values[i & 0xffff]); // warm the JIT
  const heapBefore = process.memoryUsage().heapUsed;
  const ms = timeIt(() => {
    for (let i = 0; i < n; i++) recordUs(h, values[i & 0xffff]);
  });
  const perSampleUs = (ms * 1000) / n;
  out.push({ name: `HDR recording, per sample (${n.toLocaleString('en-US')} samples)`, measured: `${perSampleUs.toFixed(3)} µs`, target: '< 0.3 µs', met: perSampleUs < 0.3 });
  const footprint = (h as unknown as { estimatedFootprintInBytes: number }).estimatedFootprintInBytes;
  const heapGrowth = Math.max(0, process.memoryUsage().heapUsed - heapBefore);
  out.push({ name: `Memory for ${n.toLocaleString('en-US')} samples`, measured: `${(footprint / 1024).toFixed(0)} kB histogram (heap +${(heapGrowth / 1024 / 1024).toFixed(1)} MB while recording)`, target: '< 5 MB', met: footprint < 5 * 1024 * 1024 });
  return out;
}

/** Analysing a real 5,001-node plan. */
function planBudgets(): Budget[] {
  const out: Budget[] = [];
  // A real 5,001-node plan (PostgreSQL 18: an Append over 5,000 scans, with buffers and timing).
  const big = JSON.parse(gunzipSync(fs.readFileSync(path.resolve(__dirname, '../test/fixtures/plans/pg18-append-5000.json.gz'))).toString('utf8')) as { plan: CapturedPlan };
  const plan = big.plan;
  const ctx = { blockSize: 8192, workMemKB: 4096, hashMemMultiplier: 2, sharedBuffersKB: 131072, clients: 50 };
  // A fresh copy each time, so that nothing cached for one plan object is reused; the median of five after the first.
  const copies = Array.from({ length: 6 }, () => JSON.parse(JSON.stringify(plan)) as CapturedPlan);
  const runOn = (p: CapturedPlan) => () => {
    analyzePlan(p, ctx);
    nodeTimes(p.json!.Plan as Record<string, unknown>);
  };
  const firstPlanMs = timeIt(runOn(copies[0]));
  const planTimes = copies.slice(1).map((p) => timeIt(runOn(p))).sort((a, b) => a - b);
  const planMs = planTimes[2];
  out.push({ name: 'Analysing a real 5,001-node plan (hints and time per node)', measured: `${planMs.toFixed(1)} ms (first call ${firstPlanMs.toFixed(1)} ms)`, target: '< 50 ms', met: planMs < 50 });
  return out;
}

/** The panel's payload of a long run. */
function payloadBudgets(): Budget[] {
  const out: Budget[] = [];
  // The webview payload of a 1 M-request run (60 s): histogram, percentiles, buckets, the adaptive timeline.
  const reqs = quick ? 100_000 : 1_000_000;
  const load = createHistogram();
  const timeline = new Timeline(100);
  for (let i = 0; i < reqs; i++) {
    const us = 1000 + ((i * 104729) % 50_000);
    recordUs(load, us);
    timeline.record(us);
    // 600 ticks of 100 ms over the simulated minute: the timeline merges itself down to its maximum of points.
    if (i > 0 && i % Math.floor(reqs / 600) === 0) timeline.tick((i / reqs) * 60_000);
  }
  const payload = { latency: latencyStats(load), percentiles: percentileCurve(load), histogram: logBuckets(load), timeline: timeline.finish(60_000) };
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  out.push({ name: `Webview payload of a ${reqs.toLocaleString('en-US')}-request run`, measured: `${(bytes / 1024).toFixed(1)} kB (${payload.timeline.length} timeline points)`, target: '< 200 kB', met: bytes < 200 * 1024 });
  return out;
}

/** Loading the extension bundle (activation). */
function activationBudgets(): Budget[] {
  const out: Budget[] = [];
  // Extension activation: loading the bundle (vscode stubbed: only module load is timed).
  const original = (Module as unknown as { _load: (r: string, ...a: unknown[]) => unknown })._load;
  (Module as unknown as { _load: (r: string, ...a: unknown[]) => unknown })._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return new Proxy({}, { get: () => new Proxy(function () {}, { get: () => ({}) }) });
    return original.call(this, request, ...rest);
  };
  const bundle = path.join(root, 'dist', 'extension.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loadMs = timeIt(() => require(bundle));
  (Module as unknown as { _load: unknown })._load = original;
  out.push({ name: 'Extension bundle load (activation)', measured: `${loadMs.toFixed(1)} ms`, target: '< 50 ms', met: loadMs < 50 });
  return out;
}

/** CodeLens on a 1,000-statement file, with and without stored runs. */
async function lensBudgets(): Promise<Budget[]> {
  const out: Budget[] = [];
  // CodeLens on a 1,000-statement file: the statement ranges (lexical, ./sqlSpans), which stored run goes above
  // each (./lensMatch) and the titles — what the provider computes on each new version of the document.
  // Median of 5 after one warm-up call; the cold first call is reported too.
  await ensureParser();
  const doc = Array.from({ length: 1000 }, (_, i) => `SELECT o.id, o.total FROM orders o WHERE o.customer_id = ${i} AND EXISTS (SELECT 1 FROM items t WHERE t.order_id = o.id) ORDER BY o.created_at DESC LIMIT 10;`).join('\n');
  const recorded = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/result-demo-50-clients.json'), 'utf8')) as ProfileResult;
  const lens = (stored: Array<{ result: ProfileResult }>, known: (text: string) => string | undefined) => {
    const spans = statementSpans(doc);
    const now = Date.now();
    for (const m of matchRuns(spans, stored, 'file:///bench.sql', known)) if (m.run) formatLensTitle(m.run.result, now, m.stale);
  };
  const median5 = (fn: () => void) => [0, 1, 2, 3, 4].map(() => timeIt(fn)).sort((x, y) => x - y)[2];
  const coldMs = timeIt(() => lens([], () => undefined));
  const lensEmptyMs = median5(() => lens([], () => undefined));
  out.push({ name: 'CodeLens on a 1,000-statement file (no stored run)', measured: `${lensEmptyMs.toFixed(1)} ms (first call ${coldMs.toFixed(1)} ms)`, target: '< 30 ms', met: lensEmptyMs < 30 });
  // 100 stored runs of other statements and one of the same shape as every statement here (other constants).
  // Fingerprints not yet known are taken in the background (the lenses appear first, the same-shape matches
  // after); an edit later finds them remembered, except for the edited statements.
  const shape = (k: number) => `SELECT o.id, o.total FROM orders o WHERE o.customer_id = ${k} AND EXISTS (SELECT 1 FROM items t WHERE t.order_id = o.id) ORDER BY o.created_at DESC LIMIT 10`;
  const stored = Array.from({ length: 100 }, (_, i) => ({ result: { ...recorded, sql: `SELECT ${i} AS other`, fingerprint: `other-${i}` } }));
  stored.push({ result: { ...recorded, sql: shape(-1), fingerprint: fingerprintOf(shape(1))! } });
  const cache = new Map<string, string | undefined>();
  const firstMs = median5(() => lens(stored, (text) => cache.get(text)));
  const backgroundMs = timeIt(() => {
    for (const st of statementSpans(doc)) cache.set(st.text, fingerprintOf(st.text));
  });
  const againMs = median5(() => lens(stored, (text) => cache.get(text)));
  out.push({ name: 'CodeLens on a 1,000-statement file with 101 stored runs, fingerprints not yet known', measured: `${firstMs.toFixed(1)} ms (+ ${backgroundMs.toFixed(0)} ms of fingerprints in the background)`, target: '< 30 ms', met: firstMs < 30 });
  out.push({ name: 'CodeLens on a 1,000-statement file with 101 stored runs, fingerprints known (1,000 stale lenses)', measured: `${againMs.toFixed(1)} ms`, target: '< 30 ms', met: againMs < 30 });
  return out;
}

// ---- main -------------------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is not built: run "npm run build" first');
  const pgbench = findPgbench();
  if (!pgbench) {
    console.log('pgbench not found: only pgload is benchmarked. On Debian 12 it comes with PostgreSQL: apt-get install -y postgresql-15 (or postgresql-client-15), then run again.');
  }
  const external = process.env.PGLOAD_BENCH_URL;
  const server = external ? undefined : await startEmbeddedPostgres({ settings: { max_connections: '300', shared_buffers: '256MB' } });
  const url = external ?? server!.url;
  const started = Date.now();
  const rows: CaseRow[] = [];
  const envelope: EnvelopeRow[] = [];
  try {
    console.log(`bench: ${external ? 'PGLOAD_BENCH_URL' : `embedded PostgreSQL on port ${server!.port}`} · ${os.cpus().length} cores · ${repeats} repeat(s) × ${durationS} s per tool and case${quick ? ' (quick)' : ''}`);
    await prepareData(pgbench, url);
    rows.push(...(await runCases(pgbench, url)));
    if (pgbench) envelope.push(...(await envelopeRows(pgbench, url)));
  } finally {
    await server?.stop();
  }
  const b = await budgets();
  for (const x of b) console.log(`budget: ${x.name}: ${x.measured} (target ${x.target})${x.met ? '' : '  (target missed)'}`);

  writeReport(pgbench, rows, envelope, b, started);
  console.log(`bench: wrote ${path.relative(process.cwd(), path.join(outDir, 'bench.md'))} and bench.json`);
}

/**
 * One case's figures: each tool's repeats (pgbench alone, and with the envelope when the case asks), their ratios, the
 * verdicts against both, and how often pgload's report said it was client-bound.
 */
type CaseRow = {
  c: Case;
  pgload: ToolFigures[];
  pgbench: ToolFigures[];
  /** pgbench sending pgload's transaction, in the same repeats. */
  pgbenchSame: ToolFigures[];
  r?: CaseRatios;
  verdict?: CaseVerdict;
  same?: { r: CaseRatios; verdict: CaseVerdict; envelopeShare: Ratio };
  clientBound: number;
};
type CaseRatios = { qps: Ratio; p50: Ratio; p95: Ratio; p99: Ratio; cpu: Ratio };
type CaseVerdict = { verdict: Verdict; met: number; pairs: number };

const caseRatios = (a: ToolFigures[], b: ToolFigures[]): CaseRatios => ({ qps: ratios(a, b, 'qps'), p50: ratios(a, b, 'p50Ms'), p95: ratios(a, b, 'p95Ms'), p99: ratios(a, b, 'p99Ms'), cpu: ratios(a, b, 'cpu') });
const med = (xs: ToolFigures[], k: keyof ToolFigures) => (xs.length ? [...xs.map((x) => x[k] as number)].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
/** The median leg's CPU per request (by total), user and system as measured in that leg. */
const medCpu = (xs: ToolFigures[], k: 'cpu' | 'processCpu' = 'cpu'): CpuPerRequest | undefined => {
  const cs = xs.map((x) => x[k]).filter((c): c is CpuPerRequest => c !== undefined).sort((a, b) => cpuTotal(a) - cpuTotal(b));
  return cs[Math.floor(cs.length / 2)];
};
const fmtCpu = (c?: CpuPerRequest) => (c ? `${cpuTotal(c).toFixed(1)} µs (${c.userUs.toFixed(1)} user + ${c.sysUs.toFixed(1)} sys)` : '–');
/** A ratio's median for the console; n/a where pgbench's clock made its percentiles meaningless (see zeroShare). */
const times = (r: Ratio) => (Number.isFinite(r.median) ? r.median.toFixed(2) : 'n/a');
const verdictText = (c: Case, v?: CaseVerdict) => (!v ? '–' : !hasTarget(c.target) ? 'no target' : `${v.verdict} (${v.met}/${v.pairs} leg pairs${v.pairs < PAIRS_FOR_A_VERDICT ? `; ${PAIRS_FOR_A_VERDICT} needed` : ''})`);
/** The verdict against pgbench sending the statement alone, with what pgbench's own rates say about the envelope's share. */
const aloneVerdictText = (row: CaseRow) => {
  const note = row.same && row.verdict && row.verdict.verdict !== 'met' ? envelopeShareNote(row.same.envelopeShare, row.c.target, Math.min(row.pgbench.length, row.pgbenchSame.length)) : undefined;
  return `${verdictText(row.c, row.verdict)}${note ? `; ${note}` : ''}`;
};

type Tool = 'pgload' | 'pgbench' | 'pgbenchSame';

/** Every case, each tool in rotating order per repeat, a line printed per case. */
async function runCases(pgbench: string | null, url: string): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const c of cases()) {
    const row: CaseRow = { c, pgload: [], pgbench: [], pgbenchSame: [], clientBound: 0 };
    const tools: Tool[] = !pgbench ? ['pgload'] : c.sameTransaction ? ['pgbench', 'pgload', 'pgbenchSame'] : ['pgbench', 'pgload'];
    for (let i = 0; i < repeats; i++) {
      // The order rotates from repeat to repeat: drift in the machine hits every tool alike.
      for (const tool of tools.map((_, k) => tools[(k + i) % tools.length])) {
        if (tool !== 'pgload') row[tool].push(await runPgbench(pgbench!, url, c, tool === 'pgbenchSame'));
        else {
          const f = await runPgload(url, c);
          if (f.client?.clientBound) row.clientBound++;
          row.pgload.push(f);
        }
      }
    }
    if (row.pgbench.length) {
      row.r = caseRatios(row.pgload, row.pgbench);
      row.verdict = caseVerdict(row.pgload, row.pgbench, c.target);
    }
    if (row.pgbenchSame.length) {
      row.same = { r: caseRatios(row.pgload, row.pgbenchSame), verdict: caseVerdict(row.pgload, row.pgbenchSame, c.target), envelopeShare: ratios(row.pgbenchSame, row.pgbench, 'qps') };
    }
    rows.push(row);
    const { r, same } = row;
    console.log(
      `${c.name.padEnd(20)} ${c.protocol.padEnd(8)} ${String(c.clients).padStart(3)} clients · pgload ${med(row.pgload, 'qps').toFixed(0)} q/s p95 ${med(row.pgload, 'p95Ms').toFixed(2)} ms ${fmtCpu(medCpu(row.pgload))}` +
        (r ? ` · pgbench ${med(row.pgbench, 'qps').toFixed(0)} q/s p95 ${med(row.pgbench, 'p95Ms').toFixed(2)} ms ${fmtCpu(medCpu(row.pgbench))} · qps ×${times(r.qps)} p50 ×${times(r.p50)} p95 ×${times(r.p95)} cpu ×${times(r.cpu)} · ${aloneVerdictText(row)}` : '') +
        (same ? `\n${' '.repeat(20)} same transaction: pgbench ${med(row.pgbenchSame, 'qps').toFixed(0)} q/s ${fmtCpu(medCpu(row.pgbenchSame))} · qps ×${times(same.r.qps)} cpu ×${times(same.r.cpu)} · ${verdictText(c, same.verdict)}` : ''),
    );
  }
  return rows;
}

/** bench.md (the tables) and bench.json (every figure) in the output folder. */
function writeReport(pgbench: string | null, rows: CaseRow[], envelope: EnvelopeRow[], b: Budget[], started: number): void {
  fs.mkdirSync(outDir, { recursive: true });
  const fmtR = (r?: Ratio) => (r ? (Number.isFinite(r.median) ? `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : 'n/a (pgbench clock)') : '–');
  const md = [
    `# pgload vs pgbench — ${new Date().toISOString()}`,
    '',
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, ${pgbench ? `pgbench ${spawnSync(pgbench, ['--version'], { encoding: 'utf8' }).stdout.trim()}` : 'no pgbench'}; ${repeats} repeat(s) of ${durationS} s per tool and case, alternating; pgbench -j N against pgload --workers N (N = 1 unless the case says 2 threads). Ratios are pgload ÷ pgbench, median of the repeats (min–max).`,
    '',
    "pgbench's percentiles come from its per-transaction log. With many clients on one thread pgbench reads its clock once per pass over its clients, and logs most transactions as taking 0 µs; where more than 5 % are 0 µs its percentiles are not compared (\"n/a (pgbench clock)\"; the 0 µs share is in bench.json).",
    '',
    '| statement | protocol | clients | threads | pgload q/s | pgbench q/s | qps ratio | pgload p50 | pgbench p50 | p50 ratio | pgload p95 | pgbench p95 | p95 ratio | p99 ratio | pgload client-bound | target |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((row) => {
      const { c, pgload, pgbench: pb, r, clientBound } = row;
      return `| ${c.name} | ${c.protocol} | ${c.clients} | ${c.threads} | ${med(pgload, 'qps').toFixed(0)} | ${pb.length ? med(pb, 'qps').toFixed(0) : '–'} | ${fmtR(r?.qps)} | ${med(pgload, 'p50Ms').toFixed(3)} | ${pb.length ? med(pb, 'p50Ms').toFixed(3) : '–'} | ${fmtR(r?.p50)} | ${med(pgload, 'p95Ms').toFixed(3)} | ${pb.length ? med(pb, 'p95Ms').toFixed(3) : '–'} | ${fmtR(r?.p95)} | ${fmtR(r?.p99)} | ${clientBound}/${pgload.length} | ${aloneVerdictText(row)} |`;
    }),
    '',
    'Here pgbench sends the statement alone, so the ratios include what the envelope pgload keeps around every request (BEGIN READ ONLY, the statement, ROLLBACK) costs the server.',
    '',
    ...(rows.some((row) => row.same)
      ? [
          '## The same server work',
          '',
          "In the same repeats, pgbench also sent pgload's own transaction (BEGIN READ ONLY, the statement, ROLLBACK, one pipeline, prepared), so both tools asked the server for the same work: the ratio is the load generators' alone, against the same target. \"envelope share\" is pgbench's own rate with the envelope ÷ without it: how much of pgbench's rate the envelope alone takes on this server.",
          '',
          '| statement | clients | threads | pgload q/s | pgbench q/s (same transaction) | qps ratio | CPU ratio | target | envelope share (pgbench ÷ pgbench) |',
          '|---|---:|---:|---:|---:|---:|---:|---|---:|',
          ...rows
            .filter((row) => row.same)
            .map(({ c, pgload, pgbenchSame, same }) => `| ${c.name} | ${c.clients} | ${c.threads} | ${med(pgload, 'qps').toFixed(0)} | ${med(pgbenchSame, 'qps').toFixed(0)} | ${fmtR(same!.r.qps)} | ${fmtR(same!.r.cpu)} | ${verdictText(c, same!.verdict)} | ${fmtR(same!.envelopeShare)} |`),
          '',
        ]
      : []),
    `A verdict needs ${PAIRS_FOR_A_VERDICT} leg pairs: "met" when every pair met the target, "missed" when none did, "undecided" otherwise (run more repeats: --repeats N).`,
    '',
    '## Client CPU per request',
    '',
    "User + system time of each tool's process, divided by its completed and failed requests; median leg (by total), ratio pgload ÷ pgbench pair by pair. pgbench: its whole process, measured by the shell that started it. pgload: its own reading over the load phase (worker threads included), so Node's start-up and the baseline are not spread over the requests; its whole process is given beside it.",
    '',
    '| statement | protocol | clients | threads | pgload (load phase) | pgload (whole process) | pgbench | CPU ratio |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ c, pgload, pgbench: pb, r }) => `| ${c.name} | ${c.protocol} | ${c.clients} | ${c.threads} | ${fmtCpu(medCpu(pgload))} | ${fmtCpu(medCpu(pgload, 'processCpu'))} | ${fmtCpu(medCpu(pb))} | ${fmtR(r?.cpu)} |`),
    '',
    "\"pgload client-bound\": runs whose own report said pgload was a bottleneck (the event-loop delay it added, p99, above 10 % of the median latency and 1 ms, or > 85 % of a core). On a 2-core machine shared with the server, the server's backends take the cores and pgload waits for one.",
    '',
    ...(envelope.length
      ? [
          "## The read-only envelope's cost",
          '',
          'pgbench alone (no pgload in the loop), the statement as its own transaction against the same statement inside BEGIN READ ONLY … ROLLBACK in one pipeline (what pgload sends for every request), alternating legs, -M extended. pgload itself measures the envelope on its baseline session and reports it when it reaches 5 % of a statement\'s time alone.',
          '',
          '| statement | clients | alone q/s | enveloped q/s | q/s change | alone p50 | enveloped p50 | p50 added |',
          '|---|---:|---:|---:|---:|---:|---:|---:|',
          ...envelope.map((e) => `| ${e.sql} | ${e.clients} | ${e.alone.qps.toFixed(0)} | ${e.enveloped.qps.toFixed(0)} | ${(((e.enveloped.qps - e.alone.qps) / e.alone.qps) * 100).toFixed(1)} % | ${e.alone.p50Ms.toFixed(3)} ms | ${e.enveloped.p50Ms.toFixed(3)} ms | ${((e.enveloped.p50Ms - e.alone.p50Ms) * 1000).toFixed(0)} µs |`),
          '',
        ]
      : []),
    '| budget | measured | target | |',
    '|---|---|---|---|',
    ...b.map((x) => `| ${x.name} | ${x.measured} | ${x.target} | ${x.met ? 'met' : 'missed'} |`),
    '',
    `Total ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'bench.md'), md);
  fs.writeFileSync(path.join(outDir, 'bench.json'), JSON.stringify({ quick, repeats, durationS, cases: rows, envelope, budgets: b }, null, 2) + '\n');
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
