/**
 * Server counters over the load phase: pg_stat_database for the target database, and pg_stat_statements
 * for this statement when the extension is there (with a note saying why when it is not).
 */
import type { Client } from 'pg';
import type { ServerCounters } from '../../shared/result';
import { errorMessage } from '../errors';
import { INTERNAL_MARK } from '../connection/envelope';

const DB_FIELDS = ['temp_files', 'temp_bytes', 'blks_read', 'blks_hit', 'xact_commit', 'xact_rollback', 'deadlocks'] as const;
type DbRow = Record<(typeof DB_FIELDS)[number], number>;

interface StatementRow {
  queryid: string;
  calls: number;
  total: number;
  stddev: number;
  temp_read: number;
  temp_written: number;
  shared_read: number;
  shared_hit: number;
  /** Transaction control or a setting (BEGIN, ROLLBACK, SET…), never the statement itself. */
  control: boolean;
}

export interface CounterSnapshot {
  db: DbRow | null;
  statements: Map<string, StatementRow> | null;
  notes: string[];
}

export async function snapshotCounters(control: Client, versionNum: number): Promise<CounterSnapshot> {
  const notes: string[] = [];
  let db: DbRow | null = null;
  try {
    const r = await control.query(`SELECT ${DB_FIELDS.map((f) => `${f}::float8 AS ${f}`).join(', ')} FROM pg_stat_database WHERE datname = current_database()`);
    db = (r.rows[0] as DbRow | undefined) ?? null;
  } catch (err) {
    notes.push(`pg_stat_database is not available: ${errorMessage(err)}.`);
  }
  let statements: Map<string, StatementRow> | null = null;
  try {
    const ext = await control.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    if (ext.rowCount === 0) {
      notes.push('pg_stat_statements is not installed in this database, so per-statement server figures are not shown (CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries).');
    } else {
      const t = versionNum >= 130000 ? { total: 'total_exec_time', stddev: 'stddev_exec_time' } : { total: 'total_time', stddev: 'stddev_time' };
      const r = await control.query<StatementRow>(
        `SELECT queryid::text AS queryid, calls::float8 AS calls, ${t.total}::float8 AS total, ${t.stddev}::float8 AS stddev,
                temp_blks_read::float8 AS temp_read, temp_blks_written::float8 AS temp_written,
                shared_blks_read::float8 AS shared_read, shared_blks_hit::float8 AS shared_hit,
                query ~* '^\\s*(begin|start|commit|end|rollback|savepoint|release|set|reset|show|discard|deallocate)\\M' AS control
         FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)
           AND query NOT LIKE '%${INTERNAL_MARK}%'`,
      );
      statements = new Map(r.rows.map((row) => [row.queryid, row]));
    }
  } catch (err) {
    notes.push(`pg_stat_statements could not be read (${errorMessage(err)}), so per-statement server figures are not shown.`);
  }
  return { db, statements, notes };
}

/**
 * The run's server counters. The statement's pg_stat_statements entry is the one with its query identifier (from
 * EXPLAIN VERBOSE); without one (before PostgreSQL 14, compute_query_id off) the entry whose calls grew the most,
 * transaction control left out, and only when it grew by at least half the requests.
 */
export function counterDelta(before: CounterSnapshot, after: CounterSnapshot, requests: number, queryId?: string): ServerCounters {
  const notes = [...new Set([...before.notes, ...after.notes])];
  let database: ServerCounters['database'] = null;
  if (before.db && after.db) {
    database = Object.fromEntries(DB_FIELDS.map((f) => [f, Math.max(0, after.db![f] - before.db![f])])) as ServerCounters['database'];
  }
  let statement: ServerCounters['statement'] = null;
  if (before.statements && after.statements) {
    const best = queryId !== undefined ? byQueryId(before.statements, after.statements, queryId) : grewMost(before.statements, after.statements);
    if (best && best.calls > 0 && (queryId !== undefined || best.calls >= requests * 0.5)) {
      const { a, b, calls } = best;
      const total = a.total - (b?.total ?? 0);
      const mean = total / calls;
      // pg_stat_statements keeps a population stddev: combine sums of squares to get the run's own.
      const sumsq = (s: StatementRow | undefined) => (s ? (s.stddev * s.stddev + (s.total / Math.max(1, s.calls)) ** 2) * s.calls : 0);
      const variance = (sumsq(a) - sumsq(b)) / calls - mean * mean;
      statement = {
        calls,
        meanExecMs: mean,
        stddevExecMs: variance >= 0 ? Math.sqrt(variance) : null,
        tempBlksRead: a.temp_read - (b?.temp_read ?? 0),
        tempBlksWritten: a.temp_written - (b?.temp_written ?? 0),
        sharedBlksRead: a.shared_read - (b?.shared_read ?? 0),
        sharedBlksHit: a.shared_hit - (b?.shared_hit ?? 0),
      };
    } else if (before.statements) {
      notes.push(`pg_stat_statements did not show this statement${queryId !== undefined ? ` (query id ${queryId})` : ''} (tracking may be off for it, or its entries were evicted).`);
    }
  }
  return { database, statement, notes };
}

type Growth = { a: StatementRow; b?: StatementRow; calls: number };

function byQueryId(before: Map<string, StatementRow>, after: Map<string, StatementRow>, queryId: string): Growth | undefined {
  const a = after.get(queryId);
  if (!a) return undefined;
  const b = before.get(queryId);
  return { a, b, calls: a.calls - (b?.calls ?? 0) };
}

/** The entry whose calls grew the most over the run (BEGIN, ROLLBACK and the like grow as much, and are left out). */
function grewMost(before: Map<string, StatementRow>, after: Map<string, StatementRow>): Growth | undefined {
  let best: Growth | undefined;
  for (const [id, a] of after) {
    if (a.control) continue;
    const b = before.get(id);
    const calls = a.calls - (b?.calls ?? 0);
    if (!best || calls > best.calls) best = { a, b, calls };
  }
  return best;
}
