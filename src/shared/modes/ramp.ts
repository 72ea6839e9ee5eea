/**
 * The ramp's part of the result and the report: clients added in steps over the ramp time (k6's ramping executor),
 * then all of them for the rest of the run, with each stage's own figures.
 */
import { formatCount, formatMs, formatQps } from '../numbers';
import type { ModeText } from './mode';

/** One stage of a ramp: the clients running through it, and the requests that ended in it. */
export interface RampStage {
  clients: number;
  fromMs: number;
  toMs: number;
  ok: number;
  failed: number;
  throughputQps: number;
  /** Of the requests that ended in the stage; null when none did. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** What the ramp measured (`load.ramp`). */
export interface RampResult {
  /** The ramp's length; the last stage holds every client after it. */
  overMs: number;
  stages: RampStage[];
}

export const rampText: ModeText = {
  describe(o, amount, warm) {
    if (o.rampMs === undefined) return undefined;
    return `${o.clients} client${o.clients === 1 ? '' : 's'} added in steps over ${formatMs(o.rampMs)} × ${amount}${warm}`;
  },
  lines(r) {
    const ramp = r.load.ramp;
    if (!ramp) return [];
    const stage = (s: RampStage) =>
      `${String(s.clients).padStart(5)} client${s.clients === 1 ? ' ' : 's'} ${formatMs(s.fromMs)}–${formatMs(s.toMs)}: ${formatQps(s.throughputQps)} q/s · p50 ${formatMs(s.p50Ms)} · p95 ${formatMs(s.p95Ms)} · ${formatCount(s.ok)} ok${s.failed ? ` · ${formatCount(s.failed)} failed` : ''}`;
    return [
      `Ramp: clients added in ${ramp.stages.filter((s) => s.fromMs < ramp.overMs).length} steps over ${formatMs(ramp.overMs)}, then held; each stage counts the requests that ended in it (the run's percentiles above mix every stage):`,
      ...ramp.stages.map(stage),
    ];
  },
};
