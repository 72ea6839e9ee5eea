/**
 * Statement ranges for the editor, from PostgreSQL's lexical rules alone (no parse): where each statement
 * starts and ends, its text and its highest `$n`. CodeLens needs only that, for every statement of a file on
 * every edit; the real parser (./sql) takes ~0.3 ms per statement with its fingerprint, this ~1 µs.
 * What runs is always parsed again by the real parser (kind, safety, fingerprint, syntax errors) — a range
 * found here is never trusted for anything but placing a lens.
 *
 * The rules followed: white space; `--` and nested `/* *\/` comments; '…' strings with '' inside (and
 * backslash escapes in E'…'); "…" identifiers; $tag$…$tag$ bodies; `$n` parameters; semicolons inside
 * parentheses or inside a `BEGIN ATOMIC … END` function body (CREATE FUNCTION/PROCEDURE, where CASE … END
 * nests) do not end a statement.
 */

export interface StatementSpan {
  /** 0-based position among the document's statements. */
  index: number;
  /** Without surrounding comments, white space and the closing semicolon — as ./sql gives it. */
  text: string;
  /** UTF-16 offsets (`end` exclusive). */
  start: number;
  end: number;
  /** The highest `$n` used (0 when none). */
  paramCount: number;
}

const SEMI = 59;
const LPAREN = 40;
const RPAREN = 41;
const QUOTE = 39;
const DQUOTE = 34;
const DOLLAR = 36;
const DASH = 45;
const SLASH = 47;
const STAR = 42;
const BACKSLASH = 92;

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdentChar = (c: number) => isIdentStart(c) || isDigit(c) || c === DOLLAR;

export function statementSpans(text: string): StatementSpan[] {
  return new SpanReader(text).read();
}

/** The statement splitter's state: where the statement being read starts and ends, its nesting, and how it starts. */
class SpanReader {
  private readonly out: StatementSpan[] = [];
  private readonly n: number;
  private first = -1;
  private last = -1;
  private maxParam = 0;
  private parens = 0;
  private blocks = 0;
  private words = 0;
  /** CREATE [OR REPLACE] FUNCTION|PROCEDURE: BEGIN … END bodies hold semicolons. */
  private routine = false;
  private lead = '';

  constructor(private readonly text: string) {
    this.n = text.length;
  }

  read(): StatementSpan[] {
    const { text, n } = this;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) i++;
      else if ((c === DASH && text.charCodeAt(i + 1) === DASH) || (c === SLASH && text.charCodeAt(i + 1) === STAR)) i = this.skipComment(i);
      else if (c === SEMI && this.parens === 0 && this.blocks === 0) {
        i++;
        this.finish();
      } else if (c === QUOTE || c === DQUOTE) i = this.token(i, skipQuoted(text, i, c, false));
      else if (c === DOLLAR) i = this.token(i, this.dollar(i));
      else if (isIdentStart(c)) i = this.token(i, this.word(i));
      else {
        if (c === LPAREN) this.parens++;
        else if (c === RPAREN && this.parens > 0) this.parens--;
        i = this.token(i, i + 1);
      }
    }
    this.finish();
    return this.out;
  }

  /** A token from `from` to `to` belongs to the statement; returns `to`. */
  private token(from: number, to: number): number {
    if (this.first < 0) this.first = from;
    this.last = to;
    return to;
  }

  private finish(): void {
    const { first, last } = this;
    if (first >= 0) this.out.push({ index: this.out.length, text: this.text.slice(first, last), start: first, end: last, paramCount: this.maxParam });
    this.first = this.last = -1;
    this.maxParam = this.parens = this.blocks = this.words = 0;
    this.routine = false;
    this.lead = '';
  }

  /** Past a -- line comment or a (nested) block comment. */
  private skipComment(at: number): number {
    const { text, n } = this;
    if (text.charCodeAt(at) === DASH) {
      const eol = text.indexOf('\n', at);
      return eol < 0 ? n : eol + 1;
    }
    let depth = 1;
    let i = at + 2;
    while (i < n && depth > 0) {
      if (text.charCodeAt(i) === SLASH && text.charCodeAt(i + 1) === STAR) {
        depth++;
        i += 2;
      } else if (text.charCodeAt(i) === STAR && text.charCodeAt(i + 1) === SLASH) {
        depth--;
        i += 2;
      } else i++;
    }
    return i;
  }

  /** A `$n` parameter (counted), a dollar-quoted string, or a lone `$`; returns where it ends. */
  private dollar(i: number): number {
    const { text, n } = this;
    let j = i + 1;
    if (isDigit(text.charCodeAt(j))) {
      let v = 0;
      while (j < n && isDigit(text.charCodeAt(j))) v = v * 10 + (text.charCodeAt(j++) - 48);
      if (v > this.maxParam) this.maxParam = v;
      return j;
    }
    if (isIdentStart(text.charCodeAt(j))) {
      j++;
      while (j < n && (isIdentStart(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)))) j++;
    }
    if (text.charCodeAt(j) !== DOLLAR) return i + 1;
    const tag = text.slice(i, j + 1);
    const close = text.indexOf(tag, j + 1);
    return close < 0 ? n : close + tag.length;
  }

  /** A word, or a prefixed string (E'…', B'…', X'…', N'…', U&'…'); returns where it ends. */
  private word(from: number): number {
    const { text, n } = this;
    const c = text.charCodeAt(from);
    let i = from;
    while (i < n && isIdentChar(text.charCodeAt(i))) i++;
    const next = text.charCodeAt(i);
    const len = i - from;
    // E'…' takes backslash escapes; B'…', X'…', N'…' and U&'…' quote as standard strings.
    if (next === QUOTE && len === 1) return skipQuoted(text, i, QUOTE, c === 69 || c === 101);
    if (len === 1 && (c === 85 || c === 117) && next === 38 && (text.charCodeAt(i + 1) === QUOTE || text.charCodeAt(i + 1) === DQUOTE)) return skipQuoted(text, i + 1, text.charCodeAt(i + 1), false);
    // Only the first words (CREATE [OR REPLACE] FUNCTION|PROCEDURE) and, in such a statement, BEGIN/CASE/END matter.
    if (this.words < 4 || this.routine) {
      const word = len <= 9 ? text.slice(from, i).toLowerCase() : '';
      if (this.words < 4) {
        this.lead += `${word} `;
        this.routine ||= /^create (or replace )?(function|procedure) $/.test(this.lead);
      }
      if (this.routine) {
        if (word === 'begin') this.blocks++;
        else if (word === 'case' && this.blocks > 0) this.blocks++;
        else if (word === 'end' && this.blocks > 0) this.blocks--;
      }
    }
    this.words++;
    return i;
  }
}

/** The offset just past a quoted string or identifier that opens at `at`. An unclosed one runs to the end. */
function skipQuoted(text: string, at: number, quote: number, backslashes: boolean): number {
  let i = at + 1;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (backslashes && c === BACKSLASH) i += 2;
    else if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return n;
}
