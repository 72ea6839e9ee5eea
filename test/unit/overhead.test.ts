import * as assert from 'node:assert/strict';
import { delayMatters, envelopeHint, inflationText } from '../../src/core/insight/overhead';
import { requestInflation } from '../../src/shared/format';
import type { ClientOverhead } from '../../src/shared/result';

describe("pgload's late event loop counts once per round trip of a request", () => {
  const delay = { p50Ms: 1, p99Ms: 6, watchedMs: 10_000 };
  const latency = { p50Ms: 15, p99Ms: 50 };

  it('a transaction of 3 statements (BEGIN, 3, COMMIT = 5 trips): 1 ms at the median adds up to 5 ms, the tail 6 + 4 ms', () => {
    assert.deepEqual(requestInflation(delay, 5), { p50Ms: 5, p99Ms: 10 });
    assert.deepEqual(requestInflation(delay), { p50Ms: 1, p99Ms: 6 });
  });

  it('the same delay does not matter for one round trip of 15 ms, and does for five (a third of the median)', () => {
    assert.equal(delayMatters(delay, latency, 1), false);
    assert.equal(delayMatters(delay, latency, 5), true);
  });

  it('the report says the bound with the round trips, and the old single-trip figure is not what it prints', () => {
    const o: ClientOverhead = { cpuMs: 1, cpuUsPerRequest: 300, cpuShareOfOneCore: 0.4, eventLoopDelayP50Ms: 1, eventLoopDelayP99Ms: 6, eventLoopDelayMaxMs: 9, clientBound: true, roundTripsPerRequest: 5 };
    assert.equal(inflationText(o, latency), 'the p50 (15.0 ms) may read up to 5.00 ms (33 %) high, the p99 (50.0 ms) up to 10.0 ms (20 %) (5 round trips per request, each can wait)');
  });
});

describe("The envelope's cost: said when it is a visible part of the statement's time", () => {
  it('70 µs against a 0.30 ms statement: an info hint with both figures and the share (23 %)', () => {
    const h = envelopeHint(70, 0.3, true)!;
    assert.equal(h.id, 'envelope-cost');
    assert.equal(h.severity, 'info');
    assert.match(h.title, /adds about 70 µs to a request alone: 23 % of this statement's time/);
    assert.match(h.detail, /BEGIN READ ONLY … ROLLBACK in the same round trip.*one request at a time.*p50 of 0\.300 ms alone/s);
  });
  it('70 µs against a 50 ms statement (0.14 %), or not measured: no hint', () => {
    assert.equal(envelopeHint(70, 50, true), null);
    assert.equal(envelopeHint(undefined, 0.3, true), null);
  });
  it('with writes allowed the envelope is named BEGIN … ROLLBACK', () => {
    assert.match(envelopeHint(40, 0.2, false)!.detail, /runs as BEGIN … ROLLBACK/);
  });
});
