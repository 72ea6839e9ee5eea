/**
 * Before / after: two results of (usually) the same statement, compared on the recorded HDR histograms.
 *
 * Two tests decide whether a difference is real, and both must agree with a practical floor:
 *  - the whole latency distribution: Mann–Whitney U over every recorded request (ties handled, normal
 *    approximation), with Cliff's δ as the effect size (P(B slower) − P(B faster));
 *  - each percentile: a distribution-free confidence interval from the order statistics around its rank;
 *    throughput: a z-test on the spread of the runs' timeline intervals.
 * Requests of one run are not independent (caches, a busy machine), so a change smaller than the noise floor
 * (10 % of the baseline value by default) is reported as within run-to-run noise even when the tests call it
 * significant.
 */
import type { Comparison, ComparisonMetric, ProfileResult } from '../../shared/result';
import { RESULT_SCHEMA_VERSION } from '../../shared/result';
import { decodeHistogram, type Histogram } from '../load/histogram';
import { flattenPlan, hintKey } from '../insight/plan';
import { throughputSe } from './scaling';
import { VERSION } from '../version';
import { formatMs, formatQps } from '../../shared/format';
import { formatWhen, plural } from '../../shared/numbers';

/**
 * Changes below 10 % of the baseline are treated as run-to-run noise by default: two runs of the same query
 * on a busy 2-core machine differed by 5–17 % at the median (measured), with every test calling it significant.
 */
export const NOISE_FLOOR = 0.1;
/** Cliff's |δ| below this is a negligible shift of the distribution (Romano et al., 2006). */
const NEGLIGIBLE_DELTA = 0.147;
const P_SIGNIFICANT = 0.001;
const Z_95 = 1.959964;

type Json = Record<string, unknown>;

/** Mann–Whitney U of B against A on two histograms of the same layout (distinct recorded values, with ties). */
export function mannWhitney(a: Histogram, b: Histogram): { u: number; z: number; p: number; cliffsDelta: number } | null {
  const n1 = a.totalCount;
  const n2 = b.totalCount;
  if (n1 === 0 || n2 === 0) return null;
  const counts = new Map<number, [number, number]>();
  const visit = (h: Histogram, side: 0 | 1) => {
    const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const c = counts.get(v.valueIteratedTo) ?? [0, 0];
      c[side] += v.countAtValueIteratedTo;
      counts.set(v.valueIteratedTo, c);
    }
  };
  visit(a, 0);
  visit(b, 1);
  const values = [...counts.keys()].sort((x, y) => x - y);
  let below = 0;
  let rankSumB = 0;
  let tieTerm = 0;
  for (const v of values) {
    const [ca, cb] = counts.get(v)!;
    const t = ca + cb;
    // Tied values share the average of the ranks they span.
    rankSumB += cb * (below + (t + 1) / 2);
    tieTerm += t * t * t - t;
    below += t;
  }
  const n = n1 + n2;
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  return { u, z, p: Math.min(1, 2 * normalTail(Math.abs(z))), cliffsDelta: (2 * u) / (n1 * n2) - 1 };
}

/** P(Z > z) for a standard normal (Abramowitz–Stegun 7.1.26 through erfc; |error| < 1.5e-7). */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** A 95 % confidence interval of a percentile, from the order statistics around its rank (ms). */
export function percentileInterval(h: Histogram, percentile: number): [number, number] {
  const n = h.totalCount;
  const q = percentile / 100;
  const half = Z_95 * Math.sqrt(n * q * (1 - q));
  const lo = Math.max(1, Math.floor(n * q - half));
  const hi = Math.min(n, Math.ceil(n * q + half));
  const at = (rank: number) => h.getValueAtPercentile((rank / n) * 100) / 1000;
  return [at(lo), at(hi)];
}

export interface CompareOptions {
  /** What "a" and "b" are called in messages (file names, "before" / "after"). */
  labels?: [string, string];
  /** Smallest change (a fraction of A's value) counted as a difference (default NOISE_FLOOR). */
  noiseFloor?: number;
}

/**
 * Why a comparison found no difference, in the terms it tested: a median called different must change by at least the
 * noise floor with its two 95 % intervals apart, and the whole distribution must have shifted (Mann–Whitney below
 * P_SIGNIFICANT, with a Cliff's δ that is not negligible). Every test that failed is named.
 */
export function noDifferenceReason(median: Pick<ComparisonMetric, 'change' | 'ciA' | 'ciB'>, mw: { p: number; cliffsDelta: number } | null, floor: number): string {
  if (Math.abs(median.change) < floor) return `a change under ${Math.round(floor * 100)} % is not counted (two runs of the same query differ that much)`;
  const why: string[] = [];
  const apart = median.ciB[0] > median.ciA[1] || median.ciA[0] > median.ciB[1];
  if (!apart) why.push("the medians' 95 % intervals overlap");
  if (!mw) why.push('too few requests to test the distributions');
  else {
    if (mw.p >= P_SIGNIFICANT) why.push(`Mann–Whitney's p is not below ${P_SIGNIFICANT}`);
    if (Math.abs(mw.cliffsDelta) < NEGLIGIBLE_DELTA) why.push(`a Cliff's δ under ${NEGLIGIBLE_DELTA} in size is a negligible shift`);
  }
  return why.length ? why.join(', and ') : 'the tests disagree';
}

export function compareResults(a: ProfileResult, b: ProfileResult, options: CompareOptions = {}): Comparison {
  const [labelA, labelB] = options.labels ?? ['A', 'B'];
  const floor = options.noiseFloor ?? NOISE_FLOOR;
  const ha = decodeHistogram(a.hdr.load);
  const hb = decodeHistogram(b.hdr.load);
  const mw = mannWhitney(ha, hb);
  const shifted = mw !== null && mw.p < P_SIGNIFICANT && Math.abs(mw.cliffsDelta) >= NEGLIGIBLE_DELTA;

  const metrics: ComparisonMetric[] = [];
  const change = (x: number, y: number) => (x > 0 ? (y - x) / x : y > 0 ? Infinity : 0);
  for (const [name, p] of [['p50', 50], ['p95', 95], ['p99', 99]] as const) {
    const key = `${name}Ms` as const;
    const va = a.load.latency[key];
    const vb = b.load.latency[key];
    const ciA = ha.totalCount ? percentileInterval(ha, p) : ([va, va] as [number, number]);
    const ciB = hb.totalCount ? percentileInterval(hb, p) : ([vb, vb] as [number, number]);
    const apart = ciB[0] > ciA[1] || ciA[0] > ciB[1];
    const c = change(va, vb);
    const significant = apart && Math.abs(c) >= floor;
    metrics.push({ name, unit: 'ms', a: va, b: vb, change: c, ciA, ciB, significant, better: significant ? (vb < va ? 'b' : 'a') : null });
  }
  {
    const va = a.load.throughputQps;
    const vb = b.load.throughputQps;
    const se = Math.hypot(throughputSe(a.timeline, a.load.latency.p95Ms, a.load.latency.meanMs), throughputSe(b.timeline, b.load.latency.p95Ms, b.load.latency.meanMs));
    const c = change(va, vb);
    const z = se > 0 ? (vb - va) / se : Infinity;
    const significant = Math.abs(z) >= 3 && Math.abs(c) >= floor;
    const ci = (v: number, r: ProfileResult): [number, number] => {
      const s = throughputSe(r.timeline, r.load.latency.p95Ms, r.load.latency.meanMs);
      return [v - Z_95 * s, v + Z_95 * s];
    };
    metrics.push({ name: 'qps', unit: 'q/s', a: va, b: vb, change: c, ciA: ci(va, a), ciB: ci(vb, b), significant, better: significant ? (vb > va ? 'b' : 'a') : null });
  }

  const median = metrics[0];
  const verdict: Comparison['verdict'] = shifted && median.significant ? (median.better === 'b' ? 'faster' : 'slower') : 'no-significant-difference';
  const pct = (x: number) => `${Math.abs(x * 100).toFixed(x !== 0 && Math.abs(x) < 0.1 ? 1 : 0)} %`;
  const mwText = mw ? `Mann–Whitney p ${mw.p < 1e-4 ? '< 0.0001' : mw.p.toFixed(4)}, Cliff's δ ${mw.cliffsDelta.toFixed(2)}` : 'too few requests';
  const summary =
    verdict === 'no-significant-difference'
      ? `No significant difference: ${labelB}'s median is ${median.b >= median.a ? 'up' : 'down'} ${pct(median.change)} on ${labelA}'s (${mwText}), within the noise: ${noDifferenceReason(median, mw, floor)}.`
      : `${labelB} is significantly ${verdict}: median ${formatMs(median.a)} → ${formatMs(median.b)} (${median.change < 0 ? '−' : '+'}${pct(median.change)}), ` +
        `p95 ${formatMs(metrics[1].a)} → ${formatMs(metrics[1].b)}; ${mwText}.`;

  const key = hintKey;
  const keysA = new Set(a.hints.map(key));
  const keysB = new Set(b.hints.map(key));
  const sameStatement = a.fingerprint === b.fingerprint;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'comparison',
    tool: { name: 'pgload', version: VERSION },
    labels: [labelA, labelB],
    a: runFacts(a),
    b: runFacts(b),
    sameStatement,
    notes: comparabilityNotes(a, b, labelA, labelB),
    metrics,
    distribution: mw ? { ...mw, shifted } : null,
    verdict,
    summary,
    hints: {
      appeared: b.hints.filter((h) => !keysA.has(key(h))),
      disappeared: a.hints.filter((h) => !keysB.has(key(h))),
      kept: b.hints.filter((h) => keysA.has(key(h))),
    },
    plan: comparePlans(a, b, labelA, labelB),
    percentiles: { a: a.load.percentiles, b: b.load.percentiles },
  };
}

function runFacts(r: ProfileResult): Comparison['a'] {
  return {
    sql: r.sql,
    fingerprint: r.fingerprint,
    startedAt: r.startedAt,
    clients: r.load.clients,
    ...(r.options.pool ? { users: r.options.pool.users } : {}),
    requests: r.load.requests.ok,
    settings: r.options.settings,
    server: `${r.connection.host}:${r.connection.port}/${r.connection.database}`,
  };
}

/** Differences that make the two runs less comparable: said, not hidden. */
function comparabilityNotes(a: ProfileResult, b: ProfileResult, labelA: string, labelB: string): string[] {
  const notes: string[] = [];
  if (a.fingerprint !== b.fingerprint) notes.push('The two runs are of different statements: the comparison is of their latencies under the same kind of load, e.g. an ORM query against a rewrite.');
  if (a.load.clients !== b.load.clients) notes.push(`The runs had different concurrency (${a.load.clients} vs ${b.load.clients} clients): latency grows with it, so part of the difference is the load.`);
  const setA = JSON.stringify(a.options.settings);
  const setB = JSON.stringify(b.options.settings);
  if (setA !== setB) notes.push(`Session settings differ: ${setA === '{}' ? 'none' : setA} vs ${setB === '{}' ? 'none' : setB}.`);
  if (a.connection.host !== b.connection.host || a.connection.port !== b.connection.port || a.connection.database !== b.connection.database) notes.push('The runs were against different servers or databases.');
  if (a.server.version !== b.server.version) notes.push(`Different PostgreSQL versions: ${a.server.version} vs ${b.server.version}.`);
  for (const [r, label] of [[a, labelA], [b, labelB]] as const) if (r.load.requests.ok < 100) notes.push(`${label} has only ${r.load.requests.ok} requests: percentile intervals are wide.`);
  return notes;
}

/** The plans (under load, else alone) of both runs: shape changes and the root's time, temp files and reads. */
function comparePlans(a: ProfileResult, b: ProfileResult, labelA: string, labelB: string): Comparison['plan'] {
  const pick = (r: ProfileResult) => r.insight?.plans.find((p) => p.when === 'under-load' && p.json) ?? r.insight?.plans.find((p) => p.json);
  const pa = pick(a);
  const pb = pick(b);
  if (!pa?.json || !pb?.json) return null;
  const na = flattenPlan(pa.json.Plan as Json);
  const nb = flattenPlan(pb.json.Plan as Json);
  const shape = (ns: typeof na) => ns.map((n) => n.label.replace(/ #\d+$/, '')).join(' → ');
  const sa = shape(na);
  const sb = shape(nb);
  const notes: string[] = [];
  if (sa !== sb) notes.push(`The plan changed: ${labelA}: ${sa}; ${labelB}: ${sb}.`);
  else notes.push(`Same plan shape: ${sa}.`);
  const num = (n: (typeof na)[number] | undefined, k: string) => (n && typeof n.raw[k] === 'number' ? (n.raw[k] as number) : 0);
  const temp = (ns: typeof na) => num(ns[0], 'Temp Written Blocks') + num(ns[0], 'Temp Read Blocks');
  const ta = temp(na);
  const tb = temp(nb);
  if (ta !== tb) notes.push(`Temporary-file blocks: ${ta.toLocaleString('en-US')} → ${tb.toLocaleString('en-US')}.`);
  const ra = num(na[0], 'Shared Read Blocks');
  const rb = num(nb[0], 'Shared Read Blocks');
  if (ra !== rb) notes.push(`Blocks read outside shared buffers: ${ra.toLocaleString('en-US')} → ${rb.toLocaleString('en-US')}.`);
  return { a: { when: pa.when, shape: sa, executionMs: pa.executionMs }, b: { when: pb.when, shape: sb, executionMs: pb.executionMs }, sameShape: sa === sb, notes };
}

/**
 * Names for two runs that say what differs between them, for runs the user has not named: the settings that differ
 * (`work_mem=64MB` against `work_mem=4MB`), the statement (`SQL A` / `SQL B`), the concurrency, else when they ran.
 */
export function autoLabels(a: ProfileResult, b: ProfileResult): [string, string] {
  const keys = [...new Set([...Object.keys(a.options.settings), ...Object.keys(b.options.settings)])].filter((k) => a.options.settings[k] !== b.options.settings[k]);
  if (keys.length > 0) {
    const side = (r: ProfileResult) => keys.map((k) => `${k}=${r.options.settings[k] ?? r.server.settings[k] ?? 'default'}`).join(', ');
    return [side(a), side(b)];
  }
  if (a.fingerprint !== b.fingerprint) return ['SQL A', 'SQL B'];
  const users = (r: ProfileResult) => r.options.pool?.users;
  if (users(a) !== users(b) && users(a) !== undefined && users(b) !== undefined) return [plural(users(a)!, 'user'), plural(users(b)!, 'user')];
  if (a.load.clients !== b.load.clients) return [plural(a.load.clients, 'client'), plural(b.load.clients, 'client')];
  if ((a.options.prepared ?? false) !== (b.options.prepared ?? false)) return [a.options.prepared ? 'prepared' : 'unnamed', b.options.prepared ? 'prepared' : 'unnamed'];
  return [formatWhen(a.startedAt), formatWhen(b.startedAt)];
}

/** Whether B regressed against A beyond `maxRegression` (a fraction): significant and larger than allowed. */
export function regressions(c: Comparison, maxRegression: number): string[] {
  const out: string[] = [];
  for (const m of c.metrics) {
    if (!m.significant || m.better !== 'a') continue;
    const worse = m.name === 'qps' ? -m.change : m.change;
    if (worse > maxRegression) {
      const v = (x: number) => (m.unit === 'ms' ? formatMs(x) : `${formatQps(x)} q/s`);
      out.push(`${m.name} ${m.name === 'qps' ? 'fell' : 'rose'} ${(worse * 100).toFixed(1)} % (${v(m.a)} → ${v(m.b)}), above the allowed ${(maxRegression * 100).toFixed(0)} %`);
    }
  }
  return out;
}

