import * as assert from 'node:assert/strict';
import { chooseWorkers, shareClients } from '../../src/core/load/workers';

describe('Load workers: how many event loops, and which clients on each', () => {
  it('auto: one loop per 32 clients, at most half the cores (the database may need the rest); a number asked for is kept, at most one per client', () => {
    assert.equal(chooseWorkers('auto', 100, 2), 1, 'a 2-core machine keeps one loop');
    assert.equal(chooseWorkers('auto', 10, 16), 1, 'few clients need one loop');
    assert.equal(chooseWorkers('auto', 100, 16), 4);
    assert.equal(chooseWorkers('auto', 10_000, 64), 16);
    assert.equal(chooseWorkers(4, 100, 2), 4);
    assert.equal(chooseWorkers(8, 3, 16), 3);
  });

  it('clients are shared as evenly as possible and every client gets a loop', () => {
    assert.deepEqual(shareClients(10, 3), [4, 3, 3]);
    assert.deepEqual(shareClients(6, 3), [2, 2, 2]);
    for (const [c, w] of [[1, 1], [7, 2], [100, 16], [5, 5]]) {
      const s = shareClients(c, w);
      assert.equal(s.length, w);
      assert.equal(s.reduce((a, b) => a + b, 0), c);
      assert.ok(Math.max(...s) - Math.min(...s) <= 1);
    }
  });
});
