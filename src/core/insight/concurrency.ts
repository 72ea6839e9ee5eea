/**
 * Query shapes that hold up badly under concurrency, named with the plan's evidence — never rewritten for the user
 * (`pgload ab --sql-b` measures a rewrite):
 *  - an EXISTS / NOT EXISTS planned as a hash semi / anti join that reads a big table whole for few outer rows;
 *  - OFFSET pagination: rows computed on every request only to be skipped;
 *  - an aggregate over DISTINCT values, which sorts its whole input on every request;
 *  - a correlated SubPlan run once per outer row.
 * Each needs the plan's times (./nodeTime) to say how much of the execution it is.
 */
import type { CapturedPlan, Hint } from '../../shared/result';
import type { SqlStatement } from '../sql';
import { timeNodes, type TimedNode } from './nodeTime';
import type { PlanNode } from './plan';

type Json = Record<string, unknown>;
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);
const str = (n: Json, key: string): string | undefined => (typeof n[key] === 'string' ? (n[key] as string) : undefined);
const fmtInt = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const pct = (v: number) => `${(v * 100).toFixed(v >= 0.1 ? 0 : 1)} %`;

const SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan', 'Tid Scan', 'Tid Range Scan']);

/** Rows the scans under a node read from their tables (kept + removed by filters), over every loop. */
function rowsRead(n: PlanNode): { rows: number; tables: string[] } {
  let rows = 0;
  const tables = new Set<string>();
  const stack = [n];
  while (stack.length) {
    const x = stack.pop()!;
    if (SCANS.has(x.type)) {
      rows += (num(x.raw, 'Actual Rows') + num(x.raw, 'Rows Removed by Filter') + num(x.raw, 'Rows Removed by Index Recheck')) * Math.max(1, num(x.raw, 'Actual Loops'));
      const rel = str(x.raw, 'Relation Name');
      if (rel) tables.add(rel);
    }
    stack.push(...x.children);
  }
  return { rows, tables: [...tables] };
}

export function concurrencyHints(plan: CapturedPlan | undefined, statement: Pick<SqlStatement, 'usesOffset' | 'distinctAggregate' | 'existsSubquery'>): Hint[] {
  const root = plan?.json?.Plan as Json | undefined;
  if (!root) return [];
  const timed = timeNodes(root);
  const total = timed.reduce((a, t) => a + t.exclusiveMs, 0);
  if (total <= 0) return [];
  const incl = new Map<PlanNode, TimedNode>(timed.map((t) => [t.node, t]));
  const shareOf = (n: PlanNode) => incl.get(n)!.inclusiveMs / total;
  const hints: Hint[] = [];
  for (const t of timed) hints.push(...existsHints(t.node, shareOf, statement), ...offsetHints(t.node, shareOf, statement), ...subplanHints(t.node, shareOf));
  hints.push(...distinctHints(timed, shareOf, statement));
  return hints;
}

type ShareOf = (n: PlanNode) => number;

/** EXISTS / NOT EXISTS / IN as a hash join that reads the subquery's tables whole on every request. */
function existsHints(n: PlanNode, shareOf: ShareOf, statement: Pick<SqlStatement, 'existsSubquery'>): Hint[] {
  const hints: Hint[] = [];
  const r = n.raw;
  const join = str(r, 'Join Type');
  // EXISTS / NOT EXISTS / IN as a hash join that reads the subquery's tables whole: a semi or anti join (PostgreSQL 18's
  // "Right" variants hash the outer side and probe with the subquery), or a join over the subquery's distinct values.
  const right = join === 'Right Semi' || join === 'Right Anti';
  const uniquified = n.children[1]?.type === 'Hash' && ['HashAggregate', 'Unique', 'Aggregate'].includes(n.children[1].children[0]?.type ?? '') && statement.existsSubquery;
  if (n.type === 'Hash Join' && n.children.length === 2 && (join === 'Semi' || join === 'Anti' || right || uniquified)) {
    const [outerSide, subquerySide] = right ? [n.children[1], n.children[0]] : [n.children[0], n.children[1]];
    const outerRows = num(outerSide.raw, 'Actual Rows') * Math.max(1, num(outerSide.raw, 'Actual Loops'));
    const inner = rowsRead(subquerySide);
    if (inner.rows >= 10_000 && inner.rows >= 20 * Math.max(1, outerRows)) {
      const what = join === 'Anti' || join === 'Right Anti' ? 'NOT EXISTS' : 'EXISTS';
      const how = uniquified ? 'a hash join over the distinct values of the subquery' : `a hash ${join!.toLowerCase()} join`;
      hints.push({
        id: 'exists-hash-semi',
        severity: shareOf(subquerySide) >= 0.3 ? 'warning' : 'info',
        title: `The ${what} reads ${inner.tables.join(', ') || 'its tables'} whole on every request`,
        detail:
          `${n.label} is ${how}: to check the ${what} for ${fmtInt(outerRows)} outer rows it reads ${fmtInt(inner.rows)} rows ` +
          `(${pct(shareOf(subquerySide))} of the execution)${str(r, 'Hash Cond') ? `, on ${str(r, 'Hash Cond')}` : ''}. Under concurrency every request reads them again, and the requests compete for CPU and memory. ` +
          'A nested-loop semi join through an index on the correlated columns would look up about one index entry per outer row instead.',
        // Pinned where its time is: the side that reads the subquery's rows.
        node: subquerySide.label,
        action: `Index the columns the ${what} correlates on (see the index advice when HypoPG checked one); if you rewrite the query, measure it: pgload ab --sql-b.`,
      });
    }
  }
  return hints;
}

/** OFFSET: the Limit throws away rows its input computed. */
function offsetHints(n: PlanNode, shareOf: ShareOf, statement: Pick<SqlStatement, 'usesOffset'>): Hint[] {
  const hints: Hint[] = [];
  const r = n.raw;
  if (n.type === 'Limit' && statement.usesOffset && n.children.length > 0) {
    const emitted = num(r, 'Actual Rows');
    const computed = num(n.children[0].raw, 'Actual Rows');
    const skipped = computed - emitted;
    if (skipped >= 1000 && skipped >= emitted) {
      hints.push({
        id: 'offset-pagination',
        severity: 'warning',
        title: `OFFSET computes ${fmtInt(skipped)} rows on every request only to skip them`,
        detail: `${n.label} returned ${fmtInt(emitted)} rows of the ${fmtInt(computed)} below it (${pct(shareOf(n))} of the execution is this Limit and what feeds it): each deeper page costs more, for every user at once.`,
        node: n.label,
        action: 'Keyset pagination: remember the sort key of the last row shown and ask for WHERE (sort key) > (last value) ORDER BY sort key LIMIT n, with an index on the sort key.',
      });
    }
  }
  return hints;
}

/** A correlated SubPlan, once per outer row. */
function subplanHints(n: PlanNode, shareOf: ShareOf): Hint[] {
  const hints: Hint[] = [];
  const r = n.raw;
  if (str(r, 'Parent Relationship') === 'SubPlan' && num(r, 'Actual Loops') >= 100 && shareOf(n) >= 0.1) {
    hints.push({
      id: 'per-row-subplan',
      severity: shareOf(n) >= 0.3 ? 'warning' : 'info',
      title: `A subquery runs once per row: ${fmtInt(num(r, 'Actual Loops'))} times`,
      detail: `${n.label} (${str(r, 'Subplan Name') ?? 'SubPlan'}) ran ${fmtInt(num(r, 'Actual Loops'))} times, ${pct(shareOf(n))} of the execution: a correlated subquery in the select list or a filter the planner could not turn into a join.`,
      node: n.label,
      action: 'Rewrite it as a JOIN (or LATERAL, or an EXISTS the planner can make a semi join) and compare the two with pgload ab --sql-b.',
    });
  }
  return hints;
}

/** count(DISTINCT …): the aggregate sorts its input (inside itself before PostgreSQL 16, a Sort node below it after). */
function distinctHints(timed: TimedNode[], shareOf: ShareOf, statement: Pick<SqlStatement, 'distinctAggregate'>): Hint[] {
  const hints: Hint[] = [];
  if (statement.distinctAggregate) {
    const agg = timed.find((t) => t.node.type === 'Aggregate' && (num(t.node.raw, 'Actual Rows') <= 1000 || t.node.children[0]?.type === 'Sort'));
    if (agg) {
      const input = agg.node.children[0]?.type === 'Sort' ? agg.node.children[0] : agg.node;
      const rows = num((input === agg.node ? agg.node.children[0] ?? agg.node : input).raw, 'Actual Rows');
      if (rows >= 10_000) {
        hints.push({
          id: 'distinct-sort',
          severity: 'info',
          title: `An aggregate over DISTINCT values sorts ${fmtInt(rows)} rows on every request`,
          detail: `${agg.node.label} computes an aggregate over DISTINCT values (e.g. count(DISTINCT …)), which sorts its input (${pct(shareOf(agg.node))} of the execution): under concurrency each request needs its own sort memory and CPU.`,
          node: agg.node.label,
          action: 'SELECT count(*) FROM (SELECT DISTINCT … ) s lets the planner use a hash aggregate or an index; or keep the figure in a summary table. Measure a rewrite with pgload ab --sql-b.',
        });
      }
    }
  }
  return hints;
}
