/**
 * Effects that escape the transaction. Every request pgload runs is a transaction that ends in ROLLBACK (read-only
 * unless writes are allowed), which undoes whatever the statement does to rows and to its session. A few functions act
 * outside any transaction — another connection the server opens, files on the server, signals to other processes,
 * statistics resets, replication slots, session-level advisory locks, sequence positions — and a ROLLBACK undoes none
 * of it. Those are refused before anything runs, found from the parse tree (the statement's own calls) and from the
 * catalog (what the functions, views, triggers, rules, defaults, policies and operators it reaches call in turn). Code
 * pgload cannot read (dynamic SQL, a function in a language other than SQL, PL/pgSQL or C) is refused too.
 * `--allow-writes` unlocks none of it: it allows changes that the ROLLBACK undoes, and these are not.
 */
import type { Client } from 'pg';
import { errorMessage, PgloadError } from './errors';
import { parsePlpgsqlTree, parseTree } from './sql';

type Why = 'connection' | 'file' | 'signal' | 'stats' | 'replication' | 'session-lock' | 'sequence' | 'dynamic-sql';

const WHY: Record<Why, string> = {
  connection: 'it opens another connection from the server (dblink), whose work is committed there and not undone by pgload\'s ROLLBACK',
  file: "it reads or writes files on the server's file system, which no ROLLBACK undoes",
  signal: 'it signals other server processes (cancel, terminate, reload the configuration, rotate logs, switch WAL, promote), which no ROLLBACK undoes',
  stats: "it resets or overwrites the server's statistics, which no ROLLBACK restores (and pgload reads them)",
  replication: 'it changes replication slots or origins, or writes WAL messages, outside the transaction',
  'session-lock': 'it takes or releases a session-level advisory lock, which outlives the transaction (and, through a pooler, is left to the next client of that server session)',
  sequence: 'it sets a sequence, which no ROLLBACK resets',
  'dynamic-sql': 'it runs SQL given as a text value, which pgload cannot check before it runs',
};

const NAMES: Record<Why, string[]> = {
  connection: ['dblink', 'dblink_exec', 'dblink_connect', 'dblink_connect_u', 'dblink_open', 'dblink_fetch', 'dblink_close', 'dblink_send_query', 'dblink_get_result', 'dblink_disconnect', 'dblink_cancel_query'],
  file: ['lo_import', 'lo_export', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'autoprewarm_dump_now'],
  signal: [
    'pg_terminate_backend',
    'pg_cancel_backend',
    'pg_reload_conf',
    'pg_rotate_logfile',
    'pg_rotate_logfile_old',
    'pg_promote',
    'pg_log_backend_memory_contexts',
    'pg_switch_wal',
    'pg_create_restore_point',
    'pg_wal_replay_pause',
    'pg_wal_replay_resume',
    'pg_backup_start',
    'pg_backup_stop',
    'pg_start_backup',
    'pg_stop_backup',
    'pg_log_standby_snapshot',
    'autoprewarm_start_worker',
  ],
  stats: [
    'pg_stat_reset',
    'pg_stat_reset_shared',
    'pg_stat_reset_single_table_counters',
    'pg_stat_reset_single_function_counters',
    'pg_stat_reset_slru',
    'pg_stat_reset_replication_slot',
    'pg_stat_reset_subscription_stats',
    'pg_stat_reset_backend_stats',
    'pg_stat_statements_reset',
    'pg_qualstats_reset',
    'pg_stat_kcache_reset',
    'pg_wait_sampling_reset_profile',
    'pg_stat_monitor_reset',
    'pg_restore_relation_stats',
    'pg_clear_relation_stats',
    'pg_restore_attribute_stats',
    'pg_clear_attribute_stats',
  ],
  replication: [
    'pg_create_physical_replication_slot',
    'pg_create_logical_replication_slot',
    'pg_drop_replication_slot',
    'pg_copy_physical_replication_slot',
    'pg_copy_logical_replication_slot',
    'pg_replication_slot_advance',
    'pg_logical_slot_get_changes',
    'pg_logical_slot_get_binary_changes',
    'pg_logical_emit_message',
    'pg_replication_origin_create',
    'pg_replication_origin_drop',
    'pg_replication_origin_advance',
    'pg_replication_origin_session_setup',
    'pg_replication_origin_session_reset',
    'pg_replication_origin_xact_setup',
    'pg_sync_replication_slots',
  ],
  'session-lock': ['pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_try_advisory_lock', 'pg_try_advisory_lock_shared', 'pg_advisory_unlock', 'pg_advisory_unlock_shared', 'pg_advisory_unlock_all'],
  sequence: ['setval'],
  'dynamic-sql': ['query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'ts_stat', 'ts_rewrite'],
};

const ESCAPING = new Map<string, Why>(Object.entries(NAMES).flatMap(([why, names]) => names.map((n) => [n, why as Why] as const)));

/** Why a function of this name escapes the transaction, or undefined (names compare as the server folds them). */
export function escapeReason(name: string): string | undefined {
  const why = ESCAPING.get(name.toLowerCase());
  return why ? WHY[why] : undefined;
}

/** Something the statement reaches: a function (by name or oid), a relation, an operator. `via` is the path to it. */
interface Reached {
  kind: 'function' | 'relation' | 'operator';
  schema?: string;
  name: string;
  oid?: number;
  via: string[];
}

interface Scan {
  reached: Reached[];
  /** Code pgload cannot read, with where it is. */
  opaque: Array<{ what: string; via: string[] }>;
}

const strings = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((x) => (x as { String?: { sval?: string } }).String?.sval).filter((x): x is string => typeof x === 'string') : [];

/** PL/pgSQL expression texts by their parse mode: 0 a statement, 2 an expression, 3/4/5 an assignment `x := expr`. */
function plpgsqlExprTree(query: string, mode: number): unknown {
  if (mode === 0) return parseTree(query);
  const rhs = mode >= 3 ? query.slice(query.indexOf(':=') >= 0 ? query.indexOf(':=') + 2 : 0) : query;
  return parseTree(`SELECT ${rhs}`) ?? parseTree(query);
}

const DYNAMIC_PLPGSQL = new Set(['PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_dynfors']);

/** Walks a parse tree (SQL or PL/pgSQL) for the functions, relations and operators it names, and for dynamic SQL. */
function scanTree(tree: unknown, via: string[], out: Scan, depth = 0): void {
  if (depth > 4000 || tree === null || typeof tree !== 'object') return;
  if (Array.isArray(tree)) {
    for (const item of tree) scanTree(item, via, out, depth + 1);
    return;
  }
  // A relation, wherever it stands: in FROM (a RangeVar node) or as a statement's target (InsertStmt.relation and the
  // like hold the RangeVar's fields directly).
  const self = tree as Record<string, unknown>;
  if (typeof self.relname === 'string') out.reached.push({ kind: 'relation', name: self.relname, ...(typeof self.schemaname === 'string' ? { schema: self.schemaname } : {}), via });
  for (const [key, value] of Object.entries(self)) {
    const v = value as Record<string, unknown>;
    if (key === 'FuncCall') {
      const parts = strings(v.funcname);
      if (parts.length > 0) out.reached.push({ kind: 'function', name: parts[parts.length - 1], ...(parts.length > 1 ? { schema: parts[parts.length - 2] } : {}), via });
    } else if (key === 'A_Expr') {
      const parts = strings(v.name);
      if (parts.length > 0) out.reached.push({ kind: 'operator', name: parts[parts.length - 1], via });
    } else if (key === 'PLpgSQL_expr' && typeof v.query === 'string') {
      const sub = plpgsqlExprTree(v.query, Number(v.parseMode ?? 0));
      if (sub === undefined) out.opaque.push({ what: `an expression pgload cannot parse (${v.query.slice(0, 60)})`, via });
      else scanTree(sub, via, out, depth + 1);
    } else if (DYNAMIC_PLPGSQL.has(key) || ((key === 'PLpgSQL_stmt_open' || key === 'PLpgSQL_stmt_return_query') && v && v.dynquery)) {
      out.opaque.push({ what: 'dynamic SQL (EXECUTE of a text)', via });
    }
    scanTree(value, via, out, depth + 1);
  }
}

const pathOf = (via: string[], last: string) => [...via, last].join(' → ');

function refusal(name: string, via: string[], reason: string): PgloadError {
  const where = via.length > 0 ? ` (through ${pathOf(via, name)})` : '';
  return new PgloadError(
    'input',
    `pgload refuses this statement: it calls ${name}${where}, and ${reason}. --allow-writes does not allow it either: it allows only changes that the ROLLBACK at the end of every request undoes. ` +
      'Profile the statement without that call; nothing was run.',
    { code: 'ESCAPES_TRANSACTION' },
  );
}

/**
 * The parse tree's own verdict (no catalog): refuses a statement that calls a function that escapes the transaction
 * by name. Runs before anything connects; the catalog check (checkEscapes) follows once a session is open.
 */
export function refuseEscapingCalls(sql: string): void {
  const name = escapingCall(sql);
  if (name) throw refusal(name, [], escapeReason(name)!);
}

/** The first function the statement calls by name whose effect escapes the transaction, or undefined. */
export function escapingCall(sql: string): string | undefined {
  const scan: Scan = { reached: [], opaque: [] };
  scanTree(parseTree(sql), [], scan);
  return scan.reached.find((r) => r.kind === 'function' && escapeReason(r.name))?.name;
}

/** Schemas whose code is the server's own: their functions are judged by name, their views not opened. */
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

interface FunctionRow {
  oid: string;
  schema: string;
  name: string;
  lang: string;
  src: string | null;
  def: string | null;
}

interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  viewdef: string | null;
  triggers: string[];
  rules: string[];
  defaults: string[];
  policies: string[];
}

const FUNCTION_COLUMNS = `p.oid::text AS oid, n.nspname AS schema, p.proname AS name, l.lanname AS lang, p.prosrc AS src,
  CASE WHEN p.prokind IN ('f', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND l.lanname IN ('sql', 'plpgsql') THEN pg_get_functiondef(p.oid) END AS def
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang`;

/** At most this many objects are opened; a statement that reaches more is refused as too large to check. */
const BUDGET = 300;

/**
 * The catalog's verdict: follows the statements through the functions, views, triggers, rules, column defaults, row
 * security policies and user-defined operators they reach, and refuses the first that escapes the transaction, or
 * code pgload cannot read. Runs on pgload's control session before the baseline; reads the catalog only.
 */
export async function checkEscapes(client: Client, statements: ReadonlyArray<string>): Promise<void> {
  const scan: Scan = { reached: [], opaque: [] };
  for (const sql of statements) scanTree(parseTree(sql), [], scan);
  const seen = new Set<string>();
  let opened = 0;
  const queue = scan.reached;
  const addTree = (tree: unknown, via: string[]) => {
    const sub: Scan = { reached: [], opaque: [] };
    scanTree(tree, via, sub);
    queue.push(...sub.reached);
    scan.opaque.push(...sub.opaque);
  };
  const checkOpaque = () => {
    const o = scan.opaque[0];
    if (o) {
      const where = o.via.length > 0 ? ` in ${o.via.join(' → ')}` : '';
      throw new PgloadError(
        'input',
        `pgload refuses this statement: it reaches ${o.what}${where}, and pgload cannot check whether that code acts outside the transaction (another connection, files, signals to other sessions), which no ROLLBACK undoes. ` +
          '--allow-writes does not allow it either. Profile the statements that code runs, each on its own; nothing was run.',
        { code: 'ESCAPES_TRANSACTION' },
      );
    }
  };
  checkOpaque();
  while (queue.length > 0) {
    const r = queue.shift()!;
    if (r.kind === 'function') {
      const reason = escapeReason(r.name);
      if (reason) throw refusal(r.name, r.via, reason);
    }
    const key = `${r.kind}:${r.oid ?? `${r.schema ?? ''}.${r.name}`}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (++opened > BUDGET) {
      throw new PgloadError('input', `pgload refuses this statement: it reaches more than ${BUDGET} functions, views and tables, too many to check that none acts outside the transaction. Profile a smaller statement; nothing was run.`, { code: 'ESCAPES_TRANSACTION' });
    }
    try {
      if (r.kind === 'function') await openFunction(client, r, addTree, scan);
      else if (r.kind === 'relation') await openRelation(client, r, queue, addTree);
      else await openOperator(client, r, queue);
    } catch (err) {
      if (err instanceof PgloadError) throw err;
      throw new PgloadError('input', `pgload could not check what this statement reaches (${r.kind} ${r.name}): ${errorMessage(err)}. Nothing was run.`, { code: 'ESCAPES_TRANSACTION', cause: err });
    }
    checkOpaque();
  }
}

async function openFunction(client: Client, r: Reached, addTree: (t: unknown, via: string[]) => void, scan: Scan): Promise<void> {
  const rows =
    r.oid !== undefined
      ? (await client.query<FunctionRow>(`SELECT ${FUNCTION_COLUMNS} WHERE p.oid = $1::oid`, [r.oid])).rows
      : (await client.query<FunctionRow>(`SELECT ${FUNCTION_COLUMNS} WHERE p.proname = $1 AND (CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(true)) ELSE n.nspname = $2 END)`, [r.name, r.schema ?? null])).rows;
  for (const f of rows) {
    const label = `${f.schema}.${f.name}`;
    const reason = escapeReason(f.name);
    if (reason) throw refusal(f.name, r.via, reason);
    if (SYSTEM_SCHEMAS.has(f.schema) || f.lang === 'internal' || f.lang === 'c') continue;
    const via = [...r.via, `${label} (${f.lang})`];
    let tree: unknown;
    if (f.lang === 'sql') tree = f.src && f.src.trim() !== '' ? parseTree(f.src) : f.def ? parseTree(f.def) : undefined;
    else if (f.lang === 'plpgsql') tree = f.def ? parsePlpgsqlTree(f.def) : undefined;
    else {
      scan.opaque.push({ what: `function ${label}, written in ${f.lang}`, via: r.via });
      continue;
    }
    if (tree === undefined) {
      scan.opaque.push({ what: `function ${label}, whose body pgload cannot parse`, via: r.via });
      continue;
    }
    addTree(tree, via);
  }
}

async function openRelation(client: Client, r: Reached, queue: Reached[], addTree: (t: unknown, via: string[]) => void): Promise<void> {
  const row = (
    await client.query<RelationRow>(
      `SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name,
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS viewdef,
         ARRAY(SELECT t.tgfoid::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
         ARRAY(SELECT pg_get_ruledef(w.oid) FROM pg_rewrite w WHERE w.ev_class = c.oid AND w.rulename <> '_RETURN') AS rules,
         ARRAY(SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = c.oid) AS defaults,
         ARRAY(SELECT concat_ws(' AND ', pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = to_regclass(CASE WHEN $1::text IS NULL THEN format('%I', $2::text) ELSE format('%I.%I', $1::text, $2::text) END)`,
      [r.schema ?? null, r.name],
    )
  ).rows[0];
  // A CTE's name, or a relation that does not exist (the server says so when the statement runs).
  if (!row || SYSTEM_SCHEMAS.has(row.schema)) return;
  const via = [...r.via, `${row.schema}.${row.name}`];
  if (row.viewdef) addTree(parseTree(row.viewdef), [...r.via, `view ${row.schema}.${row.name}`]);
  for (const oid of row.triggers) queue.push({ kind: 'function', name: `trigger function ${oid}`, oid: Number(oid), via: [...via, 'its trigger'] });
  for (const rule of row.rules) addTree(parseTree(rule), [...via, 'its rule']);
  for (const d of row.defaults) addTree(parseTree(`SELECT ${d}`), [...via, 'a column default']);
  for (const p of row.policies) if (p) addTree(parseTree(`SELECT 1 WHERE ${p}`), [...via, 'its row security policy']);
}

async function openOperator(client: Client, r: Reached, queue: Reached[]): Promise<void> {
  const rows = (
    await client.query<{ fn: string }>(
      `SELECT o.oprcode::oid::text AS fn FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE o.oprname = $1 AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
      [r.name],
    )
  ).rows;
  for (const { fn } of rows) queue.push({ kind: 'function', name: `the function of operator ${r.name}`, oid: Number(fn), via: [...r.via, `operator ${r.name}`] });
}
