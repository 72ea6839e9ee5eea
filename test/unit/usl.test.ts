import * as assert from 'node:assert/strict';
import { fitUsl, uslThroughput } from '../../src/core/usl';

const STEPS = [1, 2, 4, 8, 16, 32, 64];

/** Deterministic ±amplitude noise (a fixed sequence, so the test is the same on every run). */
const noise = (i: number, amplitude: number) => 1 + amplitude * Math.sin(i * 12.9898) ;

describe('Universal Scalability Law fit', () => {
  for (const truth of [
    { lambda: 100, sigma: 0.05, kappa: 0.002 },
    { lambda: 35, sigma: 0.2, kappa: 0.0005 },
    { lambda: 500, sigma: 0.01, kappa: 0.01 },
  ]) {
    it(`recovers σ ${truth.sigma} and κ ${truth.kappa} from exact data to within 10 %`, () => {
      const fit = fitUsl(STEPS.map((n) => ({ clients: n, throughput: uslThroughput(n, truth) })))!;
      assert.ok(Math.abs(fit.sigma - truth.sigma) / truth.sigma < 0.1, `σ ${fit.sigma}`);
      assert.ok(Math.abs(fit.kappa - truth.kappa) / truth.kappa < 0.1, `κ ${fit.kappa}`);
      assert.ok(Math.abs(fit.lambda - truth.lambda) / truth.lambda < 0.1, `λ ${fit.lambda}`);
      assert.ok(fit.r2 > 0.999);
      const peak = Math.sqrt((1 - truth.sigma) / truth.kappa);
      assert.ok(Math.abs(fit.peakClients! - peak) / peak < 0.1, `N* ${fit.peakClients} vs ${peak}`);
    });
  }

  it('recovers σ and κ within 10 % with 1 % measurement noise', () => {
    const truth = { lambda: 100, sigma: 0.05, kappa: 0.002 };
    const fit = fitUsl([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64].map((n, i) => ({ clients: n, throughput: uslThroughput(n, truth) * noise(i, 0.01) })))!;
    assert.ok(Math.abs(fit.sigma - truth.sigma) / truth.sigma < 0.1, `σ ${fit.sigma}`);
    assert.ok(Math.abs(fit.kappa - truth.kappa) / truth.kappa < 0.1, `κ ${fit.kappa}`);
  });

  it('linear scaling fits with σ ≈ 0, κ ≈ 0 and no peak', () => {
    const fit = fitUsl(STEPS.map((n) => ({ clients: n, throughput: 20 * n })))!;
    assert.ok(fit.sigma < 1e-3 && fit.kappa < 1e-6, JSON.stringify(fit));
    assert.ok(fit.peakClients === null || fit.peakClients > 1000);
  });

  it('needs at least three points', () => {
    assert.equal(fitUsl([{ clients: 1, throughput: 10 }, { clients: 2, throughput: 19 }]), null);
  });
});

describe('Pool-size recommendation', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { recommendPoolSize } = require('../../src/core/sweep') as typeof import('../../src/core/sweep');
  const step = (clients: number, qps: number, se: number, p95: number) => ({ clients, throughputQps: qps, throughputSe: se, p50Ms: p95 / 2, p95Ms: p95, p99Ms: p95, ok: 100, failed: 0 });

  it('a plateau with a lucky high step still recommends where the plateau starts, not the lucky step', () => {
    const steps = [step(1, 15, 0.5, 80), step(2, 33, 2.5, 90), step(4, 31, 2.5, 180), step(8, 31, 2.5, 400), step(16, 33, 2.5, 900), step(32, 36, 2.5, 2000)];
    assert.equal(recommendPoolSize(steps)!.poolSize, 2);
  });

  it('a significantly better step wins: linear scaling recommends the largest step', () => {
    const steps = [step(1, 20, 0.3, 50), step(2, 40, 0.4, 50), step(4, 80, 0.6, 51), step(8, 160, 1, 52), step(16, 318, 2, 55)];
    assert.equal(recommendPoolSize(steps)!.poolSize, 16);
  });
});
