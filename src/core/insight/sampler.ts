/**
 * What the server was waiting on: an extra session samples pg_stat_activity for the run's client sessions
 * every interval (100 ms by default). CPU = active with no wait event; IO:BufFileRead/Write = temporary files;
 * LWLock / Lock = contention; Idle = the session was waiting for pgload itself.
 */
import type { Client } from 'pg';
import type { WaitSampling } from '../../shared/result';

export const IDLE = 'Idle (waiting for the client)';

function category(state: string | null, type: string | null, event: string | null): string {
  if (state === 'active') return type ? `${type}:${event ?? ''}` : 'CPU';
  if (state === 'idle') return IDLE;
  if (state === 'idle in transaction' || state === 'idle in transaction (aborted)') return 'Idle in transaction';
  return state ?? 'unknown';
}

export class WaitSampler {
  private stopped = false;
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private samples = 0;
  /** What one sample costs the server, measured on the idle server before the load (ms). */
  private costMs = 0;
  private readonly totals = new Map<string, number>();
  private activeTotal = 0;
  /** Per window: the sum of counts per category and the number of samples in it. */
  private readonly windows: Array<{ tMs: number; n: number; sums: Map<string, number> }> = [];

  /** Server processes seen serving the sampled sessions. */
  private readonly seen = new Set<number>();

  /**
   * `sessions`: the run's backends by pid (a direct server), or by application_name (through a pooler, whose process
   * ids are its own; its idle server sessions are the pooler's spares, not clients waiting, and are left out).
   */
  constructor(
    private readonly client: Client,
    private readonly sessions: { pids: number[] } | { applicationName: string },
    readonly intervalMs: number,
    private readonly sinceStartMs: () => number,
    private readonly windowMs: number,
  ) {}

  /**
   * Measures the cost of one sample before the load starts: its round trip on a quiet server. Under load
   * the same query only waits longer for a CPU; its cost stays the same.
   */
  async calibrate(): Promise<void> {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await this.query();
      times.push(performance.now() - t);
    }
    this.costMs = Math.min(...times);
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      const started = performance.now();
      try {
        await this.sample();
      } catch {
        // A failed sample (e.g. the server restarting) is skipped; the run goes on.
      }
      const took = performance.now() - started;
      if (!this.stopped) this.timer = setTimeout(() => (this.running = loop()), Math.max(0, this.intervalMs - took));
    };
    this.running = loop();
  }

  private query() {
    const s = this.sessions;
    return this.client.query<{ pid: number; state: string | null; t: string | null; e: string | null }>(
      'pids' in s
        ? { text: 'SELECT pid, state, wait_event_type AS t, wait_event AS e FROM pg_stat_activity WHERE pid = ANY($1::int[])', values: [s.pids] }
        : {
            // Client backends only: parallel workers carry their leader's application_name (the pid sampling never sees them either).
            text: "SELECT pid, state, wait_event_type AS t, wait_event AS e FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()",
            values: [s.applicationName],
          },
    );
  }

  /** How many distinct server processes the samples saw. */
  serverSessions(): number {
    return this.seen.size;
  }

  private async sample(): Promise<void> {
    const r = await this.query();
    const now = this.sinceStartMs();
    this.samples++;
    let w = this.windows[this.windows.length - 1];
    if (!w || now - w.tMs >= this.windowMs) {
      w = { tMs: Math.floor(now / this.windowMs) * this.windowMs, n: 0, sums: new Map() };
      this.windows.push(w);
    }
    w.n++;
    for (const row of r.rows) {
      this.seen.add(row.pid);
      const c = category(row.state, row.t, row.e);
      this.totals.set(c, (this.totals.get(c) ?? 0) + 1);
      w.sums.set(c, (w.sums.get(c) ?? 0) + 1);
      if (row.state === 'active') this.activeTotal++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  result(wallMs: number, serverVcpus: number | null, vcpusSource: WaitSampling['vcpusSource']): WaitSampling {
    const all = [...this.totals.values()].reduce((a, b) => a + b, 0);
    const shares = [...this.totals.entries()]
      .map(([event, n]) => ({ event, samples: n, share: all > 0 ? n / all : 0, avgSessions: this.samples > 0 ? n / this.samples : 0 }))
      .sort((a, b) => b.samples - a.samples);
    // The timeline keeps the waits that matter (≥ 1 % of the samples, at most 6); the rest is "other".
    const top = new Set(shares.filter((s) => s.share >= 0.01).slice(0, 6).map((s) => s.event));
    const timeline = this.windows.map((w) => {
      const counts: Record<string, number> = {};
      for (const [k, v] of w.sums) {
        const key = top.has(k) ? k : 'other';
        counts[key] = (counts[key] ?? 0) + v / w.n;
      }
      return { tMs: w.tMs, counts };
    });
    return {
      intervalMs: this.intervalMs,
      samples: this.samples,
      shares,
      timeline,
      avgActive: this.samples > 0 ? this.activeTotal / this.samples : 0,
      serverVcpus,
      vcpusSource,
      // The server time the sampler used, as a share of the capacity the run had (one CPU when unknown).
      overheadPct: wallMs > 0 ? (this.samples * this.costMs * 100) / (wallMs * (serverVcpus ?? 1)) : 0,
    };
  }
}
