/**
 * Errors the user can act on. Every message says what was wrong and what to do; it never holds a
 * password (messages pass through the redactor before they are shown or logged).
 */

export type PgloadErrorKind =
  /** A flag, option or setting is wrong. Nothing ran. */
  | 'usage'
  /** The SQL or an input file is wrong, or the statement is refused. Nothing ran. */
  | 'input'
  /** The server could not be reached or refused the session. Nothing ran. */
  | 'connection'
  /** The run does not fit the server (connection slots). Nothing ran. */
  | 'capacity'
  /** The statement failed on the server before the load started (baseline). */
  | 'statement'
  /** The user cancelled before there was anything to report. */
  | 'cancelled';

export interface ErrorLocation {
  /** 0-based UTF-16 offset into the SQL text that was given. */
  offset: number;
  line: number;
  column: number;
}

export class PgloadError extends Error {
  readonly kind: PgloadErrorKind;
  /** Where in the SQL the problem is, when it concerns a position. */
  readonly location?: ErrorLocation;
  /** SQLSTATE or Node error code behind it, when there is one. */
  readonly code?: string;

  constructor(kind: PgloadErrorKind, message: string, extra: { location?: ErrorLocation; code?: string; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'PgloadError';
    this.kind = kind;
    this.location = extra.location;
    this.code = extra.code;
  }
}

/** A usage error: what was wrong with the input and what to write instead. */
export function usageError(message: string): PgloadError {
  return new PgloadError('usage', message);
}

export function isPgloadError(err: unknown): err is PgloadError {
  return err instanceof PgloadError;
}

/** The shape of errors from node-postgres and Node's net/tls layers that we read. */
export interface DriverError {
  message?: string;
  code?: string;
  severity?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

export function asDriverError(err: unknown): DriverError {
  if (err && typeof err === 'object') return err as DriverError;
  return { message: String(err) };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return asDriverError(err).message ?? String(err);
}

/** 0-based UTF-16 offset → 1-based line and column. */
export function locate(text: string, offset: number): ErrorLocation {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}

/** Offset in code points (as PostgreSQL counts characters) → UTF-16 offset. */
export function codePointToUtf16(text: string, codePoints: number): number {
  let cp = 0;
  let i = 0;
  while (i < text.length && cp < codePoints) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    cp++;
  }
  return i;
}
