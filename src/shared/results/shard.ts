/**
 * A run split across processes (`pgload run --shard i/n`): what one shard records for the merge, and what the merge of
 * all shards (`pgload merge`) says about them. Times on the server's clock are milliseconds since the Unix epoch.
 */

/** How the shards agreed on their start. */
export type ShardStartHow =
  /** Each announced itself on the server (its application_name) and all released once n were there. */
  | 'together'
  /** A given instant (`--start-at`), on the server's clock. */
  | 'start-at';

/** One shard's own facts (`result.shard`): its share, its start on the server's clock, and its raw intervals. */
export interface ShardFacts {
  /** 1-based. */
  index: number;
  count: number;
  /** The run the shards belong to (given with --run-id, or derived from the statement and the totals). */
  runId: string;
  /** The whole run's totals, this shard's share of which is in `options`. */
  totals: { clients: number; requests: number | null; ratePerSecond: number | null; users: number | null };
  start: {
    how: ShardStartHow;
    /** When this shard was to release its clients (server clock): the agreed instant plus its phase. */
    plannedServerMs: number;
    /** Its offset from the agreed instant: with a constant rate, shard i sends the i-th of every n arrivals. */
    phaseMs: number;
    /** When it did (its local release instant on the server clock). */
    releasedServerMs: number;
    /** Server clock − local clock, from the round trip that was shortest. */
    clockOffsetMs: number;
    /** Half that round trip: the offset is known to within this. */
    clockUncertaintyMs: number;
    /** How long this shard waited for the others (or for --start-at) once its sessions were open. */
    waitedMs: number;
  };
  /** The timeline's intervals as recorded (before any joining), each with its HDR histogram (µs): the merge adds them. */
  slots: Array<{ tMs: number; durationMs: number; errors: number; hdr: string }>;
  /** Each session's connect time (ms): the merge's connect figures come from all of them. */
  connectMs: number[];
  /** Whether this shard measured what runs once per run (baseline, EXPLAIN, wait sampling, counters): shard 1 does. */
  insight: boolean;
}

/** The merge of n shards (`result.shards`). */
export interface MergedShards {
  count: number;
  runId: string;
  start: {
    how: ShardStartHow;
    /** Latest minus earliest of the shards' release instants, each less its phase (server clock). */
    spreadMs: number;
    /** The largest clock uncertainty among the shards: a spread below it cannot be told from 0. */
    clockUncertaintyMs: number;
  };
  members: Array<{
    index: number;
    clients: number;
    ok: number;
    failed: number;
    p50Ms: number;
    p95Ms: number;
    /** Its release after the earliest shard's, each less its phase (server clock). */
    releasedAfterMs: number;
  }>;
  /** What the merge could not carry over exactly, in words. */
  notes: string[];
}
