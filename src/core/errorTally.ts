/** Failed requests grouped by SQLSTATE (or client error code) and message, with counts and first time. */
import type { ErrorGroup } from '../shared/result';
import { asDriverError } from './errors';

export class ErrorTally {
  private groups = new Map<string, ErrorGroup>();
  private _total = 0;

  constructor(private readonly redact: (text: string) => string) {}

  get total(): number {
    return this._total;
  }

  add(err: unknown, phase: ErrorGroup['phase'], atMs: number): ErrorGroup {
    this._total++;
    const { code, message } = errorIdentity(err);
    const key = `${phase}\u0000${code}\u0000${message}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { code, message: this.redact(message), count: 0, phase, firstAtMs: atMs };
      this.groups.set(key, g);
    }
    g.count++;
    return g;
  }

  /** Most frequent first. */
  list(): ErrorGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count || a.firstAtMs - b.firstAtMs);
  }
}

/** Node and node-postgres errors that mean the session itself is gone, not just this request. */
const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'CONNECTION_LOST', 'CLIENT_TIMEOUT']);

export function errorIdentity(err: unknown): { code: string; message: string } {
  const e = asDriverError(err);
  const message = (e.message ?? String(err)).split('\n')[0];
  if (e.code) return { code: e.code, message };
  if (/Connection terminated|not queryable|Client was closed/i.test(message)) return { code: 'CONNECTION_LOST', message };
  // node-postgres's query_timeout: no answer at all well past the statement timeout (a silent network).
  if (/^Query read timeout$/i.test(message)) return { code: 'CLIENT_TIMEOUT', message: 'No answer from the server within the statement timeout + 5 s: the network or the server stopped responding' };
  return { code: 'CLIENT', message };
}

/** Whether, after this error, the session can no longer be used (class 08 connection exceptions, 57P0x shutdowns, socket errors). */
export function isSessionFatal(err: unknown): boolean {
  const code = errorIdentity(err).code;
  return CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-4]$/.test(code);
}
