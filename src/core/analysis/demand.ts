/**
 * The diagnosis's headline: what the server does at the application's demand. The rate the users really sent, the
 * most the sweep got from the server for this statement (so the server time one request costs, and the utilization
 * the demand puts on it), what queueing does at that utilization, and Little's law checking the figures against each
 * other. Pure: built from the load phase and the sweep only.
 */
import type { DiagnoseAnswers, ProfileResult, SweepResult } from '../../shared/result';
import { formatMs, formatQps } from '../../shared/format';
import { recheckRates } from '../../shared/report/compare';

/** Little's law may miss by this much before the figures are said to disagree. */
const LITTLE_TOLERANCE = 0.1;

export interface DemandInput {
  app: { users: number; thinkTimeMs?: number; rateQps?: number };
  load: ProfileResult;
  sweep: SweepResult | null;
}

export function demandAnswer(x: DemandInput): NonNullable<DiagnoseAnswers['demand']> {
  const { load, app } = x;
  const rate = load.load.throughputQps;
  const think = app.thinkTimeMs ?? 0;
  // Arrivals at a rate load the server with what arrives, served or not.
  const offered = app.rateQps ?? rate;
  const best = x.sweep?.steps.reduce<SweepResult['steps'][number] | null>((b, s) => (b === null || s.throughputQps > b.throughputQps ? s : b), null) ?? null;
  const utilization = best && best.throughputQps > 0 ? offered / best.throughputQps : null;
  const serviceMs = best && best.throughputQps > 0 ? 1000 / best.throughputQps : null;
  // N = X × (R + Z): the users, the rate they sent, their latency and their pause must agree. Arrivals at a rate: what
  // leaves must equal what arrives (X = λ), and Little's law gives how many are inside on average (L = λ × W).
  const pauseMs = load.load.pool?.think?.meanMs ?? think;
  const littleQps = app.rateQps ?? (app.users * 1000) / Math.max(1e-6, load.load.latency.meanMs + pauseMs);
  const littleOff = littleQps > 0 ? Math.abs(rate - littleQps) / littleQps : 0;
  const cpu = load.insight.waits?.shares.find((s) => s.event === 'CPU');
  const p50 = load.load.latency.p50Ms;
  const p95 = load.load.latency.p95Ms;
  const alone = load.baseline.latency.p50Ms;
  const who = app.rateQps
    ? `${formatQps(app.rateQps)} requests/s arriving (Poisson) on your pool's ${load.load.clients} sessions`
    : think > 0
      ? `${app.users} users pausing ${formatMs(think)} between requests`
      : `${app.users} users sending back to back`;
  const parts: string[] = [];
  if (think <= 0 && !app.rateQps) {
    parts.push(
      `Assuming back-to-back users: no pause between requests was given (--think-time), so each of the ${app.users} users sends its next request as soon as the last one answers — a stampede that holds the server at its limit whatever the pool.`,
    );
  }
  parts.push(app.rateQps ? `At your demand, ${who} were served at ${formatQps(rate)} q/s.` : `${think > 0 ? 'At your demand, ' : ''}${who} sent ${formatQps(rate)} q/s.`);
  if (utilization !== null && best && serviceMs !== null) {
    const cost = `Each request costs the server about ${formatMs(serviceMs)} of its capacity for this statement (the most the sweep got was ${formatQps(best.throughputQps)} q/s, at ${best.clients} concurrent quer${best.clients === 1 ? 'y' : 'ies'})`;
    const onCpu = cpu && cpu.share >= 0.5 ? `; its sessions were on CPU in ${Math.round(cpu.share * 100)} % of the samples` : '';
    parts.push(`${cost}${onCpu}: the demand uses ${Math.round(utilization * 100)} % of it.`);
    parts.push(queueingSentence(utilization, p50, p95, alone, app.rateQps !== undefined));
    // The sweep's steps ran at different speeds: its best rate, and so this share, is uncertain.
    if (x.sweep?.recheck?.verdict === 'drifted') parts.push(`That capacity is uncertain: the server's speed changed during the sweep (${recheckRates(x.sweep.recheck)}).`);
  } else {
    parts.push(`How much of the server that uses was not measured (the sweep did not run): p95 ${formatMs(p95)} against ${formatMs(alone)} alone.`);
  }
  parts.push(app.rateQps ? flowSentence(app.rateQps, rate, load) : `Little's law: ${app.users} users ÷ (latency ${formatMs(load.load.latency.meanMs)} + pause ${formatMs(pauseMs)}) = ${formatQps(littleQps)} q/s against ${formatQps(rate)} q/s measured` +
      (littleOff > LITTLE_TOLERANCE ? ` — ${Math.round(littleOff * 100)} % apart: the run was too short for the users to settle, so these figures are weak.` : '.'));
  const weak = utilization === null || x.sweep?.recommendation?.evidence === 'weak' || x.sweep?.recheck?.verdict === 'drifted' || littleOff > LITTLE_TOLERANCE;
  return { text: parts.join(' '), rateQps: rate, utilization, serviceMs, littleQps, backToBack: think <= 0 && !app.rateQps, ...(cpu ? { cpuShare: cpu.share } : {}), evidence: weak ? 'weak' : 'strong' };
}

/**
 * Arrivals at a rate: what was served against what arrived (a server that keeps up serves them all), and Little's law
 * for how many requests were inside — on a session or waiting for one — on average.
 */
function flowSentence(offered: number, served: number, load: ProfileResult): string {
  const meanMs = load.load.latency.meanMs;
  const inside = (offered * meanMs) / 1000;
  const off = Math.abs(served - offered) / offered;
  const dropped = load.load.openLoop?.dropped ?? 0;
  const law = `Little's law: ${formatQps(offered)} requests/s × mean latency ${formatMs(meanMs)} = ${inside.toFixed(1)} requests inside on average, on the ${load.load.clients} sessions or waiting for one`;
  if (off <= LITTLE_TOLERANCE && dropped === 0) return `${law}; ${formatQps(served)} q/s served of ${formatQps(offered)} arriving: the server kept up.`;
  return (
    `${law}. Only ${formatQps(served)} q/s were served of ${formatQps(offered)} arriving (${Math.round(off * 100)} % apart)` +
    (dropped > 0 ? `, and ${dropped.toLocaleString('en-US')} requests were dropped when ${load.load.openLoop!.maxOutstanding.toLocaleString('en-US')} were outstanding` : '') +
    `: the server fell behind and the queue grew through the run, so the latency depends on how long it ran — this demand is more than it can serve, and these figures are weak.`
  );
}

/**
 * What queueing does at that utilization, with the figures that show it. Only arrivals at a rate (an open demand) can
 * ask for more than the server serves and queue without end; users wait for their answer before they ask again, so
 * at most all of them queue.
 */
function queueingSentence(u: number, p50: number, p95: number, alone: number, open: boolean): string {
  const spread = p50 > 0 ? p95 / p50 : 0;
  const figures = `p95 ${formatMs(p95)} is ${spread.toFixed(1)}× p50 (${formatMs(p50)}) and ${(p95 / Math.max(alone, 1e-6)).toFixed(1)}× the statement alone (${formatMs(alone)})`;
  if (u >= 1 && open) {
    return `At ${Math.round(u * 100)} % — more than the server serves of this statement — requests queue without end: ${figures}. No pool fixes that; less work per request (answer 3), more server capacity (CPUs), or less demand.`;
  }
  if (u >= 0.8) {
    return `At ${Math.round(u * 100)} % requests queue: ${figures}. The pool only decides where they wait; less work per request (answer 3), or more server capacity (CPUs), is what moves it.`;
  }
  if (u >= 0.5) return `At ${Math.round(u * 100)} % requests begin to queue when they arrive together: ${figures}.`;
  return `At ${Math.round(u * 100)} % the server has room: ${figures}; the latency is mostly the statement's own.`;
}
