/**
 * Per-interval statistics of the load phase. Each interval keeps a small histogram (2 significant digits)
 * so that, when a long run exceeds MAX_POINTS intervals, neighbours merge exactly and the interval doubles:
 * memory stays bounded whatever the run's length.
 */
import type * as HdrModule from 'hdr-histogram-js';
import { hdr } from './histogram';
import type { TimelinePoint } from '../../shared/result';

const MAX_POINTS = 240;
/** When intervals hold fewer requests than this (typically), neighbours merge: their rates would be noise. */
const MIN_PER_POINT = 8;
const MIN_POINTS = 20;
const INTERVAL_SETTINGS: HdrModule.BuildRequest = {
  bitBucketSize: 32,
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 2,
  useWebAssembly: false,
};

interface Slot {
  startMs: number;
  endMs: number;
  hist: HdrModule.Histogram;
  errors: number;
}

export class Timeline {
  private slots: Slot[] = [];
  private current: Slot;
  private _intervalMs: number;

  /** The intervals as recorded, each with its histogram encoded, kept by finish() when asked (a shard's, for the merge). */
  raw?: Array<{ tMs: number; durationMs: number; errors: number; hdr: string }>;

  constructor(intervalMs: number, private readonly keepRaw = false) {
    this._intervalMs = intervalMs;
    this.current = { startMs: 0, endMs: 0, hist: intervalHistogram(), errors: 0 };
  }

  get intervalMs(): number {
    return this._intervalMs;
  }

  /** Latency of one successful request, in microseconds (already clamped by the caller). */
  record(us: number): void {
    this.current.hist.recordValue(us);
  }

  /** Latencies recorded elsewhere (a worker thread's batch), into the current interval. */
  addHistogram(h: HdrModule.Histogram): void {
    this.current.hist.add(h);
  }

  error(): void {
    this.current.errors++;
  }

  /** Closes the current interval at `nowMs` (since the barrier) and opens the next. Returns true when the interval doubled. */
  tick(nowMs: number): boolean {
    this.current.endMs = nowMs;
    this.slots.push(this.current);
    this.current = { startMs: nowMs, endMs: nowMs, hist: intervalHistogram(), errors: 0 };
    if (this.slots.length >= MAX_POINTS) {
      this.slots = mergePairs(this.slots);
      this._intervalMs *= 2;
      return true;
    }
    return false;
  }

  /**
   * Closes the last (partial) interval and returns the chart-ready points. A last interval shorter than half
   * an interval joins the one before (a rate over a few milliseconds means nothing), and neighbours merge
   * while a typical interval holds fewer than MIN_PER_POINT requests (slow queries), down to MIN_POINTS points.
   */
  finish(nowMs: number): TimelinePoint[] {
    this.current.endMs = Math.max(nowMs, this.current.startMs);
    if (this.current.hist.totalCount > 0 || this.current.errors > 0 || this.slots.length === 0) {
      const last = this.slots[this.slots.length - 1];
      if (last && this.current.endMs - this.current.startMs < this._intervalMs / 2) {
        last.hist.add(this.current.hist);
        last.errors += this.current.errors;
        last.endMs = this.current.endMs;
      } else {
        this.slots.push(this.current);
      }
    }
    if (this.keepRaw) this.raw = this.slots.map((s) => ({ tMs: s.startMs, durationMs: Math.max(0, s.endMs - s.startMs), errors: s.errors, hdr: hdr().encodeIntoCompressedBase64(s.hist) }));
    while (this.slots.length >= 2 * MIN_POINTS && medianCount(this.slots) < MIN_PER_POINT) this.slots = mergePairs(this.slots);
    return this.slots.map(timelinePoint);
  }
}

/** One interval as the chart draws it: its requests, errors and rate, and its latency percentiles. */
export function timelinePoint(s: { startMs: number; endMs: number; hist: HdrModule.Histogram; errors: number }): TimelinePoint {
  const durationMs = Math.max(0, s.endMs - s.startMs);
  const count = s.hist.totalCount;
  const has = count > 0;
  return {
    tMs: s.startMs,
    durationMs,
    count,
    errors: s.errors,
    qps: durationMs > 0 ? (count * 1000) / durationMs : 0,
    p50Ms: has ? s.hist.getValueAtPercentile(50) / 1000 : null,
    p95Ms: has ? s.hist.getValueAtPercentile(95) / 1000 : null,
    maxMs: has ? s.hist.maxValue / 1000 : null,
  };
}

/** An empty interval histogram (2 significant digits), as every interval has. */
export function intervalHistogram(): HdrModule.Histogram {
  return hdr().build(INTERVAL_SETTINGS);
}

function mergePairs(slots: Slot[]): Slot[] {
  const merged: Slot[] = [];
  for (let i = 0; i < slots.length; i += 2) {
    const a = slots[i];
    const b = slots[i + 1];
    if (b) {
      a.hist.add(b.hist);
      merged.push({ startMs: a.startMs, endMs: b.endMs, hist: a.hist, errors: a.errors + b.errors });
    } else {
      merged.push(a);
    }
  }
  return merged;
}

function medianCount(slots: Slot[]): number {
  const counts = slots.map((s) => s.hist.totalCount + s.errors).sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)];
}

/** A timeline interval that gives about 100 points for a run of the expected length, 50 ms at the least. */
export function chooseIntervalMs(expectedMs: number): number {
  const raw = Math.max(50, expectedMs / 100);
  const nice = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000];
  return nice.find((n) => n >= raw) ?? 60_000;
}
