/**
 * Every file pgload reads on the user's word (a .sql file, a CSV of parameter values, a check file, a result to compare,
 * a CA certificate, the password file): only a regular file, at most a stated size, read with a bounded read. A FIFO,
 * a device (/dev/zero), a folder or a file past its limit is refused at once with what was wrong — never a read that
 * waits forever or fills the memory.
 */
import * as fs from 'node:fs';
import { errorMessage, PgloadError, type PgloadErrorKind } from './errors';

const MiB = 1024 * 1024;

/** The largest file of each kind pgload reads (one place for every limit). */
export const INPUT_LIMITS = {
  sql: 16 * MiB,
  csv: 256 * MiB,
  checkFile: 4 * MiB,
  result: 512 * MiB,
  certificate: 1 * MiB,
  passwordFile: 1 * MiB,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

const size = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/** What a non-regular file is, for the message. */
function describeType(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a whole regular file of at most INPUT_LIMITS[kind] bytes. `label` names it in messages ("--file q.sql", "the
 * CSV file for $1"); errors are PgloadError(`errorKind`) saying what was wrong and what to do.
 */
export function readInputFile(file: string, kind: InputKind, label: string, errorKind: PgloadErrorKind = 'usage'): Buffer {
  const limit = INPUT_LIMITS[kind];
  const fail = (what: string, code?: string): never => {
    throw new PgloadError(errorKind, `${label}: ${what}`, code ? { code } : {});
  };
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('no such file', code);
    if (code === 'EISDIR') return fail('is a folder; give a file', code);
    if (code === 'EACCES' || code === 'EPERM') return fail('cannot be read: permission denied', code);
    return fail(`cannot be read (${code ?? errorMessage(err)})`, code);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return fail(`is ${describeType(st)}, not a regular file; give a file (pgload reads only regular files, so that a read always ends)`, 'NOT_A_FILE');
    if (st.size > limit) return fail(`is ${size(st.size)}, more than the ${size(limit)} pgload reads for this kind of file; give a smaller file`, 'FILE_TOO_LARGE');
    // One byte more than the file holds: a file that grows while it is read is refused, never read without end.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > st.size) return fail('grew while pgload read it; give a file that is not being written', 'FILE_CHANGED');
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** As readInputFile, decoded as UTF-8 (a byte-order mark dropped); a file that is not UTF-8 is refused. */
export function readInputText(file: string, kind: InputKind, label: string, errorKind: PgloadErrorKind = 'usage'): string {
  const buf = readInputFile(file, kind, label, errorKind);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/^\uFEFF/, '');
  } catch {
    throw new PgloadError(errorKind, `${label}: is not UTF-8 text; save it as UTF-8`, { code: 'NOT_UTF8' });
  }
}
