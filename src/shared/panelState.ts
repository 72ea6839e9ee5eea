/**
 * The panel's state built from stored results, in one place: the extension's panel, its restore after a reload and the
 * HTML export all show a run (or a sweep) the same way.
 */
import type { CapacityResult, Comparison, DiagnoseResult, ProfileResult, ProgressView, SweepResult } from './result';

/** The result as the panel receives it: the result object without the HDR encodings it has no use for. */
export type PanelResult = Omit<ProfileResult, 'hdr'>;

export type RunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface PanelState {
  /** Identifies the run the panel shows; the serializer uses it to restore the panel after a reload. */
  runId: string;
  fingerprint: string;
  sql: string;
  connectionLabel: string;
  state: RunState;
  progress?: ProgressView;
  result?: PanelResult;
  /** One sentence when the run failed. */
  error?: string;
  /** What is running or failed: a profile run (the default) or a concurrency sweep. */
  activity?: 'run' | 'sweep' | 'diagnose' | 'capacity';
  /** The statement's latest concurrency sweep, for the Scaling tab. */
  sweep?: SweepResult;
  /** Two runs compared (from the Runs view), for the Compare tab. */
  comparison?: Comparison;
  /** A diagnosis (the Answers tab): its answers, phases and the measurements behind them. */
  diagnosis?: DiagnoseResult;
  /** A capacity search (the Capacity tab): its steps, boundary and answer. */
  capacity?: CapacityResult;
  /** When this run failed or was cancelled: the statement's last good report, one click away. */
  lastGood?: PanelState;
}


/** The result without the HDR encodings (a shard's intervals' too): the panel needs only chart-ready data. */
export function toPanelResult(r: ProfileResult): PanelResult {
  const { hdr: _hdr, ...rest } = r;
  return r.shard ? { ...rest, shard: { ...r.shard, slots: [], connectMs: [] } } : rest;
}

/** A panel showing a finished (or cancelled) run, with the statement's sweep when there is one. */
export function stateFromStored(runId: string, result: ProfileResult, connectionName: string, sweep?: SweepResult): PanelState {
  return {
    runId,
    fingerprint: result.fingerprint,
    sql: result.sql,
    connectionLabel: connectionName,
    state: result.status === 'cancelled' ? 'cancelled' : 'done',
    result: toPanelResult(result),
    ...(sweep ? { sweep } : {}),
  };
}

/** A panel showing a sweep (the Scaling tab), with the statement's last run when there is one. */
export function stateFromSweep(runId: string, sweep: SweepResult, connectionName: string, run?: ProfileResult): PanelState {
  return {
    runId,
    fingerprint: sweep.fingerprint,
    sql: sweep.sql,
    connectionLabel: connectionName,
    state: sweep.status === 'cancelled' ? 'cancelled' : 'done',
    activity: 'sweep',
    sweep,
    ...(run ? { result: toPanelResult(run) } : {}),
  };
}

/** A panel showing a capacity search (the Capacity tab). */
export function stateFromCapacity(runId: string, c: CapacityResult, connectionName: string): PanelState {
  return { runId, fingerprint: c.fingerprint, sql: c.sql, connectionLabel: connectionName, state: c.status === 'cancelled' ? 'cancelled' : 'done', activity: 'capacity', capacity: c };
}

/** A panel showing a diagnosis (the Answers tab first), with its load, its sweep and its capacity search when there was one. */
export function stateFromDiagnosis(runId: string, d: DiagnoseResult, connectionName: string): PanelState {
  return { ...stateFromStored(runId, d.runs.load, connectionName, d.runs.sweep ?? undefined), activity: 'diagnose', diagnosis: d, ...(d.runs.capacity ? { capacity: d.runs.capacity.asIs } : {}) };
}
