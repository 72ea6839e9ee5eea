/** Small text helpers shared by the formatters, the CLI and the extension (browser-safe: no Node imports). */

/** A statement on one line, shortened with an ellipsis. */
export function oneLine(sql: string, max: number): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
