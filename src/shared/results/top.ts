/** `pgload top`'s result: the server's top statements from pg_stat_statements, with generators suggested for their constants. */

/** A value generator suggested for a normalized constant (`$n`) of a top statement; the user confirms or edits it. */
export interface ParamSuggestion {
  index: number;
  /** The generator (as --param takes it), or null when nothing says what to use. */
  spec: string | null;
  /** Where it comes from: `schema.table.column`, `LIMIT`, `OFFSET`, or null. */
  source: string | null;
  why: string;
}

/** One statement of `pgload top`: pg_stat_statements' figures since its last reset. */
export interface TopStatement {
  queryid: string;
  /** Normalized: constants replaced by `$1 …`. */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  stddevMs: number;
  rows: number;
  rowsPerCall: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
  /** Buffer cache hits over all block reads (null when it read none). */
  hitRatio: number | null;
  tempBlksRead: number;
  tempBlksWritten: number;
  /** Its part of the database's total execution time in pg_stat_statements. */
  shareOfTotal: number;
  /** How pgload can profile it: read-only, rolled back (a write: needs writes allowed), or not at all. */
  profile: 'read-only' | 'rolled-back' | 'refused';
  profileNote: string;
  params: ParamSuggestion[];
}

/** `pgload top`: the server's top statements from pg_stat_statements. */
export interface TopResult {
  schemaVersion: 1;
  kind: 'top';
  tool: { name: 'pgload'; version: string };
  startedAt: string;
  target: string;
  database: string;
  serverVersionNum: number;
  order: 'total' | 'mean' | 'temp' | 'calls';
  limit: number;
  /** When pg_stat_statements was last reset (PostgreSQL 14+), else null. */
  statsSince: string | null;
  totalExecMs: number;
  statements: TopStatement[];
  notes: string[];
}
