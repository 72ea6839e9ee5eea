/**
 * The capacity's answer in words, from the judged steps only: where the boundary is with its precision and the figures
 * that place it, what limits it (the pool, the server, or the statement itself), and what nothing can be claimed about.
 * Pure: tested on results whose right answer is known.
 */
import type { CapacityBoundary, CapacityResult, CapacityStep } from '../../shared/result';
import { formatMs, formatQps } from '../../shared/format';
import { demandWords, intervalWords } from '../../shared/report/capacity';

export type AnswerInput = Pick<CapacityResult, 'objective' | 'demand' | 'alone' | 'saturation' | 'steps' | 'boundary'> & { precision: number; max: number };

function interval(s: CapacityStep): string {
  return `p95 ${formatMs(s.p95Ms)}, 95 % interval ${intervalWords(s)}, ${s.ok.toLocaleString('en-US')} requests`;
}

export function capacityAnswer(x: AnswerInput): { answer: string; limitedBy: string | null } {
  const objective = `p95 ≤ ${formatMs(x.objective.p95Ms)}`;
  const step = (d: number) => x.steps.find((s) => s.demand === d);
  const words = (n: number) => demandWords(x.demand, n);
  const b: CapacityBoundary = x.boundary;
  switch (b.kind) {
    case 'bracketed': {
      const m = step(b.meets)!;
      const f = step(b.fails);
      const unit = x.demand.kind === 'users' ? 'users' : 'requests/s';
      const width = b.fails - b.meets;
      const between = x.steps.filter((s) => s.verdict === 'unclear' && s.demand > b.meets && s.demand < b.fails).sort((p, q) => p.demand - q.demand);
      return {
        answer:
          `${words(b.meets)} meet ${objective} (${interval(m)}); ` +
          (f ? `${words(b.fails)} miss it (${interval(f)}). ` : `${words(b.fails)} cannot meet it: that is the most the sessions served back to back, and arrivals at that rate queue without end. `) +
          (between.length === 1
            ? `Between them, ${words(between[0].demand)} (p95 ${formatMs(between[0].p95Ms)}) was too close to the objective to tell. `
            : between.length > 1
              ? `Between them, ${between.length} steps from ${x.demand.kind === 'users' ? between[0].demand : formatQps(between[0].demand)} to ${words(between[between.length - 1].demand)} (p95 ${formatMs(between[0].p95Ms)}–${formatMs(between[between.length - 1].p95Ms)}) were too close to the objective to tell. `
              : '') +
          `The capacity within the objective is ${x.demand.kind === 'users' ? b.meets : formatQps(b.meets)} ${unit}, known to within ${x.demand.kind === 'users' ? width : formatQps(width)} (${Math.round((100 * width) / b.meets)} %).`,
        limitedBy: f ? limit(x, f) : `the throughput the sessions give this statement (${formatQps(b.fails)} q/s back to back): ${x.saturation ? `${x.saturation.sessions} sessions` : 'they'} serve no more, so the objective is met only below it`,
      };
    }
    case 'below-minimum': {
      const f = step(b.fails);
      if (!f) {
        return {
          answer: `The statement alone takes p50 ${formatMs(x.alone.p50Ms)} (p95 ${formatMs(x.alone.p95Ms)}), more than the objective ${objective}: no load meets it. Make the statement itself faster first (pgload run shows where its time goes).`,
          limitedBy: 'the statement itself: it misses the objective with nothing else running',
        };
      }
      return { answer: `Even ${words(b.fails)} miss ${objective} (${interval(f)}); the statement alone takes p50 ${formatMs(x.alone.p50Ms)}, p95 ${formatMs(x.alone.p95Ms)}.`, limitedBy: limit(x, f) };
    }
    case 'above-maximum': {
      const m = step(b.meets)!;
      return {
        answer: `Up to ${words(b.meets)} — the most this search tried — meet ${objective} (${interval(m)}): no boundary was found below it, and nothing is claimed beyond it. Search further with ${x.demand.kind === 'users' ? '--max-users' : '--max-rate'}.`,
        limitedBy: null,
      };
    }
    default: {
      const unclear = x.steps.filter((s) => s.verdict === 'unclear');
      const them = unclear.map((s) => `${words(s.demand)}: ${interval(s)}`).join('; ');
      const lead =
        b.meets !== null
          ? `At least ${words(b.meets)} meet ${objective} (${interval(step(b.meets)!)}); above it no step was judged to miss it.`
          : b.fails !== null
            ? `${words(b.fails)} miss ${objective} (${interval(step(b.fails)!)}); no step below it was judged to meet it.`
            : `No step could be judged against ${objective}.`;
      return { answer: `${lead}${unclear.length ? ` Too close to the objective to tell: ${them}.` : ''} Longer steps (a larger --budget) would tell.`, limitedBy: null };
    }
  }
}

/** What limits the capacity, from the first step that misses the objective. */
function limit(x: AnswerInput, f: CapacityStep): string {
  if (f.poolWaitP95Ms !== null && f.dbP95Ms !== null && f.poolWaitP95Ms > f.dbP95Ms) {
    return `the application's pool: at ${demandWords(x.demand, f.demand)} its sessions are all busy and requests wait for one (p95 ${formatMs(f.poolWaitP95Ms)} waiting against ${formatMs(f.dbP95Ms)} in the database)`;
  }
  const sat = x.saturation;
  if (sat && sat.throughputQps > 0) {
    const u = f.throughputQps / sat.throughputQps;
    if (u >= 0.8) {
      return (
        `the throughput ${sat.sessions} session${sat.sessions === 1 ? '' : 's'} give this statement: at ${demandWords(x.demand, f.demand)} they served ${formatQps(f.throughputQps)} q/s, ${Math.round(u * 100)} % of the most they served back to back (${formatQps(sat.throughputQps)} q/s), and requests queue — p95 ${formatMs(f.p95Ms)} against ${formatMs(x.alone.p95Ms)} alone. ` +
        `Less work per request moves it. More sessions move it only if the server has capacity to spare at ${sat.sessions} (a sweep tells: pgload sweep); if not, more CPUs do.`
      );
    }
    return `queueing before saturation: at ${demandWords(x.demand, f.demand)} the server served ${formatQps(f.throughputQps)} q/s, ${Math.round(u * 100)} % of the most it served back to back (${formatQps(sat.throughputQps)} q/s), yet p95 is ${formatMs(f.p95Ms)} against ${formatMs(x.alone.p95Ms)} alone: requests that arrive together wait for each other well before the server is saturated`;
  }
  return `p95 ${formatMs(f.p95Ms)} at ${demandWords(x.demand, f.demand)}`;
}
