import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzePlan, combineHints, diffPlans, flattenPlan, formatMemoryKB, parseMemoryKB, type PlanContext } from '../../src/core/plan';
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

const EXPECTED: Record<string, string[]> = {
  'sort-spill': ['sort-spill', 'temp-io', 'work-mem-advice'],
  'hash-batches': ['hash-batches', 'temp-io', 'work-mem-advice'],
  'hashagg-spill': ['hashagg-spill', 'temp-io', 'work-mem-advice'],
  'workers-not-launched': ['workers-not-launched'],
  misestimate: ['row-misestimate', 'filter-removes-most'],
};

describe('Plan analysis on saved real plans', () => {
  for (const version of ['pg18', 'pg15']) {
    for (const [scenario, ids] of Object.entries(EXPECTED)) {
      it(`${version} ${scenario}: ${ids.join(', ')}`, () => {
        const f = load(`${version}-${scenario}`);
        assert.match(f.server, version === 'pg18' ? /^18\./ : /^15\./);
        const hints = analyzePlan(f.plan, context(f));
        assert.deepEqual(hints.map((h) => h.id).sort(), [...ids].sort());
        for (const h of hints) {
          assert.ok(h.title && h.detail && h.action, h.id);
          if (h.node) assert.match(h.node, /#\d+$/);
        }
      });
    }
  }

  it('the sort spill names its size and the sort key, and suggests a power-of-two work_mem', () => {
    const f = load('pg18-sort-spill');
    const spill = analyzePlan(f.plan, context(f)).find((h) => h.id === 'sort-spill')!;
    assert.match(spill.detail, /^Sort #\d+ sorted 60,000 rows by (ins_sort\.)?payload with "external merge" and wrote \d+(\.\d)?MB to temporary files: work_mem \(64kB\) was too small\.$/);
    assert.match(spill.sql!, /^SET LOCAL work_mem = '(1|2|4|8|16|32)MB';$/);
  });

  it('work_mem advice multiplies by the clients and warns against raising it server-wide when it is large', () => {
    const f = load('pg18-hash-batches');
    const few = analyzePlan(f.plan, { ...context(f, 1), sharedBuffersKB: 1024 * 1024 }).find((h) => h.id === 'work-mem-advice')!;
    const many = analyzePlan(f.plan, context(f, 100)).find((h) => h.id === 'work-mem-advice')!;
    assert.match(few.title, /affordable at this concurrency/);
    assert.match(many.title, /but not for the whole server/);
    assert.match(many.detail, /with 100 concurrent clients that is up to/);
    assert.match(many.action, /Do not raise work_mem for the whole server/);
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
