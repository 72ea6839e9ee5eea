/**
 * Index advice, checked — never guessed. Candidates come from the plan alone:
 *  - a scan whose filter throws away most of the rows it reads (the filter's equality columns, then one range column);
 *  - a sequential scan feeding a join on an equality with another table (its join column: a nested loop through an
 *    index could look rows up instead of reading the table whole — the EXISTS case);
 *  - a sort under a Limit over one table's scan (an index in that order delivers the first rows without sorting).
 * Each is checked with HypoPG's hypothetical indexes when the extension is installed: EXPLAIN with and without it,
 * inside a read-only transaction that is rolled back; the cost before and after and the plan it would get. A
 * candidate the planner would not use, or that does not lower the cost by 10 %, is not suggested. Without HypoPG the
 * candidates are shown as not checked. pgload never creates an index on the user's database.
 */
import { withInternalMark } from '../connection/connection';
import type { Client } from 'pg';
import type { CapturedPlan, Hint } from '../../shared/result';
import { errorMessage } from '../errors';
import { parseExpression } from '../sql';
import { flattenPlan, type PlanNode } from './plan';

type Json = Record<string, unknown>;
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);
const str = (n: Json, key: string): string | undefined => (typeof n[key] === 'string' ? (n[key] as string) : undefined);
const fmtInt = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export interface IndexCandidate {
  table: string;
  /** Column names in index order, each possibly with ` DESC`. */
  columns: string[];
  node: string;
  /** Why, with the plan's numbers. */
  reason: string;
}

const ident = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

export function indexSql(c: IndexCandidate, concurrently = true): string {
  const cols = c.columns.map((x) => x.replace(/^(\S+)(.*)$/, (_, name: string, rest: string) => ident(name) + rest)).join(', ');
  return `CREATE INDEX${concurrently ? ' CONCURRENTLY' : ''} ON ${c.table.split('.').map(ident).join('.')} (${cols})`;
}

interface ColumnUse {
  qualifier?: string;
  column: string;
  kind: 'eq' | 'range';
}

/** Columns compared with something (=, <, >, BETWEEN, IN) in an EXPLAIN expression, ANDed together; [] when it does not parse. */
export function comparedColumns(expr: string): ColumnUse[] {
  const ast = parseExpression(expr);
  if (!ast) return [];
  const out: ColumnUse[] = [];
  const columnOf = (node: unknown): { qualifier?: string; column: string } | undefined => {
    let x = node as Json | undefined;
    while (x && 'TypeCast' in x) x = (x.TypeCast as Json).arg as Json;
    const ref = x?.ColumnRef as { fields?: Array<{ String?: { sval?: string } }> } | undefined;
    const names = ref?.fields?.map((f) => f.String?.sval).filter((v): v is string => !!v) ?? [];
    if (names.length === 0) return undefined;
    return { qualifier: names.length > 1 ? names[names.length - 2] : undefined, column: names[names.length - 1] };
  };
  const visit = (node: unknown): void => {
    const x = node as Json;
    if (x?.BoolExpr) {
      const b = x.BoolExpr as { boolop?: string; args?: unknown[] };
      if (b.boolop === 'AND_EXPR') for (const a of b.args ?? []) visit(a);
      return;
    }
    const e = x?.A_Expr as { kind?: string; name?: Array<{ String?: { sval?: string } }>; lexpr?: unknown; rexpr?: unknown } | undefined;
    if (!e) return;
    const op = e.name?.[0]?.String?.sval;
    const kind: ColumnUse['kind'] | undefined =
      (e.kind === 'AEXPR_OP' || e.kind === 'AEXPR_OP_ANY') && op === '=' ? 'eq' : e.kind === 'AEXPR_OP' && ['<', '>', '<=', '>='].includes(op ?? '') ? 'range' : e.kind === 'AEXPR_IN' ? 'eq' : e.kind?.startsWith('AEXPR_BETWEEN') ? 'range' : undefined;
    if (!kind) return;
    for (const side of [e.lexpr, e.rexpr]) {
      const c = columnOf(side);
      if (c) out.push({ ...c, kind });
    }
  };
  visit(ast);
  return out;
}

/** The columns of one table (by its alias or unqualified) for an index: equalities first, then one range column. */
function indexColumns(uses: ColumnUse[], alias: string | undefined, table: string): string[] {
  const mine = uses.filter((u) => u.qualifier === undefined || u.qualifier === alias || u.qualifier === table);
  const eq = [...new Set(mine.filter((u) => u.kind === 'eq').map((u) => u.column))];
  const range = mine.find((u) => u.kind === 'range' && !eq.includes(u.column));
  return range ? [...eq, range.column] : eq;
}

const SCAN_TYPES = new Set(['Seq Scan', 'Bitmap Heap Scan', 'Index Scan']);

/** Index candidates from a plan (alone), at most one per table and columns. */
export function indexCandidates(plan: CapturedPlan | undefined): IndexCandidate[] {
  const nodes = flattenPlan(plan?.json?.Plan as Json | undefined);
  const parent = new Map<PlanNode, PlanNode>();
  for (const n of nodes) for (const c of n.children) parent.set(c, n);
  const out: IndexCandidate[] = [];
  const add = (c: IndexCandidate) => {
    if (c.columns.length === 0 || out.some((o) => o.table === c.table && o.columns.join() === c.columns.join())) return;
    out.push(c);
  };
  for (const n of nodes) {
    const r = n.raw;
    const table = str(r, 'Relation Name');
    if (!table) continue;
    const alias = str(r, 'Alias');
    const loops = Math.max(1, num(r, 'Actual Loops'));
    // A filter that throws away most rows read.
    const removed = num(r, 'Rows Removed by Filter') * loops;
    const kept = num(r, 'Actual Rows') * loops;
    const filter = str(r, 'Filter');
    if (SCAN_TYPES.has(n.type) && filter && removed >= 1000 && removed / (removed + kept) >= 0.9) {
      add({
        table,
        columns: indexColumns(comparedColumns(filter), alias, table),
        node: n.label,
        reason: `${n.label} ${rowsRead(r, table)} (${filter})`,
      });
    }
    // A sequential scan feeding a join on an equality: an index on its join column lets a nested loop look rows up.
    if (n.type === 'Seq Scan' && num(r, 'Actual Rows') * loops >= 1000) {
      let up = parent.get(n);
      while (up && ['Hash', 'Materialize', 'Memoize', 'Sort', 'HashAggregate', 'Unique', 'Aggregate'].includes(up.type)) up = parent.get(up);
      const cond = up ? (str(up.raw, 'Hash Cond') ?? str(up.raw, 'Merge Cond') ?? str(up.raw, 'Join Filter')) : undefined;
      if (up && cond) {
        const cols = comparedColumns(cond).filter((u) => u.kind === 'eq' && (u.qualifier === alias || u.qualifier === table));
        add({
          table,
          columns: [...new Set(cols.map((u) => u.column))],
          node: n.label,
          reason: `${n.label} ${rowsRead(r, table)} to feed ${up.label} (${cond})`,
        });
      }
    }
    // A sort under a Limit over one table's scan.
    const p = parent.get(n);
    const sort = p?.type === 'Sort' ? p : undefined;
    if (sort && parent.get(sort)?.type === 'Limit' && Array.isArray(sort.raw['Sort Key'])) {
      const keys = (sort.raw['Sort Key'] as string[]).map((k) => /^(?:(\w+)\.)?("?[\w$]+"?)( DESC)?(?: NULLS (?:FIRST|LAST))?$/.exec(k.trim()));
      if (keys.every((m) => m && (m[1] === undefined || m[1] === alias || m[1] === table))) {
        add({
          table,
          columns: keys.map((m) => `${m![2].replace(/^"|"$/g, '')}${m![3] ?? ''}`),
          node: sort.label,
          reason: `${sort.label} sorts ${fmtInt(num(r, 'Actual Rows') * loops)} rows of ${table} for a Limit of ${fmtInt(num(parent.get(sort)!.raw, 'Actual Rows'))}`,
        });
      }
    }
  }
  return out.slice(0, 5);
}

/**
 * Leaves out the candidates an existing index already serves (its leading columns are the candidate's): suggesting
 * one would be wrong — the planner had that index and chose otherwise. Says which were left out, in `notes`.
 */
export async function withoutExistingIndexes(client: Client, candidates: IndexCandidate[], notes: string[]): Promise<IndexCandidate[]> {
  if (candidates.length === 0) return candidates;
  const tables = [...new Set(candidates.map((c) => c.table))];
  const r = await client.query<{ tbl: string; name: string; cols: string[] }>(
    `SELECT t.tbl, i.indexrelid::regclass::text AS name,
            array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols
       FROM unnest($1::text[]) AS t(tbl)
       JOIN pg_index i ON i.indrelid = to_regclass(quote_ident(t.tbl))
      WHERE i.indisvalid`,
    [tables],
  );
  const bare = (c: string) => c.replace(/ DESC$/, '');
  return candidates.filter((c) => {
    const want = c.columns.map(bare);
    const have = r.rows.find((x) => x.tbl === c.table && x.cols.length >= want.length && want.every((col) => x.cols.slice(0, want.length).includes(col)));
    if (have) notes.push(`${c.table} (${want.join(', ')}) is already indexed (${have.name}): ${c.reason}, and the planner chose that with the index there, so no index is suggested for it.`);
    return !have;
  });
}

/** What a run found: the candidates and their check (null when HypoPG is not installed). */
export interface IndexAdvice {
  candidates: IndexCandidate[];
  checked: { checked: CheckedCandidate[]; notes: string[] } | null;
}

export interface CheckedCandidate {
  candidate: IndexCandidate;
  verified: { method: 'hypopg'; costBefore: number; costAfter: number; planShape: string } | null;
  /** Checked and the planner would use it for a lower cost. */
  helps: boolean;
}

const shapeOf = (plan: Json): string =>
  flattenPlan(plan)
    .slice(0, 6)
    .map((n) => n.label.replace(/ #\d+$/, '').replace(/<\d+>btree_\S+/, 'the new index'))
    .join(' → ');

/**
 * Checks each candidate with HypoPG on `client`, inside a transaction begun by `begin` (read-only) and rolled back.
 * Returns null when HypoPG is not installed in the database.
 */
export async function checkWithHypopg(
  client: Client,
  sql: string,
  values: Array<string | null> | undefined,
  candidates: IndexCandidate[],
  begin: string[],
): Promise<{ checked: CheckedCandidate[]; notes: string[] } | null> {
  if (candidates.length === 0) return { checked: [], notes: [] };
  const installed = (await client.query<{ v: string }>(withInternalMark("SELECT extversion AS v FROM pg_extension WHERE extname = 'hypopg'"))).rows.length > 0;
  if (!installed) return null;
  const explain = async () => {
    const r = await client.query({ text: withInternalMark(`EXPLAIN (FORMAT JSON) ${sql}`), rowMode: 'array', queryMode: 'extended', ...(values?.length ? { values } : {}) });
    const raw = r.rows[0]?.[0] as unknown;
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: Json }>;
    return parsed[0].Plan;
  };
  const checked: CheckedCandidate[] = [];
  const notes: string[] = [];
  for (const q of begin) await client.query(withInternalMark(q));
  try {
    const before = await explain();
    const costBefore = num(before, 'Total Cost');
    for (const c of candidates) {
      try {
        const made = (await client.query<{ indexname: string }>(withInternalMark('SELECT indexname FROM hypopg_create_index($1)'), [indexSql(c, false)])).rows[0];
        const after = await explain();
        await client.query(withInternalMark('SELECT hypopg_reset()'));
        const costAfter = num(after, 'Total Cost');
        const used = made !== undefined && JSON.stringify(after).includes(made.indexname);
        const helps = used && costAfter <= costBefore * 0.9;
        checked.push({ candidate: c, verified: { method: 'hypopg', costBefore, costAfter, planShape: shapeOf(after) }, helps });
        if (!helps) notes.push(`HypoPG: ${indexSql(c)} ${used ? `would lower the plan's cost only from ${costBefore.toFixed(0)} to ${costAfter.toFixed(0)}` : 'would not be used by the planner'}; not suggested.`);
      } catch (err) {
        notes.push(`HypoPG could not check ${indexSql(c)}: ${errorMessage(err)}`);
        break;
      }
    }
  } finally {
    await client.query(withInternalMark('ROLLBACK')).catch(() => undefined);
  }
  return { checked, notes };
}

/** Hints from the checked candidates (or the unchecked ones when HypoPG is missing). */
export function indexHints(candidates: IndexCandidate[], result: { checked: CheckedCandidate[] } | null): Hint[] {
  if (result === null) {
    return candidates.map((c) => ({
      id: 'index-suggestion' as const,
      severity: 'info' as const,
      title: `An index on ${c.table} (${c.columns.join(', ')}) may help — not checked`,
      detail: `${c.reason}; not checked — install HypoPG to check: pgload then asks the planner with a hypothetical index, which builds nothing.`,
      node: c.node,
      action: 'CREATE EXTENSION hypopg (Debian/Ubuntu: the postgresql-NN-hypopg package; on RDS and Aurora it is available), then run again; or try the index on a copy of the database.',
      sql: `${indexSql(c)};`,
      verified: null,
    }));
  }
  return result.checked
    .filter((x) => x.helps)
    .map(({ candidate: c, verified: v }) => ({
      id: 'index-suggestion' as const,
      severity: v!.costAfter <= v!.costBefore * 0.5 ? ('warning' as const) : ('info' as const),
      title: `An index on ${c.table} (${c.columns.join(', ')}) would cut the plan's cost ${(v!.costBefore / Math.max(v!.costAfter, 0.01)).toFixed(1)}× (checked with HypoPG)`,
      detail: `${c.reason}. With a hypothetical index the planner's estimate drops from ${v!.costBefore.toFixed(0)} to ${v!.costAfter.toFixed(0)}, with the plan ${v!.planShape}. Costs are the planner's estimates: measure after building it.`,
      node: c.node,
      action: 'Build it without blocking writes (CONCURRENTLY, outside a transaction), then profile again to measure the gain under load.',
      sql: `${indexSql(c)};`,
      verified: v,
    }));
}

/**
 * What a scan read, as its own figures say: the rows it read and kept per execution, and how often it ran (a scan
 * under a nested loop, or a hash built in every parallel worker, reads its table more than once).
 */
export function rowsRead(r: Json, table: string): string {
  const loops = Math.max(1, num(r, 'Actual Loops'));
  const kept = num(r, 'Actual Rows');
  const removed = num(r, 'Rows Removed by Filter');
  const once = `${fmtInt(kept + removed)} rows of ${table}${removed > 0 ? ` and keeps ${fmtInt(kept)}` : ''}`;
  return loops > 1 ? `reads ${once} per execution, ${fmtInt(loops)} times (${fmtInt((kept + removed) * loops)} rows in all)` : `reads ${once}`;
}
