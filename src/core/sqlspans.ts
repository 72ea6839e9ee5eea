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
  const out: StatementSpan[] = [];
  const n = text.length;
  let i = 0;
  // The statement being read: its first and last token, nesting, and what it starts with.
  let first = -1;
  let last = -1;
  let maxParam = 0;
  let parens = 0;
  let blocks = 0;
  let words = 0;
  let routine = false; // CREATE [OR REPLACE] FUNCTION|PROCEDURE: BEGIN … END bodies hold semicolons
  let lead = '';

  const token = (from: number, to: number) => {
    if (first < 0) first = from;
    last = to;
  };
  const finish = () => {
    if (first >= 0) out.push({ index: out.length, text: text.slice(first, last), start: first, end: last, paramCount: maxParam });
    first = last = -1;
    maxParam = parens = blocks = words = 0;
    routine = false;
    lead = '';
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === DASH && text.charCodeAt(i + 1) === DASH) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === SLASH && text.charCodeAt(i + 1) === STAR) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text.charCodeAt(i) === SLASH && text.charCodeAt(i + 1) === STAR) {
          depth++;
          i += 2;
        } else if (text.charCodeAt(i) === STAR && text.charCodeAt(i + 1) === SLASH) {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === SEMI && parens === 0 && blocks === 0) {
      i++;
      finish();
    } else if (c === QUOTE) {
      const from = i;
      i = skipQuoted(text, i, QUOTE, false);
      token(from, i);
    } else if (c === DQUOTE) {
      const from = i;
      i = skipQuoted(text, i, DQUOTE, false);
      token(from, i);
    } else if (c === DOLLAR) {
      const from = i;
      let j = i + 1;
      if (isDigit(text.charCodeAt(j))) {
        let v = 0;
        while (j < n && isDigit(text.charCodeAt(j))) v = v * 10 + (text.charCodeAt(j++) - 48);
        if (v > maxParam) maxParam = v;
        i = j;
      } else {
        if (isIdentStart(text.charCodeAt(j))) {
          j++;
          while (j < n && (isIdentStart(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)))) j++;
        }
        if (text.charCodeAt(j) === DOLLAR) {
          const tag = text.slice(i, j + 1);
          const close = text.indexOf(tag, j + 1);
          i = close < 0 ? n : close + tag.length;
        } else i++;
      }
      token(from, i);
    } else if (isIdentStart(c)) {
      const from = i;
      while (i < n && isIdentChar(text.charCodeAt(i))) i++;
      const next = text.charCodeAt(i);
      const len = i - from;
      // E'…' takes backslash escapes; B'…', X'…', N'…' and U&'…' quote as standard strings.
      if (next === QUOTE && len === 1) {
        const e = c === 69 || c === 101;
        i = skipQuoted(text, i, QUOTE, e);
      } else if (len === 1 && (c === 85 || c === 117) && next === 38 && (text.charCodeAt(i + 1) === QUOTE || text.charCodeAt(i + 1) === DQUOTE)) {
        i = skipQuoted(text, i + 1, text.charCodeAt(i + 1), false);
      } else {
        // Only the first words (CREATE [OR REPLACE] FUNCTION|PROCEDURE) and, in such a statement, BEGIN/CASE/END matter.
        if (words < 4 || routine) {
          const word = len <= 9 ? text.slice(from, i).toLowerCase() : '';
          if (words < 4) {
            lead += `${word} `;
            routine ||= /^create (or replace )?(function|procedure) $/.test(lead);
          }
          if (routine) {
            if (word === 'begin') blocks++;
            else if (word === 'case' && blocks > 0) blocks++;
            else if (word === 'end' && blocks > 0) blocks--;
          }
        }
        words++;
      }
      token(from, i);
    } else {
      if (c === LPAREN) parens++;
      else if (c === RPAREN && parens > 0) parens--;
      token(i, i + 1);
      i++;
    }
  }
  finish();
  return out;
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
