import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import { serialize } from 'pg-protocol';
import { bindMessage, decodeError, WireSession } from '../../src/core/connection/wire';
import { settingPairs, transactionWrap } from '../../src/core/connection/connection';
import { refusedStartupParameter } from '../../src/core/connection/pooler';

/** A socket stand-in: what the session writes is kept; the test feeds the server's bytes in chunks of its choice. */
class FakeStream extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  write(b: Buffer): boolean {
    this.written.push(b);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const msg = (type: string, body: Buffer = Buffer.alloc(0)) => {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
};
const errorBody = (fields: Record<string, string>) => Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);

function session(): { stream: FakeStream; wire: WireSession; pgData: string[]; client: Client } {
  const stream = new FakeStream();
  const pgData: string[] = [];
  stream.on('data', () => pgData.push('pg'));
  const client = { connection: { stream } } as unknown as Client;
  return { stream, wire: new WireSession(client, { text: 'SELECT $1', name: 's1' }, 60_000, transactionWrap({ statementTimeoutMs: 1000, readOnly: true })), pgData, client };
}

describe('wire: the load loop\'s protocol messages', () => {
  it('Bind carries every value in text form and NULL as length -1, as node-postgres sends it', () => {
    const b = bindMessage('s1', ['ab', null, 7]);
    // Read it back as the server does: portal, statement, format codes, values, result format codes.
    assert.equal(String.fromCharCode(b[0]), 'B');
    assert.equal(b.readInt32BE(1), b.length - 1);
    let at = 5;
    const cstr = () => {
      const end = b.indexOf(0, at);
      const v = b.toString('utf8', at, end);
      at = end + 1;
      return v;
    };
    assert.equal(cstr(), '', 'the unnamed portal');
    assert.equal(cstr(), 's1');
    const formats = b.readInt16BE(at);
    at += 2;
    for (let i = 0; i < formats; i++, at += 2) assert.equal(b.readInt16BE(at), 0, 'every parameter in text form');
    assert.equal(b.readInt16BE(at), 3);
    at += 2;
    const values: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const n = b.readInt32BE(at);
      at += 4;
      values.push(n === -1 ? null : b.toString('utf8', at, at + n));
      if (n > 0) at += n;
    }
    assert.deepEqual(values, ['ab', null, '7']);
    const results = b.readInt16BE(at);
    at += 2;
    for (let i = 0; i < results; i++, at += 2) assert.equal(b.readInt16BE(at), 0, 'results in text form');
    assert.equal(at, b.length, 'nothing after the result format codes');
    // Byte for byte what node-postgres's own serializer sends for the same Bind.
    assert.deepEqual(b, serialize.bind({ statement: 's1', values: ['ab', null, '7'] }));
  });

  it('ErrorResponse fields become the error node-postgres would give (code, message, position, detail)', () => {
    const e = decodeError(errorBody({ S: 'ERROR', C: '22012', M: 'division by zero', P: '8', D: 'détail' }));
    assert.equal(e.code, '22012');
    assert.equal(e.message, 'division by zero');
    assert.equal(e.position, '8');
    assert.equal(e.detail, 'détail');
  });

  it('an answer split into single bytes completes exactly once, and the first request sends the statement\'s Parse, later ones do not', async () => {
    const { stream, wire, pgData } = session();
    const step = (tag: string, rows: Buffer[] = []) => [msg('1'), msg('2'), ...rows, msg('C', Buffer.from(`${tag}\0`))];
    const answer = Buffer.concat([...step('BEGIN'), ...step('SELECT 1', [msg('D', Buffer.from([0, 1, 0, 0, 0, 1, 0x31]))]), ...step('ROLLBACK'), msg('Z', Buffer.from('I'))]);
    for (let round = 0; round < 2; round++) {
      const p = wire.request(['x']);
      for (const byte of answer) stream.emit('data', Buffer.from([byte]));
      assert.ok((await p) >= 0);
    }
    assert.ok(stream.written[0].includes('SELECT $1'), 'the first request parses the named statement');
    assert.ok(!stream.written[1].includes('SELECT $1'), 'the second only binds it');
    assert.deepEqual(pgData, [], 'node-postgres saw none of it');
  });

  it("on a session of its own the envelope's BEGIN READ ONLY and ROLLBACK are parsed by the first request only, before anything runs, and once per session", async () => {
    const { stream, wire, client } = session();
    const text = (b: Buffer) => b.toString('latin1');
    // The first answer: the envelope's two ParseCompletes, BEGIN, the statement's ParseComplete and row, ROLLBACK.
    const first = Buffer.concat([msg('1'), msg('1'), msg('2'), msg('C', Buffer.from('BEGIN\0')), msg('1'), msg('2'), msg('C', Buffer.from('SELECT 1\0')), msg('2'), msg('C', Buffer.from('ROLLBACK\0')), msg('Z', Buffer.from('I'))]);
    const later = Buffer.concat([msg('2'), msg('C', Buffer.from('BEGIN\0')), msg('2'), msg('C', Buffer.from('SELECT 1\0')), msg('2'), msg('C', Buffer.from('ROLLBACK\0')), msg('Z', Buffer.from('I'))]);
    const p = wire.request(['x']);
    stream.emit('data', first);
    await p;
    const sent0 = text(stream.written[0]);
    const at = (t: string) => sent0.indexOf(t);
    assert.ok(at('pgload_begin_read_only\0BEGIN /* pgload */ READ ONLY') === 5, `the envelope's Parse comes first: ${JSON.stringify(sent0)}`);
    assert.ok(at('pgload_rollback\0ROLLBACK /* pgload */') > 0 && at('pgload_rollback\0ROLLBACK') < at('SELECT $1'), 'both named before the statement runs');
    const q = wire.request(['y']);
    stream.emit('data', later);
    await q;
    const sent1 = text(stream.written[1]);
    assert.ok(!sent1.includes('BEGIN /* pgload */') && !sent1.includes('ROLLBACK /* pgload */') && !sent1.includes('SELECT $1'), `then only bound: ${JSON.stringify(sent1)}`);
    assert.ok(sent1.indexOf('pgload_begin_read_only') < sent1.indexOf('\0s1\0') && sent1.indexOf('\0s1\0') < sent1.indexOf('pgload_rollback'), `BEGIN, the statement, ROLLBACK in that order: ${JSON.stringify(sent1)}`);
    // Another request path on the same session (after node-postgres had it) does not parse them again (42P05).
    wire.detach();
    const again = new WireSession(client, { text: 'SELECT $1', name: 's1' }, 60_000, transactionWrap({ statementTimeoutMs: 1000, readOnly: true }));
    const r = again.request(['z']);
    stream.emit('data', later);
    await r;
    assert.ok(!text(stream.written[2]).includes('BEGIN /* pgload */') && !text(stream.written[2]).includes('SELECT $1'));
  });

  it('an error and its ReadyForQuery in one chunk reject with the error; notices in between are skipped', async () => {
    const { stream, wire } = session();
    const p = wire.request(['x']);
    stream.emit('data', Buffer.concat([msg('N', errorBody({ S: 'NOTICE', C: '00000', M: 'hello' })), msg('E', errorBody({ S: 'ERROR', C: '42P01', M: 'relation "t" does not exist', P: '15' })), msg('Z', Buffer.from('I'))]));
    await assert.rejects(p, (e: { code?: string; position?: string }) => e.code === '42P01' && e.position === '15');
  });

  it('the socket closing during a request rejects it as a lost connection; detach gives node-postgres its listener back', async () => {
    const { stream, wire, pgData } = session();
    const p = wire.request(['x']);
    stream.emit('close');
    await assert.rejects(p, (e: { code?: string }) => e.code === 'CONNECTION_LOST');
    await assert.rejects(wire.request(['x']), (e: { code?: string }) => e.code === 'CONNECTION_LOST');
    wire.detach();
    stream.emit('data', Buffer.from('x'));
    assert.deepEqual(pgData, ['pg']);
  });

  it('a silent server fails the request at its deadline: a timer that fires a little early waits for the rest, not for a whole timeout more', async () => {
    const stream = new FakeStream();
    const client = { connection: { stream } } as unknown as Client;
    const wire = new WireSession(client, { text: 'SELECT 1' }, 400, transactionWrap({ statementTimeoutMs: 1000, readOnly: true }));
    const p = wire.request(undefined);
    const failed = p.then(
      () => Infinity,
      (e: { code?: string }) => (assert.equal(e.code, 'CLIENT_TIMEOUT'), performance.now()),
    );
    // By construction: the request is 398 ms old when its timer fires, 2 ms short of its 400 ms deadline.
    const internals = wire as unknown as { started: number; timedOut(): void };
    internals.started = performance.now() - 398;
    const firedAt = performance.now();
    internals.timedOut();
    const at = await failed;
    assert.ok(at - firedAt < 200, `failed ${(at - firedAt).toFixed(0)} ms after the early firing; its deadline was 2 ms away`);
    assert.equal(stream.destroyed, true, 'the silent socket is dropped');
  });

  it('a second request while one runs is refused instead of mixing their answers', async () => {
    const { stream, wire } = session();
    const p = wire.request(['x']);
    await assert.rejects(wire.request(['y']), /still busy/);
    stream.emit('data', msg('Z', Buffer.from('I')));
    assert.ok((await p) >= 0);
  });

  it('loop() writes the next request while handling an answer, stops when told, and tells a lost session once', async () => {
    const { stream, wire } = session();
    const ready = Buffer.concat([msg('2'), msg('C', Buffer.from('SELECT 1\0')), msg('Z', Buffer.from('I'))]);
    const seen: Array<number | string> = [];
    const done = wire.loop(
      () => ['v'],
      (us, err) => {
        seen.push(err ? ((err as { code?: string }).code ?? 'error') : us >= 0 ? 'ok' : 'bad');
        return seen.length < 3;
      },
    );
    for (let i = 0; i < 3; i++) {
      assert.equal(stream.written.length, i + 1, 'one request written per answer, before the next answer');
      stream.emit('data', Buffer.concat([i === 0 ? msg('1') : Buffer.alloc(0), ready]));
    }
    await done;
    assert.deepEqual(seen, ['ok', 'ok', 'ok']);
    assert.equal(stream.written.length, 3);

    const lost: unknown[] = [];
    const again = wire.loop(
      () => ['v'],
      (_us, err) => {
        lost.push((err as { code?: string } | undefined)?.code);
        return true;
      },
    );
    stream.emit('close');
    await again;
    assert.deepEqual(lost, ['CONNECTION_LOST']);
  });

  it('through transaction pooling a request is one pipeline (BEGIN READ ONLY, settings, statement, ROLLBACK, one Sync); a failure inside it is rolled back before the answer', async () => {
    const stream = new FakeStream();
    const client = { connection: { stream } } as unknown as Client;
    const wrap = transactionWrap({ statementTimeoutMs: 1500, readOnly: true, extra: { work_mem: '64MB' }, route: 'transaction' });
    const wire = new WireSession(client, { text: 'SELECT $1' }, 60_000, wrap);
    const ok = wire.request(['7']);
    assert.equal(stream.written.length, 1, 'one write per request');
    const sent = stream.written[0].toString('latin1');
    const at = (t: string) => sent.indexOf(t);
    assert.ok(at('BEGIN /* pgload */ READ ONLY') >= 0 && at('BEGIN /* pgload */ READ ONLY') < at("set_config('statement_timeout', '1500', true)") && at("set_config('work_mem', '64MB', true)") < at('SELECT $1') && at('SELECT $1') < at('ROLLBACK'), sent);
    assert.equal(sent.indexOf('Q'), -1, 'never a simple Query: the extended protocol takes one statement per Parse');
    assert.equal(sent.split('S\0\0\0\x04').length - 1, 1, 'a single Sync');
    stream.emit('data', msg('Z', Buffer.from('I')));
    assert.ok((await ok) >= 0);
    // The statement fails: the server skips to the Sync and stays in the aborted transaction ('E').
    const failed = wire.request(['8']);
    stream.emit('data', Buffer.concat([msg('E', errorBody({ S: 'ERROR', C: '25006', M: 'cannot execute UPDATE in a read-only transaction' })), msg('Z', Buffer.from('E'))]));
    assert.equal(stream.written.length, 3, 'a ROLLBACK follows before the answer is given');
    assert.match(stream.written[2].toString('latin1'), /^Q.*ROLLBACK \/\* pgload \*\//s);
    let settled = false;
    failed.catch(() => undefined).finally(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'the session is not free until the ROLLBACK is answered');
    stream.emit('data', msg('Z', Buffer.from('I')));
    await assert.rejects(failed, (e: Error & { code?: string }) => e.code === '25006');
  });
});

describe('session settings: how they reach the server', () => {
  it('settingPairs lists read-only, the timeouts, the extras and standard_conforming_strings on (a user setting cannot turn it off); transactionWrap keeps them local and always ends in ROLLBACK', () => {
    const s = { statementTimeoutMs: 2000, readOnly: true, extra: { work_mem: '64MB', search_path: "a'b", Standard_Conforming_Strings: 'off' } };
    assert.deepEqual(settingPairs(s), [
      ['default_transaction_read_only', 'on'],
      ['statement_timeout', '2000'],
      ['idle_in_transaction_session_timeout', '60000'],
      ['work_mem', '64MB'],
      ['search_path', "a'b"],
      ['standard_conforming_strings', 'on'],
    ]);
    const w = transactionWrap({ ...s, route: 'transaction' });
    assert.equal(w.begin, 'BEGIN /* pgload */ READ ONLY');
    assert.equal(w.end, 'ROLLBACK /* pgload */');
    assert.equal(w.setup, "SELECT /* pgload */ set_config('statement_timeout', '2000', true), set_config('work_mem', '64MB', true), set_config('search_path', 'a''b', true), set_config('standard_conforming_strings', 'on', true)");
    const direct = transactionWrap(s);
    assert.deepEqual(direct, { begin: 'BEGIN /* pgload */ READ ONLY', end: 'ROLLBACK /* pgload */' }, 'a direct session carries its settings from startup; the envelope is marked as pgload\'s own');
    const writes = transactionWrap({ ...s, readOnly: false });
    assert.equal(writes.begin, 'BEGIN /* pgload */');
    assert.equal(writes.end, 'ROLLBACK /* pgload */');
  });

  it('a request on a direct session is BEGIN READ ONLY, the statement (Parse/Bind/Execute), ROLLBACK and one Sync, in one write (the first one naming BEGIN and ROLLBACK first)', async () => {
    const stream = new FakeStream();
    const client = { connection: { stream } } as unknown as Client;
    const wire = new WireSession(client, { text: 'SELECT 1' }, 60_000, transactionWrap({ statementTimeoutMs: 1500, readOnly: true }));
    const ok = wire.request();
    const sent = stream.written[0];
    const types: string[] = [];
    for (let at = 0; at < sent.length; at += 1 + sent.readInt32BE(at + 1)) types.push(String.fromCharCode(sent[at]));
    assert.deepEqual(types.join(''), 'PPBEPBEBES');
    const text = sent.toString('latin1');
    const run = text.slice(text.indexOf('ROLLBACK /* pgload */'));
    assert.ok(text.indexOf('BEGIN /* pgload */ READ ONLY') < text.indexOf('ROLLBACK /* pgload */'), text);
    assert.ok(run.indexOf('pgload_begin_read_only') < run.indexOf('SELECT 1') && run.indexOf('SELECT 1') < run.indexOf('pgload_rollback'), text);
    stream.emit('data', msg('Z', Buffer.from('I')));
    assert.ok((await ok) >= 0);
  });

  it("PgBouncer's refusal of a startup parameter is recognised, and names the parameter", () => {
    assert.equal(refusedStartupParameter(new Error('unsupported startup parameter: statement_timeout')), 'statement_timeout');
    assert.equal(refusedStartupParameter(new Error('Could not connect to x: unsupported startup parameter: options')), 'options');
    assert.equal(refusedStartupParameter(new Error('password authentication failed')), undefined);
  });
});
