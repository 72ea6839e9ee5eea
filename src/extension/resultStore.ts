/**
 * The last result of each statement (by its exact text), kept in workspace state so that CodeLens and the
 * report panel survive a reload. Bounded: the oldest entries go first. Fingerprints find runs of the same
 * statement after its constants changed — but different statements can share one (pg_query ignores
 * constants and column aliases), so the exact text is the key.
 */
import * as vscode from 'vscode';
import type { DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';

export interface StoredRun {
  runId: string;
  result: ProfileResult;
  connectionName: string;
  /** The document and statement position it was started from, when it came from an editor. */
  uri?: string;
  statementIndex?: number;
}

const KEY = 'pgload.results.v1';
const SWEEPS = 'pgload.sweeps.v1';
const PARAMS = 'pgload.params.v1';
/** Per connection, the heavy-load ranges the user said not to ask about again. */
const HEAVY = 'pgload.heavyAccepted';
const DIAGNOSES = 'pgload.diagnoses.v1';

export interface StoredDiagnosis {
  diagnosis: DiagnoseResult;
  connectionName: string;
}

export interface StoredSweep {
  sweep: SweepResult;
  connectionName: string;
}

export class ResultStore {
  private readonly changed = new vscode.EventEmitter<StoredRun>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly max = 100,
  ) {}

  /** Every stored run, newest first. */
  all(): StoredRun[] {
    const v = this.memento.get<unknown>(KEY);
    return Array.isArray(v) ? (v as StoredRun[]).filter((r) => r && typeof r === 'object' && r.result && typeof r.runId === 'string') : [];
  }

  async save(run: StoredRun): Promise<void> {
    // One run per statement text, the newest; when it did not complete, the newest that did is kept beside it (the
    // CodeLens shows figures that finished, and says the newest was cancelled or failed).
    let keepCompleted = run.result.status !== 'completed';
    const rest = this.all().filter((r) => {
      if (r.runId === run.runId) return false;
      if (r.result.sql !== run.result.sql) return true;
      if (keepCompleted && r.result.status === 'completed') {
        keepCompleted = false;
        return true;
      }
      return false;
    });
    await this.memento.update(KEY, [run, ...rest].slice(0, this.max));
    this.changed.fire(run);
  }

  /** The latest run of exactly this statement text. */
  bySql(sql: string): StoredRun | undefined {
    return this.all().find((r) => r.result.sql === sql);
  }

  /** Runs with this fingerprint, latest first. */
  byFingerprint(fingerprint: string): StoredRun[] {
    return this.all().filter((r) => r.result.fingerprint === fingerprint);
  }

  byRunId(runId: string): StoredRun | undefined {
    return this.all().find((r) => r.runId === runId);
  }

  latest(): StoredRun | undefined {
    return this.all()[0];
  }

  /** The latest run started from this statement position of this document. */
  byPosition(uri: string, statementIndex: number): StoredRun | undefined {
    return this.all().find((r) => r.uri === uri && r.statementIndex === statementIndex);
  }

  private sweeps(): StoredSweep[] {
    const v = this.memento.get<unknown>(SWEEPS);
    return Array.isArray(v) ? (v as StoredSweep[]).filter((r) => r && typeof r === 'object' && r.sweep && typeof r.sweep.sql === 'string') : [];
  }

  /** Keeps the latest sweep of each statement (by exact text), newest first, bounded like the runs. */
  async saveSweep(s: StoredSweep): Promise<void> {
    const rest = this.sweeps().filter((r) => r.sweep.sql !== s.sweep.sql);
    await this.memento.update(SWEEPS, [s, ...rest].slice(0, this.max));
  }

  sweepBySql(sql: string): StoredSweep | undefined {
    return this.sweeps().find((r) => r.sweep.sql === sql);
  }

  sweepByFingerprint(fingerprint: string): StoredSweep | undefined {
    return this.sweeps().find((r) => r.sweep.fingerprint === fingerprint);
  }

  private diagnoses(): StoredDiagnosis[] {
    const v = this.memento.get<unknown>(DIAGNOSES);
    return Array.isArray(v) ? (v as StoredDiagnosis[]).filter((r) => r && typeof r === 'object' && r.diagnosis && typeof r.diagnosis.sql === 'string') : [];
  }

  /** Keeps the latest diagnosis of each statement (by exact text); fewer than runs: each holds many measurements. */
  async saveDiagnosis(d: StoredDiagnosis): Promise<void> {
    const rest = this.diagnoses().filter((r) => r.diagnosis.sql !== d.diagnosis.sql);
    await this.memento.update(DIAGNOSES, [d, ...rest].slice(0, 20));
  }

  diagnosisBySql(sql: string): StoredDiagnosis | undefined {
    return this.diagnoses().find((r) => r.diagnosis.sql === sql);
  }

  /** Parameter generators remembered per statement (fingerprint: the same statement with other constants). */
  paramsFor(fingerprint: string): string[] | undefined {
    const v = this.memento.get<Record<string, unknown>>(PARAMS)?.[fingerprint];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  }

  async rememberParams(fingerprint: string, specs: string[]): Promise<void> {
    const all = { ...(this.memento.get<Record<string, unknown>>(PARAMS) ?? {}) };
    delete all[fingerprint];
    const entries = [[fingerprint, specs] as const, ...Object.entries(all)].slice(0, 500);
    await this.memento.update(PARAMS, Object.fromEntries(entries));
  }

  /** The heavy-load ranges accepted without asking again on this connection. */
  heavyAccepted(connection: string): string[] {
    const v = this.memento.get<Record<string, unknown>>(HEAVY)?.[connection];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  async acceptHeavy(connection: string, signature: string): Promise<void> {
    const all = { ...(this.memento.get<Record<string, unknown>>(HEAVY) ?? {}) };
    all[connection] = [signature, ...this.heavyAccepted(connection).filter((x) => x !== signature)].slice(0, 20);
    await this.memento.update(HEAVY, all);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
