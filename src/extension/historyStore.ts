/**
 * Every run kept, per workspace, as one JSON file in the extension's storage folder, with an index for
 * listing without reading them all. Bounded: past the limit the oldest unpinned runs are deleted first.
 * Plain Node (no `vscode` import), so that its rules are unit-tested.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AbResult, DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';

export interface HistoryEntry {
  runId: string;
  /** A name the user gave the run ("before the index"); the date when none. */
  name?: string;
  pinned: boolean;
  connectionName: string;
  sql: string;
  fingerprint: string;
  startedAt: string;
  status: ProfileResult['status'];
  clients: number;
  p50Ms: number;
  p95Ms: number;
  qps: number;
  /** How the requests ran: read-only, or each in a transaction rolled back (absent in entries from before it was kept). */
  mode?: ProfileResult['options']['executionMode'];
  /**
   * A profile run (absent in entries from before sweeps were kept), a concurrency sweep, an A/B (its figures are B's,
   * the side with the change) or a diagnosis (its figures are the application load's).
   */
  kind?: HistoryKind;
  /** An A/B's verdict, a diagnosis's recommended pool: one line for the list. */
  summary?: string;
  /** A sweep's recommended pool size (null: none could be recommended). */
  poolSize?: number | null;
  file: string;
}

export type HistoryKind = 'run' | 'sweep' | 'ab' | 'diagnosis';

const INDEX = 'index.json';

export class HistoryStore {
  private entries: HistoryEntry[];

  constructor(
    readonly folder: string,
    private maxRuns: () => number,
  ) {
    fs.mkdirSync(folder, { recursive: true });
    this.entries = this.readIndex();
  }

  private readIndex(): HistoryEntry[] {
    try {
      const v = JSON.parse(fs.readFileSync(path.join(this.folder, INDEX), 'utf8')) as unknown;
      if (!Array.isArray(v)) return [];
      // Entries whose file is gone (deleted by hand) are dropped.
      return (v as HistoryEntry[]).filter((e) => e && typeof e.runId === 'string' && typeof e.file === 'string' && fs.existsSync(path.join(this.folder, e.file)));
    } catch {
      return [];
    }
  }

  private writeIndex(): void {
    const tmp = path.join(this.folder, `${INDEX}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(this.entries));
    fs.renameSync(tmp, path.join(this.folder, INDEX));
  }

  /** Newest first. */
  list(): HistoryEntry[] {
    return [...this.entries].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** Runs grouped by statement (fingerprint), groups ordered by their newest run. */
  groups(): Array<{ fingerprint: string; sql: string; runs: HistoryEntry[] }> {
    const by = new Map<string, HistoryEntry[]>();
    for (const e of this.list()) {
      const g = by.get(e.fingerprint) ?? [];
      g.push(e);
      by.set(e.fingerprint, g);
    }
    return [...by.entries()].map(([fingerprint, runs]) => ({ fingerprint, sql: runs[0].sql, runs }));
  }

  entry(runId: string): HistoryEntry | undefined {
    return this.entries.find((e) => e.runId === runId);
  }

  /** The file of an entry of this kind, or undefined when the entry is another kind or its file is gone or unreadable. */
  private read<T>(runId: string, kinds: HistoryKind[]): { e: HistoryEntry; v: T } | undefined {
    const e = this.entry(runId);
    if (!e || !kinds.includes(e.kind ?? 'run')) return undefined;
    try {
      return { e, v: JSON.parse(fs.readFileSync(path.join(this.folder, e.file), 'utf8')) as T };
    } catch {
      return undefined;
    }
  }

  /**
   * The profile result an entry stands for, to open, export or compare: a run's own, an A/B's B side (the run with
   * the change), a diagnosis's application load. Undefined for a sweep or a file gone or unreadable.
   */
  result(runId: string): ProfileResult | undefined {
    const f = this.read<ProfileResult | AbResult | DiagnoseResult>(runId, ['run', 'ab', 'diagnosis']);
    if (!f) return undefined;
    const v = f.v;
    if (f.e.kind === 'ab') return (v as AbResult).b;
    if (f.e.kind === 'diagnosis') return (v as DiagnoseResult).runs?.load;
    return v as ProfileResult;
  }

  sweep(runId: string): SweepResult | undefined {
    return this.read<SweepResult>(runId, ['sweep'])?.v;
  }

  ab(runId: string): AbResult | undefined {
    return this.read<AbResult>(runId, ['ab'])?.v;
  }

  diagnosis(runId: string): DiagnoseResult | undefined {
    return this.read<DiagnoseResult>(runId, ['diagnosis'])?.v;
  }

  private write(runId: string, startedAt: string, value: unknown): string {
    const file = `${startedAt.replace(/[:.]/g, '-')}-${runId.replace(/[^A-Za-z0-9-]/g, '')}.json`;
    fs.writeFileSync(path.join(this.folder, file), JSON.stringify(value));
    return file;
  }

  /** Adds an entry; one with the same run id is replaced (a diagnosis takes over its application load's run). */
  private keep(entry: HistoryEntry): HistoryEntry {
    const before = this.entry(entry.runId);
    if (before) {
      this.entries = this.entries.filter((x) => x !== before);
      if (before.file !== entry.file) fs.rmSync(path.join(this.folder, before.file), { force: true });
      entry.name ??= before.name;
      entry.pinned ||= before.pinned;
    }
    this.entries.push(entry);
    this.prune();
    this.writeIndex();
    return entry;
  }

  /** A concurrency sweep, kept beside the runs of its statement: its steps' range, best throughput and pool size. */
  addSweep(runId: string, sweep: SweepResult, connectionName: string): HistoryEntry {
    const file = this.write(runId, sweep.startedAt, sweep);
    const rec = sweep.recommendation;
    const at = sweep.steps.find((x) => x.clients === rec?.poolSize) ?? sweep.steps[sweep.steps.length - 1];
    return this.keep({
      runId,
      pinned: false,
      connectionName,
      sql: sweep.sql,
      fingerprint: sweep.fingerprint,
      startedAt: sweep.startedAt,
      status: 'completed',
      clients: sweep.steps.length ? Math.max(...sweep.steps.map((x) => x.clients)) : 0,
      p50Ms: at?.p50Ms ?? 0,
      p95Ms: at?.p95Ms ?? 0,
      qps: sweep.steps.length ? Math.max(...sweep.steps.map((x) => x.throughputQps)) : 0,
      kind: 'sweep',
      poolSize: rec?.poolSize ?? null,
      file,
    });
  }

  /** An A/B kept as one entry: B's figures (the side with the change), named after the change, the verdict as its line. */
  addAb(runId: string, ab: AbResult, connectionName: string, name: string): HistoryEntry {
    const b = ab.b;
    return this.keep({
      ...this.figures(runId, b, connectionName, this.write(runId, b.startedAt, ab)),
      // Listed under the statement that was A/B-tested (A), with B's figures.
      sql: ab.a.sql,
      fingerprint: ab.a.fingerprint,
      startedAt: ab.a.startedAt < b.startedAt ? ab.a.startedAt : b.startedAt,
      kind: 'ab',
      name,
      summary: ab.comparison.summary,
    });
  }

  /** A diagnosis kept as one entry (it replaces its application load's run, which it holds). */
  addDiagnosis(runId: string, d: DiagnoseResult, connectionName: string): HistoryEntry {
    const pool = d.answers.pool?.recommended;
    return this.keep({
      ...this.figures(runId, d.runs.load, connectionName, this.write(runId, d.runs.load.startedAt, d)),
      clients: d.app.users,
      kind: 'diagnosis',
      name: `Diagnosis: ${d.app.users} users, pool ${d.app.poolSize} + ${d.app.maxOverflow}`,
      summary: `${pool ? `pool ${pool.poolSize} recommended` : 'no pool size recommended'}${d.status === 'partial' ? ' · partial' : ''}`,
    });
  }

  private figures(runId: string, r: ProfileResult, connectionName: string, file: string): HistoryEntry {
    return {
      runId,
      pinned: false,
      connectionName,
      sql: r.sql,
      fingerprint: r.fingerprint,
      startedAt: r.startedAt,
      status: r.status,
      clients: r.load.clients,
      p50Ms: r.load.latency.p50Ms,
      p95Ms: r.load.latency.p95Ms,
      qps: r.load.throughputQps,
      mode: r.options.executionMode,
      kind: 'run',
      file,
    };
  }

  add(runId: string, result: ProfileResult, connectionName: string): HistoryEntry {
    return this.keep(this.figures(runId, result, connectionName, this.write(runId, result.startedAt, result)));
  }

  /** Keeps at most maxRuns: the oldest unpinned go first; pinned runs are never dropped. */
  private prune(): void {
    const max = Math.max(1, this.maxRuns());
    const byAge = [...this.entries].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    let excess = this.entries.length - max;
    for (const e of byAge) {
      if (excess <= 0) break;
      if (e.pinned) continue;
      this.remove(e);
      excess--;
    }
  }

  private remove(e: HistoryEntry): void {
    this.entries = this.entries.filter((x) => x !== e);
    fs.rmSync(path.join(this.folder, e.file), { force: true });
  }

  rename(runId: string, name: string): void {
    const e = this.entry(runId);
    if (!e) return;
    e.name = name.trim() || undefined;
    this.writeIndex();
  }

  setPinned(runId: string, pinned: boolean): void {
    const e = this.entry(runId);
    if (!e) return;
    e.pinned = pinned;
    this.writeIndex();
  }

  delete(runId: string): boolean {
    const e = this.entry(runId);
    if (!e) return false;
    this.remove(e);
    this.writeIndex();
    return true;
  }

  /** Applies a lowered limit at once. */
  enforceLimit(): void {
    this.prune();
    this.writeIndex();
  }
}
