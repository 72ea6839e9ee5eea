/**
 * Every statement of a document on its own: the lexical splitter (./sqlSpans) finds where each one starts and ends
 * without parsing the file, then the real parser (./sql) parses only the statement asked for. A syntax error in
 * statement 4 never blocks statement 1, and an error's line and column are the document's, not the statement's.
 */
import { isPgloadError, locate, PgloadError } from './errors';
import { parseSingleStatement, type SqlStatement } from './sql';
import { statementSpans, type StatementSpan } from './sqlSpans';

export interface StatementApart {
  span: StatementSpan;
  /** The parsed statement (offsets in the document), when it parses. */
  statement?: SqlStatement;
  /** Why it does not parse, located in the document. */
  error?: PgloadError;
}

/** Parses one span of `text` alone (the parser must be loaded): offsets and error locations are the document's. */
export function parseSpan(text: string, span: StatementSpan): SqlStatement {
  try {
    const s = parseSingleStatement(span.text);
    return { ...s, index: span.index, start: span.start + s.start, end: span.start + s.end };
  } catch (err) {
    throw inDocument(text, span, err);
  }
}

/** Each statement of the document, parsed apart (the parser must be loaded). */
export function statementsApart(text: string): StatementApart[] {
  return statementSpans(text).map((span) => {
    try {
      return { span, statement: parseSpan(text, span) };
    } catch (err) {
      return { span, error: isPgloadError(err) ? err : new PgloadError('input', String(err)) };
    }
  });
}

/** Statement `n` (1-based) of a document, parsed alone; the error says how many there are. */
export function statementNumber(text: string, n: number): { statement: SqlStatement; count: number } {
  const spans = statementSpans(text);
  const span = spans[n - 1];
  if (!span) throw new PgloadError('input', spans.length === 0 ? 'it holds no statement' : `it holds ${spans.length} statement${spans.length === 1 ? '' : 's'}, not ${n}`);
  return { statement: parseSpan(text, span), count: spans.length };
}

/** The error of a statement parsed alone, told in the document's lines and columns. */
function inDocument(text: string, span: StatementSpan, err: unknown): unknown {
  if (!isPgloadError(err)) return err;
  const statementNo = `statement ${span.index + 1}`;
  if (!err.location) return new PgloadError(err.kind, `${statementNo}: ${err.message}`, { code: err.code, cause: err });
  const location = locate(text, span.start + err.location.offset);
  const message = err.message.replace(/line \d+, column \d+/, `line ${location.line}, column ${location.column} (${statementNo})`);
  return new PgloadError(err.kind, message, { location, code: err.code, cause: err });
}
