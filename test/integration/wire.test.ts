import * as assert from 'node:assert/strict';
import { closeSession, openSession, resolveConnection, transactionWrap, type OpenedSession } from '../../src/core/connection/connection';

const RO = transactionWrap({ statementTimeoutMs: 10_000, readOnly: true });
import { WireSession } from '../../src/core/connection/wire';
import { releaseReads, sessionSocket, takeReads } from '../../src/core/connection/socket';
import { testDb, withAdmin } from '../support/server';

/** The load loop's own request path against a real PostgreSQL: values, errors, big answers, lost sessions. */
describe('The request path of the load loop (wire) on a real PostgreSQL', function () {
  this.timeout(30_000);
  let session: OpenedSession | undefined;
  const open = async () => {
    session = await openSession(resolveConnection({ url: testDb().url }), { statementTimeoutMs: 10_000, readOnly: true });
    return session;
  };
  afterEach(async () => {
    if (session) await closeSession(session);
    session = undefined;
  });

  it('sends text, NULL, empty and non-ASCII parameters intact (the statement divides by zero otherwise), unnamed and prepared', async () => {
    const text = "SELECT 1 / (CASE WHEN $1::text = 'ünï € 😀' AND $2::text IS NULL AND $3::text = '' AND $4::int = -7 THEN 1 ELSE 0 END)";
    for (const name of [undefined, 'pgload_wire_t1']) {
      const s = await open();
      const wire = new WireSession(s.client, { text, ...(name ? { name } : {}) }, 5000, RO);
      for (let i = 0; i < 3; i++) assert.ok((await wire.request(['ünï € 😀', null, '', -7])) > 0);
      await assert.rejects(wire.request(['unï', null, '', -7]), (e: { code?: string; message: string }) => e.code === '22012' && /division by zero/.test(e.message));
      // The session is still usable after a failed request, and node-postgres gets its socket back.
      assert.ok((await wire.request(['ünï € 😀', null, '', -7])) > 0);
      wire.detach();
      // The envelope's BEGIN READ ONLY and ROLLBACK are named once per session, beside a prepared statement of the user's.
      const prepared = await s.client.query('SELECT name FROM pg_prepared_statements ORDER BY name');
      assert.deepEqual(
        prepared.rows.map((r) => r.name),
        ['pgload_begin_read_only', 'pgload_rollback', ...(name ? [name] : [])],
      );
      await closeSession(s);
      session = undefined;
    }
  });

  it('a prepared statement is parsed once per session, and parsed again after its first Parse failed', async () => {
    const s = await open();
    const wire = new WireSession(s.client, { text: 'SELECT 1 FROM wire_not_yet', name: 'pgload_wire_t2' }, 5000, RO);
    await assert.rejects(wire.request(), (e: { code?: string; position?: string }) => e.code === '42P01' && e.position === '15');
    await withAdmin((c) => c.query('CREATE TABLE IF NOT EXISTS wire_not_yet (x int)'));
    try {
      for (let i = 0; i < 5; i++) await wire.request();
      wire.detach();
      const r = await s.client.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'pgload_wire_t2'");
      assert.equal(r.rows[0].n, 1);
    } finally {
      await withAdmin((c) => c.query('DROP TABLE IF EXISTS wire_not_yet'));
    }
  });

  it('an answer of many rows in many chunks completes once, timed from the write to ReadyForQuery', async () => {
    const s = await open();
    const wire = new WireSession(s.client, { text: "SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g" }, 5000, RO);
    const us = await wire.request();
    assert.ok(us > 1000, `a 5 MB answer took ${us} µs`);
    // The same session again: nothing of the big answer is left over to be taken for the next one's end.
    const again = await wire.request();
    assert.ok(again > 1000);
    wire.detach();
    assert.equal((await s.client.query('SELECT 41 + 1 AS n')).rows[0].n, 42);
  });

  it('sessions reading at once through the one read buffer: each many-chunk answer that fails on its last row is read whole, and node-postgres reads the socket again after', async () => {
    const conn = resolveConnection({ url: testDb().url });
    const sessions = await Promise.all([1, 2, 3].map(() => openSession(conn, { statementTimeoutMs: 10_000, readOnly: true })));
    try {
      for (const s of sessions) {
        // Without TLS the loop reads the socket directly, not through its 'data' events.
        const socket = sessionSocket(s.client);
        assert.equal(takeReads(socket, () => undefined), true);
        releaseReads(socket);
      }
      // Each session its own row width, so that a byte read for one and parsed as another's shows as a wrong message.
      const wires = sessions.map((s, k) => new WireSession(s.client, { text: `SELECT g, repeat('${'abc'[k]}', ${90 + k * 7}) FROM generate_series(1, 20000) g WHERE 1 / (20000 - g + ${k}) >= 0` }, 10_000, RO));
      const results = await Promise.allSettled(wires.map((w) => w.request()));
      results.forEach((r, k) => {
        if (k === 0) assert.ok(r.status === 'rejected' && (r.reason as { code?: string }).code === '22012' && /division by zero/.test((r.reason as Error).message), `session ${k}: ${JSON.stringify(r)}`);
        else assert.ok(r.status === 'fulfilled' && r.value > 0, `session ${k}: ${JSON.stringify(r)}`);
      });
      // Every session answers its next request, and after detach node-postgres has the socket.
      for (const w of wires) assert.ok((await w.request().catch(() => -1)) !== 0);
      wires.forEach((w) => w.detach());
      for (const [k, s] of sessions.entries()) assert.equal((await s.client.query('SELECT $1::int + 1 AS n', [k])).rows[0].n, k + 1);
    } finally {
      await Promise.all(sessions.map((s) => closeSession(s)));
    }
  });

  it('the server-side statement timeout comes back as 57014 with its message, and the session goes on', async () => {
    const s = await openSession(resolveConnection({ url: testDb().url }), { statementTimeoutMs: 200, readOnly: true });
    session = s;
    const wire = new WireSession(s.client, { text: 'SELECT pg_sleep($1::float)' }, 5200, RO);
    const t = performance.now();
    await assert.rejects(wire.request([2]), (e: { code?: string; message: string }) => e.code === '57014' && /statement timeout/.test(e.message));
    assert.ok(performance.now() - t < 1500);
    assert.ok((await wire.request([0.01])) >= 10_000);
  });

  it('a session terminated while its request runs rejects with the server\'s 57P01, then every later request fails at once', async () => {
    const s = await open();
    const wire = new WireSession(s.client, { text: 'SELECT pg_sleep(5)' }, 15_000, RO);
    const pid = (s.client as unknown as { processID: number }).processID;
    const running = wire.request().then(
      () => 'answered',
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 300));
    await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
    assert.equal(await running, '57P01');
    await assert.rejects(wire.request(), (e: { code?: string }) => e.code === '57P01');
    assert.ok(s.broken || (await new Promise((r) => setTimeout(() => r(s.broken), 500))));
  });

  it('no answer at all within the client timeout: CLIENT_TIMEOUT and the socket is closed', async () => {
    const s = await open();
    // A request that the server holds longer than the client's patience (the statement timeout is 10 s here).
    const wire = new WireSession(s.client, { text: 'SELECT pg_sleep(3)' }, 400, RO);
    const t = performance.now();
    await assert.rejects(wire.request(), (e: { code?: string; message: string }) => e.code === 'CLIENT_TIMEOUT' && /No answer from the server/.test(e.message));
    const took = performance.now() - t;
    assert.ok(took >= 390 && took < 2000, `gave up after ${took} ms`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.broken, true);
  });
});
