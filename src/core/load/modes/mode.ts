/**
 * A load mode: how requests are sent (back to back per client, users sharing a pool, a fixed arrival rate, clients
 * added over time). Each mode is one file of this folder holding its option checks, its driver and its part of the
 * result; its report text is its namesake in src/shared/modes/ (the panel renders it in a browser). The list in
 * ./index.ts registers them; the run asks the list, never a mode by name.
 */
import type { ErrorGroup, LoadResult, ResultOptions } from '../../../shared/result';
import type { ProfileOptions } from '../../options';
import type { LoadClient, LoadDriver, Requests } from '../driver';

/** The mode's own figures in the result's `load` (each mode fills its own field). */
export type ModeFigures = Partial<Pick<LoadResult, 'pool' | 'openLoop' | 'ramp'>>;

/** What a mode's driver is told when the load is over. */
export interface LoadEnd {
  ok: number;
  wallMs: number;
  errors: readonly ErrorGroup[];
}

export interface LoadMode {
  /** How messages name it ("an application pool"). */
  readonly name: string;
  /** The options select it. The closed loop, last in the list, takes every run no other mode selects. */
  selects(o: ProfileOptions): boolean;
  /**
   * Checks its own options (throws PgloadError('usage') saying what to write instead) and sets what follows from
   * them, e.g. the database sessions an application pool needs as `clients`.
   */
  check(o: ProfileOptions): void;
  /** How many run at once, and what they are called: a request budget gives each at least one. */
  concurrency(o: ProfileOptions): { count: number; noun: 'clients' | 'users' };
  /** Why it runs on one event loop; undefined when its clients can run on worker threads. */
  readonly singleLoop?: string;
  /** Whether a client whose session is lost can connect again and go on (--reconnect). */
  readonly reconnects: boolean;
  /** When, in ms after the barrier, the plan under load is taken: once the load is well under way. */
  explainAtMs(o: ProfileOptions & { durationMs: number }): number;
  /** Its options as the result keeps them. */
  resultOptions(o: ProfileOptions): Partial<ResultOptions>;
  /** Its driver on the run's clients (one loop). */
  driver(clients: LoadClient[], o: ProfileOptions, requests: Requests): ModeDriver;
}

/** A mode's driver: a load driver that may add its own figures to the result. */
export interface ModeDriver extends LoadDriver {
  figures?(end: LoadEnd): ModeFigures;
}

/** 40 % into the run: the default moment for the plan under load. */
export function fortyPercent(o: { durationMs: number }): number {
  return 0.4 * o.durationMs;
}
