/**
 * The Universal Scalability Law, X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted by least squares to measured
 * throughput at several client counts. For fixed σ and κ the best λ has a closed form, so the search is over
 * (σ, κ) ≥ 0 only: start from the best of a coarse log grid and of the linearised USL (N/X is a quadratic in N),
 * then a pattern search with axis and diagonal moves (σ and κ trade off along a narrow valley).
 */

export interface UslPoint {
  clients: number;
  throughput: number;
}

export interface UslFit {
  lambda: number;
  sigma: number;
  kappa: number;
  /** Coefficient of determination of the fit on the measured points. */
  r2: number;
  /** N* = √((1−σ)/κ), the concurrency of peak throughput; null when the model has no peak (κ = 0 or σ ≥ 1). */
  peakClients: number | null;
}

export function uslThroughput(n: number, f: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>): number {
  return (f.lambda * n) / (1 + f.sigma * (n - 1) + f.kappa * n * (n - 1));
}

function shape(n: number, sigma: number, kappa: number): number {
  return n / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

/** Best λ and the squared error for given σ, κ. */
function solve(points: UslPoint[], sigma: number, kappa: number): { lambda: number; sse: number } {
  let fx = 0;
  let ff = 0;
  for (const p of points) {
    const f = shape(p.clients, sigma, kappa);
    fx += f * p.throughput;
    ff += f * f;
  }
  const lambda = ff > 0 ? fx / ff : 0;
  let sse = 0;
  for (const p of points) {
    const e = p.throughput - lambda * shape(p.clients, sigma, kappa);
    sse += e * e;
  }
  return { lambda, sse };
}

/** Ordinary least squares of N/X = a + bN + cN², mapped back to σ and κ: a start point for the search. */
function linearisedStart(pts: UslPoint[]): { sigma: number; kappa: number } | null {
  // Normal equations for y = a + bN + cN².
  const S = Array.from({ length: 3 }, () => [0, 0, 0]);
  const T = [0, 0, 0];
  for (const p of pts) {
    if (p.throughput <= 0) return null;
    const y = p.clients / p.throughput;
    const v = [1, p.clients, p.clients * p.clients];
    for (let i = 0; i < 3; i++) {
      T[i] += v[i] * y;
      for (let j = 0; j < 3; j++) S[i][j] += v[i] * v[j];
    }
  }
  const det = (m: number[][]) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const d = det(S);
  if (Math.abs(d) < 1e-12) return null;
  const col = (i: number) => S.map((row, r) => row.map((x, c) => (c === i ? T[r] : x)));
  const [a, b, c] = [0, 1, 2].map((i) => det(col(i)) / d);
  // N/X = (1/λ)(1 − σ + (σ − κ)N + κN²): a = (1−σ)/λ, b = (σ−κ)/λ, c = κ/λ, so 1/λ = a + b + c.
  const invLambda = a + b + c;
  if (!(invLambda > 0)) return null;
  const kappa = c / invLambda;
  const sigma = 1 - a / invLambda;
  return { sigma: Math.max(0, sigma), kappa: Math.max(0, kappa) };
}

export function fitUsl(points: UslPoint[]): UslFit | null {
  const pts = points.filter((p) => p.clients > 0 && Number.isFinite(p.throughput) && p.throughput >= 0);
  if (pts.length < 3) return null;
  // Coarse grid: σ and κ on log scales (plus zero), where real systems live.
  const sigmas = [0, ...Array.from({ length: 41 }, (_, i) => Math.pow(10, -4 + (i * 4) / 40))];
  const kappas = [0, ...Array.from({ length: 41 }, (_, i) => Math.pow(10, -7 + (i * 7) / 40))];
  let best = { sigma: 0, kappa: 0, sse: Infinity };
  for (const s of sigmas) {
    for (const k of kappas) {
      const { sse } = solve(pts, s, k);
      if (sse < best.sse) best = { sigma: s, kappa: k, sse };
    }
  }
  const linear = linearisedStart(pts);
  if (linear) {
    const { sse } = solve(pts, linear.sigma, linear.kappa);
    if (sse < best.sse) best = { ...linear, sse };
  }
  // Pattern search: shrink steps around the best point, staying in σ, κ ≥ 0.
  let ds = Math.max(best.sigma, 1e-4);
  let dk = Math.max(best.kappa, 1e-7);
  for (let iter = 0; iter < 2000 && (ds > 1e-10 || dk > 1e-13); iter++) {
    let improved = false;
    for (const [a, b] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
      [1, 1],
      [-1, -1],
      [1, -1],
      [-1, 1],
    ]) {
      const s = Math.max(0, best.sigma + a * ds);
      const k = Math.max(0, best.kappa + b * dk);
      const { sse } = solve(pts, s, k);
      if (sse < best.sse - 1e-15) {
        best = { sigma: s, kappa: k, sse };
        improved = true;
      }
    }
    if (!improved) {
      ds /= 2;
      dk /= 2;
    }
  }
  const { lambda } = solve(pts, best.sigma, best.kappa);
  const mean = pts.reduce((a, p) => a + p.throughput, 0) / pts.length;
  const sst = pts.reduce((a, p) => a + (p.throughput - mean) ** 2, 0);
  const r2 = sst > 0 ? 1 - best.sse / sst : 1;
  const peakClients = best.kappa > 0 && best.sigma < 1 ? Math.sqrt((1 - best.sigma) / best.kappa) : null;
  return { lambda, sigma: best.sigma, kappa: best.kappa, r2, peakClients };
}
