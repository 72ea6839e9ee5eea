/** Numbers as people read them: latencies to three figures, counts with separators, rates, sizes, ages. */

/** 0.42 ms, 12.3 ms, 311 ms, 1.77 s — three significant figures, as people read latencies. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${trim3(ms / 1000)} s`;
  return `${trim3(ms)} ms`;
}

export function trim3(v: number): string {
  if (v === 0) return '0';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** A span of time as people plan around it: 45 s, 1 min 10 s, 2 h 5 min (to the second below an hour). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/**
 * A moment as every view of pgload writes it (Runs, Compare, Top statements, the panel): the locale's medium date
 * and time, to the second — one style wherever a run's time is shown.
 */
export function formatWhen(iso: string | number | Date, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(p: number): string {
  return `${p >= 10 ? p.toFixed(0) : p.toFixed(1)} %`;
}

export function formatQps(q: number): string {
  return q >= 100 ? formatCount(q) : q.toFixed(1);
}

/** A change in %, signed: "−13 %", "+1.7 %", "±0.0 %" (one decimal under 10). */
export const signedPct = (pct: number): string => `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${Math.abs(pct).toFixed(Math.abs(pct) < 10 ? 1 : 0)} %`;

/** The text with its first letter capitalised (a clause made a sentence). */
export const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function plural(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

export function formatBytesShort(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** "3 min ago", "just now", "2 h ago", "5 d ago". */
export function formatAgo(thenIso: string, now: number): string {
  const s = Math.max(0, (now - Date.parse(thenIso)) / 1000);
  if (!Number.isFinite(s) || s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** `52.5 ± 1.2 q/s` (± two standard errors), or `52.5 q/s (noise unknown)`. */
export function formatRate(qps: number, se: number | null): string {
  const q = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
  if (se === null) return `${q(qps)} q/s (noise unknown)`;
  return `${q(qps)} ± ${q(2 * se)} q/s`;
}
