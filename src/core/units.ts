/** Parsing of durations and counts given by people (CLI flags, settings), with specific errors. */

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|sec|m|min|h)?\s*$/i;
const FACTOR_MS: Record<string, number> = { us: 0.001, 'µs': 0.001, ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * `"30s"`, `"500ms"`, `"2m"`, `"1.5h"` → milliseconds. A bare number takes `bareUnit`.
 * Returns an error sentence instead of throwing, so callers can name the flag or setting.
 */
export function parseDurationMs(text: string, bareUnit: 'ms' | 's'): { ok: true; ms: number } | { ok: false; error: string } {
  const m = DURATION.exec(text);
  if (!m) {
    return { ok: false, error: `"${text}" is not a duration; write it like 500ms, 30s, 2m or 1h` };
  }
  const unit = (m[2] ?? bareUnit).toLowerCase();
  const ms = Number(m[1]) * FACTOR_MS[unit === 'µs' ? 'µs' : unit];
  if (!Number.isFinite(ms)) return { ok: false, error: `"${text}" is too large a duration` };
  return { ok: true, ms };
}

/** A whole number within [min, max], or an error sentence. */
export function parseWholeNumber(text: string, min: number, max: number): { ok: true; value: number } | { ok: false; error: string } {
  const t = text.trim();
  if (!/^[+]?\d+$/.test(t)) {
    return { ok: false, error: `"${text}" is not a whole number` };
  }
  const value = Number(t);
  if (value < min) return { ok: false, error: `${value} is too small; the smallest allowed is ${min}` };
  if (value > max) return { ok: false, error: `${value} is too large; the largest allowed is ${max}` };
  return { ok: true, value };
}

/** The server's memory accepted as given: 64MB to 64TB. */
export const SERVER_MEMORY_RANGE_KB = { min: 64 * 1024, max: 64 * 1024 ** 3 } as const;

/**
 * A memory size as people write it — `16GB`, `16 GiB`, `512MB`, `64g` — in kB (binary units: 1GB = 1024MB, as
 * PostgreSQL and cloud instance sizes count), within `range`; or an error sentence.
 */
export function parseSizeKB(text: string, range: { min: number; max: number } = SERVER_MEMORY_RANGE_KB): { ok: true; kb: number } | { ok: false; error: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k|m|g|t)(?:i?b)?\s*$/i.exec(text);
  if (!m) return { ok: false, error: `"${text}" is not a memory size; write it like 16GB, 512MB or 64GiB` };
  const kb = Number(m[1]) * { k: 1, m: 1024, g: 1024 ** 2, t: 1024 ** 3 }[m[2].toLowerCase() as 'k' | 'm' | 'g' | 't'];
  if (kb < range.min || kb > range.max) return { ok: false, error: `${text.trim()} is out of range; give from ${range.min / 1024}MB to ${range.max / 1024 ** 3}TB` };
  return { ok: true, kb };
}
