/**
 * Latency recording in HDR histograms, with their settings in one place. Values are recorded in
 * microseconds (integers); everything leaving this module is in milliseconds.
 */
import type * as HdrModule from 'hdr-histogram-js';
import type { HistogramBucket, LatencyStats, PercentilePoint } from '../../shared/result';
import { onFirstUse } from '../lazy';

export type Histogram = HdrModule.Histogram;

/**
 * hdr-histogram-js, loaded on first use: loading it builds an Intl.NumberFormat (ICU data), ~20 ms that the
 * extension's activation should not pay before anything is measured.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const hdr = onFirstUse(() => require('hdr-histogram-js') as typeof HdrModule);

/** 1 µs to 1 hour at 3 significant digits (0.1 % resolution); ~90 KB per histogram whatever the count. */
const SETTINGS: HdrModule.BuildRequest = {
  bitBucketSize: 32,
  autoResize: false,
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
  useWebAssembly: false,
};
const HIGHEST_US = SETTINGS.highestTrackableValue!;

export function createHistogram(): Histogram {
  return hdr().build(SETTINGS);
}

/** Records one latency given in microseconds (clamped into the trackable range). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

const ms = (us: number) => us / 1000;

export function latencyStats(h: Histogram): LatencyStats {
  if (h.totalCount === 0) {
    return { count: 0, minMs: 0, meanMs: 0, stddevMs: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  }
  return {
    count: h.totalCount,
    minMs: ms(h.minNonZeroValue),
    meanMs: ms(h.mean),
    stddevMs: ms(h.stdDeviation),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
  };
}

/** The points of the percentile curve a chart draws (p0 … p100). */
export const CURVE_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100];

export function percentileCurve(h: Histogram): PercentilePoint[] {
  if (h.totalCount === 0) return [];
  return CURVE_PERCENTILES.map((p) => ({
    percentile: p,
    ms: ms(p === 0 ? h.minNonZeroValue : p === 100 ? h.maxValue : h.getValueAtPercentile(p)),
  }));
}

/** Visits each distinct recorded value (its HDR-equivalent value) with its count. */
function forEachRecorded(h: Histogram, visit: (valueUs: number, count: number) => void): void {
  const js = h as unknown as HdrModule.JsHistogram;
  const it = js.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    visit(v.valueIteratedTo, v.countAtValueIteratedTo);
  }
}

/**
 * Log-spaced buckets between the smallest and largest latency, ready for a bar chart: about `target`
 * buckets whatever the spread (at least 10 per factor of 10, finer for narrow distributions), at most
 * `maxBuckets`.
 */
export function logBuckets(h: Histogram, target = 24, maxBuckets = 60): HistogramBucket[] {
  if (h.totalCount === 0) return [];
  const lo = Math.max(1, h.minNonZeroValue);
  const hi = Math.max(lo + 1, h.maxValue);
  const spread = Math.max(0.01, Math.log10(hi) - Math.log10(lo));
  let steps = Math.min(400, Math.max(10, Math.ceil(target / spread)));
  const decades = Math.log10(hi) - Math.floor(Math.log10(lo) * steps) / steps;
  while (Math.ceil(decades * steps) > maxBuckets && steps > 1) steps--;
  const start = Math.pow(10, Math.floor(Math.log10(lo) * steps) / steps);
  const factor = Math.pow(10, 1 / steps);
  const edges: number[] = [start];
  while (edges[edges.length - 1] <= hi) edges.push(edges[edges.length - 1] * factor);
  const counts = new Array<number>(edges.length - 1).fill(0);
  forEachRecorded(h, (v, c) => {
    let i = Math.floor((Math.log10(v) - Math.log10(start)) * steps);
    if (i < 0) i = 0;
    if (i >= counts.length) i = counts.length - 1;
    // Guard the floating-point edge: a value exactly on an edge belongs to the bucket it starts.
    while (i > 0 && v < edges[i]) i--;
    while (i < counts.length - 1 && v >= edges[i + 1]) i++;
    counts[i] += c;
  });
  let first = counts.findIndex((c) => c > 0);
  let last = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  if (first < 0) first = last = 0;
  const out: HistogramBucket[] = [];
  for (let i = first; i <= last; i++) out.push({ fromMs: ms(edges[i]), toMs: ms(edges[i + 1]), count: counts[i] });
  return out;
}

/**
 * A histogram's recorded values as [value µs, count, value µs, count, …]: how a worker thread sends its latencies. Exact:
 * each value is its bucket's own (the highest it holds), so it lands in the same bucket of a histogram with the same
 * settings. A few hundred pairs where encoding (deflate, base64) and a new histogram per batch cost far more.
 */
export function recordedPairs(h: Histogram): Float64Array {
  const pairs: number[] = [];
  forEachRecorded(h, (v, c) => pairs.push(v, c));
  return Float64Array.from(pairs);
}

/** Adds what recordedPairs() took from a histogram into `h`. */
export function addPairs(h: Histogram, pairs: Float64Array): void {
  for (let i = 0; i < pairs.length; i += 2) h.recordValueWithCount(pairs[i], pairs[i + 1]);
}

export function encodeHistogram(h: Histogram): string {
  return hdr().encodeIntoCompressedBase64(h);
}

export function decodeHistogram(base64: string): Histogram {
  return hdr().decodeFromCompressedBase64(base64, 32, false);
}
