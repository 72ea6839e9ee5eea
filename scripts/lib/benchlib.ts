/**
 * The arithmetic of `npm run bench`, apart from running anything, so that it is unit-tested: reading pgbench's
 * per-transaction logs, percentiles of raw latencies, and pgload ÷ pgbench ratios over repeats.
 */

export interface ToolFigures {
  qps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Transactions / requests that completed. */
  count: number;
  failed: number;
  /**
   * Share of latencies logged as 0 µs. pgbench reads its clock lazily, once per pass over its clients: with many
   * clients on one thread most transactions are logged as taking 0 µs, and its percentiles mean nothing.
   */
  zeroShare?: number;
}

/** pgbench's log percentiles are trusted only when almost no transaction was logged as taking 0 µs. */
export function percentilesReliable(f: ToolFigures): boolean {
  return (f.zeroShare ?? 0) < 0.05;
}

/**
 * pgbench --log lines: `client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]`,
 * `time` being the transaction's latency in µs, or `failed` / `skipped` (PostgreSQL 15+). Returns the
 * latencies in µs and the count of failed or skipped transactions.
 */
export function parsePgbenchLog(text: string): { latenciesUs: number[]; failed: number } {
  const latenciesUs: number[] = [];
  let failed = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    if (f[2] === 'failed' || f[2] === 'skipped') {
      failed++;
      continue;
    }
    const us = Number(f[2]);
    if (Number.isFinite(us) && us >= 0) latenciesUs.push(us);
  }
  return { latenciesUs, failed };
}

/** The nearest-rank percentile of raw values (sorted in place); NaN when empty. */
export function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** pgbench's "tps = 1234.5 (without initial connection time)". */
export function parsePgbenchTps(stdout: string): number | null {
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
  return m ? Number(m[1]) : null;
}

export function figuresFromLatencies(latenciesUs: number[], failed: number, qps: number): ToolFigures {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const zeros = sorted.length ? sorted.filter((v) => v === 0).length / sorted.length : 0;
  return { qps, p50Ms: percentileOf(sorted, 50) / 1000, p95Ms: percentileOf(sorted, 95) / 1000, p99Ms: percentileOf(sorted, 99) / 1000, count: sorted.length, failed, zeroShare: zeros };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Ratio {
  /** Median of the per-repeat ratios pgload ÷ pgbench. */
  median: number;
  min: number;
  max: number;
}

/** pgload ÷ pgbench for one figure, repeat by repeat (each pair ran back to back), then the median and the spread. */
export function ratios(pgload: ToolFigures[], pgbench: ToolFigures[], key: keyof Pick<ToolFigures, 'qps' | 'p50Ms' | 'p95Ms' | 'p99Ms'>): Ratio {
  const r: number[] = [];
  for (let i = 0; i < Math.min(pgload.length, pgbench.length); i++) {
    // Latency ratios only against pgbench figures that mean something (see zeroShare).
    if (key !== 'qps' && !percentilesReliable(pgbench[i])) continue;
    if (pgbench[i][key] > 0) r.push(pgload[i][key] / pgbench[i][key]);
  }
  return r.length ? { median: median(r), min: Math.min(...r), max: Math.max(...r) } : { median: NaN, min: NaN, max: NaN };
}

/** Whether a case meets its target: qps at least `minQps` × pgbench; p50 and p95 within the given bounds. */
export function meetsTarget(r: { qps: Ratio; p50: Ratio; p95: Ratio }, t: { minQps: number; maxP50?: number; maxP95?: number }): boolean {
  if (!(r.qps.median >= t.minQps)) return false;
  // A latency ratio that could not be computed (pgbench's clock) neither meets nor misses: it is reported as such.
  if (t.maxP50 !== undefined && Number.isFinite(r.p50.median) && !(r.p50.median <= t.maxP50)) return false;
  if (t.maxP95 !== undefined && Number.isFinite(r.p95.median) && !(r.p95.median <= t.maxP95)) return false;
  return true;
}
