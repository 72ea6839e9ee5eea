/**
 * The read-only envelope's cost, measured on the baseline session and said where it matters: for a statement of a
 * fraction of a millisecond it is a visible share (a hint with the figure), for a 50 ms one it is not.
 */
import * as assert from 'node:assert/strict';
import { profile } from '../../src/core/load/runner';
import { testDb } from '../support/server';

describe("The envelope's cost on a real PostgreSQL", function () {
  this.timeout(60_000);
  const quick = { clients: 2, requests: 200, explain: false, sampleIntervalMs: 0, baselineRuns: 20 };

  it('SELECT 1: the envelope is measured, and the hint gives it with its share of the statement alone', async () => {
    const r = await profile({ ...quick, sql: 'SELECT 1', connection: { url: testDb().url } });
    assert.ok(r.baseline.envelopeUs !== undefined && r.baseline.envelopeUs >= 0, JSON.stringify(r.baseline));
    const h = r.hints.find((x) => x.id === 'envelope-cost');
    const share = r.baseline.envelopeUs! / 1000 / r.baseline.latency.p50Ms;
    // The hint is there exactly when the measured share reaches 5 %, and its sentence carries the measured figure.
    assert.equal(h !== undefined, share >= 0.05, `share ${share}`);
    if (h) assert.match(h.title, new RegExp(`about ${Math.round(r.baseline.envelopeUs!)} µs`));
  });

  it('pg_sleep(0.05): the same envelope is under 5 % of the statement, so no hint', async () => {
    const r = await profile({ ...quick, requests: 20, sql: 'SELECT pg_sleep(0.05)', connection: { url: testDb().url } });
    assert.ok(r.baseline.envelopeUs !== undefined);
    assert.ok(r.baseline.envelopeUs! < 2500, `${r.baseline.envelopeUs} µs`);
    assert.equal(r.hints.find((x) => x.id === 'envelope-cost'), undefined);
  });
});
