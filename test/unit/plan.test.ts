import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzePlan, combineHints, diffPlans, flattenPlan, formatMemoryKB, parseMemoryKB, type PlanContext } from '../../src/core/insight/plan';
import type { CapturedPlan } from '../../src/shared/result';

const dir = path.resolve(__dirname, '../fixtures/plans');

interface Fixture {
  server: string;
  scenario: string;
  settings: Record<string, string>;
  plan: CapturedPlan;
}

function load(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Fixture;
}

function context(f: Fixture, clients = 10): PlanContext {
  return {
    blockSize: Number(f.settings.block_size) || 8192,
    workMemKB: parseMemoryKB(f.settings.work_mem)!,
    hashMemMultiplier: Number(f.settings.hash_mem_multiplier) || 1,
    sharedBuffersKB: parseMemoryKB(f.settings.shared_buffers)!,
    clients,
  };
}

const SPILL = ['temp-io', 'work-mem-advice'];
const VERSIONS = [13, 14, 15, 16, 17, 18];
/** The hints each scenario gives on each major: exactly these, or (where the planner differs by version) at least these. */
function expected(major: number, scenario: string): { exactly?: string[]; includes?: string[] } {
  switch (scenario) {
    case 'sort-spill':
      return { exactly: ['sort-spill', ...SPILL] };
    case 'hash-batches':
      return { exactly: ['hash-batches', ...SPILL] };
    case 'hashagg-spill':
      return { exactly: ['hashagg-spill', ...SPILL] };
    case 'workers-not-launched':
      return { exactly: ['workers-not-launched'] };
    case 'misestimate':
      return { exactly: ['row-misestimate', 'filter-removes-most'] };
    // PostgreSQL 16 plans a Sort under a DISTINCT aggregate; before, the Aggregate sorts itself, with no sort figures.
    case 'distinct-agg':
      return { exactly: [major >= 16 ? 'sort-spill' : 'node-spill', ...SPILL] };
    case 'ordered-set-agg':
    case 'window-spill':
      return { exactly: ['node-spill', ...SPILL] };
    // Before 17 the CTE self-join is planned as a merge join with sorts; from 17 as a hash join over the CTE scans.
    case 'cte-spill':
      return major >= 17 ? { exactly: ['node-spill', ...SPILL, 'filter-removes-most'] } : { includes: ['node-spill', 'sort-spill', ...SPILL] };
    default:
      throw new Error(scenario);
  }
}
const SCENARIOS = ['sort-spill', 'hash-batches', 'hashagg-spill', 'workers-not-launched', 'misestimate', 'distinct-agg', 'ordered-set-agg', 'window-spill', 'cte-spill'];
const SPILL_IDS = new Set(['sort-spill', 'hash-batches', 'hashagg-spill', 'node-spill']);

describe('Plan analysis on saved real plans', () => {
  for (const major of VERSIONS) {
    for (const scenario of SCENARIOS) {
      const want = expected(major, scenario);
      it(`PostgreSQL ${major} ${scenario}: ${(want.exactly ?? want.includes)!.join(', ')}`, () => {
        const f = load(`pg${major}-${scenario}`);
        assert.match(f.server, new RegExp(`^${major}\\.`));
        const hints = analyzePlan(f.plan, context(f));
        const ids = hints.map((h) => h.id);
        if (want.exactly) assert.deepEqual([...ids].sort(), [...want.exactly].sort());
        for (const id of want.includes ?? []) assert.ok(ids.includes(id as never), `${id} among ${ids.join(', ')}`);
        for (const h of hints) {
          assert.ok(h.title && h.detail && h.action, h.id);
          if (h.node) assert.match(h.node, /#\d+$/);
        }
      });
    }
  }

  it('every node that wrote temporary files, on every major, has a spill hint with a work_mem, and no hint points at one that is not there', () => {
    let checked = 0;
    for (const major of VERSIONS) {
      for (const scenario of SCENARIOS) {
        const f = load(`pg${major}-${scenario}`);
        const hints = analyzePlan(f.plan, context(f));
        const spilled = new Set(hints.filter((h) => SPILL_IDS.has(h.id)).map((h) => h.node));
        const nodes = flattenPlan(f.plan.json!.Plan as Record<string, unknown>);
        const written = (n: (typeof nodes)[number]) => Number(n.raw['Temp Written Blocks'] ?? 0) - n.children.reduce((a, c) => a + Number(c.raw['Temp Written Blocks'] ?? 0), 0);
        for (const n of nodes) {
          if (written(n) <= 0) continue;
          checked++;
          // A hash join's outer batches belong to its Hash child's hint; scans of one CTE share one hint.
          const byChild = n.type === 'Hash Join' && n.children.some((c) => spilled.has(c.label));
          const byCte = n.type === 'CTE Scan' && nodes.some((m) => m.type === 'CTE Scan' && m.raw['CTE Name'] === n.raw['CTE Name'] && spilled.has(m.label));
          assert.ok(spilled.has(n.label) || byChild || byCte, `pg${major} ${scenario}: ${n.label} wrote temporary files and has no spill hint (${[...spilled].join(', ')})`);
        }
        for (const h of hints.filter((x) => SPILL_IDS.has(x.id))) assert.match(h.sql ?? '', /^SET LOCAL work_mem = '\d+(kB|MB|GB)';$/, `${h.id} ${h.node}`);
        const tempIo = hints.find((h) => h.id === 'temp-io');
        if (tempIo) {
          const named = /See the spill hints? for (.+) and the work_mem advice/.exec(tempIo.action)?.[1] ?? '';
          for (const label of named.split(', ')) assert.ok(spilled.has(label), `pg${major} ${scenario}: the temp-io hint points at "${label}", which has no spill hint`);
          assert.ok(named.length > 0, tempIo.action);
          assert.ok(hints.some((h) => h.id === 'work-mem-advice'), 'the advice it points at is there');
        }
      }
    }
    assert.ok(checked >= 40, `${checked} spilling nodes checked`);
  });

  it('an aggregate that sorts inside itself (count(DISTINCT) before PostgreSQL 16) gets a spill hint estimated from its temporary blocks, and says so', () => {
    const f = load('pg15-distinct-agg');
    const h = analyzePlan(f.plan, context(f)).find((x) => x.id === 'node-spill')!;
    assert.equal(h.title, "An aggregate's own sort spilled to disk");
    assert.match(h.node!, /^Aggregate #1$/);
    assert.match(h.detail, /wrote \d+(\.\d)? MB to temporary files: the rows it sorts itself \(count\(DISTINCT …\)/);
    assert.match(h.detail, /estimated from what it wrote/);
    assert.match(h.action, /an estimate; check that the temporary files are gone/);
  });

  it('a window function on PostgreSQL 18 is sized from the plan\'s own Maximum Storage', () => {
    const f = load('pg18-window-spill');
    const h = analyzePlan(f.plan, context(f)).find((x) => x.id === 'node-spill')!;
    assert.equal(h.title, 'A window function spilled to disk');
    assert.match(h.detail, /The plan says it stored \d+kB on disk/);
    assert.doesNotMatch(h.action, /an estimate/);
  });

  it('work_mem advice weighs memory per execution × clients against the server\'s memory less shared_buffers, and says how many fit', () => {
    const f = load('pg18-hash-batches');
    const ctx = context(f, 100);
    const given = analyzePlan(f.plan, { ...ctx, serverMemoryKB: 16 * 1024 * 1024, serverMemorySource: 'given' }).find((h) => h.id === 'work-mem-advice')!;
    assert.match(given.detail, /Against the server's 16GB of memory \(as given\), less shared_buffers \(128MB\), that is [\d.]+ (%|×) of the 16GB left; about [\d,]+ such executions at once fit in a quarter of it/);
    const guessed = analyzePlan(f.plan, ctx).find((h) => h.id === 'work-mem-advice')!;
    assert.match(guessed.detail, /estimated as 512MB \(4 × shared_buffers, the usual sizing — give the real figure with --server-memory\)/);
    // The same memory per execution is affordable for few clients on a big server and not for many on a small one.
    const small = analyzePlan(f.plan, { ...context(f, 200), serverMemoryKB: 1024 * 1024, serverMemorySource: 'given' }).find((h) => h.id === 'work-mem-advice')!;
    const big = analyzePlan(f.plan, { ...context(f, 2), serverMemoryKB: 64 * 1024 * 1024, serverMemorySource: 'given' }).find((h) => h.id === 'work-mem-advice')!;
    assert.match(small.title, /but not for 200 at once/);
    assert.match(small.action, /Do not raise work_mem for the whole server, and keep fewer than \d+ of these running at once/);
    assert.match(big.title, /affordable at 2 at once/);
  });

  it('the sort spill names its size and the sort key, and suggests a power-of-two work_mem', () => {
    const f = load('pg18-sort-spill');
    const spill = analyzePlan(f.plan, context(f)).find((h) => h.id === 'sort-spill')!;
    assert.match(spill.detail, /^Sort #\d+ sorted 60,000 rows by (ins_sort\.)?payload with "external merge" and wrote \d+(\.\d)?MB to temporary files: work_mem \(64kB\) was too small\.$/);
    assert.match(spill.sql!, /^SET LOCAL work_mem = '(1|2|4|8|16|32)MB';$/);
  });

  it('a misestimate below a LIMIT is not reported (the node stops early by design)', () => {
    const plan: CapturedPlan = {
      when: 'alone',
      options: [],
      planningMs: 1,
      executionMs: 2,
      json: { Plan: { 'Node Type': 'Limit', 'Plan Rows': 50, 'Actual Rows': 50, 'Actual Loops': 1, Plans: [{ 'Node Type': 'Sort', 'Plan Rows': 12000, 'Actual Rows': 50, 'Actual Loops': 1 }] } },
    };
    const ctx = { blockSize: 8192, workMemKB: 4096, hashMemMultiplier: 2, sharedBuffersKB: 131072, clients: 1 };
    assert.deepEqual(analyzePlan(plan, ctx), []);
  });

  it('hints seen only under load are marked so, and each appears once', () => {
    const f = load('pg18-sort-spill');
    const alone = analyzePlan(f.plan, context(f));
    const workers = load('pg18-workers-not-launched');
    const underLoad = [...alone, ...analyzePlan(workers.plan, context(workers))];
    const combined = combineHints(alone, underLoad);
    assert.equal(combined.filter((h) => h.id === 'sort-spill').length, 1);
    assert.equal(combined.find((h) => h.id === 'workers-not-launched')!.title, 'Under load: Parallel workers were planned but not launched');
  });

  it('the plan diff reports fewer workers and more temp under load for the same shape, and a shape change', () => {
    const f = load('pg18-workers-not-launched');
    const alone = JSON.parse(JSON.stringify(f.plan)) as CapturedPlan;
    const gather = flattenPlan(alone.json!.Plan as Record<string, unknown>).find((n) => n.type.startsWith('Gather'))!;
    gather.raw['Workers Launched'] = 2;
    const diff = diffPlans(alone, f.plan, 8192)!;
    assert.equal(diff.sameShape, true);
    assert.ok(diff.notes.some((n) => /launched 0 parallel workers under load, 2 alone/.test(n)), diff.notes.join(' | '));
    const other = load('pg18-sort-spill').plan;
    const changed = diffPlans(other, f.plan, 8192)!;
    assert.equal(changed.sameShape, false);
    assert.match(changed.notes[0], /The plan under load differs from the plan alone/);
  });

  it('reads and writes PostgreSQL memory settings', () => {
    assert.equal(parseMemoryKB('4MB'), 4096);
    assert.equal(parseMemoryKB('64kB'), 64);
    assert.equal(parseMemoryKB('1GB'), 1024 * 1024);
    assert.equal(parseMemoryKB('nonsense'), null);
    assert.equal(formatMemoryKB(65536), '64MB');
    assert.equal(formatMemoryKB(512), '512kB');
  });

  it('a 5,000-node plan is flattened and analysed without recursion limits', () => {
    let node: Record<string, unknown> = { 'Node Type': 'Seq Scan', 'Relation Name': 't', 'Plan Rows': 10, 'Actual Rows': 10, 'Actual Loops': 1 };
    for (let i = 0; i < 4999; i++) node = { 'Node Type': i % 2 ? 'Nested Loop' : 'Materialize', 'Plan Rows': 10, 'Actual Rows': 10, 'Actual Loops': 1, Plans: [node] };
    const plan: CapturedPlan = { when: 'alone', options: [], planningMs: 1, executionMs: 5, json: { Plan: node } };
    assert.equal(flattenPlan(node).length, 5000);
    assert.deepEqual(analyzePlan(plan, { blockSize: 8192, workMemKB: 4096, hashMemMultiplier: 2, sharedBuffersKB: 131072, clients: 1 }), []);
  });
});
