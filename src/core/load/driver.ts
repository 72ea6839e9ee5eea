/**
 * What every load driver shares: the clients it runs on, the requests it can send, and the sink it reports to.
 * A driver decides only *when* requests go (closed loop, application pool, open loop, worker threads); the run
 * (runner.ts) owns the budget, the statistics, the timeline, the outages and the stop.
 */
import type { OpenedSession } from '../connection/connection';
import type { Histogram } from './histogram';
import type { LoopDelay } from '../insight/overhead';

/** One database session of the load and its state. */
export interface LoadClient {
  session: OpenedSession;
  pid: number;
  /** A request is running on it (cancel targets these). */
  busy: boolean;
  alive: boolean;
  /** When its current session was opened again after a loss (ms since the barrier); undefined for the first. */
  reopenedAtMs?: number;
}

/** How the run sends requests on a session; the drivers never build a request themselves. */
export interface Requests {
  /** One request; resolves with its latency in µs. */
  once(session: OpenedSession): Promise<number>;
  /** Requests back to back until `after` returns false (the wire path writes the next while handling an answer). */
  backToBack(session: OpenedSession, after: (us: number, failure: Error | undefined) => boolean): Promise<void>;
  /** A client whose session was lost opens a new one (with backoff); false when the run ended meanwhile. */
  reconnect(c: LoadClient): Promise<boolean>;
}

/** What a driver reports to, and asks of, the run. */
export interface LoadSink {
  /** Milliseconds since the barrier. */
  sinceStartMs(): number;
  /** The run is stopping: no new request may start. */
  stopping(): boolean;
  /** Takes one request from the run's budget; false once it is spent. */
  claim(): boolean;
  /** A request that succeeded, with its latency in µs. */
  succeeded(us: number): void;
  /** Latencies recorded elsewhere (a worker thread), added exactly, with their counts (no histogram: none succeeded). */
  recorded(h: Histogram | null, ok: number, over: number): void;
  /** A failed request; true when the client's loop must end (its session is lost, or we cancelled it ourselves). */
  failed(failure: unknown, client: LoadClient | undefined, atMs?: number): boolean;
  /** Sessions lost at `atMs` (an outage starts, or grows). */
  sessionsLost(n: number, atMs: number): void;
  /** A request served on `client`: ends an open outage when its session was reopened after the outage began. */
  served(client: LoadClient): void;
}

export interface LoadDriver {
  /** Runs until the budget is spent, the clients are lost or the run stops. */
  run(sink: LoadSink): Promise<void>;
  /** The run stops: wake whatever waits (a pool queue, a timer, the worker threads). */
  stop(): void;
  /**
   * The planned duration is over. A closed loop simply stops (`'stop'`); an open loop stops scheduling and serves
   * the requests already due (`'drain'`).
   */
  readonly atDurationEnd: 'stop' | 'drain';
  /** Called when the duration ends for a driver that drains. */
  endDuration?(): void;
  /** Sessions lost where the run cannot see its clients (worker threads); undefined: the run looks at its clients. */
  readonly lost?: number;
  /** The event-loop delay of loops the run does not measure itself (worker threads), once they ended. */
  readonly delay?: LoopDelay;
}
