import * as assert from 'node:assert/strict';
import { chooseWorkers, shareClients } from '../../src/core/load/workers';
import { loadLoops, shareMainLoop } from '../../src/core/load/hostLoop';

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

  it('in the editor (its main loop shared) plain clients run on a worker thread even where one loop would do; a pool or a rate stays on the main loop, and a number of loops asked for in vain is said', () => {
    assert.deepEqual(loadLoops('auto', 10, undefined, 2), { loops: 1, threads: false }, 'the CLI: one loop, the main one');
    shareMainLoop(true);
    try {
      assert.deepEqual(loadLoops('auto', 10, undefined, 2), { loops: 1, threads: true });
      assert.deepEqual(loadLoops(3, 10, undefined, 2), { loops: 3, threads: true });
      assert.deepEqual(loadLoops('auto', 10, 'a fixed arrival rate', 2), { loops: 1, threads: false, note: undefined });
    } finally {
      shareMainLoop(false);
    }
    assert.deepEqual(loadLoops(2, 10, 'the application-pool emulation', 2), { loops: 1, threads: false, note: '2 event loops were asked for, and one was used: the application-pool emulation runs on one.' });
  });
});
