/**
 * Which stored run belongs above each statement of a document (plain TypeScript, no `vscode`: the CodeLens
 * provider uses it, and the benchmark times it):
 *  1. a run of exactly this text — fresh; its last completed run when the newest was cancelled or failed (that one
 *     is named beside it, so the figures shown are always ones that finished);
 *  2. the last run started from this statement's position in this document — stale (it was edited);
 *  3. a run with the same fingerprint (constants changed, or the statement moved) — stale, unless another
 *     statement of this document has that run's exact text (different statements can share a fingerprint).
 * The runs are indexed once per call; fingerprints are asked for only when some run could match by one.
 */
import type { StatementSpan } from '../core/sqlSpans';
import type { ProfileResult } from '../shared/result';

export interface RunRef {
  result: ProfileResult;
  uri?: string;
  statementIndex?: number;
}

export interface LensMatch<R extends RunRef> {
  statement: StatementSpan;
  run?: R;
  stale: boolean;
  /** The newest run of exactly this text when it did not complete (cancelled, failed) and an older one did. */
  unfinished?: R;
}

/** `runs` newest first; `fingerprintOf` gives pg_query's fingerprint of a statement's text (undefined if it does not parse). */
export function matchRuns<R extends RunRef>(statements: readonly StatementSpan[], runs: readonly R[], uri: string, fingerprintOf: (text: string) => string | undefined): Array<LensMatch<R>> {
  const bySql = new Map<string, R>();
  const newest = new Map<string, R>();
  const byPosition = new Map<number, R>();
  const byFingerprint = new Map<string, R[]>();
  for (const r of runs) {
    if (!newest.has(r.result.sql)) newest.set(r.result.sql, r);
    // The newest completed run of the text; an unfinished one stands only when no run of the text completed.
    const held = bySql.get(r.result.sql);
    if (!held || (held.result.status !== 'completed' && r.result.status === 'completed')) bySql.set(r.result.sql, r);
    if (r.uri === uri && r.statementIndex !== undefined && !byPosition.has(r.statementIndex)) byPosition.set(r.statementIndex, r);
    const same = byFingerprint.get(r.result.fingerprint);
    if (same) same.push(r);
    else byFingerprint.set(r.result.fingerprint, [r]);
  }
  const texts = new Set(statements.map((s) => s.text));
  return statements.map((statement) => {
    const exact = bySql.get(statement.text);
    if (exact) {
      const last = newest.get(statement.text)!;
      return last !== exact ? { statement, run: exact, stale: false, unfinished: last } : { statement, run: exact, stale: false };
    }
    const byPos = byPosition.get(statement.index);
    if (byPos && !texts.has(byPos.result.sql)) return { statement, run: byPos, stale: true };
    if (byFingerprint.size === 0) return { statement, stale: false };
    const fp = fingerprintOf(statement.text);
    const sameShape = fp === undefined ? undefined : byFingerprint.get(fp)?.find((r) => !texts.has(r.result.sql));
    return sameShape ? { statement, run: sameShape, stale: true } : { statement, stale: false };
  });
}
