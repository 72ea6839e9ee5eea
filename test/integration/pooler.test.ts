/**
 * Through a real connection pooler: Debian's PgBouncer in front of the test server, in transaction and session
 * pooling (and one that drops pgload's startup settings without a word). Every figure is checked against a
 * construction: a pool of 4 server sessions under 8 clients must queue; a function that writes must change nothing.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { Client } from 'pg';
import { PgloadError } from '../../src/core/errors';
import { profile } from '../../src/core/load/runner';
import { sweep } from '../../src/core/analysis/sweep';
import type { ProfileResult } from '../../src/shared/result';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-pg';
import { hasPgBouncer, startPgBouncer, type PgBouncer, type PgBouncerOptions } from '../../scripts/lib/pgbouncer';
import { sleep, testDb, withAdmin } from '../support/server';
import { pgload } from '../support/cli';

const target = () => {
  const db = testDb();
  return { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database };
};

/** Requests of a run still running on the server (by the run's application_name), and idle or not. */
async function serverSessionsOf(applicationName: string): Promise<Array<{ pid: number; state: string }>> {
  return withAdmin(async (c) => (await c.query<{ pid: number; state: string }>('SELECT pid, state FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows);
}

/** Client connections PgBouncer still holds for the test database (pgload must close every one it opened). */
async function poolerClients(p: PgBouncer): Promise<number> {
  const u = new URL(p.url.replace(/^postgres:/, 'http:'));
  const c = new Client({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: 'pgbouncer' });
  await c.connect();
  try {
    const rows = (await c.query<{ database: string }>('SHOW CLIENTS')).rows;
    return rows.filter((r) => r.database !== 'pgbouncer').length;
  } finally {
    await c.end();
  }
}

/**
 * A transparent TCP proxy in front of the test server that drops the `options` startup parameter (where pgload sends
 * default_transaction_read_only) and passes everything else through — the server's own process id included, so it
 * does not look like a pooler. What a misconfigured proxy does; pgload must notice and refuse.
 */
async function optionsDroppingProxy(targetPort: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    for (const x of [down, up]) {
      sockets.add(x);
      x.on('error', () => undefined);
      x.on('close', () => sockets.delete(x));
    }
    let first: Buffer | null = Buffer.alloc(0);
    down.on('data', (d: Buffer) => {
      if (first === null) return void up.write(d);
      first = Buffer.concat([first, d]);
      if (first.length < 4 || first.length < first.readInt32BE(0)) return;
      const len = first.readInt32BE(0);
      const fields = first.subarray(8, len - 1).toString('utf8').split('\0');
      const kept: string[] = [];
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] !== 'options') kept.push(fields[i], fields[i + 1]);
      const body = Buffer.from(kept.map((f) => `${f}\0`).join('') + '\0', 'utf8');
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + body.length, 0);
      head.writeInt32BE(first.readInt32BE(4), 4);
      up.write(Buffer.concat([head, body, first.subarray(len)]));
      first = null;
    });
    up.on('data', (d) => down.write(d));
    down.on('end', () => up.end());
    up.on('end', () => down.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const db = testDb();
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `postgres://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@127.0.0.1:${port}/${encodeURIComponent(db.database)}?sslmode=disable`,
    close: async () => {
      for (const x of sockets) x.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const quick = { baselineRuns: 2, explain: false, sampleIntervalMs: 0 } as const;

describe('Through PgBouncer (connection pooler)', function () {
  this.timeout(120_000);
  const poolers: PgBouncer[] = [];
  let tx: PgBouncer;
  let session: PgBouncer;
  let silent: PgBouncer;
  const start = async (o: PgBouncerOptions) => {
    const p = await startPgBouncer(target(), { ...o, settings: { server_login_retry: '1', ...o.settings } });
    poolers.push(p);
    return p;
  };

  before(async function () {
    if (!hasPgBouncer()) throw new Error('PgBouncer is not installed: apt-get install -y pgbouncer (.ci/run installs it)');
    tx = await start({ poolMode: 'transaction', statsUser: true, poolSize: 4 });
    session = await start({ poolMode: 'session', statsUser: true });
    // The settings PgBouncer refuses at startup, dropped instead; and no admin console for pgload's user.
    silent = await start({ poolMode: 'transaction', ignoreStartupParameters: ['extra_float_digits', 'options', 'statement_timeout'] });
    await withAdmin(async (c) => {
      await c.query('DROP TABLE IF EXISTS pooled_rows; CREATE TABLE pooled_rows (id int PRIMARY KEY, n int NOT NULL)');
      await c.query('INSERT INTO pooled_rows SELECT g, 0 FROM generate_series(1, 10) g');
      await c.query(`CREATE OR REPLACE FUNCTION pooled_bump() RETURNS int LANGUAGE sql VOLATILE AS 'UPDATE pooled_rows SET n = n + 1 WHERE id = 1 RETURNING n'`);
      await c.query('DROP TABLE IF EXISTS pooled_delay; CREATE TABLE pooled_delay (s float8 NOT NULL); INSERT INTO pooled_delay VALUES (0)');
    });
  });
  after(async () => {
    for (const p of poolers) await p.stop();
  });

  const rowsUnchanged = async () => withAdmin(async (c) => (await c.query<{ n: number }>('SELECT sum(n)::int AS n FROM pooled_rows')).rows[0].n);

  it('transaction pooling: the refused startup parameter is worked around, the pooler is named, and every session is checked read-only', async () => {
    const r = await profile({ sql: 'SELECT count(*) FROM pg_class', connection: { url: tx.url }, clients: 6, requests: 300, ...quick });
    assert.equal(r.status, 'completed');
    assert.equal(r.load.requests.ok, 300);
    const p = r.connection.pooler!;
    assert.ok(p, 'the pooler is in the result');
    assert.match(p.name, /^PgBouncer 1\.\d+/);
    assert.match(p.detectedBy, /refused the startup parameter statement_timeout/);
    assert.equal(p.poolMode, 'transaction');
    assert.equal(p.settingsRoute, 'transaction');
    // The control session, the baseline session and the 6 clients, each checked on the server.
    assert.ok(p.readOnlyVerifiedSessions >= 8, `${p.readOnlyVerifiedSessions} sessions checked`);
    assert.ok(p.notes.some((n) => /BEGIN READ ONLY; SELECT set_config/.test(n)), p.notes.join('\n'));
    assert.equal(r.cleanup.leftoverSessions, 0);
    // Nothing of the run still runs on the server (its idle server sessions are the pooler's to keep).
    assert.deepEqual((await serverSessionsOf(p.applicationName)).filter((s) => s.state !== 'idle'), []);
    assert.equal(await poolerClients(tx), 0, 'every connection pgload opened to the pooler is closed');
  });

  it('session pooling: the settings are set after connecting (set_config), prepared statements run', async () => {
    const r = await profile({ sql: 'SELECT $1::int + 1', params: [{ index: 1, spec: 'int:1..100' }], prepared: true, connection: { url: session.url }, clients: 4, requests: 200, ...quick });
    assert.equal(r.status, 'completed');
    assert.equal(r.load.requests.ok, 200);
    const p = r.connection.pooler!;
    assert.equal(p.poolMode, 'session');
    assert.equal(p.settingsRoute, 'set');
    assert.ok(p.readOnlyVerifiedSessions >= 6);
    assert.ok(p.notes.some((n) => /set right after connecting \(set_config\)/.test(n)));
  });

  it('a proxy that drops the read-only startup setting and passes the server\'s process id is caught by the check on the session, and nothing runs', async () => {
    const proxy = await optionsDroppingProxy(testDb().port);
    try {
      const before = await rowsUnchanged();
      await assert.rejects(
        profile({ sql: 'SELECT pooled_bump()', connection: { url: proxy.url }, clients: 2, requests: 4, ...quick }),
        (e: PgloadError) =>
          e.code === 'NOT_READ_ONLY' &&
          /^The session is not read-only \(SHOW transaction_read_only = off\) although default_transaction_read_only = on was sent at startup: something between pgload and PostgreSQL .* dropped the setting\. .*nothing was run/.test(e.message),
      );
      assert.equal(await rowsUnchanged(), before, 'no row changed');
      // The same proxy, direct to the server otherwise: a run without writes allowed never starts, through the CLI too.
      const cli = await pgload(['run', '--url', proxy.url, '--sql', 'SELECT 1', '--clients', '2', '--requests', '4']);
      assert.equal(cli.code, 2, cli.stderr);
      assert.match(cli.stderr, /^pgload: The session is not read-only/m, JSON.stringify(cli));
      assert.equal(cli.stdout, '');
    } finally {
      await proxy.close();
    }
  });

  it('statement pooling is refused before anything runs: no transaction could carry the read-only setting', async () => {
    const statement = await start({ poolMode: 'statement', statsUser: true });
    const before = await rowsUnchanged();
    await assert.rejects(
      profile({ sql: 'SELECT pooled_bump()', connection: { url: statement.url }, clients: 2, requests: 4, ...quick }),
      (e: PgloadError) => e.kind === 'usage' && /PgBouncer 1\.\d+\.\d+ is in statement pooling: .* nothing was run/.test(e.message),
    );
    assert.equal(await rowsUnchanged(), before);
  });

  it('a pooler that drops the settings silently is recognised by its process ids; the run is still read-only and a writing function changes no row', async () => {
    const before = await rowsUnchanged();
    const ok = await profile({ sql: 'SELECT 1', connection: { url: silent.url }, clients: 3, requests: 30, ...quick });
    const p = ok.connection.pooler!;
    assert.match(p.detectedBy, /announced process -?\d+, and the server process serving it is \d+/);
    assert.equal(p.name, 'a connection pooler');
    assert.equal(p.poolMode, null);
    assert.match(p.consoleUnavailable!, /not allowed/);
    assert.equal(p.settingsRoute, 'transaction', 'an unknown pool mode gets the route that is right in every mode');
    assert.ok(ok.connection.pooler!.notes.some((n) => /queue cannot be told apart .* stats_users/.test(n)));

    for (const url of [silent.url, tx.url, session.url]) {
      await assert.rejects(
        profile({ sql: 'SELECT pooled_bump()', connection: { url }, clients: 2, requests: 10, ...quick }),
        (e: PgloadError) => e.kind === 'statement' && e.code === '25006' && /read-only transaction/.test(e.message),
      );
    }
    assert.equal(await rowsUnchanged(), before, 'no row changed through any pooler');
  });

  for (const mode of ['transaction', 'session'] as const) {
    it(`DML with writes allowed runs through ${mode} pooling and is rolled back`, async () => {
      const pooler = mode === 'transaction' ? tx : session;
      const before = await rowsUnchanged();
      const r = await profile({ sql: 'UPDATE pooled_rows SET n = n + 1 WHERE id = 2', allowWrites: true, connection: { url: pooler.url }, clients: 3, requests: 60, ...quick });
      assert.equal(r.status, 'completed');
      assert.equal(r.load.requests.ok, 60);
      assert.equal(r.options.executionMode, 'rolled-back');
      if (mode === 'transaction') assert.ok(r.connection.pooler!.notes.some((n) => /BEGIN; SELECT set_config\(…, true\); the statement; ROLLBACK/.test(n)));
      assert.equal(await rowsUnchanged(), before, 'every request was rolled back');
    });
  }

  it("8 clients on a pool of 4 server sessions: the sampler sees the server sessions, and the pooler's queue is measured apart", async () => {
    const r: ProfileResult = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: { url: tx.url }, clients: 8, durationMs: 2000, baselineRuns: 2, explain: false, sampleIntervalMs: 50 });
    assert.equal(r.status, 'completed');
    const p = r.connection.pooler!;
    // The pooler lends at most its 4 server sessions (default_pool_size) to the load.
    assert.ok(p.serverSessionsSeen !== null && p.serverSessionsSeen >= 1 && p.serverSessionsSeen <= 4, `${p.serverSessionsSeen} server sessions seen`);
    const waits = r.insight.waits!;
    assert.ok(waits.shares.some((s) => s.event === 'Timeout:PgSleep' && s.share > 0.5), JSON.stringify(waits.shares));
    // 8 clients on 4 sessions: at most 4 ÷ 20 ms of throughput, so a request waits about one sleep in the pooler.
    assert.ok(r.load.throughputQps <= 4 / 0.02, `${r.load.throughputQps} q/s`);
    assert.ok(p.wait && p.wait.transactions >= r.load.requests.ok, JSON.stringify(p.wait));
    assert.ok(p.wait.meanPerTransactionMs > 5, `waited ${p.wait.meanPerTransactionMs} ms per transaction in the pooler`);
    // What is left of a request after the pooler's queue is about the sleep: the split adds up.
    assert.ok(r.load.latency.meanMs - p.wait.meanPerTransactionMs < 3 * 20 + 20, `mean ${r.load.latency.meanMs} ms − pooler wait ${p.wait.meanPerTransactionMs} ms`);
  });

  it('session pooling: the sampler finds the server sessions by the run\'s application_name, one per client', async () => {
    const r = await profile({ sql: 'SELECT pg_sleep(0.02)', connection: { url: session.url }, clients: 4, durationMs: 1500, baselineRuns: 2, explain: false, sampleIntervalMs: 50 });
    const p = r.connection.pooler!;
    assert.ok(p.serverSessionsSeen !== null && p.serverSessionsSeen >= 1 && p.serverSessionsSeen <= 4, `${p.serverSessionsSeen} server sessions seen`);
    assert.ok(r.insight.waits!.shares.some((x) => x.event === 'Timeout:PgSleep' && x.share > 0.5), JSON.stringify(r.insight.waits!.shares));
    // A session pool of 20 has room for 4 clients: at most the set-up of a server session is waited for.
    assert.ok(p.wait && p.wait.meanPerTransactionMs < 5, JSON.stringify(p.wait));
  });

  it('--prepared is refused in transaction pooling with a sentence naming the pooler, and nothing runs', async () => {
    const ran = await pgload(['run', '--url', tx.url, '--sql', 'SELECT $1::int', '--param', '1=int:1..9', '--prepared', '--requests', '10']);
    assert.equal(ran.code, 2, ran.stderr);
    assert.match(ran.stderr, /--prepared cannot run through this pooler: PgBouncer 1\.\d+\.\d+ is in transaction pooling .* Run without --prepared/);
    const unnamed = await pgload(['run', '--url', tx.url, '--sql', 'SELECT $1::int', '--param', '1=int:1..9', '--requests', '40', '--no-explain']);
    assert.equal(unnamed.code, 0, unnamed.stderr);
    assert.match(unnamed.stdout, /Pooler +PgBouncer 1\.\d+\.\d+ · transaction pooling/);
    assert.match(unnamed.stdout, /40 ok · 0 failed/);
  });

  for (const mode of ['transaction', 'session'] as const) {
    it(`cancel during the load in ${mode} pooling: the running queries are cancelled through the pooler (CancelRequest), and none is left running`, async () => {
      const pooler = mode === 'transaction' ? tx : session;
      await withAdmin((c) => c.query('UPDATE pooled_delay SET s = 0'));
      const ac = new AbortController();
      let loading!: () => void;
      const loadSeen = new Promise<void>((r) => (loading = r));
      const run = profile(
        { sql: 'SELECT pg_sleep((SELECT s FROM pooled_delay))', connection: { url: pooler.url }, clients: 3, durationMs: 60_000, ...quick },
        { signal: ac.signal, onProgress: (p) => p.phase === 'load' && loading() },
      );
      run.catch(() => undefined);
      await loadSeen;
      // From now on every request sleeps 30 s; the cancel is sent once the server shows three of them sleeping.
      await withAdmin((c) => c.query('UPDATE pooled_delay SET s = 30'));
      const deadline = Date.now() + 20_000;
      for (;;) {
        const n = await withAdmin(async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%pooled_delay%'")).rows[0].n);
        if (n >= 3) break;
        assert.ok(Date.now() < deadline, 'the 30 s sleeps did not start');
        await sleep(50);
      }
      const cancelledAt = Date.now();
      ac.abort();
      const r = await run;
      const settledMs = Date.now() - cancelledAt;
      await withAdmin((c) => c.query('UPDATE pooled_delay SET s = 0'));
      assert.equal(r.status, 'cancelled');
      assert.ok(settledMs < 10_000, `settled ${settledMs} ms after the cancel, while 30 s queries were running`);
      const sleeping = await withAdmin(async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%pooled_delay%'")).rows[0].n);
      assert.equal(sleeping, 0, 'no sleep of the run still runs on the server');
      assert.equal(await poolerClients(pooler), 0, 'every connection pgload opened to the pooler is closed');
    });
  }

  for (const mode of ['transaction', 'session'] as const) {
    it(`a sweep through ${mode} pooling: steps are not cut to the server slots, and the note says the curve shows the pooler`, async () => {
      const pooler = mode === 'transaction' ? tx : session;
      const r = await sweep({ sql: 'SELECT pg_sleep(0.005)', connection: { url: pooler.url }, steps: [1, 2, 4, 8], stepDurationMs: 600, maxClients: 8 });
      assert.deepEqual(r.steps.map((s) => s.clients), [1, 2, 4, 8]);
      assert.ok(r.notes.some((n) => /connection pooler stands in front of the server/.test(n)), r.notes.join('\n'));
      if (mode === 'transaction') {
        // Past the pool's 4 server sessions the throughput cannot grow: 8 clients get no more than 4 sessions give.
        const at4 = r.steps[2].throughputQps;
        const at8 = r.steps[3].throughputQps;
        assert.ok(at8 < at4 * 1.25, `4 clients ${at4} q/s, 8 clients ${at8} q/s`);
      }
    });
  }

  for (const mode of ['transaction', 'session'] as const) {
    it(`the server restarts behind ${mode} pooling: clients reconnect to the pooler and requests succeed after the restart`, async () => {
      const server = await startEmbeddedPostgres();
      const pooler = await startPgBouncer(
        { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database },
        { poolMode: mode, statsUser: true, settings: { server_login_retry: '1' } },
      );
      try {
        let barrierAt = 0;
        let loadSeen!: () => void;
        const loading = new Promise<void>((r) => (loadSeen = r));
        const run = profile(
          { sql: 'SELECT pg_sleep(0.01)', connection: { url: pooler.url }, clients: 4, durationMs: 6000, ...quick, maxErrors: 0, reconnect: true },
          {
            onProgress: (p) => {
              if (p.phase === 'load' && barrierAt === 0) {
                barrierAt = Date.now() - p.elapsedMs;
                loadSeen();
              }
            },
          },
        );
        await loading;
        await sleep(Math.max(0, barrierAt + 1500 - Date.now()));
        await server.restart(500);
        const upAtMs = Date.now() - barrierAt;
        const r = await run;
        assert.equal(r.status, 'completed', r.statusDetail);
        assert.ok(r.load.requests.failed >= 1, 'the requests cut by the restart are counted');
        assert.ok(r.timeline.some((p) => p.tMs > upAtMs + 500 && p.count > 0), 'requests succeed after the server is back');
        assert.equal(r.cleanup.leftoverSessions, 0);
      } finally {
        await pooler.stop();
        await server.stop();
      }
    });
  }
});
