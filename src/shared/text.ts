/** Small text helpers shared by the formatters, the CLI and the extension (browser-safe: no Node imports). */

/** A statement on one line, shortened with an ellipsis. */
export function oneLine(sql: string, max: number): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * Control characters made visible: a terminal shows `\u001b` instead of obeying an escape sequence from a table name,
 * a server message or pg_stat_statements text (title changes, cleared screens, hidden text). Tabs and newlines stay;
 * C1 controls, DEL and the bidirectional overrides ("Trojan source") are shown by their code too.
 */
export function visibleControls(text: string): string {
  // As \uXXXX, which also keeps JSON on stdout valid (the same escape, the same value).
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text inside Markdown, shown as it is: never read as Markdown, HTML or a table's cell border; one line. */
export function mdText(text: string): string {
  return visibleControls(text.replace(/\r?\n/g, ' '))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|#~!]/g, (c) => `\\${c}`);
}

/** Inline code that holds any text: fenced by one backtick more than its longest run of backticks. */
export function mdCode(text: string): string {
  const flat = visibleControls(text.replace(/\r?\n/g, ' ')).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${flat} ${fence}`;
}

/** A fenced code block that holds any text: its fence is longer than any run of backticks inside. */
export function mdBlock(text: string, lang = ''): string[] {
  const body = visibleControls(text.replace(/\r\n?/g, '\n'));
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, body, fence];
}

/**
 * An export's file name, after what it holds and when it ran: `pgload-diagnosis-select-c-id-c-name-2026-12-03-1820.html`
 * — the kind, the statement's first words (letters and digits, at most 40 characters; comments left out) and the
 * run's start in the user's local time.
 */
export function exportFileName(kind: string, sql: string, startedAt: string, ext: string): string {
  const words = sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const cut = words.length <= 40 ? words : words.slice(0, 40).replace(/-[^-]*$/, '');
  const t = new Date(startedAt);
  const two = (n: number) => String(n).padStart(2, '0');
  const when = Number.isNaN(t.getTime()) ? '' : `-${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())}-${two(t.getHours())}${two(t.getMinutes())}`;
  return `pgload-${kind}${cut ? `-${cut}` : ''}${when}.${ext}`;
}
