/**
 * Soak: one long run (default 10 minutes at 50 clients) on the embedded PostgreSQL, sampling pgload's own
 * memory and event-loop delay every 30 s. Flat memory means no per-request growth (latencies go into fixed-size
 * HDR histograms; the timeline merges itself to a bounded number of points).
 *
 *   npx tsx scripts/soak.ts [--minutes 10] [--clients 50] [--out bench-results]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { profile } from '../src/core/load/runner';
import { startEmbeddedPostgres } from './lib/embedded-pg';
import { optionValue } from './lib/args';

const minutes = Number(optionValue('minutes', '10'));
const clients = Number(optionValue('clients', '50'));
const outDir = path.resolve(optionValue('out', path.join(__dirname, '..', 'bench-results')));

interface Sample {
  atS: number;
  requests: number;
  rssMB: number;
  heapMB: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({ settings: { max_connections: '120' } });
  const samples: Sample[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let requests = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    global.gc?.();
    const m = process.memoryUsage();
    samples.push({ atS: Math.round((Date.now() - started) / 1000), requests, rssMB: m.rss / 2 ** 20, heapMB: m.heapUsed / 2 ** 20, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 });
    const s = samples[samples.length - 1];
    console.log(`soak: ${s.atS} s · ${s.requests.toLocaleString('en-US')} requests · rss ${s.rssMB.toFixed(1)} MB · heap ${s.heapMB.toFixed(1)} MB · event-loop delay p99 ${s.loopP99Ms.toFixed(2)} ms (max ${s.loopMaxMs.toFixed(1)})`);
    loop.reset();
  }, 30_000);
  try {
    const r = await profile(
      // A short query keeps the request rate (and any per-request growth) high.
      { sql: 'SELECT count(*) FROM generate_series(1, 200)', connection: { url: server.url }, clients, durationMs: minutes * 60_000, baselineRuns: 1, explain: false, sampleIntervalMs: 0, maxErrors: 0 },
      { onProgress: (p) => (requests = p.done) },
    );
    clearInterval(timer);
    const first = samples[1] ?? samples[0];
    const last = samples[samples.length - 1];
    const md = [
      `# Soak — ${minutes} min at ${clients} clients (${new Date().toISOString()})`,
      '',
      `${r.load.requests.ok.toLocaleString('en-US')} requests ok, ${r.load.requests.failed} failed, ${r.load.throughputQps.toFixed(0)} q/s, p50 ${r.load.latency.p50Ms.toFixed(2)} ms, p99 ${r.load.latency.p99Ms.toFixed(2)} ms; ${r.timeline.length} timeline points; client CPU ${r.load.client?.cpuUsPerRequest.toFixed(1)} µs per request.`,
      '',
      '| s | requests | rss MB | heap MB | event-loop p99 ms | max ms |',
      '|---:|---:|---:|---:|---:|---:|',
      ...samples.map((s) => `| ${s.atS} | ${s.requests.toLocaleString('en-US')} | ${s.rssMB.toFixed(1)} | ${s.heapMB.toFixed(1)} | ${s.loopP99Ms.toFixed(2)} | ${s.loopMaxMs.toFixed(1)} |`),
      '',
      first && last ? `From ${first.atS} s to ${last.atS} s: rss ${first.rssMB.toFixed(1)} → ${last.rssMB.toFixed(1)} MB, heap ${first.heapMB.toFixed(1)} → ${last.heapMB.toFixed(1)} MB over ${(last.requests - first.requests).toLocaleString('en-US')} requests.` : '',
      '',
    ].join('\n');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'soak.md'), md);
    console.log(md);
  } finally {
    clearInterval(timer);
    loop.disable();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(`soak: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
