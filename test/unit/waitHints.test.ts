import * as assert from 'node:assert/strict';
import { IDLE } from '../../src/core/insight/sampler';
import { waitHints } from '../../src/core/insight/waitHints';
import type { WaitSampling } from '../../src/shared/result';

/** Sessions on CPU, more of them than the server's CPUs: the case of the CPU-saturation hint. */
function saturated(avgActive: number, vcpus: number): WaitSampling {
  return {
    intervalMs: 100,
    samples: 50,
    shares: [share('CPU', 0.9, avgActive), share('IO:DataFileRead', 0.1, avgActive)],
    timeline: [],
    avgActive,
    serverVcpus: vcpus,
    vcpusSource: 'given',
    overheadPct: 0.1,
  };
}

const share = (event: string, s: number, active: number) => ({ event, samples: Math.round(50 * s), share: s, avgSessions: s * active });

describe('What the sessions waited on: one voice on pool size', () => {
  it('without a sweep, the rule of thumb says it is one, and never asks for more sessions than the run used', () => {
    const many = waitHints(saturated(30, 2), { clients: 32 }).find((h) => h.id === 'cpu-saturation')!;
    assert.match(many.action, /^Let fewer queries run at once than this run's 32: a rule of thumb — not a measurement — is about 4 connections for 2 vCPUs \(cores × 2\); `pgload sweep`/);
    // 4 clients on 2 vCPUs: cores × 2 is no fewer than the run; it must not say "4–8".
    const four = waitHints(saturated(3.8, 2), { clients: 4 }).find((h) => h.id === 'cpu-saturation')!;
    assert.doesNotMatch(four.action, /4–8|about 4 connections/);
    assert.match(four.action, /the usual rule of thumb \(cores × 2 = 4\) is no fewer than 4, so try 3/);
  });

  it('with a sweep of the statement, the hint quotes its measurement instead', () => {
    const measuredPool = { poolSize: 2, saturated: true, measuredAt: '2026-11-30T14:05:00.000Z' };
    const h = waitHints(saturated(30, 2), { clients: 32, measuredPool }).find((x) => x.id === 'cpu-saturation')!;
    assert.match(h.action, /the sweep of this statement \(2026-11-30 14:05\) measured its best throughput with 2 concurrent queries; this run had 32\. Size the application's pool \(pool_size \+ max_overflow\) to 2/);
    assert.doesNotMatch(h.action, /rule of thumb/);
    const rising = waitHints(saturated(30, 2), { clients: 32, measuredPool: { ...measuredPool, poolSize: 64, saturated: false } }).find((x) => x.id === 'cpu-saturation')!;
    assert.match(rising.action, /found throughput still rising up to 64 concurrent queries, so it did not measure a limit/);
  });

  it('sessions idle waiting for pgload have their own hint id, not the client-bound one', () => {
    const idle: WaitSampling = { ...saturated(1, 2), shares: [share(IDLE, 0.6, 1), share('CPU', 0.4, 1)] };
    const ids = waitHints(idle, { clients: 2 }).map((h) => h.id);
    assert.deepEqual(ids, ['sessions-idle']);
  });
});

describe('Sessions idle inside a transaction: the gaps between statements', () => {
  const sampling = (inTx: number): WaitSampling => ({ ...saturated(1, 2), shares: [share('Idle in transaction', inTx, 20), share('CPU', 1 - inTx, 20)] });

  it("a transaction of the user's statements idle 77 % of the time: a warning naming the round trips, and pgload's part when it was the bottleneck", () => {
    const h = waitHints(sampling(0.77), { clients: 20, transaction: { roundTrips: 5, clientBound: true } }).find((x) => x.id === 'idle-in-transaction')!;
    assert.equal(h.severity, 'warning');
    assert.match(h.title, /idle inside the request's transaction 77 % of the time/);
    assert.match(h.detail, /waiting for its next statement \(5 round trips per request\): more time went to the gaps between statements than to running them \(23 % of the samples\)/);
    assert.match(h.detail, /part of each gap is pgload's own queueing/);
    assert.match(h.action, /^Fewer round trips per request/);
  });

  it('no transaction, or a small share: no hint', () => {
    assert.deepEqual(waitHints(sampling(0.77), { clients: 4 }).filter((x) => /transaction|rollback/.test(x.id)), []);
    assert.deepEqual(waitHints(sampling(0.2), { clients: 4, transaction: { roundTrips: 5, clientBound: false } }).filter((x) => x.id === 'idle-in-transaction'), []);
  });
});

describe('Sessions idle inside a transaction: the sentence holds for its numbers', () => {
  it('40 % idle in transaction against 60 % running: no claim that the gaps took more, and only information', () => {
    const w: WaitSampling = { ...saturated(1, 2), shares: [share('CPU', 0.6, 4), share('Idle in transaction', 0.4, 4)] };
    const h = waitHints(w, { clients: 4, transaction: { roundTrips: 4, clientBound: false } }).find((x) => x.id === 'idle-in-transaction')!;
    assert.equal(h.severity, 'info');
    assert.doesNotMatch(h.detail, /more time went to the gaps/);
    assert.match(h.detail, /the statements themselves ran \(60 % of the samples\)/);
  });
});
