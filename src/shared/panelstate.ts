/**
 * The panel's state built from stored results, in one place: the extension's panel, its restore after a reload and the
 * HTML export all show a run (or a sweep) the same way.
 */
import type { PanelResult, PanelState } from './protocol';
import type { ProfileResult, SweepResult } from './result';

/** The result without the HDR encodings: the panel needs only chart-ready data. */
export function toPanelResult(r: ProfileResult): PanelResult {
  const { hdr: _hdr, ...rest } = r;
  return rest;
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
    state: 'done',
    activity: 'sweep',
    sweep,
    ...(run ? { result: toPanelResult(run) } : {}),
  };
}
