/**
 * The server's top statements, from pg_stat_statements: what the application really sends, ranked by total time,
 * mean time, temporary-file blocks or calls — each with what pgload can do with it (profile it read-only, with
 * rollback, or not at all) and, for its normalized constants (`$1` …), value generators suggested from the columns'
 * statistics (pg_stats: most common values, histogram bounds), for the user to confirm or edit before profiling.
 */
import type { Client } from 'pg';
import type { TopResult, TopStatement, ParamSuggestion } from '../../shared/result';
import { closeSession, describeTarget, INTERNAL_MARK, resolveConnection, type ConnectionInput, type ResolveEnvironment } from '../connection/connection';
import { openControlSession } from '../connection/pooler';
import { PgloadError, errorMessage } from '../errors';
import { ensureParser, splitStatements } from '../sql';
import { escapingCall } from '../escapes';
import { VERSION } from '../version';

export type TopOrder = 'total' | 'mean' | 'temp' | 'calls';
export const TOP_ORDERS: TopOrder[] = ['total', 'mean', 'temp', 'calls'];

export interface TopOptions {
  connection: ConnectionInput;
  /** How many statements (1 … 1000). */
  limit: number;
  order: TopOrder;
}

/** The exact lines that enable pg_stat_statements, for the message when it is missing. */
export const ENABLE_PG_STAT_STATEMENTS =
  "shared_preload_libraries = 'pg_stat_statements'   (postgresql.conf or the parameter group; then restart the server)\n" +
  'CREATE EXTENSION pg_stat_statements;               (in this database, as a superuser or the database owner)';

interface Row {
  queryid: string;
  query: string;
  calls: number;
  total: number;
  mean: number;
  stddev: number;
  rows: number;
  shared_hit: number;
  shared_read: number;
  temp_read: number;
  temp_written: number;
}

const ORDER_SQL: Record<TopOrder, string> = {
  total: 'total DESC',
  mean: 'mean DESC',
  temp: '(temp_read + temp_written) DESC, total DESC',
  calls: 'calls DESC',
};

export async function topStatements(o: TopOptions, env: ResolveEnvironment = {}): Promise<TopResult> {
  if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > 1000) throw new PgloadError('usage', `--limit must be a whole number from 1 to 1000, got ${o.limit}`);
  if (!TOP_ORDERS.includes(o.order)) throw new PgloadError('usage', `--order ${o.order}: use one of ${TOP_ORDERS.join(', ')}`);
  const conn = resolveConnection(o.connection, env);
  const startedAt = new Date().toISOString();
  await ensureParser();
  const { session } = await openControlSession(conn, { statementTimeoutMs: 30_000, readOnly: true });
  const client = session.client;
  try {
    const version = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v);
    const schema = await statementsSchema(client, conn.database);
    const t = version >= 130000 ? { total: 'total_exec_time', mean: 'mean_exec_time', stddev: 'stddev_exec_time' } : { total: 'total_time', mean: 'mean_time', stddev: 'stddev_time' };
    const rows = await readTop(client, schema, t, o);
    const totals = (
      await client.query<{ total: number | null; since: string | null; own: number }>(
        `SELECT (SELECT sum(${t.total})::float8 FROM ${quoteIdent(schema)}.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS total,
                (SELECT count(*)::int FROM ${quoteIdent(schema)}.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND strpos(query, '${INTERNAL_MARK}') > 0) AS own,
                ${version >= 140000 ? `(SELECT stats_reset::text FROM ${quoteIdent(schema)}.pg_stat_statements_info)` : 'NULL::text'} AS since`,
      )
    ).rows[0];
    const notes: string[] = [];
    if (totals.own > 0) notes.push(`${totals.own} statement${totals.own === 1 ? '' : 's'} pgload itself sent (its checks, EXPLAIN, wait sampling) ${totals.own === 1 ? 'is' : 'are'} left out; their time still counts in the total.`);
    if (rows.some((r) => r.query === '<insufficient privilege>')) notes.push("Some statements are hidden: this role needs pg_read_all_stats (GRANT pg_read_all_stats TO …) to see other users' statements.");
    const statements = await toStatements(client, rows, totals.total);
    return {
      schemaVersion: 1,
      kind: 'top',
      tool: { name: 'pgload', version: VERSION },
      startedAt,
      target: describeTarget(conn),
      database: conn.database,
      serverVersionNum: version,
      order: o.order,
      limit: o.limit,
      statsSince: totals.since,
      totalExecMs: totals.total ?? 0,
      statements,
      notes,
    };
  } finally {
    await closeSession(session);
  }
}

function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

/** What pgload can do with a normalized statement: profile it read-only, with rollback (a write), or not (the reason). */
export function classify(query: string): { kind: TopStatement['profile']; note: string; params: number } {
  let st;
  try {
    const all = splitStatements(query);
    if (all.length !== 1) return { kind: 'refused', note: 'it is not one statement', params: 0 };
    st = all[0];
  } catch (err) {
    return { kind: 'refused', note: `the parser does not read it (${errorMessage(err).split('\n')[0]})`, params: 0 };
  }
  const escaping = escapingCall(st.text);
  if (escaping) return { kind: 'refused', note: `it calls ${escaping}, whose effect a ROLLBACK cannot undo`, params: 0 };
  if (st.kind === 'query') return { kind: 'read-only', note: 'runs read-only', params: st.paramCount };
  if (st.kind === 'dml') return { kind: 'rolled-back', note: 'changes data: profiled only with writes allowed, each request rolled back', params: st.paramCount };
  return { kind: 'refused', note: `${st.nodeType.replace(/Stmt$/, '')} is not profiled (only queries and INSERT/UPDATE/DELETE/MERGE)`, params: 0 };
}

/** `$n` compared with a column (`col = $1`, `col IN ($1, $2)`, `col > $1`, `BETWEEN $1 AND $2`), with LIMIT/OFFSET ones. */
export interface ParamUse {
  index: number;
  table?: { schema?: string; name: string };
  column?: string;
  /** LIMIT or OFFSET: pg_stat_statements hides the number. */
  clause?: 'limit' | 'offset';
}

/** Finds what each `$n` of a statement is compared with, from the parser's tree. The parser must be loaded. */
export function paramUses(query: string): ParamUse[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require('libpg-query') as { parseSync(sql: string): unknown };
  let tree: unknown;
  try {
    tree = lib.parseSync(query);
  } catch {
    return [];
  }
  const uses = new Map<number, ParamUse>();
  // Relations by alias and by name, of the whole statement (subqueries too: aliases are rarely reused).
  const relations = new Map<string, { schema?: string; name: string }>();
  const all: Array<{ schema?: string; name: string }> = [];
  walk(tree, (node, key) => {
    // A FROM item is a RangeVar node; the table an UPDATE or DELETE filters is its statement's `relation` (an INSERT's
    // target is not what its SELECT's WHERE compares with).
    const target = key === 'UpdateStmt' || key === 'DeleteStmt' ? (node as { relation?: unknown }).relation : undefined;
    if (key === 'RangeVar' || target) {
      const rv = (target ?? node) as { relname?: string; schemaname?: string; alias?: { aliasname?: string } };
      if (!rv.relname) return;
      const rel = { schema: rv.schemaname, name: rv.relname };
      all.push(rel);
      relations.set(rv.alias?.aliasname ?? rv.relname, rel);
      relations.set(rv.relname, relations.get(rv.relname) ?? rel);
    }
  });
  const columnOf = (n: unknown): { table?: { schema?: string; name: string }; column: string } | undefined => {
    const ref = (n as { ColumnRef?: { fields?: Array<{ String?: { sval?: string; str?: string } }> } })?.ColumnRef;
    const names = ref?.fields?.map((f) => f.String?.sval ?? f.String?.str).filter((x): x is string => typeof x === 'string');
    if (!names || names.length === 0) return undefined;
    const column = names[names.length - 1];
    const qualifier = names.length >= 2 ? names[names.length - 2] : undefined;
    const distinct = [...new Map(all.map((r) => [`${r.schema ?? ''}.${r.name}`, r])).values()];
    const table = qualifier ? relations.get(qualifier) : distinct.length === 1 ? distinct[0] : undefined;
    return { table, column };
  };
  const paramNumbers = (n: unknown): number[] => {
    const out: number[] = [];
    walk(n, (node, key) => {
      if (key === 'ParamRef') out.push((node as { number?: number }).number ?? 0);
    });
    return out;
  };
  walk(tree, (node, key) => {
    if (key === 'A_Expr' && isComparison(node)) {
      const e = node as { lexpr?: unknown; rexpr?: unknown };
      for (const [colSide, paramSide] of [
        [e.lexpr, e.rexpr],
        [e.rexpr, e.lexpr],
      ]) {
        const col = columnOf(colSide);
        if (!col) continue;
        for (const i of paramNumbers(paramSide)) if (i > 0 && !uses.has(i)) uses.set(i, { index: i, ...col });
      }
    } else if (key === 'SelectStmt') {
      const s = node as { limitCount?: unknown; limitOffset?: unknown };
      for (const i of paramNumbers(s.limitCount)) if (!uses.has(i)) uses.set(i, { index: i, clause: 'limit' });
      for (const i of paramNumbers(s.limitOffset)) if (!uses.has(i)) uses.set(i, { index: i, clause: 'offset' });
    }
  });
  return [...uses.values()].sort((a, b) => a.index - b.index);
}

const COMPARISON_OPS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/** `col = $1`, `col < $1`, `col IN (…)`, `col BETWEEN …`, `col LIKE $1`, `col = ANY($1)`: not `col + $1`, where $1 is no value of col. */
function isComparison(node: unknown): boolean {
  const e = node as { kind?: string; name?: Array<{ String?: { sval?: string; str?: string } }> };
  const op = e.name?.[e.name.length - 1]?.String;
  const name = op?.sval ?? op?.str ?? '';
  switch (e.kind) {
    case 'AEXPR_OP':
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL':
      return COMPARISON_OPS.has(name);
    case 'AEXPR_IN':
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE':
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM':
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT':
      return true;
    default:
      return false;
  }
}

function walk(v: unknown, visit: (node: unknown, key: string) => void, key = ''): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, visit, key);
    return;
  }
  if (!v || typeof v !== 'object') return;
  for (const [k, child] of Object.entries(v)) {
    if (child && typeof child === 'object' && !Array.isArray(child) && /^[A-Z]/.test(k)) visit(child, k);
    walk(child, visit, k);
  }
}

interface StatsRow {
  typ: string;
  mcv: string[] | null;
  freqs: number[] | null;
  bounds: string[] | null;
  n_distinct: number;
}

const NUMERIC = /^(smallint|integer|bigint|int[248]?|numeric|real|double precision|decimal)/;

/** A generator for each `$n`, from pg_stats of the column it is compared with; null where nothing says what to use. */
export async function suggestParams(client: Client, query: string, count: number): Promise<ParamSuggestion[]> {
  const uses = new Map(paramUses(query).map((u) => [u.index, u]));
  const out: ParamSuggestion[] = [];
  for (let i = 1; i <= count; i++) {
    const u = uses.get(i);
    if (u?.clause === 'limit') {
      out.push({ index: i, spec: 'list:10', source: 'LIMIT', why: 'a LIMIT: pg_stat_statements hides the number the application sends; 10 is a guess — put yours' });
      continue;
    }
    if (u?.clause === 'offset') {
      out.push({ index: i, spec: 'list:0', source: 'OFFSET', why: 'an OFFSET: pg_stat_statements hides the number; 0 (the first page) is a guess — put yours' });
      continue;
    }
    if (!u?.column || !u.table) {
      out.push({ index: i, spec: null, source: null, why: `pgload could not tell which column $${i} is compared with: write a generator (int:1..1000, list:a,b, sql:SELECT …)` });
      continue;
    }
    const where = `${u.table.schema ? `${u.table.schema}.` : ''}${u.table.name}.${u.column}`;
    let s: StatsRow | undefined;
    try {
      s = (
        await client.query<StatsRow>(
          `SELECT format_type(a.atttypid, a.atttypmod) AS typ, st.most_common_vals::text::text[] AS mcv, st.most_common_freqs::float8[] AS freqs,
                  st.histogram_bounds::text::text[] AS bounds, st.n_distinct::float8 AS n_distinct
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped
           LEFT JOIN pg_stats st ON st.schemaname = c.relnamespace::regnamespace::text AND st.tablename = c.relname AND st.attname = a.attname
           WHERE c.oid = to_regclass($1)`,
          [u.table.schema ? `${quoteIdent(u.table.schema)}.${quoteIdent(u.table.name)}` : quoteIdent(u.table.name), u.column],
        )
      ).rows[0];
    } catch {
      s = undefined;
    }
    if (!s) {
      out.push({ index: i, spec: null, source: where, why: `${where} was not found from this session (search_path, or another schema): write a generator` });
      continue;
    }
    const suggestion = fromStats(s, where);
    out.push({ index: i, source: where, ...suggestion });
  }
  return out;
}

const listOf = (values: string[]) => `list:${values.map((v) => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,')).join(',')}`;

/** A generator from a column's statistics: its histogram (equal-frequency bounds) or its most common values. */
export function fromStats(s: StatsRow, where: string): { spec: string | null; why: string } {
  const mcv = s.mcv ?? [];
  const covered = (s.freqs ?? []).reduce((a, b) => a + b, 0);
  const bounds = s.bounds ?? [];
  if (mcv.length === 0 && bounds.length === 0) {
    return { spec: null, why: `${where} has no statistics yet (ANALYZE ${where.split('.').slice(0, -1).join('.')} first), so there is nothing to suggest from: write a generator` };
  }
  // Most values are among the most common ones: draw from them (their skew is lost; the list is uniform).
  if (mcv.length > 0 && (covered >= 0.5 || bounds.length === 0)) {
    return { spec: listOf(mcv.slice(0, 100)), why: `the ${mcv.length} most common values of ${where} (${Math.round(covered * 100)} % of its rows, pg_stats)` };
  }
  if (NUMERIC.test(s.typ) && /^(smallint|integer|bigint|int)/.test(s.typ)) {
    // The histogram covers the values that are not among the most common ones: the range is of both.
    const all = [bounds[0], bounds[bounds.length - 1], ...mcv].map(Number);
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    if (Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && hi >= lo) return { spec: `int:${lo}..${hi}`, why: `whole numbers across ${where}'s range ${lo} … ${hi} (its histogram in pg_stats)` };
  }
  // The histogram's bounds split the other rows into equal parts: drawing among them follows the data's spread.
  return { spec: listOf(bounds), why: `${bounds.length} values spread as ${where}'s rows are (its histogram bounds in pg_stats)` };
}

/** The schema pg_stat_statements is installed in; refused with the lines that enable it when it is not there. */
async function statementsSchema(client: Client, database: string): Promise<string> {
  const ext = await client.query<{ schema: string }>("SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pg_stat_statements'");
  if (ext.rowCount === 0) {
    const preloaded = (await client.query<{ v: string }>("SELECT current_setting('shared_preload_libraries') AS v")).rows[0].v;
    const loaded = /(^|,)\s*pg_stat_statements\s*(,|$)/.test(preloaded);
    throw new PgloadError(
      'input',
      `pg_stat_statements is not installed in database "${database}"${loaded ? ' (it is in shared_preload_libraries, so only the extension is missing)' : ''}. To see the top statements:\n${
        loaded ? ENABLE_PG_STAT_STATEMENTS.split('\n')[1] : ENABLE_PG_STAT_STATEMENTS
      }`,
    );
  }
  return ext.rows[0].schema;
}

/** The top statements of this database in the order asked, pgload's own left out. */
async function readTop(client: Client, schema: string, t: { total: string; mean: string; stddev: string }, o: TopOptions): Promise<Row[]> {
  try {
    return (
      await client.query<Row>(
        `WITH s AS (
           SELECT queryid::text AS queryid, query, calls::float8 AS calls, ${t.total}::float8 AS total, ${t.mean}::float8 AS mean,
                  ${t.stddev}::float8 AS stddev, rows::float8 AS rows, shared_blks_hit::float8 AS shared_hit,
                  shared_blks_read::float8 AS shared_read, temp_blks_read::float8 AS temp_read, temp_blks_written::float8 AS temp_written
           FROM ${quoteIdent(schema)}.pg_stat_statements
           WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query IS NOT NULL AND calls > 0
             AND strpos(query, $2) = 0)
         SELECT * FROM s ORDER BY ${ORDER_SQL[o.order]} LIMIT $1`,
        [o.limit, INTERNAL_MARK],
      )
    ).rows;
  } catch (err) {
    throw new PgloadError(
      'input',
      `pg_stat_statements could not be read (${errorMessage(err)}). It must be in shared_preload_libraries (then restart the server) and the role needs pg_read_all_stats to see other users' statements:\n${ENABLE_PG_STAT_STATEMENTS}`,
    );
  }
}

/** Each row as the result has it, with its share of the total, whether it can be profiled, and generators for its $n. */
async function toStatements(client: Client, rows: Row[], total: number | null): Promise<TopStatement[]> {
  const statements: TopStatement[] = [];
  for (const r of rows) {
    const share = total && total > 0 ? r.total / total : 0;
    const what = classify(r.query);
    const params = what.params > 0 && what.kind !== 'refused' ? await suggestParams(client, r.query, what.params) : [];
    statements.push({
      queryid: r.queryid,
      query: r.query,
      calls: r.calls,
      totalMs: r.total,
      meanMs: r.mean,
      stddevMs: r.stddev,
      rows: r.rows,
      rowsPerCall: r.calls > 0 ? r.rows / r.calls : 0,
      sharedBlksHit: r.shared_hit,
      sharedBlksRead: r.shared_read,
      hitRatio: r.shared_hit + r.shared_read > 0 ? r.shared_hit / (r.shared_hit + r.shared_read) : null,
      tempBlksRead: r.temp_read,
      tempBlksWritten: r.temp_written,
      shareOfTotal: share,
      profile: what.kind,
      profileNote: what.note,
      params,
    });
  }
  return statements;
}
