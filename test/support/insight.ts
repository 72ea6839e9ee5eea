/**
 * Data and statements that make each EXPLAIN hint appear on a real PostgreSQL. Used by the integration
 * tests and by scripts/capture-plan-fixtures.ts (which saves the plans for the unit tests).
 */
export const INSIGHT_SETUP_SQL = `
DROP TABLE IF EXISTS ins_sort, ins_outer, ins_inner, ins_corr, ins_par, ins_idx, ins_small;
CREATE TABLE ins_sort AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 60000) g;
CREATE TABLE ins_inner AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 60000) g;
CREATE TABLE ins_outer AS SELECT g AS id, 1 + (g * 7919) % 60000 AS inner_id FROM generate_series(1, 60000) g;
CREATE TABLE ins_corr AS SELECT g AS id, g % 100 AS a, g % 100 AS b FROM generate_series(1, 100000) g;
CREATE TABLE ins_par AS SELECT g AS id, g % 1000 AS k FROM generate_series(1, 200000) g;
CREATE TABLE ins_idx AS SELECT g AS id, g % 50 AS grp FROM generate_series(1, 50000) g;
CREATE TABLE ins_small AS SELECT g AS id, g % 50 AS grp FROM generate_series(1, 5000) g;
CREATE INDEX ins_idx_id ON ins_idx (id);
ANALYZE ins_sort, ins_inner, ins_outer, ins_corr, ins_par, ins_idx, ins_small;
`;

export interface InsightScenario {
  name: string;
  sql: string;
  settings: Record<string, string>;
  /** The hint that must appear (any of them, where PostgreSQL versions plan it differently), and a pattern its node label matches. */
  hint: string | string[];
  node: RegExp;
}

const SMALL = { work_mem: '64kB', max_parallel_workers_per_gather: '0', jit: 'off' };

export const INSIGHT_SCENARIOS: InsightScenario[] = [
  { name: 'sort-spill', sql: 'SELECT id, payload FROM ins_sort ORDER BY payload', settings: SMALL, hint: 'sort-spill', node: /^Sort #/ },
  {
    name: 'hash-batches',
    sql: 'SELECT count(*) FROM ins_outer o JOIN ins_inner i ON i.id = o.inner_id',
    settings: { ...SMALL, enable_mergejoin: 'off', enable_nestloop: 'off' },
    hint: 'hash-batches',
    node: /^Hash #/,
  },
  {
    name: 'hashagg-spill',
    sql: 'SELECT payload, count(*) FROM ins_sort GROUP BY payload',
    settings: { ...SMALL, enable_sort: 'off' },
    hint: 'hashagg-spill',
    node: /^Aggregate #/,
  },
  {
    name: 'workers-not-launched',
    sql: 'SELECT k, count(*) FROM ins_par GROUP BY k',
    settings: { max_parallel_workers: '0', max_parallel_workers_per_gather: '2', parallel_setup_cost: '0', parallel_tuple_cost: '0', min_parallel_table_scan_size: '0', jit: 'off' },
    hint: 'workers-not-launched',
    node: /^Gather/,
  },
  // A DISTINCT aggregate sorts: PostgreSQL 16+ plans a Sort node under it, older versions sort inside the Aggregate.
  { name: 'distinct-agg', sql: 'SELECT count(DISTINCT payload) FROM ins_sort', settings: SMALL, hint: ['sort-spill', 'node-spill'], node: /^(Sort|Aggregate) #/ },
  // An ordered-set aggregate always sorts inside the Aggregate: no Sort node, no sort figures.
  { name: 'ordered-set-agg', sql: 'SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY payload) FROM ins_sort', settings: SMALL, hint: 'node-spill', node: /^Aggregate #/ },
  { name: 'window-spill', sql: 'SELECT id, count(*) OVER () FROM ins_sort', settings: SMALL, hint: 'node-spill', node: /^WindowAgg #/ },
  {
    name: 'cte-spill',
    sql: 'WITH c AS MATERIALIZED (SELECT id, payload FROM ins_sort) SELECT count(*) FROM c a JOIN c b USING (id) WHERE a.id < 100',
    settings: SMALL,
    hint: 'node-spill',
    node: /^CTE Scan on c #/,
  },
  { name: 'misestimate', sql: 'SELECT count(*) FROM ins_corr WHERE a = 1 AND b = 1', settings: { max_parallel_workers_per_gather: '0', jit: 'off' }, hint: 'row-misestimate', node: /^Seq Scan on ins_corr #/ },
  // Shapes that hold up badly under concurrency.
  {
    name: 'exists-hash-semi',
    sql: 'SELECT o.id FROM ins_outer o WHERE o.id <= 50 AND EXISTS (SELECT 1 FROM ins_par p WHERE p.k = o.inner_id % 1000)',
    settings: { max_parallel_workers_per_gather: '0', jit: 'off', enable_nestloop: 'off' },
    hint: 'exists-hash-semi',
    node: /^Hash #/,
  },
  { name: 'offset-pagination', sql: 'SELECT id, payload FROM ins_sort ORDER BY id OFFSET 20000 LIMIT 10', settings: { max_parallel_workers_per_gather: '0', jit: 'off' }, hint: 'offset-pagination', node: /^Limit #/ },
  {
    name: 'per-row-subplan',
    sql: 'SELECT o.id, (SELECT count(*) FROM ins_small s WHERE s.grp = o.inner_id % 50) FROM ins_outer o WHERE o.id <= 200',
    settings: { max_parallel_workers_per_gather: '0', jit: 'off' },
    hint: 'per-row-subplan',
    node: /^Aggregate #/,
  },
  { name: 'distinct-sort', sql: 'SELECT count(DISTINCT payload) FROM ins_sort', settings: { max_parallel_workers_per_gather: '0', jit: 'off' }, hint: 'distinct-sort', node: /^Aggregate #/ },
];

/** Plan shapes the node-time analysis must read right (parallel workers, loops, InitPlans), saved as fixtures too. */
export const PLAN_SHAPES: Array<{ name: string; sql: string; settings: Record<string, string> }> = [
  {
    name: 'parallel-agg',
    sql: 'SELECT k, count(*) FROM ins_par GROUP BY k',
    settings: { max_parallel_workers_per_gather: '2', parallel_setup_cost: '0', parallel_tuple_cost: '0', min_parallel_table_scan_size: '0', jit: 'off' },
  },
  { name: 'nested-loop-index', sql: 'SELECT count(*) FROM ins_outer o JOIN ins_idx x ON x.id = o.inner_id WHERE o.id <= 2000', settings: { max_parallel_workers_per_gather: '0', jit: 'off', enable_hashjoin: 'off', enable_mergejoin: 'off' } },
  { name: 'initplan', sql: 'SELECT id FROM ins_sort WHERE id = (SELECT max(id) FROM ins_inner)', settings: { max_parallel_workers_per_gather: '0', jit: 'off' } },
];

/** A table for the index shapes: people with an email, a status (few blocked), a customer and a date. */
export const INDEX_SETUP_SQL = `
DROP TABLE IF EXISTS ix_people;
CREATE TABLE ix_people AS
  SELECT g AS id, 'user' || g || '@Example.com' AS email, CASE WHEN g % 100 = 0 THEN 'blocked' ELSE 'active' END AS status,
         g % 2000 AS customer, date '2026-01-01' + (g % 330) AS created
    FROM generate_series(1, 100000) g;
`;
/** Run apart (VACUUM cannot run in a transaction): the visibility map is what makes an index-only scan pay. */
export const INDEX_VACUUM_SQL = 'VACUUM ANALYZE ix_people';

/**
 * Plans where an index of a given kind is the right answer (the candidate it needs, written as pgload writes it),
 * and one where no index helps (no candidate at all).
 */
export const INDEX_SHAPES: Array<{ name: string; sql: string; settings: Record<string, string>; want: string[] }> = [
  { name: 'index-composite', sql: "SELECT id FROM ix_people WHERE customer = 42 AND created >= date '2026-06-01'", settings: SMALL, want: ['CREATE INDEX ON ix_people (customer, created)'] },
  {
    name: 'index-partial',
    sql: "SELECT id, email FROM ix_people WHERE status = 'blocked' ORDER BY created DESC LIMIT 20",
    settings: SMALL,
    want: ["CREATE INDEX ON ix_people (created DESC) WHERE status = 'blocked'::text", 'CREATE INDEX ON ix_people (status, created DESC)'],
  },
  // The scan outputs email: an index on the filter that INCLUDEs it answers from the index alone.
  { name: 'index-covering', sql: 'SELECT email FROM ix_people WHERE customer = 42', settings: SMALL, want: ['CREATE INDEX ON ix_people (customer) INCLUDE (email)'] },
  { name: 'index-expression', sql: "SELECT id FROM ix_people WHERE lower(email) = 'user42@example.com'", settings: SMALL, want: ['CREATE INDEX ON ix_people ((lower(email)))'] },
  { name: 'index-none', sql: "SELECT count(*) FROM ix_people WHERE status <> 'blocked'", settings: SMALL, want: [] },
];

/**
 * The shape pgload exists for, as #28 describes it: four tables joined, an EXISTS over a join of two filtered on a
 * category, a filter on a status and a date, ORDER BY … LIMIT; every foreign-key column already indexed. `lines` rows
 * in the largest table (random but seeded, so every run plans the same).
 */
export const SHOP4_SQL = (lines: number): string => `
SELECT setseed(0.42);
CREATE TABLE customers (id int PRIMARY KEY, region int NOT NULL);
CREATE TABLE products (id int PRIMARY KEY, category int NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, status text NOT NULL, created date NOT NULL);
CREATE TABLE order_lines (order_id int NOT NULL REFERENCES orders, product_id int NOT NULL REFERENCES products, qty int NOT NULL);
INSERT INTO customers SELECT g, g % 20 FROM generate_series(1, 20000) g;
INSERT INTO products SELECT g, g % 50 FROM generate_series(1, 5000) g;
INSERT INTO orders SELECT g, 1 + g % 20000, (ARRAY['paid','shipped','cancelled','new'])[1 + floor(random() * 4)::int], date '2026-01-01' + (random() * 330)::int FROM generate_series(1, ${lines / 4}) g;
INSERT INTO order_lines SELECT 1 + (random() * (${lines / 4} - 1))::int, 1 + (random() * 4999)::int, 1 + g % 3 FROM generate_series(1, ${lines}) g;
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON order_lines (order_id);
CREATE INDEX ON order_lines (product_id);`;
export const SHOP4_ANALYZE = 'VACUUM ANALYZE customers, products, orders, order_lines';
export const SHOP4_QUERY = `SELECT o.id, o.created, c.region FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.status = 'paid' AND o.created >= date '2026-06-01'
  AND EXISTS (SELECT 1 FROM order_lines ol JOIN products p ON p.id = ol.product_id WHERE ol.order_id = o.id AND p.category = 7)
ORDER BY o.created DESC LIMIT 50`;
