/**
 * What every session of a run starts with (its settings) and what every request that runs the user's statement travels
 * in (the envelope): a transaction that is read-only unless writes are allowed and always ends in ROLLBACK.
 */
import type { Client } from 'pg';

/**
 * The comment pgload puts after the first word of every statement it sends for itself (checks, EXPLAIN, sampling):
 * pg_stat_statements keeps it (a leading comment it would drop), so `pgload top` can leave those out.
 */
export const INTERNAL_MARK = '/* pgload */';

/** The statement with the mark after its first word (idempotent). */
export function withInternalMark(sql: string): string {
  if (/^\s*[A-Za-z_]+ \/\* pgload \*\//.test(sql)) return sql;
  return sql.replace(/^(\s*[A-Za-z_]+)/, `$1 ${INTERNAL_MARK}`);
}

/**
 * Marks every statement sent on this client as pgload's own, so that `pgload top` can leave out what pgload itself
 * ran. Only for sessions that never run the user's statement as a request.
 */
export function markInternal(client: Client): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  const mark = (q: unknown): unknown => {
    if (typeof q === 'string') return withInternalMark(q);
    // A plain query config (not a submittable such as a cursor): its text marked, the rest as it was.
    if (q && typeof q === 'object' && typeof (q as { text?: unknown }).text === 'string' && typeof (q as { submit?: unknown }).submit !== 'function') {
      return { ...(q as object), text: withInternalMark((q as { text: string }).text) };
    }
    return q;
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (q: unknown, ...rest: unknown[]) => original(mark(q), ...rest);
}

/** Settings every session of a run starts with (sent in the startup packet, so they hold from the first query). */
export interface SessionSettings {
  statementTimeoutMs: number;
  /** `default_transaction_read_only = on`: a write slipping through is rejected by the server itself. */
  readOnly: boolean;
  /** Extra `-c name=value` startup settings. */
  extra?: Record<string, string>;
  /** application_name (default APPLICATION_NAME). */
  applicationName?: string;
  /**
   * How the settings reach the server (see ./pooler): in the startup packet (default; a direct server), by SET
   * right after connecting (a pooler in session pooling), or inside each request's transaction (transaction
   * pooling, or a pooler whose mode is not known: SET would land on whichever server session is free).
   */
  route?: SettingsRoute;
}

export type SettingsRoute = 'startup' | 'set' | 'transaction';

/**
 * Settings pgload fixes on every session whatever the user asks: they decide how the server reads the statement's text,
 * so that the server parses exactly what pgload parsed (libpg-query reads strings as standard_conforming_strings = on does).
 */
export const PARSER_SETTINGS: ReadonlyArray<[string, string]> = [['standard_conforming_strings', 'on']];

/** The session settings as `name = value` pairs (what a SET or set_config gives the server). */
export function settingPairs(s: SessionSettings): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (s.readOnly) pairs.push(['default_transaction_read_only', 'on']);
  pairs.push(['statement_timeout', String(s.statementTimeoutMs)]);
  // A session left inside a transaction (a crashed client) is ended by the server itself.
  pairs.push(['idle_in_transaction_session_timeout', String(Math.max(60_000, s.statementTimeoutMs * 2))]);
  const fixed = new Set(PARSER_SETTINGS.map(([k]) => k));
  for (const [k, v] of Object.entries(s.extra ?? {})) if (!fixed.has(k.toLowerCase())) pairs.push([k, v]);
  pairs.push(...PARSER_SETTINGS);
  return pairs;
}

/** An SQL string literal. */
export const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The envelope of every request that runs the user's statement (baseline, load, EXPLAIN, sampling queries, scripts):
 * `BEGIN READ ONLY` (or `BEGIN` when writes are allowed), through a pooler in transaction pooling one
 * `SELECT set_config(…, true)` with the settings (local to the transaction, so no server session keeps them), the
 * statement, then always `ROLLBACK` — whatever the statement did to its session (set_config, temporary objects,
 * defaults for the next request) ends with its transaction, directly and through any pooler.
 */
export interface TransactionWrap {
  begin: string;
  /** Only when the settings travel inside the transaction (route 'transaction'). */
  setup?: string;
  end: string;
}

/** The envelope's statements carry pgload's mark: pg_stat_statements and `pgload top` tell them from the user's. */
export const ROLLBACK = withInternalMark('ROLLBACK');

export function transactionWrap(s: SessionSettings): TransactionWrap {
  const begin = withInternalMark(s.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
  if ((s.route ?? 'startup') !== 'transaction') return { begin, end: ROLLBACK };
  const local = settingPairs(s).filter(([k]) => k !== 'default_transaction_read_only' && k !== 'idle_in_transaction_session_timeout');
  return { begin, setup: withInternalMark(`SELECT ${local.map(([k, v]) => `set_config(${literal(k)}, ${literal(v)}, true)`).join(', ')}`), end: ROLLBACK };
}

/** The statements that open a request's transaction (BEGIN, and the settings when they travel inside it). */
export function wrapStart(w: TransactionWrap): string[] {
  return w.setup ? [w.begin, w.setup] : [w.begin];
}

/**
 * Runs `fn` inside the envelope on a node-postgres client: BEGIN (and the settings), `fn`, ROLLBACK — the ROLLBACK
 * whatever `fn` did, failed or not.
 */
export async function inRolledBackTransaction<T>(client: Client, wrap: TransactionWrap, fn: () => Promise<T>): Promise<T> {
  for (const q of wrapStart(wrap)) await client.query(q);
  try {
    return await fn();
  } finally {
    await client.query(wrap.end).catch(() => undefined);
  }
}

declare module 'pg' {
  interface QueryConfig {
    /** 'extended': Parse/Bind/Execute even without parameters — the server then refuses more than one statement (pg ≥ 8.12). */
    queryMode?: 'extended';
  }
}
