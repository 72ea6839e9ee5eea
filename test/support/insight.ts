/**
 * Data and statements that make each EXPLAIN hint appear on a real PostgreSQL. Used by the integration
 * tests and by scripts/capture-plan-fixtures.ts (which saves the plans for the unit tests).
 */
export const INSIGHT_SETUP_SQL = `
DROP TABLE IF EXISTS ins_sort, ins_outer, ins_inner, ins_corr, ins_par;
CREATE TABLE ins_sort AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 60000) g;
CREATE TABLE ins_inner AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 60000) g;
CREATE TABLE ins_outer AS SELECT g AS id, 1 + (g * 7919) % 60000 AS inner_id FROM generate_series(1, 60000) g;
CREATE TABLE ins_corr AS SELECT g AS id, g % 100 AS a, g % 100 AS b FROM generate_series(1, 100000) g;
CREATE TABLE ins_par AS SELECT g AS id, g % 1000 AS k FROM generate_series(1, 200000) g;
ANALYZE ins_sort, ins_inner, ins_outer, ins_corr, ins_par;
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
];
