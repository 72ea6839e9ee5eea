/**
 * Requests that are scripts: what an application endpoint really sends. A transaction (`--transaction`: the file's
 * statements as one request, BEGIN … ROLLBACK) or a mix (`--mix a.sql@70
 * --mix b.sql@30`: each request picks a script by weight, as pgbench's -f file@weight). Every statement is checked
 * as a single one would be, and named when refused; each statement's latency is recorded apart.
 */
import type { CapturedPlan, ExecutionMode, ScriptFigures, StatementFigures } from '../../shared/result';
import { createHistogram, latencyStats, type Histogram } from './histogram';
import { oneLine } from '../../shared/text';
import { PgloadError } from '../errors';
import type { ScriptInput } from '../options';
import { executionModeFor } from '../safety';
import { fingerprintOf, splitStatements, type SqlStatement } from '../sql';

export interface PreparedScript {
  name: string;
  weight: number;
  statements: SqlStatement[];
  /** Several statements run as one transaction. */
  transaction: boolean;
}

export interface PreparedScripts {
  scripts: PreparedScript[];
  /** Rolled back when any statement writes (or writes are allowed), else read-only. */
  mode: ExecutionMode;
  /** The whole, as one statement-like record for the result (text, fingerprint, kind, highest `$n`). */
  statement: SqlStatement;
}

const MAX_SCRIPTS = 64;

/** Checks every script and statement (the parser loaded); throws PgloadError naming what is wrong, before anything runs. */
export function prepareScripts(inputs: ScriptInput[], allowWrites: boolean): PreparedScripts {
  if (inputs.length === 0) throw new PgloadError('usage', 'No script was given');
  if (inputs.length > MAX_SCRIPTS) throw new PgloadError('usage', `At most ${MAX_SCRIPTS} scripts in a mix, got ${inputs.length}`);
  const names = new Set<string>();
  const scripts: PreparedScript[] = inputs.map((s) => {
    if (!Number.isInteger(s.weight) || s.weight < 1 || s.weight > 1_000_000) {
      throw new PgloadError('usage', `The weight of ${s.name} must be a whole number from 1 to 1000000 (like ${s.name}@70), got ${s.weight}`);
    }
    if (names.has(s.name)) throw new PgloadError('usage', `${s.name} is given twice; give each script once, with its weight`);
    names.add(s.name);
    let statements: SqlStatement[];
    try {
      statements = splitStatements(s.sql);
    } catch (err) {
      throw new PgloadError('input', `${s.name}: ${(err as Error).message}`, { location: (err as PgloadError).location });
    }
    if (statements.length === 0) throw new PgloadError('input', `${s.name} holds no statement; put the statements of the request in it`);
    for (const st of statements) {
      const where = `${s.name}, statement ${st.index + 1} (${oneLine(st.text, 50)})`;
      if (st.kind === 'transaction') {
        throw new PgloadError(
          'input',
          `${where}: transaction control is refused inside a request — pgload begins each request's transaction itself and ends it with ROLLBACK. Remove it from the script.`,
        );
      }
      try {
        executionModeFor(st, allowWrites);
      } catch (err) {
        throw new PgloadError('input', `${where}: ${(err as Error).message}`);
      }
    }
    return { name: s.name, weight: s.weight, statements, transaction: statements.length > 1 };
  });
  const all = scripts.flatMap((s) => s.statements);
  const mode: ExecutionMode = all.some((st) => executionModeFor(st, allowWrites) === 'rolled-back') ? 'rolled-back' : 'read-only';
  const text = scripts.length === 1 ? all.map((st) => st.text).join(';\n') : scripts.map((s) => `-- ${s.name} @${s.weight}\n${s.statements.map((st) => st.text).join(';\n')}`).join(';\n');
  const first = all[0];
  const statement: SqlStatement = {
    ...first,
    index: 0,
    text,
    start: 0,
    end: text.length,
    kind: all.some((st) => st.kind === 'dml') ? 'dml' : 'query',
    nodeType: scripts.length === 1 ? 'Transaction' : 'Mix',
    fingerprint: fingerprintOf(text) ?? first.fingerprint,
    paramCount: Math.max(...all.map((st) => st.paramCount)),
    locksRows: all.some((st) => st.locksRows),
  };
  return { scripts, mode, statement };
}

/** Picks a script by weight from a uniform draw in [0, 1). */
export function pickByWeight(scripts: ReadonlyArray<{ weight: number }>, draw: number): number {
  const total = scripts.reduce((a, s) => a + s.weight, 0);
  let x = draw * total;
  for (let i = 0; i < scripts.length; i++) {
    x -= scripts[i].weight;
    if (x < 0) return i;
  }
  return scripts.length - 1;
}

/** "a.sql@70" → { file, weight }; the weight must be a positive whole number (default 1). */
export function parseMixFlag(text: string): { file: string; weight: number } {
  const m = /^(.*?)(?:@([^@]*))?$/.exec(text.trim())!;
  const file = m[1];
  if (file === '') throw new PgloadError('usage', `--mix ${text}: give a .sql file, and its weight after @ (like --mix checkout.sql@70)`);
  if (m[2] === undefined) return { file, weight: 1 };
  if (!/^\d+$/.test(m[2]) || Number(m[2]) < 1 || Number(m[2]) > 1_000_000) {
    throw new PgloadError('usage', `--mix ${text}: the weight after @ must be a whole number from 1 to 1000000, like --mix ${file}@70`);
  }
  return { file, weight: Number(m[2]) };
}

export interface ScriptStats {
  requests: Histogram[];
  failed: number[];
  statements: Histogram[][];
  statementFailed: number[][];
}

export function emptyScriptStats(scripts: PreparedScript[]): ScriptStats {
  return {
    requests: scripts.map(() => createHistogram()),
    failed: scripts.map(() => 0),
    statements: scripts.map((s) => s.statements.map(() => createHistogram())),
    statementFailed: scripts.map((s) => s.statements.map(() => 0)),
  };
}

/** A statement's failure, its message led by which statement it was (its SQLSTATE and fields kept). */
export function attributeToStatement(err: unknown, where: string | undefined): unknown {
  if (!where || !(err instanceof Error)) return err;
  const e = err as Error & { code?: string };
  return Object.assign(new Error(`${where}: ${e.message}`), { code: e.code, severity: (e as { severity?: string }).severity, cause: err });
}

/** The figures of a transaction or a mix for the result: per script, and per statement with its share of the request. */
export function scriptFigures(scripts: PreparedScript[], stats: ScriptStats, wallMs: number, plans: Array<Array<CapturedPlan | null>>): { scripts: ScriptFigures[]; statements: StatementFigures[] } {
  const total = stats.requests.reduce((a, h, i) => a + h.totalCount + stats.failed[i], 0);
  return {
    scripts: scripts.map((s, si) => {
      const h = stats.requests[si];
      return {
        name: s.name,
        weight: s.weight,
        share: total > 0 ? (h.totalCount + stats.failed[si]) / total : 0,
        transaction: s.transaction,
        statements: s.statements.length,
        requests: { ok: h.totalCount, failed: stats.failed[si] },
        throughputQps: wallMs > 0 ? (h.totalCount * 1000) / wallMs : 0,
        latency: latencyStats(h),
      };
    }),
    statements: scripts.flatMap((s, si) =>
      s.statements.map((st, i) => {
        const h = stats.statements[si][i];
        const requestMean = stats.requests[si].totalCount > 0 ? stats.requests[si].mean : 0;
        return {
          index: i + 1,
          script: s.name,
          sql: st.text,
          latency: latencyStats(h),
          shareOfRequest: requestMean > 0 && h.totalCount > 0 ? h.mean / requestMean : 0,
          failed: stats.statementFailed[si][i],
          planAlone: plans[si]?.[i] ?? null,
        };
      }),
    ),
  };
}
