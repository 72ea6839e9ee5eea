/**
 * Every run kept, per workspace, as one JSON file in the extension's storage folder, with an index for
 * listing without reading them all. Bounded: past the limit the oldest unpinned runs are deleted first.
 * Plain Node (no `vscode` import), so that its rules are unit-tested.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AbResult, DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';
import { errorMessage } from '../core/errors';

/** Writes a file whole or not at all: a temporary file beside it, flushed, then renamed over it. */
function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

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

const KINDS: ReadonlySet<string> = new Set<HistoryKind>(['run', 'sweep', 'ab', 'diagnosis']);

/** A run file's name as the store writes it: no folder part, no dot file, .json, never the index. */
export function isRunFileName(file: unknown): file is string {
  return typeof file === 'string' && file === path.basename(file) && /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(file) && file !== INDEX;
}

/** Why an index entry cannot be used (a field missing or of the wrong type, a file outside the folder), or undefined. */
export function entryProblem(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return 'not an entry';
  const x = e as Record<string, unknown>;
  if (typeof x.runId !== 'string' || x.runId === '') return 'no run id';
  if (!isRunFileName(x.file)) return `its file ${JSON.stringify(x.file)} is not a run file of this folder`;
  for (const k of ['connectionName', 'sql', 'fingerprint', 'startedAt', 'status'] as const) if (typeof x[k] !== 'string') return `"${k}" is not text`;
  for (const k of ['clients', 'p50Ms', 'p95Ms', 'qps'] as const) if (typeof x[k] !== 'number' || !Number.isFinite(x[k])) return `"${k}" is not a number`;
  if (typeof x.pinned !== 'boolean') return '"pinned" is not true or false';
  if (x.kind !== undefined && !KINDS.has(x.kind as string)) return `"kind" ${JSON.stringify(x.kind)} is unknown`;
  if (x.name !== undefined && typeof x.name !== 'string') return '"name" is not text';
  return undefined;
}

export class HistoryStore {
  private entries: HistoryEntry[];

  /** What was found damaged when the history was opened and what was done about it, for the user to read. */
  readonly problems: string[] = [];

  constructor(
    readonly folder: string,
    private maxRuns: () => number,
  ) {
    fs.mkdirSync(folder, { recursive: true });
    this.entries = this.readIndex();
  }

  /** A path inside the history folder for a run file's name (never outside it, whatever the index says). */
  private pathOf(file: string): string {
    if (!isRunFileName(file)) throw new Error(`not a run file name: ${file}`);
    return path.join(this.folder, file);
  }

  /**
   * The index, checked entry by entry: a damaged entry is skipped and named; an index that does not read (cut short by a
   * crash, emptied) is rebuilt from the run files; run files the index does not list (a crash between writing the run
   * and the index) are listed again. Entries whose file is gone (deleted by hand) are dropped.
   */
  private readIndex(): HistoryEntry[] {
    const indexPath = path.join(this.folder, INDEX);
    let raw: unknown;
    let damaged = false;
    if (fs.existsSync(indexPath)) {
      try {
        raw = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as unknown;
        if (!Array.isArray(raw)) throw new Error('not a list');
      } catch (err) {
        damaged = true;
        this.problems.push(`The run history's index could not be read (${errorMessage(err)}); it was rebuilt from the run files.`);
        raw = [];
      }
    } else raw = [];
    const entries: HistoryEntry[] = [];
    for (const e of raw as unknown[]) {
      const problem = entryProblem(e);
      if (problem) {
        const id = e && typeof e === 'object' && typeof (e as { runId?: unknown }).runId === 'string' ? ` ${(e as { runId: string }).runId}` : '';
        this.problems.push(`A run history entry${id} was skipped: ${problem}.`);
        continue;
      }
      if (fs.existsSync(this.pathOf((e as HistoryEntry).file))) entries.push(e as HistoryEntry);
    }
    const listed = new Set(entries.map((e) => e.file));
    let recovered = 0;
    for (const file of fs.readdirSync(this.folder).filter((f) => isRunFileName(f) && !listed.has(f)).sort()) {
      const entry = this.recover(file);
      if (entry) {
        entries.push(entry);
        recovered++;
      }
    }
    if (recovered > 0 && !damaged) this.problems.push(`${recovered} run${recovered === 1 ? ' was' : 's were'} missing from the run history's index and listed again from ${recovered === 1 ? 'its file' : 'their files'}.`);
    if (damaged || recovered > 0 || this.problems.length > 0) {
      this.entries = entries;
      this.writeIndex();
    }
    return entries;
  }

  /** An entry rebuilt from a run file alone (its name and connection name are not in the file: the target stands for it). */
  private recover(file: string): HistoryEntry | undefined {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(fs.readFileSync(this.pathOf(file), 'utf8')) as Record<string, unknown>;
    } catch {
      this.problems.push(`The run file ${file} could not be read and was left out.`);
      return undefined;
    }
    const runId = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-(.+)\.json$/.exec(file)?.[1] ?? file.replace(/\.json$/, '');
    const where = (r: ProfileResult | undefined) => (r?.connection ? `${r.connection.database}@${r.connection.host}` : 'recovered');
    try {
      if (v && typeof v === 'object' && 'steps' in v && 'recommendation' in v) {
        const sw = v as unknown as SweepResult;
        return { ...this.sweepFigures(runId, sw, 'recovered'), file };
      }
      if (v && 'a' in v && 'b' in v && 'comparison' in v) {
        const ab = v as unknown as AbResult;
        return { ...this.figures(runId, ab.b, where(ab.b), file), sql: ab.a.sql, fingerprint: ab.a.fingerprint, kind: 'ab', summary: ab.comparison.summary };
      }
      if (v && 'answers' in v && 'runs' in v) {
        const d = v as unknown as DiagnoseResult;
        return { ...this.figures(runId, d.runs.load, where(d.runs.load), file), clients: d.app.users, kind: 'diagnosis' };
      }
      if (v && 'load' in v && 'sql' in v) return this.figures(runId, v as unknown as ProfileResult, where(v as unknown as ProfileResult), file);
    } catch {
      // fields missing: not a result this store wrote
    }
    this.problems.push(`The file ${file} in the run history is not a run pgload wrote; it was left out.`);
    return undefined;
  }

  /** Newest first: the reverse of the order prune() drops runs in. */
  list(): HistoryEntry[] {
    return this.oldestFirst().reverse();
  }

  /** By start; two that started at the same time (a result opened from a file, and its run) by their file's name. */
  private oldestFirst(): HistoryEntry[] {
    return [...this.entries].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.file.localeCompare(b.file));
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
      return { e, v: JSON.parse(fs.readFileSync(this.pathOf(e.file), 'utf8')) as T };
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
    const file = `${startedAt.replace(/[^0-9TZ]/g, '-')}-${runId.replace(/[^A-Za-z0-9-]/g, '')}.json`;
    atomicWrite(this.pathOf(file), JSON.stringify(value));
    return file;
  }

  private writeIndex(): void {
    atomicWrite(path.join(this.folder, INDEX), JSON.stringify(this.entries));
  }

  /** Adds an entry; one with the same run id is replaced (a diagnosis takes over its application load's run). */
  private keep(entry: HistoryEntry): HistoryEntry {
    const before = this.entry(entry.runId);
    if (before) {
      this.entries = this.entries.filter((x) => x !== before);
      if (before.file !== entry.file) fs.rmSync(this.pathOf(before.file), { force: true });
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
    return this.keep({ ...this.sweepFigures(runId, sweep, connectionName), file: this.write(runId, sweep.startedAt, sweep) });
  }

  private sweepFigures(runId: string, sweep: SweepResult, connectionName: string): Omit<HistoryEntry, 'file'> {
    const rec = sweep.recommendation;
    // The recommended step's figures; without one, the last complete step's (a step a cancel cut short is no summary).
    const complete = sweep.steps.filter((x) => !x.partial);
    const at = sweep.steps.find((x) => x.clients === rec?.poolSize) ?? complete[complete.length - 1] ?? sweep.steps[sweep.steps.length - 1];
    return {
      runId,
      pinned: false,
      connectionName,
      sql: sweep.sql,
      fingerprint: sweep.fingerprint,
      startedAt: sweep.startedAt,
      status: sweep.status === 'cancelled' ? 'cancelled' : 'completed',
      clients: sweep.steps.length ? Math.max(...sweep.steps.map((x) => x.clients)) : 0,
      p50Ms: at?.p50Ms ?? 0,
      p95Ms: at?.p95Ms ?? 0,
      // The best throughput measured: a partial step's rate counts only if nothing else was measured.
      qps: (complete.length ? complete : sweep.steps).reduce((m, x) => Math.max(m, x.throughputQps), 0),
      kind: 'sweep',
      poolSize: rec?.poolSize ?? null,
    };
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
    const byAge = this.oldestFirst();
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
    fs.rmSync(this.pathOf(e.file), { force: true });
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
