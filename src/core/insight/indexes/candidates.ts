/**
 * Index candidates from a plan, built the way index advisors build them — not one guess per scan but the shapes an
 * expert would try, for the search (`search.ts`) to check with the planner:
 *  - from a scan's own conditions (filter, index condition) and the equalities of every join above it that involve
 *    its table: equality columns first, then one range column or the order a sort under a Limit wants;
 *  - both orders of a lookup key and a filter (which leads is the planner's to say: the search tries both);
 *  - covering variants (`INCLUDE` the columns the scan outputs, so that it can be index-only), when the plan's
 *    outputs are known (EXPLAIN VERBOSE);
 *  - partial indexes for a constant predicate (`WHERE status = 'paid'`), keyed on the rest;
 *  - expression indexes when a filter applies a function to a column (`lower(email) = …`).
 * Pure: the plan in, candidates out, at most MAX_CANDIDATES, the scans that read most first.
 */
import type { CapturedPlan } from '../../../shared/result';
import { parseExpression } from '../../sql';
import { flattenPlan, type PlanNode } from '../plan';

type Json = Record<string, unknown>;
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);
const str = (n: Json, key: string): string | undefined => (typeof n[key] === 'string' ? (n[key] as string) : undefined);
export const fmtInt = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** How many candidates one plan gives the search at most (each costs a few planner calls). */
export const MAX_CANDIDATES = 14;

export type CandidateKind = 'single' | 'composite' | 'covering' | 'partial' | 'expression';

export interface IndexCandidate {
  table: string;
  /** Key columns in index order, each possibly with ` DESC`, or an expression in parentheses: `(lower(email))`. */
  columns: string[];
  /** Non-key columns stored in the index (`INCLUDE`), so that a scan can be index-only. */
  include?: string[];
  /** A partial index's predicate, without the table's alias. */
  where?: string;
  kind: CandidateKind;
  node: string;
  /** Why, with the plan's numbers. */
  reason: string;
  /** An existing index this one would make redundant (its columns lead this one's), named by the catalog check. */
  replaces?: string;
}

const ident = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
const keyColumn = (x: string) => (x.startsWith('(') ? x : x.replace(/^(\S+)(.*)$/, (_, name: string, rest: string) => ident(name) + rest));

export function indexSql(c: IndexCandidate, concurrently = true): string {
  const include = c.include?.length ? ` INCLUDE (${c.include.map(ident).join(', ')})` : '';
  const where = c.where ? ` WHERE ${c.where}` : '';
  return `CREATE INDEX${concurrently ? ' CONCURRENTLY' : ''} ON ${c.table.split('.').map(ident).join('.')} (${c.columns.map(keyColumn).join(', ')})${include}${where}`;
}

/** A candidate's identity: two candidates that would build the same index are one. */
export const candidateKey = (c: IndexCandidate): string => indexSql(c, false);

export interface ColumnUse {
  qualifier?: string;
  column: string;
  kind: 'eq' | 'range';
}

/** One comparison of a condition: its text (a whole AND-ed term), the columns it compares and what with. */
interface Term {
  text: string;
  uses: ColumnUse[];
  /** The other side is a constant word (no column, parameter or number): a predicate a partial index can carry. */
  constant: boolean;
  /** A function applied to the column side (`lower(email)`), with the column it reads. */
  expression?: { text: string; qualifier?: string; column: string };
}

/** The AND-ed terms of an EXPLAIN condition, as written (EXPLAIN parenthesizes each), quotes respected. */
export function conjuncts(expr: string): string[] {
  const split = (s: string): string[] => {
    const out: string[] = [];
    let depth = 0;
    let quote = '';
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (quote) {
        if (ch === quote) quote = '';
        continue;
      }
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (depth === 0 && s.startsWith(' AND ', i)) {
        out.push(s.slice(start, i).trim());
        start = i + 5;
      }
    }
    out.push(s.slice(start).trim());
    return out;
  };
  let s = expr.trim();
  // Unwrap parentheses that enclose the whole text, then split at the top level.
  while (s.startsWith('(') && s.endsWith(')') && closingOf(s, 0) === s.length - 1) s = s.slice(1, -1).trim();
  const parts = split(s);
  return parts.length > 1 ? parts : [expr.trim()];
}

function closingOf(s: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

const columnOf = (node: unknown): { qualifier?: string; column: string } | undefined => {
  let x = node as Json | undefined;
  while (x && 'TypeCast' in x) x = (x.TypeCast as Json).arg as Json;
  const ref = x?.ColumnRef as { fields?: Array<{ String?: { sval?: string } }> } | undefined;
  const names = ref?.fields?.map((f) => f.String?.sval).filter((v): v is string => !!v) ?? [];
  if (names.length === 0) return undefined;
  return { qualifier: names.length > 1 ? names[names.length - 2] : undefined, column: names[names.length - 1] };
};
const mentions = (node: unknown, key: string): boolean => JSON.stringify(node ?? null).includes(`"${key}"`);

/** Columns compared with something (=, <, >, BETWEEN, IN) in an EXPLAIN expression, ANDed together; [] when it does not parse. */
export function comparedColumns(expr: string): ColumnUse[] {
  return conjuncts(expr).flatMap((t) => termOf(t)?.uses ?? []);
}

function termOf(text: string): Term | undefined {
  const whole = text.trim();
  // Parse the term without its enclosing parentheses, so that the parser's offsets point into `body`.
  const body = whole.startsWith('(') && closingOf(whole, 0) === whole.length - 1 ? whole.slice(1, -1).trim() : whole;
  const ast = parseExpression(body) as Json | undefined;
  const e = ast?.A_Expr as { kind?: string; name?: Array<{ String?: { sval?: string } }>; lexpr?: unknown; rexpr?: unknown; location?: number } | undefined;
  if (!e) return undefined;
  const op = e.name?.[0]?.String?.sval;
  const kind: ColumnUse['kind'] | undefined =
    (e.kind === 'AEXPR_OP' || e.kind === 'AEXPR_OP_ANY') && op === '=' ? 'eq' : e.kind === 'AEXPR_OP' && ['<', '>', '<=', '>='].includes(op ?? '') ? 'range' : e.kind === 'AEXPR_IN' ? 'eq' : e.kind?.startsWith('AEXPR_BETWEEN') ? 'range' : undefined;
  if (!kind) return undefined;
  const uses: ColumnUse[] = [];
  for (const side of [e.lexpr, e.rexpr]) {
    const c = columnOf(side);
    if (c) uses.push({ ...c, kind });
  }
  const valueSide = (side: unknown) => !mentions(side, 'ColumnRef') && !mentions(side, 'ParamRef') && !mentions(side, 'SubLink');
  // A number in the statement is usually one request's value (an id); a word (a status, a kind) is the query's own.
  const value = columnOf(e.lexpr) ? e.rexpr : e.lexpr;
  const constant = uses.length === 1 && valueSide(value) && !/"A_Const":\{"(ival|fval)"/.test(JSON.stringify(value ?? null)) && !/(InitPlan|SubPlan) \d/.test(body);
  let expression: Term['expression'];
  // A function over one column on the left, a value on the right: `lower(email) = 'x'`. The operator's offset ends the left side.
  const fn = (e.lexpr as Json | undefined)?.FuncCall;
  const refs = [...JSON.stringify(fn ?? null).matchAll(/"ColumnRef":\{"fields":\[([^\]]*)\]/g)].map((m) => [...m[1].matchAll(/"sval":"([^"]*)"/g)].map((x) => x[1]));
  if (fn && refs.length === 1 && uses.length === 0 && valueSide(e.rexpr) && typeof e.location === 'number' && !/(InitPlan|SubPlan) \d/.test(body)) {
    const left = body.slice(0, e.location - 'SELECT 1 WHERE '.length).trim();
    const names = refs[0];
    if (left) expression = { text: left, qualifier: names.length > 1 ? names[names.length - 2] : undefined, column: names[names.length - 1] };
  }
  return { text: body, uses, constant: constant && kind === 'eq', expression };
}

/** A scan of one table and everything the plan asks of it. */
interface ScanNeeds {
  node: PlanNode;
  table: string;
  alias?: string;
  /** Rows the scan read in all (kept + removed, × loops): the scans that read most come first. */
  rowsRead: number;
  filterEq: string[];
  filterRange: string[];
  joinEq: string[];
  sortKeys?: string[];
  constants: Term[];
  expressions: Term[];
  /** Why it is a candidate, with the plan's numbers. */
  why: string;
}

const SCAN_TYPES = new Set(['Seq Scan', 'Bitmap Heap Scan', 'Index Scan', 'Index Only Scan']);
const JOIN_CONDS = ['Hash Cond', 'Merge Cond', 'Join Filter'];
const PASS_THROUGH = ['Hash', 'Materialize', 'Memoize', 'Sort', 'HashAggregate', 'Unique', 'Aggregate', 'Incremental Sort'];

/** What a plan asks of each table it scans, for the scans worth an index: a filter that throws rows away, a read feeding a join, an order under a Limit. */
function scanNeeds(nodes: PlanNode[]): ScanNeeds[] {
  const out: ScanNeeds[] = [];
  for (const n of nodes) {
    const r = n.raw;
    const table = str(r, 'Relation Name');
    if (!table || !SCAN_TYPES.has(n.type)) continue;
    const alias = str(r, 'Alias');
    const mine = (u: { qualifier?: string }, own: boolean) => (own && u.qualifier === undefined) || u.qualifier === alias || u.qualifier === table;
    const loops = Math.max(1, num(r, 'Actual Loops'));
    const removed = num(r, 'Rows Removed by Filter') * loops;
    const kept = num(r, 'Actual Rows') * loops;
    const own = [str(r, 'Filter'), str(r, 'Index Cond'), str(r, 'Recheck Cond')].filter((x): x is string => !!x).flatMap(conjuncts).map(termOf).filter((t): t is Term => !!t);
    const ownUses = own.flatMap((t) => t.uses).filter((u) => mine(u, true));
    const joinEq: string[] = [];
    const joins: string[] = [];
    for (let up = n.parent; up; up = up.parent) {
      if (PASS_THROUGH.includes(up.type)) continue;
      for (const k of JOIN_CONDS) {
        const cond = str(up.raw, k);
        if (!cond) continue;
        const cols = comparedColumns(cond).filter((u) => u.kind === 'eq' && u.qualifier !== undefined && mine(u, false));
        if (cols.length) joins.push(`${up.label} (${cond})`);
        joinEq.push(...cols.map((u) => u.column));
      }
    }
    const sortKeys = sortUnderLimit(n, alias, table);
    const filter = str(r, 'Filter');
    const whys: string[] = [];
    if (filter && removed >= 1000 && removed / (removed + kept) >= 0.9) whys.push(`${n.label} ${rowsRead(r, table)} (${filter})`);
    if (n.type === 'Seq Scan' && kept >= 1000 && joins.length) whys.push(`${n.label} ${rowsRead(r, table)} to feed ${joins.join(', ')}`);
    if (sortKeys) whys.push(`${sortKeys.sort.label} sorts ${fmtInt(kept)} rows of ${table} for a Limit of ${fmtInt(num(sortKeys.limit.raw, 'Actual Rows'))}`);
    if (whys.length === 0) continue;
    out.push({
      node: n,
      table,
      alias,
      rowsRead: kept + removed,
      filterEq: uniq(ownUses.filter((u) => u.kind === 'eq').map((u) => u.column)),
      filterRange: uniq(ownUses.filter((u) => u.kind === 'range').map((u) => u.column)),
      joinEq: uniq(joinEq),
      sortKeys: sortKeys?.keys,
      constants: own.filter((t) => t.constant && t.uses.some((u) => mine(u, true))),
      expressions: own.filter((t) => t.expression && (t.expression.qualifier === undefined || t.expression.qualifier === alias)),
      why: whys.join('; '),
    });
  }
  return out.sort((a, b) => b.rowsRead - a.rowsRead);
}

const uniq = (xs: string[]) => [...new Set(xs)];

/** The keys of a Sort under a Limit above this scan, when all of them are this table's columns. */
function sortUnderLimit(n: PlanNode, alias: string | undefined, table: string): { keys: string[]; sort: PlanNode; limit: PlanNode } | undefined {
  for (let up = n.parent; up; up = up.parent) {
    if (up.type !== 'Sort' || up.parent?.type !== 'Limit' || !Array.isArray(up.raw['Sort Key'])) continue;
    const keys = (up.raw['Sort Key'] as string[]).map((k) => /^(?:(\w+)\.)?("?[\w$]+"?)( DESC)?(?: NULLS (?:FIRST|LAST))?$/.exec(k.trim()));
    // Unqualified keys belong to the scan only when it is the Sort's only table.
    const single = up.children.length === 1 && up.children[0] === n;
    if (!keys.every((m) => m && (m[1] === undefined ? single : m[1] === alias || m[1] === table))) return undefined;
    return { keys: keys.map((m) => `${m![2].replace(/^"|"$/g, '')}${m![3] ?? ''}`), sort: up, limit: up.parent };
  }
  return undefined;
}

/** The key shapes for one scan, most specific first. */
function shapesOf(s: ScanNeeds, outputs: string[] | undefined): Array<Omit<IndexCandidate, 'table' | 'node' | 'reason'>> {
  const out: Array<Omit<IndexCandidate, 'table' | 'node' | 'reason'>> = [];
  const tail = s.sortKeys ?? s.filterRange.filter((c) => !s.filterEq.includes(c)).slice(0, 1);
  const eq = s.filterEq.filter((c) => !s.joinEq.includes(c));
  const kindOf = (cols: string[]): CandidateKind => (cols.length > 1 ? 'composite' : 'single');
  const push = (columns: string[], extra: Partial<IndexCandidate> = {}) => {
    const cols = uniq(columns).filter((c) => c.length > 0);
    if (cols.length > 0) out.push({ columns: cols, kind: extra.kind ?? kindOf(cols), ...extra });
  };
  // Partial: a constant predicate becomes the index's WHERE, the rest its key — led by the order or range wanted
  // (ORDER BY … LIMIT reads the first rows of the index), or by the join key.
  const partials = () => {
    for (const t of s.constants) {
      const col = t.uses[0].column;
      const others = eq.filter((c) => c !== col);
      const ownTail = tail.filter((c) => c.replace(/ DESC$/, '') !== col);
      const where = s.alias ? t.text.split(`${s.alias}.`).join('') : t.text;
      if (ownTail.length) push([...others, ...ownTail], { where, kind: 'partial' });
      if (s.joinEq.length) push([s.joinEq[0], ...others], { where, kind: 'partial' });
      if (!ownTail.length && !s.joinEq.length && others.length) push(others, { where, kind: 'partial' });
    }
  };
  // The filter's equalities, then the range or the order wanted; then the same within a constant predicate.
  push([...eq, ...tail.filter((c) => !eq.includes(c.replace(/ DESC$/, '')))]);
  const lookups = out.slice();
  partials();
  // A lookup by the join key, narrowed by the filter; and the other way round.
  for (const j of s.joinEq) {
    const first = out.length;
    push([j, ...eq, ...s.joinEq.filter((x) => x !== j)]);
    if (out.length > first && lookups.length < 2) lookups.push(out[first]);
    if (eq.length) push([...eq, j]);
  }
  for (const j of s.joinEq) push([j]);
  // Covering: the first shapes with the columns the scan outputs, so that it can be index-only.
  if (outputs) {
    for (const base of lookups.slice(0, 2)) {
      const key = base.columns.map((c) => c.replace(/ DESC$/, ''));
      const include = uniq([...outputs, ...s.filterEq, ...s.filterRange]).filter((c) => !key.includes(c));
      if (include.length > 0 && include.length <= 4) out.push({ columns: base.columns, include, kind: 'covering' });
    }
  }
  // Expression: the function the filter applies.
  for (const t of s.expressions) {
    const text = s.alias ? t.expression!.text.split(`${s.alias}.`).join('') : t.expression!.text;
    push([`(${text})`], { kind: 'expression' });
  }
  return out;
}

/**
 * Index candidates from a plan (alone): for each scan worth one, the shapes above. `outputs` gives, by table alias,
 * the columns each scan outputs (from EXPLAIN VERBOSE), for covering candidates; without it there are none.
 */
export function indexCandidates(plan: CapturedPlan | undefined, outputs?: Map<string, string[]>): IndexCandidate[] {
  const out: IndexCandidate[] = [];
  const seen = new Set<string>();
  const perScan = scanNeeds(flattenPlan(plan?.json?.Plan as Json | undefined)).map((s) =>
    shapesOf(s, outputs?.get(s.alias ?? s.table)).map((shape) => ({ ...shape, table: s.table, node: s.node.label, reason: s.why })),
  );
  // Round-robin over the scans, so that a scan with many shapes does not crowd out the next one.
  for (let i = 0; out.length < MAX_CANDIDATES && perScan.some((xs) => i < xs.length); i++) {
    for (const xs of perScan) {
      const c = xs[i];
      if (!c || out.length >= MAX_CANDIDATES || seen.has(candidateKey(c))) continue;
      seen.add(candidateKey(c));
      out.push(c);
    }
  }
  return out;
}

/** The columns each scan outputs, by alias, from an EXPLAIN (VERBOSE) plan: what a covering index must hold. */
export function scanOutputs(verbosePlan: Json | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of flattenPlan(verbosePlan)) {
    const table = str(n.raw, 'Relation Name');
    const output = n.raw.Output;
    if (!table || !Array.isArray(output)) continue;
    const alias = str(n.raw, 'Alias') ?? table;
    const cols = (output as string[]).map((o) => /^(?:(\w+)\.)?"?([\w$]+)"?$/.exec(o.trim())).filter((m) => m && (m[1] === undefined || m[1] === alias)).map((m) => m![2]);
    out.set(alias, uniq([...(out.get(alias) ?? []), ...cols]));
  }
  return out;
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
