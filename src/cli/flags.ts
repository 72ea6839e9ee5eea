/** Flag parsing shared by the commands: the flag sets, numbers, durations, sizes, SQL sources, parameters, settings. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage } from '../core/errors';
import { formatMs } from '../shared/format';
import { parseParamFlag, type ParamInput } from '../core/load/params';
import { parseDurationMs, parseWholeNumber } from '../core/units';
import { ensureParser, splitStatements } from '../core/sql';
import { readInputText } from '../core/inputFile';
import { parseOption, rowByFlag, RATE_LIMITS, RUN_OPTION_TABLE, THINK_TIME_LIMITS_MS, type OptionRow, type OptionValue } from '../core/optionTable';
import type { ThinkTimeDistribution } from '../shared/result';
import { usage } from './io';

/** How every command reports: JSON, progress, log lines, help. */
export const OUTPUT_OPTIONS = {
  json: { type: 'string' },
  'no-progress': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

/** Flags both commands take: what to run, where, and how to write the result. */
/** parseArgs options for rows of the option table (a boolean for a flag, a string for anything with a value). */
export function tableFlags(flags: readonly string[] = RUN_OPTION_TABLE.map((r) => r.flag)): Record<string, { type: 'string' } | { type: 'boolean' }> {
  return Object.fromEntries(flags.map((f) => [f, { type: rowByFlag(f)!.kind === 'flag' ? 'boolean' : 'string' }]));
}

/** The table options every command that runs a statement takes. */
export const COMMON_TABLE_FLAGS = ['statement-timeout', 'allow-writes', 'prepared', 'seed', 'application-name'] as const;

export const COMMON_OPTIONS = {
  sql: { type: 'string' },
  file: { type: 'string' },
  statement: { type: 'string' },
  url: { type: 'string' },
  set: { type: 'string', multiple: true },
  param: { type: 'string', multiple: true },
  ...OUTPUT_OPTIONS,
  ...(tableFlags(COMMON_TABLE_FLAGS) as Record<never, never>),
} satisfies ParseArgsConfig['options'];

/**
 * The option-table values among the parsed flags (those given), in the run's units; a bad one stops with
 * `--flag text: why`.
 */
export function tableValues(parsed: object, flags: readonly string[] = RUN_OPTION_TABLE.map((r) => r.flag)): Partial<Record<OptionRow['key'], OptionValue>> {
  const v = parsed as Record<string, string | boolean | undefined>;
  const out: Partial<Record<OptionRow['key'], OptionValue>> = {};
  for (const flag of flags) {
    const raw = v[flag];
    if (raw === undefined) continue;
    const row = rowByFlag(flag)!;
    if (row.kind === 'flag') {
      out[row.key] = row.negated ? !raw : raw === true;
      continue;
    }
    const r = parseOption(row, raw);
    if (!r.ok) usage(`--${flag} ${String(raw)}: ${r.error}`);
    out[row.key] = (r as { value: OptionValue }).value;
  }
  return out;
}

/**
 * `--duration -1` → `--duration=-1`, so that a negative number reaches validation instead of reading as a flag;
 * likewise SQL that starts with a `--` comment after --sql.
 */
export function joinNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    const spec = name !== undefined ? options[name] : undefined;
    // SQL may begin with a "-- comment": after --sql the next word is always its value.
    const takesAnything = name === 'sql' || name === 'sql-b';
    if (spec?.type === 'string' && i + 1 < args.length && (/^-\d/.test(args[i + 1]) || (takesAnything && args[i + 1].startsWith('-')))) {
      out.push(`${args[i]}=${args[++i]}`);
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/**
 * A command's flags; with --help, prints `help` and returns undefined (the command then ends with exit code 0).
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string, help: string, io: { stdout: (t: string) => void }) {
  const parsed = parseFlags(args, options, command);
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout(help);
    return undefined;
  }
  return parsed;
}

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals: true });
  } catch (err) {
    const m = errorMessage(err);
    const unknown = /Unknown option '([^']+)'/.exec(m);
    if (unknown) usage(`Unknown option ${unknown[1]}; see "pgload ${command} --help" for the options`);
    const missing = /Option '([^']+?)(?:, -\w)?(?: <value>)?' argument missing/.exec(m);
    if (missing) usage(`${missing[1]} needs a value; see "pgload ${command} --help"`);
    usage(`${m}; see "pgload ${command} --help"`);
  }
}

export function duration(flag: string, text: string | undefined, bare: 'ms' | 's', min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (/^\s*-/.test(text)) usage(`--${flag} ${text}: a duration cannot be negative; write it like 500ms or 30s`);
  const r = parseDurationMs(text, bare);
  if (!r.ok) usage(`--${flag}: ${r.error}`);
  if (r.ms <= min) usage(`--${flag} ${text}: must be more than ${formatMs(min)}`);
  return r.ms;
}

/** `10%` or `10` → 0.1. */
export function percentFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!m) usage(`--${flag} ${text}: write a percentage, like 10%`);
  return Number(m![1]) / 100;
}

/** The users' pauses between requests (with --users): the flags `run`, `diagnose` and `capacity` share. */
export const THINK_FLAGS = {
  'think-time': { type: 'string' },
  'think-dist': { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** --think-time TIME (0: back to back) and --think-dist exponential|constant; nothing without --think-time. */
export function thinkFromFlags(v: { 'think-time'?: string; 'think-dist'?: string }): { thinkTimeMs?: number; thinkTimeDistribution?: ThinkTimeDistribution } {
  const ms = duration('think-time', v['think-time'], 's', -1);
  const dist = v['think-dist']?.trim().toLowerCase();
  if (dist !== undefined && dist !== 'exponential' && dist !== 'constant') usage(`--think-dist ${v['think-dist']}: use exponential (as users pause, the default) or constant`);
  if (ms === undefined) {
    if (dist !== undefined) usage('--think-dist goes with --think-time');
    return {};
  }
  if (ms > THINK_TIME_LIMITS_MS.max) usage(`--think-time ${v['think-time']}: must be at most ${THINK_TIME_LIMITS_MS.max / 60_000} minutes`);
  return { thinkTimeMs: ms, thinkTimeDistribution: (dist ?? 'exponential') as ThinkTimeDistribution };
}

/** "100/s", "100 per s", "100" → 100 requests per second (at least `min`); undefined without the flag. */
export function perSecondFlag(flag: string, text: string | undefined, min: number = RATE_LIMITS.perSecond.min): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s|\/\s*sec|per\s*s)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= min) || n > RATE_LIMITS.perSecond.max) usage(`--${flag} ${text}: write requests per second from ${min} to ${RATE_LIMITS.perSecond.max.toLocaleString('en-US')}, like --${flag} 100/s`);
  return n;
}

export function whole(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const r = parseWholeNumber(text, min, max);
  if (!r.ok) usage(`--${flag} ${text}: ${r.error}`);
  return r.value;
}


/** Reads a .sql file as UTF-8 text, with a specific message for each way it can be wrong. */
export function readSqlFile(path: string, flag = 'file'): string {
  const text = readInputText(path, 'sql', `--${flag} ${path}`);
  if (text.length === 0) usage(`--${flag} ${path}: the file is empty; put the statement to profile in it`);
  return text;
}

export async function pickStatement(text: string, source: string, n: number | undefined): Promise<string> {
  if (n === undefined) return text;
  await ensureParser();
  const statements = splitStatements(text);
  if (statements.length === 0) usage(`${source} holds no statement`);
  if (n > statements.length) {
    usage(`--statement ${n}: ${source} holds ${statements.length} statement${statements.length === 1 ? '' : 's'}; give a number from 1 to ${statements.length}`);
  }
  return statements[n - 1].text;
}

/** The SQL to run, from --sql or --file (and --statement), with the checks both commands share. */
export async function sqlFromFlags(v: { sql?: string; file?: string; statement?: string }, positionals: string[]): Promise<string> {
  if (positionals.length > 0) usage(`Unexpected argument "${positionals[0]}"; put the SQL after --sql, or a file after --file`);
  if (v.sql !== undefined && v.file !== undefined) usage('Give either --sql or --file, not both');
  if (v.sql === undefined && v.file === undefined) usage('No SQL given; use --sql "SELECT …" or --file query.sql');
  if (v.sql !== undefined && v.sql.trim() === '') usage('--sql is empty; give the statement to profile');
  const statementNo = whole('statement', v.statement, 1, 1_000_000);
  const source = v.file !== undefined ? `--file ${v.file}` : '--sql';
  const text = v.file !== undefined ? readSqlFile(v.file) : v.sql!;
  return pickStatement(text, source, statementNo);
}

/** --param N=SPEC (repeatable), --prepared and --seed: how the statement's `$n` get values and how it is sent. */
/** The second statement of `ab` and `diagnose`: --sql-b TEXT, or --file-b PATH [--statement-b N]; undefined when neither. */
export async function sqlBFromFlags(v: { 'sql-b'?: string; 'file-b'?: string; 'statement-b'?: string }, what: string): Promise<string | undefined> {
  if (v['sql-b'] !== undefined && v['file-b'] !== undefined) usage('Give either --sql-b or --file-b, not both');
  if (v['sql-b'] !== undefined) {
    if (v['sql-b'].trim() === '') usage(`--sql-b is empty; give ${what}`);
    return v['sql-b'];
  }
  if (v['file-b'] === undefined) return undefined;
  return pickStatement(readSqlFile(v['file-b'], 'file-b'), `--file-b ${v['file-b']}`, whole('statement-b', v['statement-b'], 1, 1_000_000));
}

export function paramsFromFlags(v: { param?: string[] }): { params: ParamInput[]; prepared: boolean; seed: number } {
  const t = tableValues(v, ['prepared', 'seed']);
  return {
    params: (v.param ?? []).map(parseParamFlag),
    prepared: t.prepared === true,
    seed: (t.seed as number | undefined) ?? 1,
  };
}

/** The statement timeout, writes and application name every command that runs a statement takes, from the table. */
export function commonRunFlags(v: object): { statementTimeoutMs?: number; allowWrites: boolean; applicationName?: string } {
  const t = tableValues(v, ['statement-timeout', 'allow-writes', 'application-name']);
  return { statementTimeoutMs: t.statementTimeoutMs as number | undefined, allowWrites: t.allowWrites === true, applicationName: t.applicationName as string | undefined };
}

export function settingsFromFlags(pairs: string[] | undefined, flag = 'set'): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(pair);
    if (!m || m[2] === '') usage(`--${flag} ${pair}: write it as NAME=VALUE, like --${flag} work_mem=64MB`);
    settings[m[1]] = m[2];
  }
  return settings;
}

/** The connection from --url (checked not to be empty), or {} for the PG* variables and ~/.pgpass. */
export function connectionFromFlags(url: string | undefined): { url?: string } {
  if (url === undefined) return {};
  if (url.trim() === '') usage('--url is empty; give a URL like postgres://user@host:5432/dbname, or leave it out to use PG* variables');
  return { url };
}
