/**
 * The load loop's own request path. node-postgres opens every session (TLS, authentication, startup settings,
 * error events) and runs everything else pgload sends; during the baseline and the load, each request is sent
 * on that session's socket as a few pre-built protocol messages and the answer is read by message type only.
 *
 * Why: node-postgres builds a query object, a row description, row arrays and several events per request —
 * about 40 µs of client CPU on this kind of machine, which capped `SELECT 1` at half of pgbench's rate and
 * queued requests inside pgload under many clients. Here a request is one `write` of a buffer built once (or,
 * with parameters, one small Bind), and the answer is scanned for ParseComplete, ErrorResponse and
 * ReadyForQuery; rows are counted past, never decoded. The time is taken from the write to the ReadyForQuery.
 *
 * Every request is one pipeline with one Sync — one round trip: BEGIN READ ONLY (BEGIN when writes are allowed),
 * through a pooler in transaction pooling the settings, then the statement as Parse/Bind/Execute, then ROLLBACK.
 * On a session of its own (no transaction pooling), BEGIN and ROLLBACK are named statements parsed by the session's
 * first request, then only bound and executed: parsing them on every request cost the server about a tenth of
 * `SELECT 1`'s rate (pgbench, 10 clients, the same pipeline: 30,000 tx/s parsed each time, 33,000–36,000 prepared). The
 * extended protocol takes one statement per Parse, so the server itself refuses a text that holds more than the one
 * pgload parsed; the ROLLBACK undoes whatever the statement did to its session. A request that fails inside the
 * pipeline leaves the transaction aborted; a ROLLBACK follows before the session takes the next request.
 * Not prepared, the statement is parsed by every request (unnamed, as most ORMs send it); prepared (pgbench -M
 * prepared), it is parsed once per session, then only bound and executed.
 */
import type { Socket } from 'node:net';
import { Client, DatabaseError } from 'pg';
import { serialize } from 'pg-protocol';
import { ROLLBACK, wrapStart, type TransactionWrap } from './connection';
import { releaseReads, sessionSocket, takeReads } from './socket';

export interface WireStatement {
  text: string;
  /** A name makes it a prepared statement: parsed once per session. */
  name?: string;
}

/** A request that got no answer in time; the session is closed, like node-postgres's query_timeout. */
export const CLIENT_TIMEOUT = 'CLIENT_TIMEOUT';

type Listener = (...args: unknown[]) => void;

const MSG = { parseComplete: 0x31, error: 0x45, ready: 0x5a } as const;
/** ReadyForQuery's transaction status: idle (no transaction open). */
const IDLE = 0x49;

/*
 * The messages are node-postgres's own (pg-protocol's serializer): pgload sends what an application on node-postgres
 * sends. Those that never change are built once per session; only a request with parameters builds its Bind.
 */
export function parseMessage(name: string, text: string): Buffer {
  return serialize.parse({ name, text, types: [] });
}

/** Values as text, null as SQL NULL (what node-postgres does with strings; numbers are written in text form). */
const asText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));

/** Bind to the unnamed portal: every parameter in text form (null as SQL NULL), results in text form. */
export function bindMessage(statement: string, values: ReadonlyArray<unknown>): Buffer {
  return serialize.bind({ statement, values: values as unknown[], valueMapper: asText });
}

const EMPTY = Buffer.alloc(0);
const EXECUTE = serialize.execute({ portal: '', rows: 0 });
const SYNC = serialize.sync();
const ROLLBACK_QUERY = serialize.query(ROLLBACK);

/** One statement without parameters as unnamed Parse/Bind/Execute (a step of a pipeline). */
function step(text: string): Buffer {
  return Buffer.concat([parseMessage('', text), bindMessage('', []), EXECUTE]);
}

/** A named statement without parameters, already parsed on the session: Bind/Execute. */
const boundStep = (name: string): Buffer => Buffer.concat([bindMessage(name, []), EXECUTE]);

/** The name of an envelope statement on a session: `pgload_begin_read_only`, `pgload_begin`, `pgload_rollback`. */
export const envelopeName = (text: string): string => `pgload_${text.replace(/\/\*.*?\*\//g, '').trim().toLowerCase().replace(/\W+/g, '_')}`;

/**
 * Statement names each session has parsed (its ParseComplete seen). A name is parsed once per session, whichever
 * request path used it first: parsing it again would fail (42P05).
 */
const parsedOn = new WeakMap<Client, Set<string>>();
function parsedNames(client: Client): Set<string> {
  let names = parsedOn.get(client);
  if (!names) parsedOn.set(client, (names = new Set()));
  return names;
}

/** ErrorResponse fields → node-postgres's DatabaseError, so that errors from both paths read the same. */
export function decodeError(body: Buffer): DatabaseError {
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields[code] = body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  const e = new DatabaseError(fields.M ?? 'unknown server error', body.length + 4, 'error');
  Object.assign(e, {
    severity: fields.S,
    code: fields.C,
    detail: fields.D,
    hint: fields.H,
    position: fields.P,
    internalPosition: fields.p,
    internalQuery: fields.q,
    where: fields.W,
    schema: fields.s,
    table: fields.t,
    column: fields.c,
    dataType: fields.d,
    constraint: fields.n,
    file: fields.F,
    line: fields.L,
    routine: fields.R,
  });
  return e;
}

function clientError(code: string, text: string): Error {
  return Object.assign(new Error(text), { code });
}

/**
 * One session's request path. Takes over the socket's data events from node-postgres until `detach()`; only
 * one request at a time (pgload runs one request per session, as the application it stands for would).
 */
export class WireSession {
  private readonly stream: Socket;
  private readonly saved: Listener[];
  private readonly onData = (chunk: Buffer) => this.receive(chunk, chunk.length);
  /** The socket's reads come straight to receive() (a plain socket, see ./socket), not through its 'data' events. */
  private readonly direct: boolean;
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => this.fail(clientError('CONNECTION_LOST', 'Connection terminated unexpectedly'));
  private readonly parse: Buffer;
  /** The statement names this session has parsed (shared by every WireSession on the client). */
  private readonly names: Set<string>;
  /**
   * The envelope as named statements (a session of its own): their Parse, sent at the head of the first request and
   * until both ParseCompletes were seen; and Bind/Execute of each. Absent: the envelope is parsed with every request.
   */
  private readonly named?: { parse: Buffer; begin: string; end: string };
  /** The user's statement, when named, is parsed on this session. */
  private parsed: boolean;
  /** The envelope's named statements still have to be parsed on this session. */
  private envelopeToParse: boolean;
  /** The pipeline's head (BEGIN, settings) and tail (ROLLBACK, Sync), around the statement. */
  private readonly head: Buffer;
  private readonly tail: Buffer;
  /** ParseCompletes before the statement's own in the current answer (BEGIN's and the settings', or the envelope's names). */
  private headSteps = 0;
  /** Unnamed and without parameters, a request is the same bytes every time (the envelope parsed): built once. */
  private fixed?: Buffer;
  /** Named and without parameters, once parsed: Bind and Execute in the envelope, built on first use. */
  private boundFixed?: Buffer;
  /** ParseCompletes in the current answer (the statement's comes after the head's). */
  private parses = 0;
  /** The request's time, kept while the ROLLBACK after a failed wrapped request runs. */
  private rollingBack: number | undefined;
  private pending: Buffer | undefined;
  private started = 0;
  private busy = false;
  private error: Error | undefined;
  private resolve: ((us: number) => void) | undefined;
  private reject: ((err: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private gone: Error | undefined;
  /** A back-to-back loop in progress (see loop()). */
  private looping: { values: () => ReadonlyArray<unknown> | undefined; after: (us: number, err: Error | undefined) => boolean; end: () => void; broke?: unknown } | undefined;

  /**
   * `wrap` null only for the empty statement (nothing to undo), which measures what the envelope costs: see
   * measureEnvelopeUs. Every other statement runs inside its envelope.
   */
  constructor(
    client: Client,
    private readonly statement: WireStatement,
    private readonly timeoutMs: number,
    wrap: TransactionWrap | null,
  ) {
    if (wrap === null && statement.text !== '') throw new Error('WireSession: a statement runs only inside its envelope');
    this.stream = sessionSocket(client);
    this.direct = takeReads(this.stream, (data, length) => this.receive(data, length));
    this.saved = this.direct ? [] : (this.stream.listeners('data') as Listener[]);
    if (!this.direct) {
      this.stream.removeAllListeners('data');
      this.stream.on('data', this.onData);
    }
    this.stream.on('error', this.onError);
    this.stream.on('close', this.onClose);
    if (this.stream.destroyed) this.gone = clientError('CONNECTION_LOST', 'Connection terminated unexpectedly');
    this.parse = parseMessage(statement.name ?? '', statement.text);
    this.names = parsedNames(client);
    if (wrap && !wrap.setup) {
      // A session of its own: BEGIN and ROLLBACK are named statements, parsed once.
      const [begin, end] = [envelopeName(wrap.begin), envelopeName(wrap.end)];
      this.named = { parse: Buffer.concat([parseMessage(begin, wrap.begin), parseMessage(end, wrap.end)]), begin, end };
      this.head = boundStep(begin);
      this.tail = Buffer.concat([boundStep(end), SYNC]);
    } else {
      // Through transaction pooling a named statement could be on another server session: the envelope is parsed each time.
      const start = wrap ? wrapStart(wrap) : [];
      this.headSteps = start.length;
      this.head = Buffer.concat(start.map(step));
      this.tail = wrap ? Buffer.concat([step(wrap.end), SYNC]) : SYNC;
    }
    // Read once here, kept up to date by parseComplete(): the request loop tests two booleans, not the set.
    this.parsed = statement.name !== undefined && this.names.has(statement.name);
    this.envelopeToParse = this.named !== undefined && !(this.names.has(this.named.begin) && this.names.has(this.named.end));
  }

  /** Sends one request and resolves with its time in µs, from the write to the server's ReadyForQuery. */
  request(values?: ReadonlyArray<unknown>): Promise<number> {
    if (this.busy || this.looping) return Promise.reject(clientError('CLIENT', 'pgload sent a request on a session that was still busy (a bug: please report it)'));
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.send(values);
    });
  }

  /**
   * Requests back to back until `after` returns false: each answer is handed to `after` (µs, or the error) and
   * the next request is written right there, while the answer is handled — no promise or timer per request,
   * the way pgbench's client loop goes. Resolves once `after` said stop (or the session was lost and `after`
   * was told so).
   */
  loop(values: () => ReadonlyArray<unknown> | undefined, after: (us: number, err: Error | undefined) => boolean): Promise<void> {
    if (this.busy || this.looping) return Promise.reject(clientError('CLIENT', 'pgload sent a request on a session that was still busy (a bug: please report it)'));
    return new Promise<void>((resolve, reject) => {
      if (this.gone) {
        after(0, this.gone);
        resolve();
        return;
      }
      // A throw in `after` or `values` (a bug) rejects the loop instead of escaping into the socket's events.
      const state: NonNullable<WireSession['looping']> = { values, after, end: () => (state.broke === undefined ? resolve() : reject(state.broke)) };
      this.looping = state;
      try {
        this.send(values());
      } catch (err) {
        this.looping = undefined;
        reject(err);
      }
    });
  }

  private send(values: ReadonlyArray<unknown> | undefined): void {
    const noValues = !(values && values.length > 0);
    let out: Buffer;
    if (this.envelopeToParse) {
      // The session's first request: the envelope's Parses first in the pipeline (nothing before them can fail).
      this.headSteps = 2;
      out = Buffer.concat([this.named!.parse, this.request0(values)]);
    } else {
      if (this.named) this.headSteps = 0;
      if (noValues && this.statement.name === undefined) out = this.fixed ??= this.request0(undefined);
      else if (noValues && this.parsed) out = this.boundFixed ??= this.request0(undefined);
      else out = this.request0(values);
    }
    this.busy = true;
    this.error = undefined;
    this.parses = 0;
    this.rollingBack = undefined;
    this.armTimer();
    this.started = performance.now();
    this.stream.write(out);
  }

  /** The request's messages after any envelope Parse: head, the statement (Parse unless parsed), Bind/Execute, tail. */
  private request0(values: ReadonlyArray<unknown> | undefined): Buffer {
    const name = this.statement.name;
    // Unnamed: Parse every time. Named: Parse until the server said ParseComplete once.
    const parse = name === undefined || !this.parsed ? this.parse : EMPTY;
    return Buffer.concat([this.head, parse, bindMessage(name ?? '', values ?? []), EXECUTE, this.tail]);
  }

  /** Gives the socket back to node-postgres (between requests only). */
  detach(): void {
    if (this.busy) throw new Error('WireSession.detach while a request runs');
    clearTimeout(this.timer);
    if (this.direct) releaseReads(this.stream);
    else this.stream.off('data', this.onData);
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
    for (const l of this.saved) this.stream.on('data', l);
  }

  private armTimer(): void {
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => this.timedOut(), this.timeoutMs);
      this.timer.unref();
    }
  }

  private timedOut(): void {
    if (!this.busy) return;
    // The timer is re-armed by each request; it may also fire a little before the request's own deadline (the timer
    // clock and performance.now() differ by up to a millisecond or so): then it waits for what is left, never for a
    // whole timeout more.
    const left = this.timeoutMs - (performance.now() - this.started);
    if (left > 1) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.timedOut(), Math.ceil(left));
      this.timer.unref();
      return;
    }
    this.fail(clientError(CLIENT_TIMEOUT, 'No answer from the server within the statement timeout + 5 s: the network or the server stopped responding'));
    this.stream.destroy();
  }

  private fail(err: Error): void {
    // The first cause wins: the server's own FATAL message (57P01 …) or an ECONNRESET says more than the close after it.
    if (!this.gone) this.gone = this.busy && this.error ? this.error : err;
    if (!this.busy) return;
    this.busy = false;
    this.settle(0, this.gone);
  }

  /** An answer's bytes, `chunk[0, end)`: valid only during the call (a direct read's buffer is reused), so what is kept is copied. */
  private receive(chunk: Buffer, end: number): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk.subarray(0, end)]);
      end = buf.length;
      this.pending = undefined;
    }
    let at = 0;
    while (end - at >= 5) {
      const length = buf.readInt32BE(at + 1);
      if (end - at < 1 + length) break;
      const type = buf[at];
      if (type === MSG.ready) this.ready(buf[at + 5]);
      else if (type === MSG.error) this.error ??= decodeError(buf.subarray(at + 5, at + 1 + length));
      else if (type === MSG.parseComplete) this.parseComplete(++this.parses);
      at += 1 + length;
    }
    if (at < end) this.pending = Buffer.from(buf.subarray(at, end));
  }

  /** The n-th ParseComplete of the answer: the envelope's names (first two when sent), then the statement's. */
  private parseComplete(n: number): void {
    if (this.named && this.headSteps === 2 && n <= 2) {
      this.names.add(n === 1 ? this.named.begin : this.named.end);
      if (n === 2) this.envelopeToParse = false;
    } else if (n === this.headSteps + 1 && this.statement.name !== undefined) {
      this.names.add(this.statement.name);
      this.parsed = true;
    }
  }

  private ready(status: number): void {
    if (!this.busy) return; // a ReadyForQuery nobody waits for (after a failure): nothing to settle
    if (this.rollingBack !== undefined) {
      this.busy = false;
      this.settle(this.rollingBack, this.error);
      return;
    }
    const us = (performance.now() - this.started) * 1000;
    if (status !== IDLE) {
      // The wrapped request failed inside its transaction: it is rolled back before the session is used again.
      this.rollingBack = us;
      this.armTimer();
      this.stream.write(ROLLBACK_QUERY);
      return;
    }
    this.busy = false;
    this.settle(us, this.error);
  }

  /** Hands an answer (or failure) to whoever waits: the loop, which may send the next request at once, or request(). */
  private settle(us: number, error: Error | undefined): void {
    const looping = this.looping;
    if (looping) {
      let more = false;
      try {
        // A lost session is told to `after` (it counts the failure), and ends the loop whatever it answers.
        more = looping.after(us, this.gone ?? error) && !this.gone;
        if (more) this.send(looping.values());
      } catch (err) {
        more = false;
        looping.broke = err;
      }
      if (more) return;
      this.looping = undefined;
      looping.end();
      return;
    }
    const { resolve, reject } = this;
    this.resolve = this.reject = undefined;
    if (error) reject!(error);
    else resolve!(us);
  }
}

/**
 * What the envelope adds to one request on this session (µs): empty requests with and without it, in alternating blocks,
 * median against median. The empty statement changes nothing, so it alone may go without the envelope. Between
 * requests only (it takes the socket for the time it runs).
 */
export async function measureEnvelopeUs(client: Client, wrap: TransactionWrap, timeoutMs: number, blocks = 5, perBlock = 5): Promise<number> {
  const times: { bare: number[]; wrapped: number[] } = { bare: [], wrapped: [] };
  for (let b = 0; b < blocks; b++) {
    for (const kind of ['bare', 'wrapped'] as const) {
      const w = new WireSession(client, { text: '' }, timeoutMs, kind === 'bare' ? null : wrap);
      try {
        for (let i = 0; i < perBlock; i++) times[kind].push(await w.request());
      } finally {
        w.detach();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Math.max(0, median(times.wrapped) - median(times.bare));
}
