/** A hint's SQL read as a setting: `SET LOCAL work_mem = '64MB';` → work_mem, 64MB (the panel's Try it, a diagnosis). */
const SET_LOCAL = /^\s*SET\s+LOCAL\s+([a-z_]+)\s*(?:=|TO)\s*'?([^';]+?)'?\s*;?\s*$/i;

/** Settings pgload tries with Try it and in a diagnosis: each can be set for one query with SET LOCAL. */
export const TRIED_SETTINGS = ['work_mem', 'hash_mem_multiplier', 'max_parallel_workers_per_gather', 'jit', 'plan_cache_mode'] as const;

/** A hint's `SET LOCAL name = value`, when it carries one. */
export function parseSetLocal(sql: string | undefined): { name: string; value: string } | null {
  const m = sql ? SET_LOCAL.exec(sql) : null;
  return m ? { name: m[1].toLowerCase(), value: m[2].trim() } : null;
}

/** Whether Try it can run this hint's SQL: a SET LOCAL of a setting pgload tries. */
export function isTryable(sql: string | undefined): boolean {
  const s = parseSetLocal(sql);
  return s !== null && (TRIED_SETTINGS as readonly string[]).includes(s.name);
}

/** A hint's CREATE INDEX statements (an index suggestion: one, or a pair), or null when it is anything else. */
export function indexStatements(sql: string | undefined): string[] | null {
  const parts = (sql ?? '').split(/;\s*/).map((x) => x.trim()).filter((x) => x.length > 0);
  return parts.length > 0 && parts.every((x) => /^CREATE\s+INDEX\b/i.test(x)) ? parts : null;
}

/** What Try it does with a hint's SQL: an A/B of a setting, an index trial, or nothing. */
export function tryKind(sql: string | undefined): 'setting' | 'index' | null {
  return isTryable(sql) ? 'setting' : indexStatements(sql) ? 'index' : null;
}
