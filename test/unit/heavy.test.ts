import * as assert from 'node:assert/strict';
import { appLoadPlan, remembered, sweepPlan } from '../../src/extension/run/heavy';
import { formatDuration } from '../../src/shared/numbers';

describe('heavy load is asked about with its range and how long', () => {
  it('the default sweep (64 clients, 10 s steps): seven steps and the first again as a speed check, about 1 min 20 s, up to 64 sessions', () => {
    const p = sweepPlan('shop', 64, 10);
    assert.equal(p.sentence, 'Find the right pool size runs 7 steps of 10 s (1, 2, 4, 8, 16, 32, 64 clients), then 1 again as a speed check, on "shop": about 1 min 20 s, up to 64 sessions at once.');
    assert.equal(p.setting, 'pgload.sweep.maxClients');
    assert.equal(p.brief, '7 steps up to 64 clients and a speed check, about 1 min 20 s', 'beside "Run it": words, not the remembered signature');
  });

  it('a long range is shortened, not listed whole; one step is said in the singular', () => {
    assert.match(sweepPlan('x', 1000, 5).sentence, /runs 11 steps of 5 s \(1, 2, 4, 8, 16, 32, … 1000 clients\), then 1 again as a speed check, on "x": about 1 min, up to 1,000 sessions at once\.$/);
    assert.match(sweepPlan('x', 1, 30).sentence, /runs 1 step of 30 s \(1 client\) on "x": about 30 s, up to 1 session at once\.$/);
  });

  it('a capacity search and a diagnosis say the sessions the application pool opens and the budget', () => {
    assert.match(appLoadPlan('capacity', 'shop', 120, 300_000).sentence, /^Find capacity raises the users of your application until p95 passes the objective on "shop": up to 5 min, up to 120 sessions at once\.$/);
    assert.match(appLoadPlan('diagnose', 'shop', 100, 150_000).sentence, /up to 2 min 30 s, up to 100 sessions at once\.$/);
    assert.equal(appLoadPlan('diagnose', 'shop', 100, 150_000).brief, 'up to 100 sessions, up to 2 min 30 s');
  });

  it('"do not ask again" covers the same range only: more clients, longer steps or another budget ask again', () => {
    const accepted = [sweepPlan('shop', 64, 10).signature];
    assert.equal(remembered(accepted, sweepPlan('shop', 64, 10)), true);
    assert.equal(remembered(accepted, sweepPlan('shop', 128, 10)), false);
    assert.equal(remembered(accepted, sweepPlan('shop', 64, 20)), false);
    assert.equal(remembered(accepted, appLoadPlan('diagnose', 'shop', 64, 10_000)), false);
    assert.equal(remembered(undefined, sweepPlan('shop', 64, 10)), false);
  });

  it('durations read as people plan around them', () => {
    assert.deepEqual([0, 999, 45_000, 60_000, 70_000, 3_599_000, 3_600_000, 3_900_000].map(formatDuration), ['0 s', '1 s', '45 s', '1 min', '1 min 10 s', '59 min 59 s', '1 h', '1 h 5 min']);
  });
});
