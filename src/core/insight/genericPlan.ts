/**
 * Prepared statements and the generic plan. A prepared statement with parameters is planned for its values (a custom
 * plan) for its first five executions; after that PostgreSQL may switch to one generic plan, made without the values,
 * when its estimated cost is no worse than the custom plans' average. An ORM that prepares (asyncpg, JDBC, Npgsql)
 * then runs a plan that a one-off EXPLAIN never shows. This takes both plans of the statement for the same values, reads
 * which one the session actually used, and says when the generic one is another plan or a slower one.
 */
import type { Client } from 'pg';
import type { CapturedPlan, GenericPlanCheck, Hint } from '../../shared/result';
import { captureExplain } from './explain';
import { errorMessage } from '../errors';
import { formatMs } from '../../shared/format';
import { flattenPlan } from './plan';
import { withInternalMark } from '../connection/connection';

/** Executions after which PostgreSQL may switch a prepared statement to its generic plan (plancache.c). */
export const CUSTOM_PLANS_BEFORE_GENERIC = 5;
const CHECK_NAME = 'pgload_plan_check';

/** `Aggregate → Seq Scan on skew`: the node types (with their relations), depth first. */
export function planShape(plan: CapturedPlan | null | undefined): string {
  const nodes = flattenPlan(plan?.json?.Plan as Record<string, unknown> | undefined);
  return nodes.map((n) => n.label.replace(/ #\d+$/, '')).join(' → ');
}

const totalCost = (p: CapturedPlan): number | null => {
  const c = (p.json?.Plan as Record<string, unknown> | undefined)?.['Total Cost'];
  return typeof c === 'number' ? c : null;
};

/**
 * How far the plan's row estimates for the tables it reads were from the rows found (the largest factor): the generic
 * plan is made from averages, so on skewed data its scans expect a few rows and find many.
 */
function worstScanMisestimate(plan: CapturedPlan): { factor: number; planned: number; found: number; node: string } {
  let worst = { factor: 1, planned: 0, found: 0, node: '' };
  for (const n of flattenPlan(plan.json?.Plan as Record<string, unknown> | undefined)) {
    const planned = (n.raw as Record<string, unknown>)['Plan Rows'];
    if (n.underLimit || typeof planned !== 'number' || !/ on /.test(n.label)) continue;
    const factor = Math.max(planned, n.rows, 1) / Math.max(Math.min(planned, n.rows), 1);
    if (factor > worst.factor) worst = { factor, planned, found: n.rows, node: n.label.replace(/ #\d+$/, '') };
  }
  return worst;
}

/**
 * On a session that has run the statement as the prepared statement `preparedName` at least six times: which plans it
 * used (PostgreSQL 14+), and EXPLAIN ANALYZE of the generic and of the custom plan for `values`, each in a transaction
 * that is rolled back.
 */
export async function checkGenericPlan(client: Client, sql: string, versionNum: number, preparedName: string, values: Array<string | null>, begin: string[]): Promise<GenericPlanCheck> {
  let used: GenericPlanCheck['used'] = null;
  if (versionNum >= 140000) {
    try {
      const r = await client.query<{ generic_plans: string; custom_plans: string }>(withInternalMark('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1'), [preparedName]);
      if (r.rows[0]) used = { genericPlans: Number(r.rows[0].generic_plans), customPlans: Number(r.rows[0].custom_plans) };
    } catch {
      // Not knowing which plans ran leaves `used` null; the plans are still compared.
    }
  }
  // EXPLAIN takes no bind parameters: the values go into EXECUTE as literals (typed by the prepared statement).
  const args = values.map((v) => (v === null ? 'NULL' : client.escapeLiteral(v))).join(', ');
  const explainWith = async (mode: 'force_generic_plan' | 'force_custom_plan'): Promise<CapturedPlan> => {
    // SET LOCAL inside captureExplain's transaction would come after its BEGIN; a session-level SET is reset below.
    await client.query(withInternalMark(`SET plan_cache_mode = ${mode}`));
    try {
      return await captureExplain(client, `EXECUTE ${CHECK_NAME}(${args})`, versionNum, 'alone', undefined, begin);
    } finally {
      await client.query(withInternalMark('RESET plan_cache_mode')).catch(() => undefined);
    }
  };
  try {
    // One statement (the extended protocol), like every request; it only plans, and runs in the EXPLAINs' transactions.
    await client.query({ text: withInternalMark(`PREPARE ${CHECK_NAME} AS ${sql}`), queryMode: 'extended' });
  } catch (err) {
    return { used, generic: null, custom: null, unavailable: `The statement could not be prepared for the plan check: ${errorMessage(err)}` };
  }
  try {
    let generic = await explainWith('force_generic_plan');
    const custom = await explainWith('force_custom_plan');
    // The first execution read the pages the second found cached: a generic plan that looks slower runs once more, warm,
    // and its faster time counts (the custom plan has had its warm run).
    if (generic.executionMs !== null && custom.executionMs !== null && generic.executionMs > custom.executionMs) {
      const again = await explainWith('force_generic_plan');
      if (again.executionMs !== null && again.executionMs < generic.executionMs) generic = again;
    }
    return { used, generic, custom };
  } finally {
    await client.query(withInternalMark(`DEALLOCATE ${CHECK_NAME}`)).catch(() => undefined);
  }
}

/** The hint when the generic plan is another plan than the custom one, or a costlier or slower one. */
export function genericPlanHint(check: GenericPlanCheck | undefined): Hint | null {
  if (!check?.generic?.json || !check.custom?.json) return null;
  const g = check.generic;
  const c = check.custom;
  const shapeG = planShape(g);
  const shapeC = planShape(c);
  const costG = totalCost(g);
  const costC = totalCost(c);
  const slower = g.executionMs !== null && c.executionMs !== null && g.executionMs > 1.5 * c.executionMs && g.executionMs - c.executionMs > 0.5;
  const costlier = costG !== null && costC !== null && costG > 2 * costC;
  // The same plan (shape and cost) cannot be slower than itself: a time difference between them is noise.
  if (shapeG === shapeC && costG !== null && costC !== null && Math.abs(costG - costC) <= 0.02 * Math.max(costG, costC)) return null;
  // Another shape alone is not a problem (the planner may pick a bitmap or an index scan for the same rows): it is one
  // when the generic plan is slower or costlier, or was made for far fewer or more rows than the values have.
  const offG = worstScanMisestimate(g);
  const misjudged = shapeG !== shapeC && offG.factor >= 10 && offG.factor >= 3 * worstScanMisestimate(c).factor;
  if (!slower && !costlier && !misjudged) return null;
  const switched = check.used ? check.used.genericPlans > 0 : null;
  const usedText =
    check.used === null
      ? `PostgreSQL may switch a prepared statement to its generic plan after ${CUSTOM_PLANS_BEFORE_GENERIC} executions (this server does not say which one the session used: pg_prepared_statements counts plans from PostgreSQL 14 on)`
      : switched
        ? `The baseline session switched to the generic plan after ${CUSTOM_PLANS_BEFORE_GENERIC} executions (${check.used.customPlans} custom, ${check.used.genericPlans} generic), and so does every session under load after its first ${CUSTOM_PLANS_BEFORE_GENERIC}`
        : `The baseline session kept planning for each value (${check.used.customPlans} custom plans, no generic one), but another session, with other values, may switch after ${CUSTOM_PLANS_BEFORE_GENERIC} executions`;
  const cost = (x: number | null) => (x === null ? '?' : x.toLocaleString('en-US', { maximumFractionDigits: 0 }));
  return {
    id: 'generic-plan',
    severity: slower && switched !== false ? 'warning' : 'info',
    title: slower ? 'The generic plan of the prepared statement is slower than the plan for its values' : 'The prepared statement has another generic plan than the plan for its values',
    detail:
      `${usedText}. For the same values, the generic plan is ${shapeG} (cost ${cost(costG)}, ${formatMs(g.executionMs)}); the plan made for the values is ${shapeC} (cost ${cost(costC)}, ${formatMs(c.executionMs)}). ` +
      (misjudged ? `Its ${offG.node} expected ${offG.planned.toLocaleString('en-US')} rows where these values have ${offG.found.toLocaleString('en-US')}. ` : '') +
      'The generic plan is made without the values, from average statistics: with skewed data it suits some values and not others.',
    action:
      "Have PostgreSQL plan every execution for its values: plan_cache_mode = force_custom_plan on this application's sessions (e.g. asyncpg's server_settings={'plan_cache_mode': 'force_custom_plan'}, or a SET in the pool's connect hook), or SET LOCAL in this statement's transaction. It costs a plan per execution; measure both with `pgload ab --prepared --setting plan_cache_mode=force_custom_plan` (and the same --param).",
    sql: 'SET LOCAL plan_cache_mode = force_custom_plan;',
  };
}
