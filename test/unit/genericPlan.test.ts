import * as assert from 'node:assert/strict';
import { genericPlanHint } from '../../src/core/insight/genericPlan';
import type { CapturedPlan } from '../../src/shared/result';

/** An Aggregate over one scan of `t`, with the rows the planner expected and the rows it found. */
function plan(scan: string, plannedRows: number, actualRows: number, ms: number, cost = 100): CapturedPlan {
  return {
    when: 'alone',
    options: [],
    planningMs: 0.1,
    executionMs: ms,
    json: {
      Plan: {
        'Node Type': 'Aggregate',
        'Total Cost': cost,
        'Plan Rows': 1,
        'Actual Rows': 1,
        'Actual Loops': 1,
        'Actual Total Time': ms,
        Plans: [{ 'Node Type': scan, 'Relation Name': 't', 'Plan Rows': plannedRows, 'Actual Rows': actualRows, 'Actual Loops': 1, 'Actual Total Time': ms * 0.9 }],
      },
    },
  };
}
const used = { genericPlans: 3, customPlans: 5 };

describe('generic plan hint: only when the generic plan costs something or was made for other rows', () => {
  it('another scan type for the same rows, estimated well, as fast: no hint (a bitmap or an index scan is a planner choice)', () => {
    assert.equal(genericPlanHint({ used, generic: plan('Index Scan', 200, 200, 1.1), custom: plan('Bitmap Heap Scan', 210, 200, 1.0) }), null);
  });

  it('the generic plan expects 100 rows where the values have 198,000: a hint, even when the timing says nothing', () => {
    const h = genericPlanHint({ used, generic: plan('Index Scan', 100, 198_000, 40), custom: plan('Seq Scan', 197_000, 198_000, 39) });
    assert.ok(h);
    assert.equal(h.id, 'generic-plan');
    assert.equal(h.severity, 'info');
    assert.match(h.title, /another generic plan/);
    assert.match(h.detail, /Its Index Scan on t expected 100 rows where these values have 198,000./);
  });

  it('the same plan at the same cost, once cold and once warm (2.19 ms against 0.25 ms): no hint, a plan is not slower than itself', () => {
    assert.equal(genericPlanHint({ used, generic: plan('Bitmap Heap Scan', 200, 200, 2.19, 593), custom: plan('Bitmap Heap Scan', 200, 200, 0.251, 590) }), null);
  });

  it('the generic plan is slower by more than half: a warning when the session switched to it', () => {
    const h = genericPlanHint({ used, generic: plan('Index Scan', 200, 200, 30), custom: plan('Bitmap Heap Scan', 200, 200, 10) });
    assert.equal(h?.severity, 'warning');
    assert.match(h!.title, /slower/);
  });
});
