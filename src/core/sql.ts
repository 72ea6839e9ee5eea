/**
 * SQL understanding with the real PostgreSQL parser (libpg-query, WASM): statement boundaries with exact
 * offsets for the editor, what kind of statement each is, a stable fingerprint, `$n` parameters, and
 * syntax errors at the right character.
 */
import type { StatementKind } from '../shared/result';
import { asDriverError, codePointToUtf16, locate, PgloadError } from './errors';
import { oneLine } from '../shared/text';

export interface SqlStatement {
  /** 0-based position among the document's statements. */
  index: number;
  /** The statement's text, without surrounding comments, white space and the closing semicolon. */
  text: string;
  /** UTF-16 offsets into the document (`end` exclusive), as an editor counts. */
  start: number;
  end: number;
  kind: StatementKind;
  /** The parser's node name, e.g. `SelectStmt`, `DeleteStmt`. */
  nodeType: string;
  /** pg_query's fingerprint: equal for statements that differ only in constants and formatting. */
  fingerprint: string;
  /** The highest `$n` used (0 when none). */
  paramCount: number;
  /** `SELECT … FOR UPDATE / SHARE` anywhere in the statement. */
  locksRows: boolean;
  /** An OFFSET anywhere in the statement (pagination that computes the rows it skips). */
  usesOffset: boolean;
  /** An aggregate over DISTINCT values, e.g. count(DISTINCT x) (it sorts its input). */
  distinctAggregate: boolean;
  /** An EXISTS or IN (subquery): the planner may make it a semi join, or a join over the subquery's distinct values. */
  existsSubquery: boolean;
}

type Parser = typeof import('libpg-query');
let parser: Parser | undefined;
let ready: Promise<void> | undefined;

/**
 * Loads the parser's WASM module once; every other function here needs it. Loaded on first use, not at
 * import, so that activating the extension or starting the CLI does not pay for compiling it.
 */
export function ensureParser(): Promise<void> {
  ready ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('libpg-query') as Parser;
    await lib.loadModule();
    parser = lib;
  })();
  return ready;
}

function lib(): Parser {
  if (!parser) throw new Error('The SQL parser is not loaded yet: await ensureParser() first');
  return parser;
}

const DML_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const QUERY_NODES = new Set(['SelectStmt', 'VariableShowStmt']);
const UTILITY_NODES = new Set([
  'ExplainStmt',
  'VariableSetStmt',
  'CopyStmt',
  'VacuumStmt',
  'CallStmt',
  'DoStmt',
  'LockStmt',
  'CheckPointStmt',
  'DiscardStmt',
  'ListenStmt',
  'NotifyStmt',
  'UnlistenStmt',
  'LoadStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'ClusterStmt',
  'ReindexStmt',
  'ConstraintsSetStmt',
  'VariableShowStmt',
]);

interface Facts {
  maxParam: number;
  locksRows: boolean;
  writes: boolean;
  into: boolean;
  offset: boolean;
  distinctAggregate: boolean;
  exists: boolean;
}

function walk(node: unknown, facts: Facts, depth = 0): void {
  if (depth > 2000 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, facts, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'ParamRef') {
      const n = (value as { number?: number }).number ?? 0;
      if (n > facts.maxParam) facts.maxParam = n;
    } else if (key === 'lockingClause' && Array.isArray(value) && value.length > 0) {
      facts.locksRows = true;
    } else if (DML_NODES.has(key)) {
      facts.writes = true;
    } else if (key === 'intoClause') {
      facts.into = true;
    } else if (key === 'limitOffset' && value) {
      facts.offset = true;
    } else if (key === 'agg_distinct' && value === true) {
      facts.distinctAggregate = true;
    } else if (key === 'subLinkType' && (value === 'EXISTS_SUBLINK' || value === 'ANY_SUBLINK')) {
      facts.exists = true;
    }
    walk(value, facts, depth + 1);
  }
}

function classify(nodeType: string, node: unknown): { kind: StatementKind; facts: Facts } {
  const facts: Facts = { maxParam: 0, locksRows: false, writes: false, into: false, offset: false, distinctAggregate: false, exists: false };
  walk(node, facts);
  if (nodeType === 'TransactionStmt') return { kind: 'transaction', facts };
  if (DML_NODES.has(nodeType)) return { kind: 'dml', facts };
  if (QUERY_NODES.has(nodeType)) {
    if (facts.into) return { kind: 'ddl', facts }; // SELECT … INTO creates a table
    return { kind: facts.writes ? 'dml' : 'query', facts };
  }
  if (UTILITY_NODES.has(nodeType)) return { kind: 'utility', facts };
  return { kind: 'ddl', facts };
}

/** Maps UTF-8 byte offsets (what the parser reports) to UTF-16 offsets (what editors use). */
function byteToUtf16Mapper(text: string): (byteOffset: number) => number {
  if (/^[\x00-\x7f]*$/.test(text)) return (b) => b;
  const bytes = Buffer.byteLength(text, 'utf8');
  const map = new Int32Array(bytes + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (let k = 0; k < len; k++) map[b + k] = i;
    b += len;
    if (c >= 0x10000) i++;
  }
  map[bytes] = text.length;
  return (byteOffset) => map[Math.max(0, Math.min(byteOffset, bytes))];
}

const COMMENT_TOKENS = new Set(['SQL_COMMENT', 'C_COMMENT']);

/**
 * Splits a document into statements. Throws a PgloadError('input') with the location of the first
 * syntax error. A document with only comments or white space has no statements.
 */
export function splitStatements(text: string): SqlStatement[] {
  if (text.includes('\u0000')) {
    const at = text.indexOf('\u0000');
    throw new PgloadError('input', `The SQL contains a NUL character at ${describeAt(text, at)}; this is not text SQL`, {
      location: locate(text, at),
    });
  }
  const control = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0);
    throw new PgloadError(
      'input',
      `The SQL holds the control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${describeAt(text, control.index)}; pgload does not send invisible characters. ` +
        `If it belongs in a string, write it as an escape: E'\\x${code.toString(16).padStart(2, '0')}' or chr(${code}).`,
      { location: locate(text, control.index) },
    );
  }
  let parsed: ReturnType<Parser['parseSync']>;
  try {
    parsed = lib().parseSync(text);
  } catch (err) {
    throw syntaxError(text, err);
  }
  const stmts = parsed.stmts ?? [];
  if (stmts.length === 0) return [];

  const toUtf16 = byteToUtf16Mapper(text);
  const tokens = lib().scanSync(text).tokens.filter((t) => !COMMENT_TOKENS.has(t.tokenName));
  const totalBytes = Buffer.byteLength(text, 'utf8');
  const out: SqlStatement[] = [];
  let ti = 0;
  for (let i = 0; i < stmts.length; i++) {
    const raw = stmts[i] as { stmt?: Record<string, unknown>; stmt_location?: number; stmt_len?: number };
    const from = raw.stmt_location ?? 0;
    const to = raw.stmt_len ? from + raw.stmt_len : i + 1 < stmts.length ? ((stmts[i + 1] as { stmt_location?: number }).stmt_location ?? totalBytes) : totalBytes;
    while (ti < tokens.length && tokens[ti].start < from) ti++;
    let first = -1;
    let last = -1;
    while (ti < tokens.length && tokens[ti].end <= to) {
      const t = tokens[ti];
      if (!(t.text === ';' && t.tokenName === 'ASCII_59')) {
        if (first < 0) first = t.start;
        last = t.end;
      }
      ti++;
    }
    if (first < 0) continue;
    const start = toUtf16(first);
    const end = toUtf16(last);
    const body = text.slice(start, end);
    const node = raw.stmt ?? {};
    const nodeType = Object.keys(node)[0] ?? 'Unknown';
    const { kind, facts } = classify(nodeType, node);
    out.push({
      index: out.length,
      text: body,
      start,
      end,
      kind,
      nodeType,
      fingerprint: lib().fingerprintSync(body),
      paramCount: facts.maxParam,
      locksRows: facts.locksRows,
      usesOffset: facts.offset,
      distinctAggregate: facts.distinctAggregate,
      existsSubquery: facts.exists,
    });
  }
  return out;
}

function describeAt(text: string, offset: number): string {
  const loc = locate(text, offset);
  return `line ${loc.line}, column ${loc.column}`;
}

function syntaxError(text: string, err: unknown): PgloadError {
  const details = (err as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
  const message = details?.message ?? asDriverError(err).message ?? 'syntax error';
  if (details?.cursorPosition !== undefined && details.cursorPosition >= 0) {
    const offset = codePointToUtf16(text, details.cursorPosition);
    const loc = locate(text, offset);
    return new PgloadError('input', `SQL syntax error at line ${loc.line}, column ${loc.column}: ${message}`, { location: loc, code: '42601', cause: err });
  }
  return new PgloadError('input', `SQL syntax error: ${message}`, { code: '42601', cause: err });
}

/** The statement whose range holds the offset (or the nearest one before it on the same stretch of text). */
export function statementAt<T extends { start: number; end: number }>(statements: readonly T[], offset: number): T | undefined {
  let best: T | undefined;
  for (const s of statements) {
    if (offset >= s.start && offset <= s.end) return s;
    if (s.end <= offset) best = s;
  }
  // Between statements: the one just before the cursor, if only white space or a semicolon separates them.
  return best;
}

/** pg_query's fingerprint of one statement's text, or undefined when it does not parse (the parser must be loaded). */
export function fingerprintOf(text: string): string | undefined {
  try {
    return lib().fingerprintSync(text);
  } catch {
    return undefined;
  }
}

/** Parses SQL that must be exactly one statement; the errors say what to do otherwise. */
export function parseSingleStatement(text: string): SqlStatement {
  const statements = splitStatements(text);
  if (statements.length === 0) {
    throw new PgloadError('input', text.trim() === '' ? 'No SQL was given; give one statement to profile' : 'The SQL holds only comments; give one statement to profile');
  }
  if (statements.length > 1) {
    const list = statements
      .slice(0, 5)
      .map((s) => `  ${s.index + 1}. ${describeAt(text, s.start)}: ${oneLine(s.text, 60)}`)
      .join('\n');
    throw new PgloadError(
      'input',
      `The SQL holds ${statements.length} statements; pgload profiles one at a time. Pick one (CLI: --statement N):\n${list}${statements.length > 5 ? '\n  …' : ''}`,
      { location: locate(text, statements[1].start) },
    );
  }
  return statements[0];
}

/**
 * Parses an expression as EXPLAIN prints it (a Filter, a Hash Cond) into the parser's tree, or undefined when it does
 * not parse (EXPLAIN writes some things that are not SQL, e.g. `(InitPlan 1).col1`). The parser must be loaded.
 */
export function parseExpression(expr: string): unknown {
  // A subplan's output (`(InitPlan 1).col1` from PostgreSQL 17, `(SubPlan 2)`) is a value computed elsewhere: a parameter.
  const sql = expr.replace(/\((?:InitPlan|SubPlan) \d+\)(?:\.col\d+)?/g, '$1');
  try {
    const parsed = lib().parseSync(`SELECT 1 WHERE ${sql}`) as { stmts?: Array<{ stmt?: { SelectStmt?: { whereClause?: unknown } } }> };
    return parsed.stmts?.[0]?.stmt?.SelectStmt?.whereClause;
  } catch {
    return undefined;
  }
}

/** The parser's tree of a text (one or more statements), or undefined when it does not parse. The parser must be loaded. */
export function parseTree(text: string): unknown {
  try {
    return lib().parseSync(text);
  } catch {
    return undefined;
  }
}

/** The PL/pgSQL parser's tree of a whole `CREATE FUNCTION … LANGUAGE plpgsql` text, or undefined. The parser must be loaded. */
export function parsePlpgsqlTree(definition: string): unknown {
  try {
    return lib().parsePlPgSQLSync(definition);
  } catch {
    return undefined;
  }
}
