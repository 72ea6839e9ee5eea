/**
 * Values for `$1 … $n`: one generator per parameter, written as a short spec
 *
 *   int:1..100000            uniform whole numbers in [1, 100000]
 *   zipf:1..100000[:1.1]     Zipfian whole numbers (P(k) ∝ k^-s from the low end, like pgbench's random_zipfian)
 *   num:0.5..99.5            uniform real numbers
 *   list:a,b,c               one of the literals, uniformly (\, for a comma inside a value)
 *   csv:FILE:COLUMN          the values of a CSV column (a header name, or a 1-based number), in random order
 *   sql:SELECT id FROM …     the first column of a read-only query run once before the run
 *
 * Specs are parsed and checked without a server; CSV files are read and the sampling queries run before
 * any timing starts, so a bad generator is reported before anything is measured.
 */
import { readInputText } from '../inputFile';
import type * as CsvModule from 'csv-parse/sync';
import { PgloadError } from '../errors';
import { seededRandom } from './random';
import { onFirstUse } from '../lazy';

/** csv-parse, loaded when a CSV generator is first read. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const csv = onFirstUse(() => require('csv-parse/sync') as typeof CsvModule);

export type ParamSpec =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'zipf'; min: number; max: number; s: number }
  | { kind: 'num'; min: number; max: number }
  | { kind: 'list'; values: string[] }
  | { kind: 'csv'; file: string; column: string }
  | { kind: 'sql'; query: string };

/** A parameter's generator as the user wrote it: `index` is the n of `$n`. */
export interface ParamInput {
  index: number;
  spec: string;
}

export const DEFAULT_ZIPF_S = 1.1;
const MAX_VALUES = 1_000_000;

const usage = (msg: string): never => {
  throw new PgloadError('usage', msg);
};

const EXAMPLES = 'int:1..100000, zipf:1..100000:1.1, num:0.5..9.5, list:a,b,c, csv:FILE:COLUMN or sql:SELECT …';

/** Parses `N=SPEC` (the CLI's --param) into its parts. */
export function parseParamFlag(text: string): ParamInput {
  const m = /^\s*\$?(\d+)\s*=(.*)$/s.exec(text);
  if (!m) usage(`--param ${text}: write the parameter number, "=" and a generator, like --param 1=int:1..100000 (generators: ${EXAMPLES})`);
  const index = Number(m![1]);
  if (index < 1 || index > 65535) usage(`--param ${text}: parameters are numbered from $1 to $65535`);
  parseParamSpec(m![2], `$${index}`);
  return { index, spec: m![2].trim() };
}

/** Parses one generator spec; `label` (e.g. "$1") names it in messages. */
export function parseParamSpec(text: string, label: string): ParamSpec {
  const spec = text.trim();
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon).trim().toLowerCase();
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const bad = (what: string) => usage(`The generator for ${label} ("${spec}") ${what}`);
  switch (kind) {
    case 'int':
    case 'zipf':
    case 'num': {
      const parts = rest.split(':');
      const range = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i.exec(parts[0] ?? '');
      if (!range) bad(`needs a range LOW..HIGH, like ${kind}:1..1000`);
      const min = Number(range![1]);
      const max = Number(range![2]);
      if (kind !== 'num' && (!Number.isSafeInteger(min) || !Number.isSafeInteger(max))) bad(`needs whole numbers for ${kind}, like ${kind}:1..1000 (use num: for real numbers)`);
      if (!(min <= max)) bad(`has its low end above its high end (${min} > ${max})`);
      if (kind === 'zipf') {
        if (min < 1) bad('needs a low end of at least 1: the Zipfian skew counts ranks from 1');
        if (parts.length > 2) bad('takes a range and an optional exponent, like zipf:1..1000:1.1');
        const s = parts[1] === undefined || parts[1].trim() === '' ? DEFAULT_ZIPF_S : Number(parts[1]);
        if (!Number.isFinite(s) || s <= 0 || s > 1000) bad(`needs an exponent above 0 and at most 1000 (default ${DEFAULT_ZIPF_S}), got "${parts[1]}"`);
        return { kind, min, max, s };
      }
      if (parts.length > 1) bad(`takes only a range, like ${kind}:1..1000`);
      return { kind, min, max };
    }
    case 'list': {
      const values = splitList(rest);
      if (rest.trim() === '' || values.length === 0) bad('needs at least one value, like list:a,b,c');
      return { kind, values };
    }
    case 'csv': {
      const at = rest.lastIndexOf(':');
      const file = at < 0 ? rest : rest.slice(0, at);
      const column = at < 0 ? '' : rest.slice(at + 1).trim();
      if (!file.trim() || !column) bad('needs a file and a column, like csv:users.csv:id or csv:users.csv:1');
      return { kind, file: file.trim(), column };
    }
    case 'sql': {
      if (!rest.trim()) bad('needs a query, like sql:SELECT id FROM users ORDER BY random() LIMIT 1000');
      return { kind, query: rest.trim() };
    }
    default:
      return bad(`is not a generator pgload knows; use one of ${EXAMPLES}`);
  }
}

function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) cur += text[++i];
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Checks the generators against the statement's `$n`: every parameter it uses has exactly one, and none
 * names a parameter it lacks. Returns them parsed, ordered by index.
 */
export function checkParams(params: ParamInput[], paramCount: number): Array<ParamInput & { parsed: ParamSpec }> {
  const seen = new Map<number, ParamInput & { parsed: ParamSpec }>();
  for (const p of params) {
    if (seen.has(p.index)) usage(`$${p.index} has two generators ("${seen.get(p.index)!.spec}" and "${p.spec}"); give one`);
    if (p.index > paramCount) {
      usage(
        paramCount === 0
          ? `A generator was given for $${p.index}, but the statement has no parameters; remove --param ${p.index}=…`
          : `A generator was given for $${p.index}, but the statement only uses ${paramList(paramCount)}; remove --param ${p.index}=…`,
      );
    }
    seen.set(p.index, { ...p, parsed: parseParamSpec(p.spec, `$${p.index}`) });
  }
  const missing: number[] = [];
  for (let i = 1; i <= paramCount; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length) {
    const names = missing.map((i) => `$${i}`).join(', ');
    usage(
      `The statement uses ${paramList(paramCount)} and no values were given for ${names}: give a generator for each, ` +
        `like --param ${missing[0]}=int:1..100000 (${EXAMPLES}), or in the editor pick them when asked`,
    );
  }
  return [...seen.values()].sort((a, b) => a.index - b.index);
}

const paramList = (n: number) => (n === 1 ? '$1' : `$1 … $${n}`);

/** Reads one column of a CSV file (first row = header). Throws a message naming the file, line and problem. */
export function readCsvColumn(file: string, column: string, label: string): string[] {
  const text = readInputText(file, 'csv', `The CSV file for ${label} (${file})`);
  let rows: string[][];
  try {
    rows = csv().parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    const e = err as { code?: string; lines?: number; record?: unknown[]; message: string };
    if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const header = csvHeaderLength(text);
      return usage(`${file} line ${e.lines}: ${e.record?.length ?? '?'} fields where the header has ${header}; fix that row (quote values that contain commas)`);
    }
    return usage(`${file} is not valid CSV: ${e.message}`);
  }
  if (rows.length < 2) usage(`${file} has ${rows.length === 0 ? 'nothing in it' : 'a header and no values'}; the generator for ${label} needs at least one value row`);
  const header = rows[0];
  let col = header.findIndex((h) => h.trim() === column);
  if (col < 0 && /^\d+$/.test(column)) col = Number(column) - 1;
  if (col < 0 || col >= header.length) {
    usage(`${file} has no column "${column}"; its columns are ${header.map((h, i) => `${i + 1}: ${h}`).join(', ')}`);
  }
  if (rows.length - 1 > MAX_VALUES) usage(`${file} has ${rows.length - 1} rows; pgload takes at most ${MAX_VALUES.toLocaleString('en-US')} values per parameter`);
  return rows.slice(1).map((r) => r[col]);
}

function csvHeaderLength(text: string): number {
  try {
    const first = csv().parse(text, { bom: true, to_line: 1 }) as string[][];
    return first[0]?.length ?? 0;
  } catch {
    return 0;
  }
}

/** Draws values; `random` is the run's seeded generator. */
export type ValueSource = () => string | null;

export function makeSource(spec: ParamSpec, random: () => number, values?: Array<string | null>): ValueSource {
  switch (spec.kind) {
    case 'int': {
      const span = spec.max - spec.min + 1;
      return () => String(spec.min + Math.floor(random() * span));
    }
    case 'num': {
      const span = spec.max - spec.min;
      return () => String(spec.min + random() * span);
    }
    case 'zipf': {
      const draw = zipfSampler(spec.max - spec.min + 1, spec.s, random);
      return () => String(spec.min + draw() - 1);
    }
    case 'list':
      return pick(spec.values, random);
    case 'csv':
    case 'sql':
      if (!values || values.length === 0) throw new Error(`no values loaded for a ${spec.kind} generator`);
      return pick(values, random);
  }
}

function pick(values: Array<string | null>, random: () => number): ValueSource {
  return () => values[Math.floor(random() * values.length)];
}

/**
 * Zipf over ranks 1..n with P(k) ∝ k^-s, by rejection-inversion (Hörmann & Derflinger, 1996): draw u
 * uniformly under the integral H of the hat x^-s between H(1.5) − 1 and H(n + 0.5), invert it, round to a
 * rank k, and accept when u lies in the last k^-s of that rank's interval. Constant memory, any n, any s > 0.
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const h = (x: number) => Math.exp(-s * Math.log(x));
  // H(x) = ∫ x^-s dx = (x^(1-s) − 1)/(1 − s), written with expm1/log1p so s → 1 stays exact.
  const q = 1 - s;
  const H = (x: number) => {
    const lx = Math.log(x);
    return Math.abs(q * lx) < 1e-12 ? lx : Math.expm1(q * lx) / q;
  };
  const Hinv = (u: number) => (Math.abs(q * u) < 1e-12 ? Math.exp(u) : Math.exp(Math.log1p(q * u) / q));
  const low = H(1.5) - 1; // rank 1 owns [H(1.5) − h(1), H(1.5)]: always accepted
  const high = H(n + 0.5);
  return () => {
    for (;;) {
      const u = high + random() * (low - high);
      const x = Hinv(u);
      let k = Math.round(x);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k === 1 || u >= H(k + 0.5) - h(k)) return k;
    }
  };
}

/** The run's value sources, one per parameter, all from one seeded stream (per parameter, so adding one doesn't shift another). */
export function makeSources(params: Array<ParamInput & { parsed: ParamSpec }>, loaded: Map<number, Array<string | null>>, seed: number): ValueSource[] {
  return params.map((p) => makeSource(p.parsed, seededRandom((seed ^ Math.imul(p.index, 0x9e3779b1)) >>> 0), loaded.get(p.index)));
}
