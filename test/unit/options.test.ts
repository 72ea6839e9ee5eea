import * as assert from 'node:assert/strict';
import { DEFAULTS, normalizeOptions } from '../../src/core/options';
import { rampSteps } from '../../src/core/load/modes/ramp';
import { executionModeFor } from '../../src/core/safety';
import { ensureParser, parseSingleStatement } from '../../src/core/sql';
import { parseDurationMs, parseWholeNumber } from '../../src/core/units';

describe('Run options', () => {
  it('fills defaults and 200 requests when neither requests nor duration is given', () => {
    const o = normalizeOptions({ sql: 'SELECT 1' });
    assert.equal(o.clients, DEFAULTS.clients);
    assert.equal(o.requests, 200);
    assert.equal(o.durationMs, undefined);
  });

  it('rejects impossible combinations with a sentence that names the option', () => {
    const bad: Array<[object, RegExp]> = [
      [{ clients: 0 }, /clients must be from 1 to 10000, got 0/],
      [{ clients: 2.5 }, /clients must be a whole number/],
      [{ requests: 10, durationMs: 1000 }, /either a number of requests or a duration, not both/],
      [{ durationMs: -5 }, /duration \(ms\) must be at least 100/],
      [{ clients: 50, requests: 10 }, /10 requests cannot keep 50 clients busy/],
      [{ statementTimeoutMs: 0 }, /statement timeout \(ms\) must be at least 1/],
      [{ maxErrors: -1 }, /max errors must be from 0/],
    ];
    for (const [extra, re] of bad) assert.throws(() => normalizeOptions({ sql: 'SELECT 1', ...extra }), re);
  });

  it('a ramp needs a duration longer than it and at least 2 clients, and is one way of sending the load among the others', () => {
    const pool = { users: 10, size: 2, maxOverflow: 0, timeoutMs: 1000 };
    const rate = { perSecond: 10, distribution: 'constant' as const, maxOutstanding: 100, seed: 1 };
    const bad: Array<[object, RegExp]> = [
      [{ rampMs: 1000 }, /A ramp runs for a time: give a duration longer than the ramp \(e\.g\. --duration 10s --ramp 1s\)/],
      [{ rampMs: 1000, requests: 500 }, /A ramp runs for a time/],
      [{ rampMs: 5000, durationMs: 5000 }, /The ramp \(5000 ms\) must end before the duration \(5000 ms\) does/],
      [{ rampMs: 1000, durationMs: 5000, clients: 1 }, /at least 2 clients, got 1/],
      [{ rampMs: 50, durationMs: 5000 }, /ramp \(ms\) must be at least 100, got 50/],
      [{ rampMs: 1000, durationMs: 5000, pool }, /Give one way of sending the load, not an application pool and a ramp/],
      [{ durationMs: 5000, pool, rate }, /not an application pool and a fixed arrival rate/],
      [{ durationMs: 5000, rate, reconnect: true }, /Reconnecting works with clients of their own \(--clients\), not with a fixed arrival rate/],
      [{ durationMs: 5000, pool: { ...pool, users: 0 } }, /users must be from 1 to 100000, got 0/],
      [{ durationMs: 5000, pool: { ...pool, size: 20_000 } }, /pool size must be from 1 to 10000, got 20000/],
      [{ durationMs: 5000, pool: { users: 20_000, size: 10_000, maxOverflow: 10_000, timeoutMs: 1000 } }, /clients must be from 1 to 10000, got 20000/],
    ];
    for (const [extra, re] of bad) assert.throws(() => normalizeOptions({ sql: 'SELECT 1', ...extra }), re);
    const ok = normalizeOptions({ sql: 'SELECT 1', clients: 8, durationMs: 3000, rampMs: 1000, reconnect: true });
    assert.equal(ok.rampMs, 1000);
  });

  it('the ramp starts ⌈(k+1)·n/steps⌉ clients at step k, at most 10 steps, and reaches every client before the ramp ends', () => {
    assert.deepEqual(rampSteps(4, 1000), [
      { clients: 1, fromMs: 0, toMs: 250 },
      { clients: 2, fromMs: 250, toMs: 500 },
      { clients: 3, fromMs: 500, toMs: 750 },
      { clients: 4, fromMs: 750, toMs: 1000 },
    ]);
    const many = rampSteps(100, 10_000);
    assert.equal(many.length, 10);
    assert.deepEqual(many.map((s) => s.clients), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(many[9].toMs, 10_000);
  });
});

describe('Durations and counts from people', () => {
  it('reads 500ms, 30s, 2m, 1.5h and bare numbers in the given unit', () => {
    const ms = (t: string, bare: 'ms' | 's') => {
      const r = parseDurationMs(t, bare);
      return r.ok ? r.ms : r.error;
    };
    assert.equal(ms('500ms', 's'), 500);
    assert.equal(ms('30s', 'ms'), 30_000);
    assert.equal(ms('2m', 'ms'), 120_000);
    assert.equal(ms('1.5h', 'ms'), 5_400_000);
    assert.equal(ms('250', 'ms'), 250);
    assert.equal(ms('3', 's'), 3000);
    assert.match(String(ms('soon', 's')), /is not a duration; write it like 500ms, 30s/);
  });

  it('reads whole numbers within a range', () => {
    assert.deepEqual(parseWholeNumber('12', 1, 100), { ok: true, value: 12 });
    assert.match((parseWholeNumber('ten', 1, 100) as { error: string }).error, /not a whole number/);
    assert.match((parseWholeNumber('0', 1, 100) as { error: string }).error, /too small; the smallest allowed is 1/);
  });
});

describe('Safety policy', () => {
  before(() => ensureParser());
  const mode = (sql: string, allowWrites = false) => executionModeFor(parseSingleStatement(sql), allowWrites);

  it('runs plain queries read-only and row-locking queries rolled back; with writes allowed every query is rolled back', () => {
    assert.equal(mode('SELECT * FROM t'), 'read-only');
    assert.equal(mode('SELECT * FROM t FOR UPDATE'), 'rolled-back');
    assert.equal(mode('SELECT my_function_that_writes()', true), 'rolled-back');
  });

  it('refuses DML unless writes are allowed, and then rolls every request back', () => {
    assert.throws(() => mode('DELETE FROM t'), /changes data \(DELETE\); pgload refuses it unless writes are allowed/);
    assert.equal(mode('DELETE FROM t', true), 'rolled-back');
    assert.equal(mode('WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x', true), 'rolled-back');
  });

  it('always refuses DDL, utility statements and transaction control, saying why', () => {
    assert.throws(() => mode('DROP TABLE t', true), /does not run schema changes \(DROP\)/);
    assert.throws(() => mode('BEGIN', true), /refuses transaction control/);
    assert.throws(() => mode('VACUUM t', true), /refuses VACUUM/);
    assert.throws(() => mode("COPY t TO PROGRAM 'x'", true), /refuses COPY/);
    assert.throws(() => mode("SET work_mem = '1GB'", true), /refuses SET/);
    assert.throws(() => mode('EXPLAIN ANALYZE SELECT 1', true), /runs EXPLAIN itself/);
  });
});
