/**
 * The last result of each statement (by its exact text), kept in workspace state so that CodeLens and the
 * report panel survive a reload. Bounded: the oldest entries go first. Fingerprints find runs of the same
 * statement after its constants changed — but different statements can share one (pg_query ignores
 * constants and column aliases), so the exact text is the key.
 */
import * as vscode from 'vscode';
import type { ProfileResult } from '../shared/result';

export interface StoredRun {
  runId: string;
  result: ProfileResult;
  connectionName: string;
  /** The document and statement position it was started from, when it came from an editor. */
  uri?: string;
  statementIndex?: number;
}

const KEY = 'pgload.results.v1';

export class ResultStore {
  private readonly changed = new vscode.EventEmitter<StoredRun>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly max = 100,
  ) {}

  private all(): StoredRun[] {
    const v = this.memento.get<unknown>(KEY);
    return Array.isArray(v) ? (v as StoredRun[]).filter((r) => r && typeof r === 'object' && r.result && typeof r.runId === 'string') : [];
  }

  async save(run: StoredRun): Promise<void> {
    const rest = this.all().filter((r) => r.result.sql !== run.result.sql && r.runId !== run.runId);
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

  dispose(): void {
    this.changed.dispose();
  }
}
