/**
 * `npm run bench:ceiling`: how many sessions one pgload process drives on this machine, so that users know when to
 * shard (docs/scale-out.md). A PostgreSQL of its own with max_connections raised; each step is one pgload run of
 * `SELECT pg_sleep(1)` on N sessions (one event loop, then worker threads), and gives:
 *   - the rate against the ideal: N sessions each sleeping 1 s give N requests a second at most; a step reads below that
 *     by what each request adds to its second (the round trip, the server, pgload turning the answer around);
 *   - pgload's peak RSS (its process's VmHWM, read from /proc while it runs: Linux only) and its CPU (its own reading);
 *   - the time to open the sessions (p50 and the slowest), which is not part of any latency.
 *
 *   options: --steps 500,1000,2000,2000x2   (N, or NxW for --workers W)   --duration S (default 10)   --out DIR
 * Figures are printed and written (bench-results/ceiling.md and .json), never asserted. The server needs memory for
 * every session (a few MB each): the script says how much it had free before it starts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProfileResult } from '../src/shared/result';
import { startEmbeddedPostgres } from './lib/embedded-pg';
import { optionValue } from './lib/args';

const root = path.resolve(__dirname, '..');
const durationS = Number(optionValue('duration', '10'));
const outDir = path.resolve(optionValue('out', path.join(root, 'bench-results')));

interface Step {
  sessions: number;
  workers: number;
}

function parseSteps(text: string): Step[] {
  return text.split(',').map((s) => {
    const m = /^\s*(\d+)(?:x(\d+))?\s*$/.exec(s);
    if (!m) throw new Error(`--steps: "${s}" is not N or NxW (e.g. 5000x2 for 5,000 sessions on 2 worker threads)`);
    return { sessions: Number(m[1]), workers: m[2] ? Number(m[2]) : 1 };
  });
}

interface Row extends Step {
  status: string;
  qps: number;
  /** Throughput ÷ (sessions × 1 request a second): what each request adds to its 1 s sleep brings it below 1. */
  ofIdeal: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  cpuShare: number;
  /** The delay pgload's event loop added (p99, ms): how late it was turning answers around. */
  loopDelayP99Ms: number;
  connectP50Ms: number;
  connectMaxMs: number;
  wallS: number;
}

/** The peak resident memory of a process so far (kB), or 0 once it is gone. */
function peakRssKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function runStep(url: string, step: Step): Promise<Row> {
  const argv = [path.join(root, 'dist', 'cli.js'), 'run', '--url', url, '--sql', 'SELECT pg_sleep(1)', '--clients', String(step.sessions), '--duration', `${durationS}s`, '--workers', String(step.workers), '--no-explain', '--sample-interval', '0', '--baseline-runs', '1', '--no-progress', '--json', '-'];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, peakRssKb(child.pid!))), 100);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearInterval(poll);
      if (!stdout.trim()) return reject(new Error(`pgload ended (${code}) without a result: ${stderr.slice(-2000)}`));
      const r = JSON.parse(stdout) as ProfileResult;
      const l = r.load;
      resolve({
        ...step,
        status: r.status,
        qps: l.throughputQps,
        ofIdeal: l.throughputQps / step.sessions,
        p50Ms: l.latency.p50Ms,
        p99Ms: l.latency.p99Ms,
        peakRssMb: peak / 1024,
        cpuShare: l.client?.cpuShareOfOneCore ?? NaN,
        loopDelayP99Ms: l.client?.eventLoopDelayP99Ms ?? NaN,
        connectP50Ms: l.connectMs.p50Ms,
        connectMaxMs: l.connectMs.maxMs,
        wallS: (Date.now() - started) / 1000,
      });
    });
  });
}

const fmt = (r: Row) =>
  `| ${r.sessions.toLocaleString('en')} | ${r.workers} | ${r.status} | ${r.qps.toFixed(0)} | ${(r.ofIdeal * 100).toFixed(1)} % | ${r.p50Ms.toFixed(0)} ms | ${r.p99Ms.toFixed(0)} ms | ${r.peakRssMb.toFixed(0)} MB | ${(r.cpuShare * 100).toFixed(0)} % | ${r.loopDelayP99Ms.toFixed(1)} ms | ${r.connectP50Ms.toFixed(0)} / ${r.connectMaxMs.toFixed(0)} ms | ${r.wallS.toFixed(0)} s |`;

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is not built: run "npm run build" first');
  const steps = parseSteps(optionValue('steps', '500,1000,2000,2000x2'));
  const most = Math.max(...steps.map((s) => s.sessions));
  console.log(`ceiling: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB (${(os.freemem() / 2 ** 30).toFixed(1)} GiB free); steps ${steps.map((s) => `${s.sessions}×${s.workers}`).join(', ')}; ${durationS} s each`);
  // Room for the largest step, pgload's control and sampling sessions, and the superuser's reserve.
  const server = await startEmbeddedPostgres({ settings: { max_connections: String(most + 20), shared_buffers: '128MB' } });
  const rows: Row[] = [];
  try {
    for (const step of steps) {
      const row = await runStep(server.url, step);
      rows.push(row);
      console.log(`${step.sessions} sessions on ${step.workers} loop(s): ${row.status}, ${row.qps.toFixed(0)} q/s (${(row.ofIdeal * 100).toFixed(1)} % of ideal), p50 ${row.p50Ms.toFixed(0)} ms, p99 ${row.p99Ms.toFixed(0)} ms, peak RSS ${row.peakRssMb.toFixed(0)} MB, ${(row.cpuShare * 100).toFixed(0)} % of a core, loop delay p99 ${row.loopDelayP99Ms.toFixed(1)} ms, connect p50 ${row.connectP50Ms.toFixed(0)} ms / max ${row.connectMaxMs.toFixed(0)} ms`);
    }
  } finally {
    await server.stop();
  }
  fs.mkdirSync(outDir, { recursive: true });
  const md = [
    `# One pgload process's ceiling — ${new Date().toISOString()}`,
    '',
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; the server on the same machine. \`SELECT pg_sleep(1)\` for ${durationS} s on each step's sessions. "Of ideal": the throughput against every session sleeping back to back (the sessions × 1 request a second). Peak RSS: pgload's process, all its threads. CPU: pgload's own reading over the load, 100 % = one core. Loop delay: how late pgload's event loop ran (p99), the part of a latency that is pgload's own. With the server on the same machine, "of ideal" and the latencies are the server's as much as pgload's: pgload's own limit shows in its CPU, its memory and its loop delay.`,
    '',
    '| sessions | event loops | status | q/s | of ideal | p50 | p99 | peak RSS | CPU | loop delay p99 | connect p50 / max | step took |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(fmt),
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'ceiling.md'), md + '\n');
  fs.writeFileSync(path.join(outDir, 'ceiling.json'), JSON.stringify({ durationS, rows }, null, 2) + '\n');
  console.log(`ceiling: wrote ${path.relative(process.cwd(), path.join(outDir, 'ceiling.md'))}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
