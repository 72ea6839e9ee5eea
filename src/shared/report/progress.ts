/** A run as it goes and as the CodeLens remembers it: live progress, the status bar's words, the lens title. */
import type { ProgressView } from '../protocol';
import type { ProfileResult } from '../result';
import { formatAgo, formatCount, formatDuration, formatMs, formatQps, plural } from '../numbers';

/**
 * A statement's CodeLens: its figures with the load they were measured at (`p50 12.3 ms · p95 40.1 ms at 20 clients ·
 * 5 min ago`), and, when the newest run of it did not complete, that run's fate after them.
 */
export function formatLensTitle(
  r: Pick<ProfileResult, 'load' | 'finishedAt' | 'status' | 'options'>,
  now: number,
  stale: boolean,
  unfinished?: Pick<ProfileResult, 'finishedAt' | 'status'>,
): string {
  const parts = [`p50 ${formatMs(r.load.latency.p50Ms)}`, `p95 ${formatMs(r.load.latency.p95Ms)} at ${loadWords(r)}`, formatAgo(r.finishedAt, now)];
  if (r.load.requests.failed > 0) parts.push(`${formatCount(r.load.requests.failed)} failed`);
  if (r.status !== 'completed') parts.push(STATUS_WORDS[r.status]);
  if (unfinished) parts.push(`last run ${STATUS_WORDS[unfinished.status]} ${formatAgo(unfinished.finishedAt, now)}`);
  return `${stale ? '$(history) stale: ' : ''}${parts.join(' · ')}`;
}

/** A run's state as a lens says it. */
const STATUS_WORDS: Record<ProfileResult['status'], string> = {
  completed: 'completed',
  cancelled: 'cancelled',
  'bailed-out': 'stopped after too many errors',
  'clients-lost': 'lost its sessions',
};

/** The load a run's figures were measured at: its users through the application's pool, else its clients. */
export function loadWords(r: Pick<ProfileResult, 'load' | 'options'>): string {
  const users = r.options?.pool?.users;
  return users !== undefined ? plural(users, 'user') : plural(r.load.clients, 'client');
}

/** The live progress of the load, as every layer shows it: `500 / 1,000 requests · 105 q/s · p95 25.0 ms · 0 errors`. */
export function formatProgress(p: ProgressView): string {
  const requests = (n: number) => `${formatCount(n)} request${n === 1 ? '' : 's'}`;
  // Past its planned time a run is waiting for the requests still in flight: said so, never "4.31 s of 3.88 s".
  const time = p.plannedMs === null ? formatMs(p.elapsedMs) : p.elapsedMs > p.plannedMs ? `${formatMs(p.plannedMs)} done, finishing the requests in flight` : `${formatMs(p.elapsedMs)} of ${formatMs(p.plannedMs)}`;
  const count = p.total !== null ? `${formatCount(p.done)} / ${requests(p.total)}` : `${requests(p.done)} · ${time}`;
  return `${count} · ${formatProgressRate(p)} · ${p.errors} error${p.errors === 1 ? '' : 's'}`;
}

/** The short form for a status bar: `105 q/s · p95 25.0 ms`. */
export function formatProgressRate(p: Pick<ProgressView, 'qps' | 'p95Ms'>): string {
  return `${formatQps(p.qps)} q/s · p95 ${formatMs(p.p95Ms)}`;
}

/** A progress report in one line: its message when it has one ("opening 50 sessions"), the live figures during the load, else the phase. */
export function progressLine(p: ProgressView): string {
  if (p.phase === 'load' && !p.message) return formatProgress(p);
  return p.message || p.phase;
}

/**
 * The time left for a run of steps: what the current step still has of its plan (never below nothing: a step past
 * its plan is finishing), then every later step's plan. Null when a step still to run has no planned length.
 */
export function stagesLeftMs(plannedMs: ReadonlyArray<number | null>, index: number, elapsedInStepMs: number): number | null {
  let left = 0;
  for (let i = Math.max(0, index); i < plannedMs.length; i++) {
    const planned = plannedMs[i];
    if (planned === null) return null;
    left += i === index ? Math.max(0, planned - elapsedInStepMs) : planned;
  }
  return left;
}

/** How far a run is, 0 to 1: a run of steps by its plan, else the load by its requests or its planned time; null when unknown. */
export function progressFraction(p: ProgressView): number | null {
  if (p.stage) return p.stage.fraction;
  if (p.phase !== 'load') return null;
  const f = p.total ? p.done / p.total : p.plannedMs ? p.elapsedMs / p.plannedMs : null;
  return f === null ? null : Math.max(0, Math.min(1, f));
}

/** The time left as a person reads it: "about 1 min 10 s left", "finishing" once the plan has run out. */
export function formatTimeLeft(leftMs: number | null): string {
  if (leftMs === null) return '';
  return leftMs < 1000 ? 'finishing' : `about ${formatDuration(leftMs)} left`;
}

/** A run of steps where it is: "step 2 of 7: 2 clients · about 1 min 10 s left". */
export function formatStage(stage: NonNullable<ProgressView['stage']>, noun = 'step'): string {
  const left = formatTimeLeft(stage.leftMs);
  return `${noun} ${stage.index} of ${stage.of}: ${stage.label}${left ? ` · ${left}` : ''}`;
}

/**
 * The status bar's words for where a run is: pgload and the phase, the step and its time left in a run of steps,
 * then the live rate once the load runs.
 */
export function statusForProgress(p: Pick<ProgressView, 'phase' | 'qps' | 'p95Ms' | 'stage'>): string {
  if (p.stage) {
    const left = formatTimeLeft(p.stage.leftMs);
    return `pgload ${p.stage.index}/${p.stage.of}${p.phase === 'load' && p.qps > 0 ? ` · ${formatProgressRate(p)}` : ''}${left ? ` · ${left}` : ''}`;
  }
  switch (p.phase) {
    case 'preparing':
    case 'connecting':
      return 'pgload connecting…';
    case 'baseline':
      return 'pgload baseline…';
    case 'closing':
      return 'pgload closing sessions…';
    case 'load':
      return `pgload ${formatProgressRate(p)}`;
  }
}
