/**
 * Where a plan's time goes: each node's exclusive time (its own, without its children's), with loops and parallel
 * workers accounted for, its share of the whole, and what it does in words.
 *
 * EXPLAIN ANALYZE gives each node's time per loop, children included. A node's inclusive time is that × its loops;
 * inside a parallel section (under Gather / Gather Merge) the loops are the processes that ran it, so the time is
 * divided by those processes (the leader and the workers launched) to read as wall-clock time. Exclusive = inclusive −
 * the children's inclusive. A CTE's plan (an InitPlan "CTE x") runs as its CTE Scans pull rows, so its time is taken
 * out of those scans, not out of the node it hangs under. Rounding and timing overhead can make a difference
 * slightly negative: it is clamped at 0. Linear in the number of nodes.
 */
import type { PlanNodeTime } from '../../shared/result';
import { flattenPlan, ownCount, type PlanNode } from './plan';

type Json = Record<string, unknown>;
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);
const str = (n: Json, key: string): string | undefined => (typeof n[key] === 'string' ? (n[key] as string) : undefined);
// Thousands separated by commas (toLocaleString is slow over thousands of nodes).
function fmtInt(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  let out = digits.length > 3 ? '' : digits;
  if (digits.length > 3) for (let i = digits.length; i > 0; i -= 3) out = digits.slice(Math.max(0, i - 3), i) + (out ? `,${out}` : '');
  return n < 0 ? `-${out}` : out;
}

export interface TimedNode {
  node: PlanNode;
  parent: PlanNode | undefined;
  inclusiveMs: number;
  exclusiveMs: number;
}

/** Inclusive and exclusive time of every node, in depth-first order. */
export function timeNodes(root: Json | undefined): TimedNode[] {
  const nodes = flattenPlan(root);
  // Arrays indexed by the nodes' depth-first ids (id − 1): a plan of thousands of nodes is read in a few milliseconds.
  // Processes sharing a node's work: those of the nearest Gather above it (its workers + the leader).
  const processes = new Float64Array(nodes.length);
  const inclusive = new Float64Array(nodes.length);
  const cteTime = new Map<string, number>();
  const cteScans = new Map<string, number>();
  for (const n of nodes) {
    const i = n.id - 1;
    const p = n.parent;
    let k = p ? processes[p.id - 1] : 1;
    if (p && (p.type === 'Gather' || p.type === 'Gather Merge')) k = num(p.raw, 'Workers Launched') + (p.raw['Single Copy'] === true ? 0 : 1);
    processes[i] = Math.max(1, k);
    inclusive[i] = (n.totalMs * n.loops) / processes[i];
    const sub = str(n.raw, 'Subplan Name');
    if (sub?.startsWith('CTE ') && str(n.raw, 'Parent Relationship') === 'InitPlan') cteTime.set(sub.slice(4), inclusive[i]);
    if (n.type === 'CTE Scan') {
      const name = str(n.raw, 'CTE Name') ?? '';
      cteScans.set(name, (cteScans.get(name) ?? 0) + 1);
    }
  }
  return nodes.map((n) => {
    const i = n.id - 1;
    let own = inclusive[i];
    for (const c of n.children) {
      const sub = str(c.raw, 'Subplan Name');
      // A CTE's time is in the scans that read it (they pull its rows), not in the node it is attached to.
      if (sub?.startsWith('CTE ') && cteScans.has(sub.slice(4))) continue;
      own -= inclusive[c.id - 1];
    }
    if (n.type === 'CTE Scan') {
      const name = str(n.raw, 'CTE Name') ?? '';
      own -= (cteTime.get(name) ?? 0) / cteScans.get(name)!;
    }
    return { node: n, parent: n.parent, inclusiveMs: inclusive[i], exclusiveMs: Math.max(0, own) };
  });
}

/** Every node's exclusive time and share (shares add up to 1), and what it does; the plan's order is kept. */
export function nodeTimes(root: Json | undefined): PlanNodeTime[] {
  const timed = timeNodes(root);
  const total = timed.reduce((a, t) => a + t.exclusiveMs, 0);
  const parentOf = (n: PlanNode) => n.parent;
  const depth = new Int32Array(timed.length);
  return timed.map((t) => {
    const d = t.parent ? depth[t.parent.id - 1] + 1 : 0;
    depth[t.node.id - 1] = d;
    const r = t.node.raw;
    return {
      node: t.node.label,
      exclusiveMs: round3(t.exclusiveMs),
      share: total > 0 ? t.exclusiveMs / total : 0,
      what: describeNode(t, parentOf),
      depth: d,
      rows: { estimated: num(r, 'Plan Rows'), actual: t.node.rows, loops: t.node.loops },
      blocks: { hit: ownCount(t.node, 'Shared Hit Blocks'), read: ownCount(t.node, 'Shared Read Blocks'), temp: ownCount(t.node, 'Temp Written Blocks') + ownCount(t.node, 'Temp Read Blocks') },
    };
  });
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** What the node is for, from the join it feeds (through Hash, Materialize, Memoize and the like). */
function purpose(t: TimedNode, parentOf: (n: PlanNode) => PlanNode | undefined): string {
  let child = t.node;
  let p = t.parent;
  while (p && ['Hash', 'Materialize', 'Memoize', 'Gather', 'Gather Merge', 'Sort', 'Incremental Sort', 'Unique'].includes(p.type)) {
    child = p;
    p = parentOf(p);
  }
  if (!p) return '';
  const join = str(p.raw, 'Join Type');
  // The inner side of a semi / anti join is the EXISTS / NOT EXISTS (or IN / NOT IN) being checked.
  const inner = p.children.length > 1 && p.children[1] === child;
  if (join === 'Semi' && inner) return ' to check the EXISTS';
  if (join === 'Anti' && inner) return ' to check the NOT EXISTS';
  if (str(t.node.raw, 'Parent Relationship') === 'SubPlan') return ` for a SubPlan run once per outer row`;
  return '';
}

function describeNode(t: TimedNode, parentOf: (n: PlanNode) => PlanNode | undefined): string {
  const r = t.node.raw;
  const rows = t.node.rows;
  const loops = t.node.loops;
  const times = loops > 1 ? `, ${fmtInt(loops)} times` : '';
  const per = loops > 1 ? ' each time' : '';
  const rel = str(r, 'Relation Name');
  const why = purpose(t, parentOf);
  if (loops === 0) return 'never ran';
  switch (t.node.type) {
    case 'Seq Scan': {
      const removed = num(r, 'Rows Removed by Filter');
      const read = rows + removed;
      return removed > 0 ? `scans all ${fmtInt(read)} rows of ${rel}${per} and keeps ${fmtInt(rows)}${times}${why}` : `scans all ${fmtInt(read)} rows of ${rel}${per}${times}${why}`;
    }
    case 'Index Scan':
    case 'Index Only Scan':
      return `reads ${fmtInt(rows)} row${rows === 1 ? '' : 's'} of ${rel} through ${str(r, 'Index Name')}${per}${times}${why}`;
    case 'Bitmap Heap Scan':
      return `fetches ${fmtInt(rows)} row${rows === 1 ? '' : 's'} of ${rel} found by a bitmap${per}${times}${why}`;
    case 'Bitmap Index Scan':
      return `finds rows through ${str(r, 'Index Name')}${times}`;
    case 'Hash': {
      const batches = num(r, 'Hash Batches');
      return `builds a hash table of ${fmtInt(rows)} rows${batches > 1 ? ` in ${batches} batches (spilled to disk)` : ''}${why}`;
    }
    case 'Hash Join':
    case 'Merge Join':
    case 'Nested Loop': {
      const join = str(r, 'Join Type');
      const kind = join === 'Semi' ? 'keeps the rows for which the EXISTS holds' : join === 'Anti' ? 'keeps the rows for which the NOT EXISTS holds' : `joins into ${fmtInt(rows)} rows`;
      return `${t.node.type.toLowerCase()}: ${kind}${join === 'Semi' || join === 'Anti' ? ` (${fmtInt(rows)} rows)` : ''}${times}${why}`;
    }
    case 'Sort':
    case 'Incremental Sort': {
      const method = str(r, 'Sort Method');
      return `sorts ${fmtInt(rows)} rows${method ? ` (${method})` : ''}${times}${why}`;
    }
    case 'Aggregate':
    case 'HashAggregate':
    case 'GroupAggregate':
      return `aggregates into ${fmtInt(rows)} row${rows === 1 ? '' : 's'}${times}${why}`;
    case 'Limit':
      return `stops after ${fmtInt(rows)} rows`;
    case 'Gather':
    case 'Gather Merge':
      return `collects ${fmtInt(rows)} rows from ${num(r, 'Workers Launched')} parallel workers and the leader`;
    case 'CTE Scan':
      return `reads ${fmtInt(rows)} rows of the CTE ${str(r, 'CTE Name')}${times}`;
    default:
      return `${t.node.type.toLowerCase()}: ${fmtInt(rows)} rows${times}${why}`;
  }
}
