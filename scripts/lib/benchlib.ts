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
  /**
   * Client CPU per request: pgbench's whole process (from its parent shell), pgload's load phase (its own reading of
   * the process's CPU over the load, worker threads included), so that its start-up (Node, the baseline) is not spread
   * over the requests. `processCpu` is pgload's whole process, for comparison.
   */
  cpu?: CpuPerRequest;
  processCpu?: CpuPerRequest;
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
export function ratios(pgload: ToolFigures[], pgbench: ToolFigures[], key: keyof Pick<ToolFigures, 'qps' | 'p50Ms' | 'p95Ms' | 'p99Ms'> | 'cpu'): Ratio {
  const r: number[] = [];
  const of = (f: ToolFigures) => (key === 'cpu' ? (f.cpu ? cpuTotal(f.cpu) : NaN) : f[key]);
  for (let i = 0; i < Math.min(pgload.length, pgbench.length); i++) {
    // Latency ratios only against pgbench figures that mean something (see zeroShare).
    if (key !== 'qps' && key !== 'cpu' && !percentilesReliable(pgbench[i])) continue;
    const [a, b] = [of(pgload[i]), of(pgbench[i])];
    if (b > 0 && Number.isFinite(a)) r.push(a / b);
  }
  return r.length ? { median: median(r), min: Math.min(...r), max: Math.max(...r) } : { median: NaN, min: NaN, max: NaN };
}

/** CPU time per completed request, user and system apart, in µs. */
export interface CpuPerRequest {
  userUs: number;
  sysUs: number;
}

export const cpuTotal = (c: CpuPerRequest): number => c.userUs + c.sysUs;

/**
 * A finished child's CPU time from bash's `times` builtin, printed after it as the last two lines of stderr (the shell's
 * own, then its children's: `0m1.234s 0m0.567s`, user then system). Returns the children's, and stderr without them.
 */
export function parseChildTimes(stderr: string): { userMs: number; sysMs: number; rest: string } | null {
  const lines = stderr.replace(/\n+$/, '').split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  if (!m || lines.length < 2) return null;
  const ms = (min: string, sec: string) => Number(min) * 60_000 + Number(sec) * 1000;
  return { userMs: ms(m[1], m[2]), sysMs: ms(m[3], m[4]), rest: lines.slice(0, -2).join('\n') };
}

/** What a case must reach against pgbench: ratios pgload ÷ pgbench (CPU: per request, user + system). */
export interface Target {
  minQps: number;
  maxP50?: number;
  maxP95?: number;
  maxCpu?: number;
}

/** Whether a target asks anything at all. */
export const hasTarget = (t: Target): boolean => t.minQps > 0 || t.maxP50 !== undefined || t.maxP95 !== undefined || t.maxCpu !== undefined;

/**
 * One pair of legs (pgload and pgbench back to back) against the target. A latency ratio pgbench's clock cannot give
 * (see zeroShare), or a CPU figure one side did not measure, neither meets nor misses.
 */
export function pairMeets(a: ToolFigures, b: ToolFigures, t: Target): boolean {
  if (!(b.qps > 0 && a.qps / b.qps >= t.minQps)) return false;
  if (percentilesReliable(b)) {
    if (t.maxP50 !== undefined && !(a.p50Ms / b.p50Ms <= t.maxP50)) return false;
    if (t.maxP95 !== undefined && !(a.p95Ms / b.p95Ms <= t.maxP95)) return false;
  }
  if (t.maxCpu !== undefined && a.cpu && b.cpu && !(cpuTotal(a.cpu) / cpuTotal(b.cpu) <= t.maxCpu)) return false;
  return true;
}

export type Verdict = 'met' | 'missed' | 'undecided';

/** Leg pairs a verdict needs: fewer says "undecided", whatever they showed. */
export const PAIRS_FOR_A_VERDICT = 3;

/**
 * A case's verdict from its leg pairs: "met" when every pair met the target, "missed" when none did, "undecided"
 * when they disagree or when there are fewer than PAIRS_FOR_A_VERDICT — one leg that happened to be fast is not a result.
 */
export function caseVerdict(pgload: ToolFigures[], pgbench: ToolFigures[], t: Target): { verdict: Verdict; met: number; pairs: number } {
  const pairs = Math.min(pgload.length, pgbench.length);
  let met = 0;
  for (let i = 0; i < pairs; i++) if (pairMeets(pgload[i], pgbench[i], t)) met++;
  const verdict: Verdict = pairs < PAIRS_FOR_A_VERDICT ? 'undecided' : met === pairs ? 'met' : met === 0 ? 'missed' : 'undecided';
  return { verdict, met, pairs };
}

/**
 * What pgbench's own two rates say about a throughput target pgload did not meet against pgbench sending the statement
 * alone: `envelopeShare` is pgbench sending pgload's transaction (BEGIN READ ONLY, the statement, ROLLBACK) ÷ pgbench
 * sending the statement alone, repeat by repeat (`pairs` of them). Below the target in every one of at least
 * PAIRS_FOR_A_VERDICT repeats, pgbench itself would miss the target with the envelope, and the sentence says so;
 * otherwise it gives the share alone. Nothing when the share is unknown or ≥ 1.
 */
export function envelopeShareNote(envelopeShare: Ratio, t: Target, pairs: number): string | undefined {
  if (!Number.isFinite(envelopeShare.median) || envelopeShare.median >= 1) return undefined;
  const share = `×${envelopeShare.median.toFixed(2)} (${envelopeShare.min.toFixed(2)}–${envelopeShare.max.toFixed(2)})`;
  if (pairs >= PAIRS_FOR_A_VERDICT && envelopeShare.max < t.minQps) {
    return `pgbench itself, sending the envelope pgload keeps, reached ${share} of its rate without it — below ×${t.minQps} in every repeat, so on this server the envelope alone puts the target out of reach`;
  }
  return `pgbench itself, sending the envelope pgload keeps, reached ${share} of its rate without it`;
}
