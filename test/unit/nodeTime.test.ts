import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { nodeTimes, timeNodes } from '../../src/core/insight/nodeTime';
import { rankHints } from '../../src/core/load/assemble';
import { comparedColumns, conjuncts, indexCandidates, indexSql, rowsRead, scanOutputs } from '../../src/core/insight/indexes/candidates';
import { planChange } from '../../src/core/insight/indexes/search';
import { ensureParser, parseSingleStatement } from '../../src/core/sql';
import { concurrencyHints } from '../../src/core/insight/concurrency';
import { INDEX_SHAPES, INSIGHT_SCENARIOS } from '../support/insight';
import type { CapturedPlan, Hint } from '../../src/shared/result';

type Json = Record<string, unknown>;
const node = (type: string, totalMs: number, loops: number, extra: Json = {}, plans: Json[] = []): Json => ({
  'Node Type': type,
  'Actual Total Time': totalMs,
  'Actual Loops': loops,
  'Actual Rows': 10,
  ...extra,
  ...(plans.length ? { Plans: plans } : {}),
});
const byLabel = (root: Json) => new Map(nodeTimes(root).map((n) => [n.node.replace(/ #\d+$/, ''), n]));
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);

describe('Time per plan node (exclusive time and share)', () => {
  it('a node minus its children: Limit → Sort → Seq Scan', () => {
    const t = byLabel(node('Limit', 10, 1, {}, [node('Sort', 9.5, 1, {}, [node('Seq Scan', 4, 1, { 'Relation Name': 'orders' })])]));
    close(t.get('Limit')!.exclusiveMs, 0.5, 'Limit');
    close(t.get('Sort')!.exclusiveMs, 5.5, 'Sort');
    close(t.get('Seq Scan on orders')!.exclusiveMs, 4, 'Seq Scan');
    close(t.get('Sort')!.share, 0.55, 'Sort share');
  });

  it('loops multiply: an inner index scan run 1,000 times at 0.05 ms is 50 ms of a 100 ms nested loop', () => {
    const t = byLabel(
      node('Nested Loop', 100, 1, { 'Join Type': 'Inner' }, [node('Seq Scan', 10, 1, { 'Relation Name': 'a' }), node('Index Scan', 0.05, 1000, { 'Relation Name': 'b', 'Index Name': 'b_pkey', 'Actual Rows': 1 })]),
    );
    close(t.get('Index Scan on b')!.exclusiveMs, 50, 'inner side');
    close(t.get('Nested Loop')!.exclusiveMs, 40, 'the join itself');
    assert.match(t.get('Index Scan on b')!.what, /reads 1 row of b through b_pkey each time, 1,000 times/);
  });

  it('parallel workers: a node run by the leader and 2 workers counts its wall-clock time, not the sum of the 3', () => {
    const t = byLabel(node('Gather', 100, 1, { 'Workers Launched': 2 }, [node('Seq Scan', 90, 3, { 'Relation Name': 'big', 'Parallel Aware': true })]));
    close(t.get('Seq Scan on big')!.exclusiveMs, 90, 'per-process time');
    close(t.get('Gather')!.exclusiveMs, 10, 'Gather');
    assert.match(t.get('Gather')!.what, /from 2 parallel workers/);
  });

  it("a CTE's time is taken out of the CTE Scan that reads it, not out of the node it is attached to", () => {
    const t = byLabel(
      node('Aggregate', 50, 1, {}, [
        node('Seq Scan', 30, 1, { 'Relation Name': 't', 'Parent Relationship': 'InitPlan', 'Subplan Name': 'CTE c' }),
        node('CTE Scan', 45, 1, { 'CTE Name': 'c', 'Parent Relationship': 'Outer' }),
      ]),
    );
    close(t.get('Aggregate')!.exclusiveMs, 5, 'Aggregate');
    close(t.get('CTE Scan on c')!.exclusiveMs, 15, 'CTE Scan');
    close(t.get('Seq Scan on t')!.exclusiveMs, 30, 'the CTE itself');
    const total = [...t.values()].reduce((a, n) => a + n.share, 0);
    close(Math.round(total * 1000) / 1000, 1, 'shares add up to 1');
  });

  it('says what a node does: the seq scan under a semi join is the EXISTS', () => {
    const root = node('Hash Join', 846, 1, { 'Join Type': 'Semi', 'Actual Rows': 50 }, [
      node('Seq Scan', 20, 1, { 'Relation Name': 'purchases', 'Actual Rows': 5000 }),
      node('Hash', 504, 1, { 'Actual Rows': 3, 'Hash Batches': 1 }, [node('Seq Scan', 480, 1, { 'Relation Name': 'purchase_lines', 'Actual Rows': 3, 'Rows Removed by Filter': 1_199_949 })]),
    ]);
    const t = byLabel(root);
    assert.equal(t.get('Seq Scan on purchase_lines')!.what, 'scans all 1,199,952 rows of purchase_lines and keeps 3 to check the EXISTS');
    assert.match(t.get('Hash Join')!.what, /keeps the rows for which the EXISTS holds/);
  });

  it('real plans of PostgreSQL 13 to 18: no negative time, shares add up to 1, and the own times add up to the plan (± 10 %)', () => {
    const dir = path.resolve(__dirname, '../fixtures/plans');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 54);
    for (const f of files) {
      const plan = (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { plan: CapturedPlan }).plan;
      const root = plan.json!.Plan as Json;
      const timed = timeNodes(root);
      const own = timed.reduce((a, t) => a + t.exclusiveMs, 0);
      assert.ok(timed.every((t) => t.exclusiveMs >= 0), f);
      assert.ok(Math.abs(own - timed[0].inclusiveMs) <= 0.1 * timed[0].inclusiveMs + 0.05, `${f}: own times ${own} ms, plan ${timed[0].inclusiveMs} ms`);
      const shares = nodeTimes(root).reduce((a, n) => a + n.share, 0);
      assert.ok(Math.abs(shares - 1) < 0.002, `${f}: shares ${shares}`);
    }
  });

  it('hints are ranked by what they could save: node share × the mean latency under load, largest first', () => {
    const root = node('Limit', 100, 1, {}, [node('Sort', 90, 1, {}, [node('Seq Scan', 20, 1, { 'Relation Name': 'orders' })])]);
    const plan: CapturedPlan = { when: 'alone', options: [], planningMs: 0, executionMs: 100, json: { Plan: root }, nodes: nodeTimes(root) };
    const hints: Hint[] = [
      { id: 'cpu-saturation', severity: 'critical', title: 'CPU', detail: '', action: '' },
      { id: 'filter-removes-most', severity: 'warning', title: 'scan', detail: '', action: '', node: 'Seq Scan on orders #3' },
      { id: 'sort-spill', severity: 'info', title: 'sort', detail: '', action: '', node: 'Sort #2' },
    ];
    const ranked = rankHints(hints, { alone: plan }, 300);
    assert.deepEqual(ranked.map((h) => h.id), ['sort-spill', 'filter-removes-most', 'cpu-saturation']);
    assert.deepEqual(ranked[0].estimate, { share: 0.7, perRequestMs: 210, plan: 'alone' });
    assert.equal(ranked[2].estimate, undefined);
  });

  it('a 5,000-node plan is timed in one pass (no quadratic lookups)', () => {
    let root = node('Seq Scan', 1, 1, { 'Relation Name': 'leaf' });
    for (let i = 0; i < 4999; i++) root = node('Nested Loop', 2 + i, 1, { 'Join Type': 'Inner' }, [root]);
    const t = nodeTimes(root);
    assert.equal(t.length, 5000);
    close(t[0].exclusiveMs, 1, 'each level adds 1 ms');
  });
});

describe('Index candidates from a plan', () => {
  before(() => ensureParser());

  it('columns compared in EXPLAIN expressions: equalities first, ANDs followed, ORs and expressions left alone, subplan outputs as values', () => {
    const cols = (e: string) => comparedColumns(e).map((c) => `${c.qualifier ? `${c.qualifier}.` : ''}${c.column}:${c.kind}`);
    assert.deepEqual(cols("((status = 'open'::text) AND (created_at > '2026-01-01'::date))"), ['status:eq', 'created_at:range']);
    assert.deepEqual(cols('((o.inner_id % 1000) = p.k)'), ['p.k:eq']);
    assert.deepEqual(cols('((a = 1) OR (b = 2))'), []);
    assert.deepEqual(cols('(id = (InitPlan 1).col1)'), ['id:eq']);
    assert.deepEqual(cols("(k = ANY ('{1,2,3}'::integer[]))"), ['k:eq']);
    assert.deepEqual(cols('this is not sql ((('), []);
  });

  it('candidates as an advisor builds them: the filter and the order wanted, the join key both ways, covering variants when outputs are known', () => {
    const plan = node('Limit', 50, 1, { 'Actual Rows': 20 }, [
      node('Sort', 49, 1, { 'Sort Key': ['p.created DESC'], 'Actual Rows': 20 }, [
        node('Hash Join', 48, 1, { 'Join Type': 'Semi', 'Hash Cond': '(l.purchase_id = p.id)', 'Actual Rows': 20 }, [
          node('Seq Scan', 20, 1, { 'Relation Name': 'purchases', Alias: 'p', Filter: '(customer = 42)', 'Actual Rows': 20, 'Rows Removed by Filter': 99_980 }),
          node('Hash', 25, 1, { 'Actual Rows': 100_000 }, [node('Seq Scan', 20, 1, { 'Relation Name': 'purchase_lines', Alias: 'l', 'Actual Rows': 100_000 })]),
        ]),
      ]),
    ]);
    const captured = { when: 'alone' as const, options: [], planningMs: 0, executionMs: 50, json: { Plan: plan } };
    const c = indexCandidates(captured);
    // The scans take turns: each one's most specific shape first.
    assert.deepEqual(
      c.map((x) => indexSql(x)),
      [
        'CREATE INDEX CONCURRENTLY ON purchases (customer, created DESC)',
        'CREATE INDEX CONCURRENTLY ON purchase_lines (purchase_id)',
        'CREATE INDEX CONCURRENTLY ON purchases (id, customer)',
        'CREATE INDEX CONCURRENTLY ON purchases (customer, id)',
        'CREATE INDEX CONCURRENTLY ON purchases (id)',
      ],
    );
    assert.deepEqual(c.map((x) => x.kind), ['composite', 'single', 'composite', 'composite', 'single']);
    assert.match(c[0].reason, /reads 100,000 rows of purchases and keeps 20 \(\(customer = 42\)\); Sort #2 sorts 20 rows of purchases for a Limit of 20/);
    assert.match(c[1].reason, /reads 100,000 rows of purchase_lines to feed Hash Join #3/);
    // With the columns each scan outputs (EXPLAIN VERBOSE), covering variants: the EXISTS's side can be index-only.
    const covering = indexCandidates(captured, new Map([['l', ['purchase_id', 'qty']], ['p', ['id', 'created']]])).filter((x) => x.kind === 'covering').map((x) => indexSql(x));
    assert.ok(covering.includes('CREATE INDEX CONCURRENTLY ON purchase_lines (purchase_id) INCLUDE (qty)'), covering.join('\n'));
    assert.ok(covering.includes('CREATE INDEX CONCURRENTLY ON purchases (customer, created DESC) INCLUDE (id)'), covering.join('\n'));
    // A scan that ran twice (a hash built in each of two processes) read its table twice, not a table twice as big.
    const twice = node('Seq Scan', 20, 2, { 'Relation Name': 'customers', 'Actual Rows': 50_000 });
    assert.equal(rowsRead(twice, 'customers'), 'reads 50,000 rows of customers per execution, 2 times (100,000 rows in all)');
    const filtered = node('Seq Scan', 20, 1, { 'Relation Name': 'orders', 'Actual Rows': 133_334, 'Rows Removed by Filter': 66_666 });
    assert.equal(rowsRead(filtered, 'orders'), 'reads 200,000 rows of orders and keeps 133,334');
    // A sort under a Limit over one table's scan: the index in the sort's order.
    const sorted = node('Limit', 10, 1, { 'Actual Rows': 10 }, [node('Sort', 9, 1, { 'Sort Key': ['created DESC', 'id'] }, [node('Seq Scan', 4, 1, { 'Relation Name': 'events', 'Actual Rows': 50_000 })])]);
    assert.deepEqual(indexCandidates({ when: 'alone', options: [], planningMs: 0, executionMs: 10, json: { Plan: sorted } }).map((x) => indexSql(x)), ['CREATE INDEX CONCURRENTLY ON events (created DESC, id)']);
  });

  it("partial indexes for a constant word, expression indexes for a function over a column; a number or a parameter is a request's value", () => {
    const scan = (filter: string) =>
      indexCandidates({ when: 'alone', options: [], planningMs: 0, executionMs: 50, json: { Plan: node('Seq Scan', 20, 1, { 'Relation Name': 'users', Filter: filter, 'Actual Rows': 20, 'Rows Removed by Filter': 99_980 }) } }).map((x) => `${x.kind}: ${indexSql(x, false)}`);
    assert.deepEqual(scan("((lower(email) = 'a@b.c'::text) AND (status = ANY ('{paid,new}'::text[])) AND (created >= $1))"), [
      'composite: CREATE INDEX ON users (status, created)',
      "partial: CREATE INDEX ON users (created) WHERE status = ANY ('{paid,new}'::text[])",
      'expression: CREATE INDEX ON users ((lower(email)))',
    ]);
    // customer = 42 is one customer's requests: no partial index for it; nor for a parameter.
    assert.deepEqual(scan('((customer = 42) AND (created >= $1))'), ['composite: CREATE INDEX ON users (customer, created)']);
    assert.deepEqual(scan('((customer = $2) AND (created >= $1))'), ['composite: CREATE INDEX ON users (customer, created)']);
    // A qualified predicate loses its alias in the index's WHERE; quotes and parentheses inside literals are kept whole.
    assert.deepEqual(conjuncts("((o.status = 'a) AND (b'::text) AND (o.created >= '2026-06-01'::date))"), ["(o.status = 'a) AND (b'::text)", "(o.created >= '2026-06-01'::date)"]);
    const aliased = indexCandidates({
      when: 'alone',
      options: [],
      planningMs: 0,
      executionMs: 50,
      json: { Plan: node('Seq Scan', 20, 1, { 'Relation Name': 'orders', Alias: 'o', Filter: "((o.status = 'paid'::text) AND (o.created >= '2026-06-01'::date))", 'Actual Rows': 20, 'Rows Removed by Filter': 99_980 }) },
    });
    assert.ok(aliased.some((x) => indexSql(x, false) === "CREATE INDEX ON orders (created) WHERE status = 'paid'::text"), aliased.map((x) => indexSql(x)).join('\n'));
  });

  it("the plan's change where the new index is used: inside the EXISTS only below a semi join's inner side", () => {
    const scan = (type: string, table: string, extra: Json = {}) => node(type, 1, 1, { 'Relation Name': table, Alias: table[0], ...extra });
    const before = node('Hash Join', 10, 1, { 'Join Type': 'Semi' }, [scan('Seq Scan', 'orders'), node('Hash', 5, 1, {}, [scan('Seq Scan', 'lines')])]);
    const inner = node('Nested Loop', 10, 1, { 'Join Type': 'Semi' }, [scan('Seq Scan', 'orders'), scan('Index Only Scan', 'lines', { 'Index Name': '<1>btree_lines_a' })]);
    assert.equal(planChange(before, inner, '<1>btree_lines_a'), "the EXISTS's Seq Scan on lines becomes an Index Only Scan");
    const outer = node('Nested Loop', 10, 1, { 'Join Type': 'Semi' }, [scan('Index Scan', 'orders', { 'Index Name': '<2>btree_orders_b' }), scan('Index Scan', 'lines')]);
    assert.equal(planChange(before, outer, '<2>btree_orders_b'), 'Seq Scan on orders becomes an Index Scan');
    assert.equal(planChange(before, outer, '<3>btree_unused'), undefined);
  });
});

describe('Real plans of PostgreSQL 13 to 18 (test/fixtures/plans)', () => {
  const dir = path.resolve(__dirname, '../fixtures/plans');
  const load = (major: number, name: string) => (JSON.parse(fs.readFileSync(path.join(dir, `pg${major}-${name}.json`), 'utf8')) as { plan: CapturedPlan }).plan;
  const majors = [13, 14, 15, 16, 17, 18];
  before(() => ensureParser());

  it('the concurrency shapes are named on every major: EXISTS read whole, OFFSET, per-row SubPlan, DISTINCT aggregate', () => {
    for (const major of majors) {
      for (const [name, id] of [
        ['exists-hash-semi', 'exists-hash-semi'],
        ['offset-pagination', 'offset-pagination'],
        ['per-row-subplan', 'per-row-subplan'],
        ['distinct-sort', 'distinct-sort'],
      ] as const) {
        const scenario = INSIGHT_SCENARIOS.find((s) => s.name === name)!;
        const hints = concurrencyHints(load(major, name), parseSingleStatement(scenario.sql));
        assert.ok(hints.some((h) => h.id === id), `PostgreSQL ${major}, ${name}: ${hints.map((h) => h.id).join(', ') || 'no hint'}`);
      }
      // The EXISTS's table gets an index candidate on the column it correlates on.
      assert.ok(indexCandidates(load(major, 'exists-hash-semi')).some((c) => indexSql(c) === 'CREATE INDEX CONCURRENTLY ON ins_par (k)'), `PostgreSQL ${major}`);
    }
  });

  it('index candidates on every major: the composite, covering, partial and expression index each shape needs, none where no index helps', () => {
    for (const major of majors) {
      for (const shape of INDEX_SHAPES) {
        const fixture = JSON.parse(fs.readFileSync(path.join(dir, `pg${major}-${shape.name}.json`), 'utf8')) as { plan: CapturedPlan; verbose?: Record<string, unknown> };
        const got = indexCandidates(fixture.plan, scanOutputs(fixture.verbose)).map((c) => indexSql(c, false));
        for (const want of shape.want) assert.ok(got.includes(want), `PostgreSQL ${major}, ${shape.name}: ${want} not in\n${got.join('\n')}`);
        if (shape.want.length === 0) assert.deepEqual(got, [], `PostgreSQL ${major}, ${shape.name}: no index helps a filter that keeps most rows`);
      }
    }
  });

  it('parallel workers, loops and InitPlans: the node times stay per process, per loop and add up', () => {
    for (const major of majors) {
      const par = timeNodes(load(major, 'parallel-agg').json!.Plan as Json);
      const gather = par.find((t) => t.node.type === 'Gather' || t.node.type === 'Gather Merge');
      assert.ok(gather && num(gather.node.raw, 'Workers Launched') >= 1, `PostgreSQL ${major}: a Gather that launched workers`);
      // Below the Gather each node counts wall-clock time: never more than the Gather's own.
      for (const t of par.filter((x) => x.node.id > gather.node.id)) assert.ok(t.inclusiveMs <= gather.inclusiveMs * 1.05, `PostgreSQL ${major}: ${t.node.label} ${t.inclusiveMs} > ${gather.inclusiveMs}`);
      const nl = timeNodes(load(major, 'nested-loop-index').json!.Plan as Json);
      const inner = nl.find((t) => t.node.type === 'Index Scan' || t.node.type === 'Index Only Scan')!;
      assert.equal(num(inner.node.raw, 'Actual Loops'), 2000, `PostgreSQL ${major}: the inner side ran once per outer row`);
      close(inner.inclusiveMs, num(inner.node.raw, 'Actual Total Time') * 2000, `PostgreSQL ${major}: time × loops`);
      for (const name of ['parallel-agg', 'nested-loop-index', 'initplan']) {
        const timed = timeNodes(load(major, name).json!.Plan as Json);
        const own = timed.reduce((a, t) => a + t.exclusiveMs, 0);
        assert.ok(Math.abs(own - timed[0].inclusiveMs) <= 0.1 * timed[0].inclusiveMs + 0.05, `PostgreSQL ${major} ${name}: ${own} vs ${timed[0].inclusiveMs}`);
      }
    }
  });
});

describe('A real 5,001-node plan (PostgreSQL 18, an Append over 5,000 scans)', () => {
  it('every node is timed and described; the Append\'s own time is what its 5,000 children do not account for', () => {
    const big = JSON.parse(gunzipSync(fs.readFileSync(path.resolve(__dirname, '../fixtures/plans/pg18-append-5000.json.gz'))).toString('utf8')) as { plan: CapturedPlan };
    const nodes = nodeTimes(big.plan.json!.Plan as Json);
    assert.equal(nodes.length, 5001);
    assert.ok(Math.abs(nodes.reduce((a, n) => a + n.share, 0) - 1) < 0.002);
    assert.equal(nodes.filter((n) => n.depth === 1).length, 5000);
    assert.ok(nodes.slice(1).every((n) => /^scans all 4 rows of ins_tiny and keeps 1$/.test(n.what)), nodes[1].what);
  });
});
