/**
 * The capacity search, pure: which demand to try next, and where the boundary is once the steps are judged. A step is
 * judged "meets" or "fails" only when the 95 % interval of its p95 lies on one side of the objective; "unclear" steps
 * move neither end. The search brackets the boundary (doubling from a start that meets, halving from one that fails),
 * then narrows it by bisection until the two ends are within the precision asked.
 */
import type { CapacityBoundary, CapacityVerdict } from '../../shared/result';

/** z of a two-sided 95 % interval. */
const Z95 = 1.959964;

/**
 * The 95 % interval of the q-quantile of n independent observations, as 1-based ranks of the sorted observations
 * (distribution-free: the rank of the true quantile is binomial(n, q)). `high` is null when n is too small for the
 * interval to have an upper end (the p95 of 20 requests has none).
 */
export function quantileRanks(n: number, q: number): { low: number; high: number | null } {
  const mean = n * q;
  const sd = Math.sqrt(n * q * (1 - q));
  const low = Math.max(1, Math.floor(mean - Z95 * sd));
  const high = Math.ceil(mean + Z95 * sd) + 1;
  return { low, high: high <= n ? high : null };
}

/** t quantiles (0.975) for 2–9 degrees of freedom: a batch-means interval over 3–10 batches. */
const T975: Record<number, number> = { 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262 };

/**
 * The 95 % interval of the p95 from the p95s of consecutive batches of time (batch means): latencies in a queue are
 * correlated — a burst makes many in a row slow — so the order-statistic interval, which assumes independent
 * requests, is too narrow near saturation; the batches' spread shows how much the p95 really moves. Batches with
 * fewer than half the typical count (the last, partial one) are left out; null with fewer than 3 left.
 */
export function batchInterval(batches: ReadonlyArray<{ ok: number; p95Ms: number }>): { lowMs: number; highMs: number } | null {
  const counts = batches.map((b) => b.ok).sort((a, b) => a - b);
  const typical = counts[Math.floor(counts.length / 2)] ?? 0;
  const used = batches.filter((b) => b.ok > 0 && b.ok >= typical / 2).slice(0, 10);
  const k = used.length;
  if (k < 3) return null;
  const mean = used.reduce((s, b) => s + b.p95Ms, 0) / k;
  const sd = Math.sqrt(used.reduce((s, b) => s + (b.p95Ms - mean) ** 2, 0) / (k - 1));
  const half = T975[k - 1] * (sd / Math.sqrt(k));
  return { lowMs: Math.max(0, mean - half), highMs: mean + half };
}

/** A step's verdict from the interval of its p95. */
export function judge(p95Interval: { lowMs: number; highMs: number | null }, objectiveMs: number): CapacityVerdict {
  if (p95Interval.lowMs > objectiveMs) return 'fails';
  if (p95Interval.highMs !== null && p95Interval.highMs <= objectiveMs) return 'meets';
  return 'unclear';
}

export interface SearchRange {
  /** The first demand tried (an estimate of half the saturation). */
  start: number;
  min: number;
  max: number;
  /** Stop when the bracket is this close, relative to its lower end (0.05: 5 %). */
  precision: number;
  /** Users are whole; a rate is not. */
  whole: boolean;
  /**
   * A demand that cannot meet any objective, known without measuring it: an arrival rate at or above the most the
   * sessions serve (the queue grows without end). The search approaches it by halving the headroom, never runs it.
   */
  ceiling?: number;
  /**
   * Where the boundary most likely lies at the latest, tried before doubling: for users, the most the sessions serve
   * times (objective + pause) — beyond it their mean latency alone exceeds the objective (Little's law).
   */
  upperGuess?: number;
}

export class CapacitySearch {
  private readonly tried = new Map<number, CapacityVerdict>();
  /** Demands judged before the search (a diagnosis's application load): known, not chosen by it. */
  private readonly seeded = new Set<number>();

  constructor(private readonly range: SearchRange) {
    if (!(range.min > 0 && range.max >= range.min)) throw new RangeError(`capacity search range ${range.min}–${range.max}`);
  }

  record(demand: number, verdict: CapacityVerdict): void {
    this.tried.set(demand, verdict);
  }

  /** A demand already judged elsewhere (the same load, measured before the search): the search starts from it. */
  seed(demand: number, verdict: CapacityVerdict): void {
    this.record(demand, verdict);
    this.seeded.add(demand);
  }

  /** The largest demand that met the objective below the smallest that failed (a noisy met above a fail is ignored). */
  private ends(): { lo: number | undefined; hi: number | undefined } {
    const fails = [...this.tried].filter(([, v]) => v === 'fails').map(([d]) => d);
    // The ceiling fails without being measured; bisecting below it halves the headroom each time.
    if (this.range.ceiling !== undefined && this.range.ceiling <= this.range.max) fails.push(this.range.ceiling);
    const hi = fails.length ? Math.min(...fails) : undefined;
    const meets = [...this.tried].filter(([d, v]) => v === 'meets' && (hi === undefined || d < hi)).map(([d]) => d);
    return { lo: meets.length ? Math.max(...meets) : undefined, hi };
  }

  /** Steps that met the objective above one that failed: the figures disagree with each other (noise, or drift). */
  contradictions(): Array<{ met: number; failed: number }> {
    const { hi } = this.ends();
    if (hi === undefined) return [];
    return [...this.tried].filter(([d, v]) => v === 'meets' && d > hi).map(([d]) => ({ met: d, failed: hi }));
  }

  private clamp(d: number): number {
    const { min, max, whole } = this.range;
    const v = Math.min(max, Math.max(min, d));
    return whole ? Math.round(v) : Math.round(v * 1000) / 1000;
  }

  /** The next demand to measure, or null when the boundary is found (or cannot be narrowed further). */
  next(): number | null {
    const { min, max, whole, precision, start } = this.range;
    const { lo, hi } = this.ends();
    const fresh = (d: number) => (this.tried.has(d) ? null : d);
    // Its own first step is the start when that lies between what is already known (a load judged before the search);
    // else it goes on from the known steps as from its own.
    if ([...this.tried.keys()].every((d) => this.seeded.has(d))) {
      const s = this.clamp(start);
      if ((hi === undefined || s < hi) && (lo === undefined || s > lo)) return fresh(s);
    }
    if (hi === undefined) {
      // Nothing failed yet: up from the highest demand that met or was unclear, twice as much each time.
      const top = Math.max(...this.tried.keys());
      if (lo === undefined && this.tried.get(top) === 'unclear') {
        // Only unclear so far: look below for a step that clearly meets.
        const below = this.clamp(Math.min(...this.tried.keys()) / 2);
        return fresh(below);
      }
      const guess = this.range.upperGuess;
      return top >= max ? null : fresh(this.clamp(guess !== undefined && top < guess ? Math.min(top * 2, Math.ceil(guess)) : top * 2));
    }
    if (lo === undefined) {
      if (hi <= min) return null;
      const lowest = Math.min(...this.tried.keys());
      return lowest <= min ? null : fresh(this.clamp(lowest / 2));
    }
    // Bracketed: halve the wider of the gaps at its ends. Steps too close to tell sit in the middle; measuring between
    // two of them at the same length would only be too close to tell again.
    const unclear = [...this.tried.keys()].filter((d) => d > lo && d < hi).sort((a, b) => a - b);
    const gaps: Array<[number, number]> = unclear.length ? [[lo, unclear[0]], [unclear[unclear.length - 1], hi]] : [[lo, hi]];
    const [a, b] = gaps.reduce((w, g) => (g[1] - g[0] > w[1] - w[0] ? g : w));
    if (b - a <= Math.max(precision * a, whole ? 1 : 0)) return null;
    const mid = whole ? Math.floor((a + b) / 2) : (a + b) / 2;
    return mid <= a || mid >= b ? null : fresh(this.clamp(mid));
  }

  /** Where the boundary is, from the steps judged so far. */
  boundary(): CapacityBoundary {
    const { lo, hi } = this.ends();
    const { min, max } = this.range;
    if (lo !== undefined && hi !== undefined) return { kind: 'bracketed', meets: lo, fails: hi };
    if (hi !== undefined && hi <= min) return { kind: 'below-minimum', fails: hi };
    if (lo !== undefined && lo >= max) return { kind: 'above-maximum', meets: lo };
    return { kind: 'unresolved', meets: lo ?? null, fails: hi ?? null };
  }
}
