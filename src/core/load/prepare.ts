/**
 * Everything about a run that can be checked without a server, once: the options, the SQL (parsed by PostgreSQL's
 * parser), what it may do, its parameter generators (CSV files read) and the connection settings.
 */

import type { ExecutionMode } from '../../shared/result';
import {
  resolveConnection,
  type ResolveEnvironment,
  type ResolvedConnection,
} from '../connection/connection';
import { errorMessage, PgloadError } from '../errors';
import { normalizeOptions, type ProfileInput, type ProfileOptions } from '../options';
import { executionModeFor } from '../safety';
import { refuseEscapingCalls } from '../escapes';
import { ensureParser, parseSingleStatement, type SqlStatement } from '../sql';
import { checkParams, readCsvColumn, type ParamSpec, type ParamInput } from './params';
import { prepareScripts, type PreparedScript } from './script';
import { oneLine } from '../../shared/text';

export type CheckedParam = ParamInput & { parsed: ParamSpec };


/** Everything that can be checked without a server: throws PgloadError for bad options, SQL or connection settings. */
export async function prepareRun(input: ProfileInput, environment?: ResolveEnvironment): Promise<PreparedRun> {
  const options = normalizeOptions(input);
  await ensureParser();
  let statement: SqlStatement;
  let mode: ExecutionMode;
  let scripts: PreparedScript[] | undefined;
  if (options.scripts) {
    // A transaction or a mix: every statement checked and named; the whole stands as one for the result.
    if (options.prepared) throw new PgloadError('usage', 'Prepared statements go with one statement; leave out --prepared for a transaction or a mix');
    const p = prepareScripts(options.scripts, options.allowWrites);
    ({ statement, mode } = p);
    scripts = p.scripts;
    options.sql = statement.text;
  } else {
    statement = parseSingleStatement(options.sql);
    mode = executionModeFor(statement, options.allowWrites);
  }
  const params = checkParams(options.params, statement.paramCount);
  const values = new Map<number, Array<string | null>>();
  for (const p of params) {
    if (p.parsed.kind === 'csv') values.set(p.index, readCsvColumn(p.parsed.file, p.parsed.column, `$${p.index}`));
    if (p.parsed.kind === 'sql') checkSamplingQuery(p.parsed.query, `$${p.index}`);
  }
  const connection = resolveConnection(options.connection, environment);
  return { options, statement, mode, connection, params, values, scripts };
}

export interface PreparedRun {
  options: ProfileOptions;
  statement: SqlStatement;
  mode: ExecutionMode;
  connection: ResolvedConnection;
  /** The statement's parameter generators, checked, in `$n` order. */
  params: CheckedParam[];
  /** Values read ahead for list-like generators (CSV now, sampling queries once connected). */
  values: Map<number, Array<string | null>>;
  /** A transaction or a mix: the scripts a request picks from (`statement` then stands for them all). */
  scripts?: PreparedScript[];
}

/** A sampling query must be one read-only SELECT: it runs on the user's database before the load. */
function checkSamplingQuery(query: string, label: string): void {
  let s: SqlStatement;
  try {
    s = parseSingleStatement(query);
  } catch (err) {
    throw new PgloadError('usage', `The sampling query for ${label} is not valid: ${errorMessage(err)}`);
  }
  if (s.kind !== 'query' || s.locksRows || s.paramCount > 0) {
    throw new PgloadError('usage', `The sampling query for ${label} must be a plain SELECT without parameters or row locks (it runs read-only before the load), got: ${oneLine(query, 80)}`);
  }
  try {
    refuseEscapingCalls(s.text);
  } catch (err) {
    throw new PgloadError('input', `The sampling query for ${label}: ${errorMessage(err)}`, { code: 'ESCAPES_TRANSACTION' });
  }
}

/**
 * The same statement, parameters (files read, once) and connection with other run options — a sweep step, an A/B leg:
 * nothing is parsed or read again. Setting requests or a duration replaces the other.
 */
export function withOptions(p: PreparedRun, changes: Partial<ProfileOptions>): PreparedRun {
  const base: Partial<ProfileOptions> = { ...p.options };
  if ('requests' in changes || 'durationMs' in changes) {
    delete base.requests;
    delete base.durationMs;
  }
  return { ...p, options: normalizeOptions({ ...base, ...changes } as ProfileInput) };
}

export const isPrepared = (x: ProfileInput | PreparedRun): x is PreparedRun => 'statement' in x && 'mode' in x && 'options' in x;

