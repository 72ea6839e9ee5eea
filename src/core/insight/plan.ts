/**
 * Reading EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plans: hints with the numbers, the node and an action;
 * work_mem advice that counts the concurrency; and what changed between the plan alone and under load.
 * Pure and linear in the number of nodes (a 5,000-node plan is analysed in milliseconds).
 */
import type { CapturedPlan, Hint, PlanDiff, PlanDiffRow, PlanNodeFigures } from '../../shared/result';

type Json = Record<string, unknown>;

export interface PlanNode {
  /** 1-based, in depth-first order from the root (as a person counts the lines of EXPLAIN). */
  id: number;
  /** Below a Limit: the node may stop early, so fewer rows than planned is expected there. */
  underLimit: boolean;
  type: string;
  /** `Sort #3`, `Seq Scan on orders #5`. */
  label: string;
  raw: Json;
  children: PlanNode[];
  parent?: PlanNode;
  /** EXPLAIN's figures read once: Actual Total Time (per loop), Actual Loops, Actual Rows (per loop). */
  totalMs: number;
  loops: number;
  rows: number;
}

export interface PlanContext {
  /** The server's block size in bytes (block_size). */
  blockSize: number;
  workMemKB: number;
  hashMemMultiplier: number;
  sharedBuffersKB: number;
  /** Concurrent clients of the run: what a setting costs when every one of them runs the query. */
  clients: number;
  /**
   * The server's memory (kB) and where the figure comes from: given by the user (--server-memory), this machine's
   * (a server on localhost), or null — then it is estimated as 4 × shared_buffers (the usual 25 % rule) and said so.
   */
  serverMemoryKB?: number | null;
  serverMemorySource?: 'given' | 'local machine' | null;
}

const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);
const str = (n: Json, key: string): string | undefined => (typeof n[key] === 'string' ? (n[key] as string) : undefined);

/** `4MB` / `64kB` / `1GB` / `8192` (kB) → kB. */
export function parseMemoryKB(setting: string | undefined): number | null {
  if (!setting) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(kB|MB|GB|TB)?\s*$/i.exec(setting);
  if (!m) return null;
  const factor: Record<string, number> = { kb: 1, mb: 1024, gb: 1024 * 1024, tb: 1024 * 1024 * 1024 };
  return Number(m[1]) * factor[(m[2] ?? 'kB').toLowerCase()];
}

/** kB → `64MB`, `512kB`, `1.5GB`, as PostgreSQL settings are written. */
export function formatMemoryKB(kb: number): string {
  if (kb >= 1024 * 1024) return `${trimNum(kb / (1024 * 1024))}GB`;
  if (kb >= 1024) return `${trimNum(kb / 1024)}MB`;
  return `${Math.round(kb)}kB`;
}

function trimNum(v: number): string {
  return v >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}

/** Bytes → `312 kB`, `4.6 MB`, as people read sizes. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${trimNum(bytes / 1024 ** 3)} GB`;
  if (bytes >= 1024 ** 2) return `${trimNum(bytes / 1024 ** 2)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${Math.round(bytes)} B`;
}
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Flattened plans, kept while their JSON lives: the hints, the node times and the diff read the same plan. */
const flattened = new WeakMap<Json, PlanNode[]>();

/** The plan's nodes in depth-first order (iterative: deep plans do not overflow the stack). Read-only: shared by callers. */
export function flattenPlan(root: Json | undefined): PlanNode[] {
  if (!root) return [];
  let known = flattened.get(root);
  if (!known) {
    known = flattenOnce(root);
    flattened.set(root, known);
  }
  return known;
}

function flattenOnce(root: Json): PlanNode[] {
  const out: PlanNode[] = [];
  const stack: Array<{ raw: Json; parent?: PlanNode }> = [{ raw: root }];
  while (stack.length) {
    const { raw, parent } = stack.pop()!;
    const type = str(raw, 'Node Type') ?? 'Node';
    // What it reads: a table, a CTE (`CTE Scan on c`) or a function (`Function Scan on generate_series`).
    const rel = str(raw, 'Relation Name') ?? str(raw, 'CTE Name') ?? str(raw, 'Function Name');
    const id = out.length + 1;
    const underLimit = parent !== undefined && (parent.underLimit || parent.type === 'Limit');
    const node: PlanNode = {
      id,
      type,
      underLimit,
      label: `${type}${rel ? ` on ${rel}` : ''} #${id}`,
      raw,
      children: [],
      parent,
      totalMs: num(raw, 'Actual Total Time'),
      loops: num(raw, 'Actual Loops'),
      rows: num(raw, 'Actual Rows'),
    };
    out.push(node);
    parent?.children.push(node);
    const kids = Array.isArray(raw.Plans) ? (raw.Plans as Json[]) : [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ raw: kids[i], parent: node });
  }
  return out;
}

/** A buffer count (e.g. 'Temp Written Blocks') of the node itself: EXPLAIN's counts include the children's. */
export function ownCount(n: PlanNode, key: string): number {
  let v = num(n.raw, key);
  for (const c of n.children) v -= num(c.raw, key);
  return Math.max(0, v);
}

/** Temp blocks written + read by the node itself. */
function exclusiveTemp(n: PlanNode): { written: number; read: number } {
  return { written: ownCount(n, 'Temp Written Blocks'), read: ownCount(n, 'Temp Read Blocks') };
}

interface Spill {
  node: PlanNode;
  /** Memory the node would need to stay in memory, kB. */
  neededKB: number;
  /** Whether its limit is work_mem × hash_mem_multiplier. */
  hash: boolean;
}

/** Hints from one plan. `when` tags what only showed under load. */
export function analyzePlan(plan: CapturedPlan, ctx: PlanContext): Hint[] {
  const root = plan.json?.Plan as Json | undefined;
  if (!root) return [];
  const nodes = flattenPlan(root);
  const spills: Spill[] = [];
  const hints: Hint[] = nodes.flatMap((n) => [...spillHints(n, ctx, spills), ...estimateHints(n), ...repeatHints(n, ctx)]);
  hints.push(...otherSpillHints(nodes, ctx, spills), ...tempIoHints(nodes, ctx, spills), ...wholePlanHints(root, plan, ctx));
  const advice = workMemAdvice(spills, ctx);
  if (advice) hints.push(advice);
  return hints;
}

const blocksText = (b: number, ctx: PlanContext) => formatBytes(b * ctx.blockSize);

/** A sort, a hash join's table or a hash aggregate that spilled to disk (each added to `spills` with the memory it needed). */
function spillHints(n: PlanNode, ctx: PlanContext, spills: Spill[]): Hint[] {
  const r = n.raw;
  const loops = num(r, 'Actual Loops');
  const hints: Hint[] = [];
  const workMem = formatMemoryKB(ctx.workMemKB);
  // Sort spilled to disk.
  const sortType = str(r, 'Sort Space Type');
  const sortMethod = str(r, 'Sort Method') ?? '';
  if (n.type === 'Sort' && (sortType === 'Disk' || /external/i.test(sortMethod))) {
    const usedKB = num(r, 'Sort Space Used');
    spills.push({ node: n, neededKB: usedKB * 2, hash: false });
    const key = Array.isArray(r['Sort Key']) ? (r['Sort Key'] as string[]).join(', ') : '';
    hints.push({
      id: 'sort-spill',
      severity: 'warning',
      title: 'A sort spilled to disk',
      detail: `${n.label} sorted ${fmtInt(num(r, 'Actual Rows') * Math.max(1, loops))} rows${key ? ` by ${key}` : ''} with "${sortMethod}" and wrote ${formatMemoryKB(usedKB)} to temporary files: work_mem (${workMem}) was too small.`,
      node: n.label,
      action: `Give this query more sort memory (SET LOCAL work_mem = '${formatMemoryKB(roundUpMB(usedKB * 2))}' in its transaction), or an index that delivers the rows in ${key ? 'that' : 'sorted'} order so no sort is needed.`,
      sql: `SET LOCAL work_mem = '${formatMemoryKB(roundUpMB(usedKB * 2))}';`,
    });
  }
  // Hash join batches.
  const batches = num(r, 'Hash Batches');
  if (n.type === 'Hash' && batches > 1) {
    const original = num(r, 'Original Hash Batches');
    const peak = num(r, 'Peak Memory Usage');
    spills.push({ node: n, neededKB: peak * batches * 1.25, hash: true });
    const grew = original > 0 && original < batches;
    hints.push({
      id: 'hash-batches',
      severity: 'warning',
      title: 'A hash join split its hash table into batches on disk',
      detail: `${n.label} used ${fmtInt(batches)} batches${grew ? ` (planned ${fmtInt(original)}: the planner expected fewer rows)` : ''}, ${formatMemoryKB(peak)} in memory per batch, for ${fmtInt(num(r, 'Actual Rows'))} rows; the limit is work_mem × hash_mem_multiplier = ${formatMemoryKB(ctx.workMemKB * ctx.hashMemMultiplier)}.`,
      node: n.label,
      action: grew
        ? 'Refresh statistics (ANALYZE) so the planner sizes the hash right, and give the query more hash memory for this query only.'
        : `Give this query more hash memory (SET LOCAL work_mem or hash_mem_multiplier in its transaction), or reduce the rows hashed (filter earlier, hash the smaller side).`,
      sql: `SET LOCAL work_mem = '${formatMemoryKB(roundUpMB((peak * batches * 1.25) / ctx.hashMemMultiplier))}';`,
    });
  }
  // Hash aggregate spilled.
  const aggBatches = num(r, 'HashAgg Batches');
  if (aggBatches > 1) {
    const disk = num(r, 'Disk Usage');
    const peak = num(r, 'Peak Memory Usage');
    spills.push({ node: n, neededKB: (peak + disk) * 1.5, hash: true });
    hints.push({
      id: 'hashagg-spill',
      severity: 'warning',
      title: 'A hash aggregate spilled to disk',
      detail: `${n.label} used ${fmtInt(aggBatches)} batches, ${formatMemoryKB(peak)} in memory and ${formatMemoryKB(disk)} on disk for ${fmtInt(num(r, 'Actual Rows'))} groups; the limit is work_mem × hash_mem_multiplier = ${formatMemoryKB(ctx.workMemKB * ctx.hashMemMultiplier)}.`,
      node: n.label,
      action: 'Give this query more hash memory for its transaction, or aggregate fewer groups (filter before grouping).',
      sql: `SET LOCAL work_mem = '${formatMemoryKB(roundUpMB(((peak + disk) * 1.5) / ctx.hashMemMultiplier))}';`,
    });
  }
  return hints;
}

/** Where the plan's picture was wrong or its resources short: workers not launched, rows misestimated, most rows filtered away. */
function estimateHints(n: PlanNode): Hint[] {
  const r = n.raw;
  const loops = num(r, 'Actual Loops');
  const hints: Hint[] = [];
  // Parallel workers planned but not launched.
  if (n.type === 'Gather' || n.type === 'Gather Merge') {
    const planned = num(r, 'Workers Planned');
    const launched = num(r, 'Workers Launched');
    if (planned > 0 && launched < planned) {
      hints.push({
        id: 'workers-not-launched',
        severity: 'warning',
        title: 'Parallel workers were planned but not launched',
        detail: `${n.label} planned ${planned} workers and got ${launched}: the server's pool of parallel workers (max_parallel_workers, max_worker_processes) was used up — typical when many sessions run parallel plans at once. The leader then does all the work the plan divided.`,
        node: n.label,
        action: 'Under concurrency, parallelism does not add capacity: consider max_parallel_workers_per_gather = 0 for this query (SET LOCAL) so its plan is costed for one process, or raise max_parallel_workers if the server has idle cores.',
        sql: 'SET LOCAL max_parallel_workers_per_gather = 0;',
      });
    }
  }
  // Row misestimate.
  if (loops > 0 && typeof r['Plan Rows'] === 'number') {
    const actual = num(r, 'Actual Rows') * loops;
    const planned = num(r, 'Plan Rows') * loops;
    const ratio = Math.max(actual, planned) / Math.max(1, Math.min(actual, planned));
    const stoppedEarly = n.underLimit && actual < planned;
    if (ratio >= 10 && Math.max(actual, planned) >= 100 && !stoppedEarly) {
      hints.push({
        id: 'row-misestimate',
        severity: ratio >= 100 ? 'warning' : 'info',
        title: `The planner misestimated rows ${Math.round(ratio)}×`,
        detail: `${n.label} expected ${fmtInt(planned)} rows and got ${fmtInt(actual)}${str(r, 'Filter') ? ` (filter: ${str(r, 'Filter')})` : ''}. Plans built on wrong row counts pick wrong join methods and memory sizes.`,
        node: n.label,
        action: 'Run ANALYZE on the tables involved; for correlated columns in the filter, CREATE STATISTICS (dependencies, mcv) on them.',
      });
    }
  }
  // Most rows removed by a filter.
  const removed = (num(r, 'Rows Removed by Filter') + num(r, 'Rows Removed by Join Filter')) * Math.max(1, loops);
  const kept = num(r, 'Actual Rows') * Math.max(1, loops);
  if (removed >= 10_000 && removed / (removed + kept) >= 0.9) {
    hints.push({
      id: 'filter-removes-most',
      severity: 'info',
      title: 'Most rows read were thrown away by a filter',
      detail: `${n.label} read ${fmtInt(removed + kept)} rows and kept ${fmtInt(kept)} (${((kept * 100) / (removed + kept)).toFixed(1)} %)${str(r, 'Filter') ? `; filter: ${str(r, 'Filter')}` : ''}.`,
      node: n.label,
      action: 'An index on the filtered columns (or a partial index for this condition) lets the server read only the rows it keeps.',
    });
  }
  return hints;
}

/** Work repeated or redone: a node run thousands of times, a memoize cache overflowing, a lossy bitmap. */
function repeatHints(n: PlanNode, ctx: PlanContext): Hint[] {
  const r = n.raw;
  const loops = num(r, 'Actual Loops');
  const hints: Hint[] = [];
  const workMem = formatMemoryKB(ctx.workMemKB);
  // Loop amplification.
  if (loops >= 1000) {
    hints.push({
      id: 'loop-amplification',
      severity: 'info',
      title: `A node ran ${fmtInt(loops)} times`,
      detail: `${n.label} was executed ${fmtInt(loops)} times (inside a nested loop), ${(num(r, 'Actual Total Time') * loops).toFixed(1)} ms in all.`,
      node: n.label,
      action: 'If the outer side is large, a hash or merge join (or an index that makes each loop cheap) scales better than repeating this node.',
    });
  }
  // Memoize evictions.
  if (n.type === 'Memoize' && num(r, 'Cache Evictions') > 0) {
    hints.push({
      id: 'memoize-evictions',
      severity: 'info',
      title: 'A memoize cache overflowed',
      detail: `${n.label} evicted ${fmtInt(num(r, 'Cache Evictions'))} entries (${fmtInt(num(r, 'Cache Hits'))} hits, ${fmtInt(num(r, 'Cache Misses'))} misses): its memory (work_mem × hash_mem_multiplier) was too small.`,
      node: n.label,
      action: 'More hash memory for this query keeps the cache whole.',
    });
  }
  // Lossy bitmap heap scan.
  if (num(r, 'Lossy Heap Blocks') > 0) {
    hints.push({
      id: 'lossy-bitmap',
      severity: 'info',
      title: 'A bitmap scan became lossy',
      detail: `${n.label} had ${fmtInt(num(r, 'Lossy Heap Blocks'))} lossy heap blocks (and ${fmtInt(num(r, 'Exact Heap Blocks'))} exact): with work_mem ${workMem} the bitmap kept whole pages, and every row on them had to be rechecked.`,
      node: n.label,
      action: 'More work_mem for this query keeps the bitmap exact.',
    });
  }
  return hints;
}

/**
 * Every other node that wrote temporary files spilled too (sorts inside aggregates, window functions, materialized and
 * CTE results, a hash join's outer batches, …): EXPLAIN gives no memory figure for those, so the memory it would need is
 * estimated from what it wrote.
 */
function otherSpillHints(nodes: PlanNode[], ctx: PlanContext, spills: Spill[]): Hint[] {
  const hints: Hint[] = [];
  const workMem = formatMemoryKB(ctx.workMemKB);
  const blocks = (b: number) => blocksText(b, ctx);
  const covered = new Set(spills.map((x) => x.node));
  // Scans of one CTE share its stored rows: one hint for the CTE, with what all its scans wrote.
  const cteWritten = new Map<string, number>();
  for (const n of nodes) {
    const cte = n.type === 'CTE Scan' ? str(n.raw, 'CTE Name') : undefined;
    if (cte !== undefined) cteWritten.set(cte, (cteWritten.get(cte) ?? 0) + exclusiveTemp(n).written);
  }
  const ctesHinted = new Set<string>();
  for (const n of nodes) {
    if (covered.has(n)) continue;
    const cte = n.type === 'CTE Scan' ? str(n.raw, 'CTE Name') : undefined;
    if (cte !== undefined && ctesHinted.has(cte)) continue;
    const written = cte !== undefined ? (cteWritten.get(cte) ?? 0) : exclusiveTemp(n).written;
    if (written <= 0) continue;
    // A hash join's outer batches are part of its Hash child's spill, already reported with that node.
    if (n.type === 'Hash Join' && n.children.some((c) => covered.has(c))) continue;
    if (cte !== undefined) ctesHinted.add(cte);
    const writtenKB = (written * ctx.blockSize) / 1024;
    const hash = /Hash|Memoize/.test(n.type) || str(n.raw, 'Strategy') === 'Hashed';
    // PostgreSQL 18 reports what a tuplestore held (window functions, CTEs, materialize); elsewhere the memory it would
    // need is estimated from what it wrote: in memory a row takes more room than in a temporary file, about twice.
    const storedKB = str(n.raw, 'Storage') === 'Disk' ? num(n.raw, 'Maximum Storage') : 0;
    const neededKB = storedKB > 0 ? storedKB * 1.5 : writtenKB * 2;
    const basis =
      storedKB > 0
        ? `The plan says it stored ${formatMemoryKB(storedKB)} on disk; in memory that takes about half again as much.`
        : `EXPLAIN reports no memory figure for this node, so the memory it would need is estimated from what it wrote (about twice the ${blocks(written)}: rows take more room in memory than on disk).`;
    spills.push({ node: n, neededKB, hash });
    const setting = formatMemoryKB(roundUpMB(hash ? neededKB / ctx.hashMemMultiplier : neededKB));
    hints.push({
      id: 'node-spill',
      severity: 'warning',
      title: `${spillWhat(n)} spilled to disk`,
      detail: `${n.label}${cte !== undefined ? ` (CTE ${cte})` : ''} wrote ${blocks(written)} to temporary files: ${spillWhy(n)} did not fit in work_mem (${workMem}${hash ? ` × hash_mem_multiplier ${ctx.hashMemMultiplier}` : ''}). ${basis}`,
      node: n.label,
      action: `Give this query more ${hash ? 'hash ' : ''}memory (SET LOCAL work_mem = '${setting}' in its transaction${storedKB > 0 ? '' : ' — an estimate; check that the temporary files are gone'}), or feed fewer rows into it.`,
      sql: `SET LOCAL work_mem = '${setting}';`,
    });
  }
  return hints;
}

/** Temporary file I/O by node, pointing at the spills behind it. */
function tempIoHints(nodes: PlanNode[], ctx: PlanContext, spills: Spill[]): Hint[] {
  const hints: Hint[] = [];
  const blocks = (b: number) => blocksText(b, ctx);
  // Temp I/O by node.
  const temp = nodes.map((n) => ({ n, ...exclusiveTemp(n) })).filter((t) => t.written + t.read > 0).sort((a, b) => b.written + b.read - (a.written + a.read));
  if (temp.length > 0) {
    const total = temp.reduce((a, t) => a + t.written + t.read, 0);
    hints.push({
      id: 'temp-io',
      severity: total * ctx.blockSize >= 1024 * 1024 ? 'warning' : 'info',
      title: 'Temporary files were written and read',
      detail: `${temp
        .slice(0, 4)
        .map((t) => `${t.n.label} wrote ${blocks(t.written)} and read ${blocks(t.read)}`)
        .join('; ')}. Under concurrency every session does this at once, on the same disk.`,
      node: temp[0].n.label,
      action: spills.length > 0
        ? `See the spill ${spills.length === 1 ? 'hint' : 'hints'} for ${spills.map((x) => x.node.label).join(', ')} and the work_mem advice: more memory for this query, or less data into ${spills.length === 1 ? 'that node' : 'those nodes'}.`
        : 'More memory for this query (SET LOCAL work_mem), or less data into the nodes that wrote them.',
    });
  }
  return hints;
}

/** Figures of the whole plan: cache misses (the root's buffers count everything), JIT and planning time. */
function wholePlanHints(root: Json, plan: CapturedPlan, ctx: PlanContext): Hint[] {
  const hints: Hint[] = [];
  const blocks = (b: number) => blocksText(b, ctx);
  // Cache misses (whole plan: the root's buffer counts include everything).
  const hit = num(root, 'Shared Hit Blocks');
  const read = num(root, 'Shared Read Blocks');
  if (read >= 1000 && read / (read + hit) >= 0.1) {
    hints.push({
      id: 'cache-misses',
      severity: 'info',
      title: 'Much of the data was not in shared buffers',
      detail: `The query read ${blocks(read)} from the OS cache or disk and found ${blocks(hit)} in shared buffers (${((read * 100) / (read + hit)).toFixed(0)} % misses; shared_buffers is ${formatMemoryKB(ctx.sharedBuffersKB)}).`,
      action: 'Repeated runs warm the cache; if misses stay high, the working set is larger than shared_buffers: read less (indexes, narrower rows) or give the server more memory.',
    });
  }

  // JIT and planning time (top level of the EXPLAIN output).
  const json = plan.json ?? {};
  const exec = plan.executionMs ?? 0;
  const jitTotal = (((json.JIT as Json | undefined)?.Timing as Json | undefined)?.Total as number | undefined) ?? 0;
  if (jitTotal >= 5 && exec > 0 && jitTotal / exec >= 0.1) {
    hints.push({
      id: 'jit-time',
      severity: 'warning',
      title: 'JIT compilation took a large share of the time',
      detail: `JIT took ${jitTotal.toFixed(1)} ms of the ${exec.toFixed(1)} ms execution (${((jitTotal * 100) / exec).toFixed(0)} %): the plan's cost crossed jit_above_cost, but the query is too short to win it back.`,
      action: 'Turn JIT off for this query (SET LOCAL jit = off) or raise jit_above_cost.',
      sql: 'SET LOCAL jit = off;',
    });
  }
  const planning = plan.planningMs ?? 0;
  if (planning >= 1 && planning > exec) {
    hints.push({
      id: 'planning-time',
      severity: 'info',
      title: 'Planning took longer than executing',
      detail: `Planning took ${planning.toFixed(2)} ms and execution ${exec.toFixed(2)} ms.`,
      action: 'Prepared statements (or your driver\'s statement cache) plan once and execute many times; for an ORM, check that it reuses prepared statements.',
    });
  }
  return hints;
}

/** What spilled, as a title: "A window function", "An aggregate's own sort". */
function spillWhat(n: PlanNode): string {
  switch (n.type) {
    case 'Aggregate':
      return str(n.raw, 'Strategy') === 'Hashed' ? 'A hash aggregate' : "An aggregate's own sort";
    case 'WindowAgg':
      return 'A window function';
    case 'Materialize':
      return 'A materialized join input';
    case 'CTE Scan':
      return 'A CTE result';
    case 'Incremental Sort':
      return 'An incremental sort';
    case 'SetOp':
    case 'HashSetOp':
      return 'A set operation';
    case 'Recursive Union':
      return 'A recursive query';
    case 'Hash Join':
      return "A hash join's outer side";
    case 'Memoize':
      return 'A memoize cache';
    case 'Function Scan':
      return "A function's result set";
    default:
      return `A ${n.type} node`;
  }
}

/** What did not fit in memory, in words. */
function spillWhy(n: PlanNode): string {
  switch (n.type) {
    case 'Aggregate':
      return 'the rows it sorts itself (count(DISTINCT …), an ORDER BY inside the aggregate, or an ordered-set aggregate such as percentile_cont)';
    case 'WindowAgg':
      return "the window's partition, which it keeps to compute each row's frame";
    case 'Materialize':
      return 'the inner side it keeps to scan again for every outer row';
    case 'CTE Scan':
      return "the CTE's rows, kept to be read more than once";
    case 'Incremental Sort':
      return 'a group of rows it sorts';
    case 'SetOp':
    case 'HashSetOp':
      return 'the rows of the INTERSECT / EXCEPT';
    case 'Recursive Union':
      return "the recursive query's working rows";
    case 'Hash Join':
      return 'the outer rows of the batches not yet joined';
    case 'Memoize':
      return 'its cache of inner results';
    case 'Function Scan':
      return 'the rows the function returned (kept before they are read)';
    default:
      return 'its working rows';
  }
}

function roundUpMB(kb: number): number {
  const mb = Math.max(1, Math.ceil(kb / 1024));
  return Math.pow(2, Math.ceil(Math.log2(mb))) * 1024;
}

/** The work_mem that keeps every spilling node in memory, and what it would cost at this run's concurrency. */
function workMemAdvice(spills: Spill[], ctx: PlanContext): Hint | undefined {
  if (spills.length === 0) return undefined;
  const neededKB = Math.max(...spills.map((s) => (s.hash ? s.neededKB / ctx.hashMemMultiplier : s.neededKB)));
  const suggested = Math.max(roundUpMB(neededKB), ctx.workMemKB * 2);
  const perQueryKB = spills.reduce((a, s) => a + suggested * (s.hash ? ctx.hashMemMultiplier : 1), 0);
  const atConcurrency = perQueryKB * ctx.clients;
  // work_mem is each backend's private memory, outside shared_buffers: what it risks is the server's RAM, less
  // shared_buffers. A quarter of what is left is the line: the rest serves every other session, connection and the
  // OS cache the server relies on.
  const given = ctx.serverMemoryKB ?? null;
  const ramKB = given ?? ctx.sharedBuffersKB * 4;
  const ramText =
    given !== null
      ? `the server's ${formatMemoryKB(ramKB)} of memory (${ctx.serverMemorySource === 'local machine' ? "this machine's" : 'as given'})`
      : `the server's memory, estimated as ${formatMemoryKB(ramKB)} (4 × shared_buffers, the usual sizing — give the real figure with --server-memory)`;
  const freeKB = Math.max(0, ramKB - ctx.sharedBuffersKB);
  const share = freeKB > 0 ? atConcurrency / freeKB : Infinity;
  const fit = perQueryKB > 0 ? Math.floor((freeKB * 0.25) / perQueryKB) : 0;
  const dangerous = share >= 0.25;
  const nodesText = spills.length === 1 ? spills[0].node.label : `${spills.length} nodes (${spills.map((s) => s.node.label).join(', ')})`;
  const pct = (x: number) => (x >= 10 ? `${x.toFixed(0)}×` : x < 0.01 ? 'under 1 %' : `${Math.round(x * 100)} %`);
  return {
    id: 'work-mem-advice',
    severity: 'warning',
    title: `work_mem ${formatMemoryKB(suggested)} would keep this query in memory — ${dangerous ? `but not for ${ctx.clients} at once` : `affordable at ${ctx.clients} at once`}`,
    detail:
      `With work_mem = ${formatMemoryKB(suggested)} (now ${formatMemoryKB(ctx.workMemKB)}), ${nodesText} would not spill. ` +
      `Each execution could then use up to ${formatMemoryKB(perQueryKB)}${spills.some((s) => s.hash) ? ` (hash nodes get work_mem × hash_mem_multiplier ${ctx.hashMemMultiplier})` : ''} of private memory, outside shared_buffers; ` +
      `with ${ctx.clients} concurrent client${ctx.clients === 1 ? '' : 's'} that is up to ${formatMemoryKB(atConcurrency)} at once. ` +
      `Against ${ramText}, less shared_buffers (${formatMemoryKB(ctx.sharedBuffersKB)}), that is ${pct(share)} of the ${formatMemoryKB(freeKB)} left; ` +
      `about ${fit.toLocaleString('en-US')} such execution${fit === 1 ? '' : 's'} at once fit in a quarter of it (the rest is for other sessions, connections and the OS cache).`,
    action: dangerous
      ? `Do not raise work_mem for the whole server, and keep fewer than ${Math.max(1, fit)} of these running at once (the pool size): every session of every query would be allowed that much per sort and hash. Set it for this query only, inside its transaction — in SQLAlchemy, execute the SET LOCAL right after the transaction begins.`
      : `Set it for this query only (SET LOCAL in its transaction); raising it server-wide affects every query's sorts and hashes.`,
    sql: `SET LOCAL work_mem = '${formatMemoryKB(suggested)}';`,
  };
}

/** Hints from both plans: those seen only under load are marked so, and each appears once. */
/** What makes two hints "the same": their kind and node, whatever the node's number in its plan. */
export const hintKey = (h: Hint): string => `${h.id}|${(h.node ?? '').replace(/ #\d+$/, '')}`;

export function combineHints(alone: Hint[], underLoad: Hint[]): Hint[] {
  const key = hintKey;
  const seen = new Map<string, Hint>();
  for (const h of alone) if (!seen.has(key(h))) seen.set(key(h), h);
  for (const h of underLoad) {
    if (seen.has(key(h))) continue;
    seen.set(key(h), { ...h, title: `Under load: ${h.title}` });
  }
  const order = { critical: 0, warning: 1, info: 2 } as const;
  return [...seen.values()].sort((a, b) => order[a.severity] - order[b.severity]);
}

function figures(n: PlanNode): PlanNodeFigures {
  const r = n.raw;
  return {
    totalMs: num(r, 'Actual Total Time'),
    rows: num(r, 'Actual Rows'),
    loops: num(r, 'Actual Loops'),
    workersLaunched: typeof r['Workers Launched'] === 'number' ? (r['Workers Launched'] as number) : null,
    tempBlocks: num(r, 'Temp Written Blocks') + num(r, 'Temp Read Blocks'),
    sharedReadBlocks: num(r, 'Shared Read Blocks'),
  };
}

/** What changed between the plan alone and the plan under load. */
export function diffPlans(alone: CapturedPlan | undefined, underLoad: CapturedPlan | undefined, blockSize: number): PlanDiff | null {
  const a = flattenPlan(alone?.json?.Plan as Json | undefined);
  const b = flattenPlan(underLoad?.json?.Plan as Json | undefined);
  if (a.length === 0 || b.length === 0) return null;
  const sameShape = a.length === b.length && a.every((n, i) => n.type === b[i].type && str(n.raw, 'Relation Name') === str(b[i].raw, 'Relation Name'));
  const notes: string[] = [];
  if (!sameShape) {
    notes.push(`The plan under load differs from the plan alone: ${a.map((n) => n.type).join(' → ')} became ${b.map((n) => n.type).join(' → ')}. Something the planner sees (e.g. fewer parallel workers, other settings) changed its choice.`);
    return { sameShape, notes, rows: [] };
  }
  const rows: PlanDiffRow[] = a.map((n, i) => ({ node: n.label, alone: figures(n), underLoad: figures(b[i]) }));
  for (const r of rows) {
    if (r.alone.workersLaunched !== null && r.underLoad.workersLaunched !== null && r.underLoad.workersLaunched < r.alone.workersLaunched) {
      notes.push(`${r.node} launched ${r.underLoad.workersLaunched} parallel workers under load, ${r.alone.workersLaunched} alone.`);
    }
    if (r.underLoad.tempBlocks > r.alone.tempBlocks) {
      notes.push(`${r.node} used ${formatBytes((r.underLoad.tempBlocks - r.alone.tempBlocks) * blockSize)} more temporary files under load.`);
    }
  }
  const rootA = rows[0].alone;
  const rootB = rows[0].underLoad;
  if (rootB.sharedReadBlocks > rootA.sharedReadBlocks * 2 && rootB.sharedReadBlocks - rootA.sharedReadBlocks >= 100) {
    notes.push(`Under load the query read ${formatBytes((rootB.sharedReadBlocks - rootA.sharedReadBlocks) * blockSize)} more outside shared buffers.`);
  }
  const slowest = rows
    .filter((r) => r.alone.totalMs > 0.1)
    .map((r) => ({ r, growth: (r.underLoad.totalMs * Math.max(1, r.underLoad.loops)) / (r.alone.totalMs * Math.max(1, r.alone.loops)) }))
    .sort((x, y) => y.growth - x.growth)[0];
  if (slowest && slowest.growth >= 1.5) {
    notes.push(`${slowest.r.node} took ${slowest.growth.toFixed(1)}× as long under load (${slowest.r.alone.totalMs.toFixed(1)} → ${slowest.r.underLoad.totalMs.toFixed(1)} ms per loop): it waited for CPU, I/O or locks that other sessions held.`);
  }
  if (rootB.totalMs > 0 && rootA.totalMs > 0) {
    notes.unshift(`Same plan shape. The whole plan took ${rootA.totalMs.toFixed(1)} ms alone and ${rootB.totalMs.toFixed(1)} ms under load (${(rootB.totalMs / rootA.totalMs).toFixed(1)}×).`);
  }
  return { sameShape, notes, rows };
}
