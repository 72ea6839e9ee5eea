/**
 * Faults injected during real runs: a server restart (with and without --reconnect), a network that goes
 * silent without closing (a TCP proxy that stops forwarding), slots taken between the capacity check and
 * the connections, and a cancel in every phase. Each ends with a result or a clear error — never a hang, never
 * an unhandled rejection — and no pgload session is left on the server.
 */
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import { PgloadError } from '../../src/core/errors';
import { profile } from '../../src/core/load/runner';
import { sweep } from '../../src/core/analysis/sweep';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../scripts/lib/embedded-pg';
import { testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { silentProxy } from '../support/proxy';

describe('Faults during a run', function () {
  this.timeout(120_000);
  let server: EmbeddedServer;
  before(async () => {
    server = await startEmbeddedPostgres();
  });
  after(() => server?.stop());

  it('the server restarts mid-run; with reconnect the clients come back and the outage window is reported', async () => {
    // The restart is timed from the load's own start (the barrier), as the outage window is, so a slow baseline on a
    // busy machine moves both together.
    let barrierAt = 0;
    let loadSeen!: () => void;
    const loading = new Promise<void>((r) => (loadSeen = r));
    const run = profile(
      { sql: 'SELECT pg_sleep(0.01)', connection: { url: server.url }, clients: 4, durationMs: 6000, baselineRuns: 1, explain: false, sampleIntervalMs: 0, maxErrors: 0, reconnect: true },
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
    await new Promise((r) => setTimeout(r, Math.max(0, barrierAt + 1000 - Date.now())));
    const killedAtMs = Date.now() - barrierAt;
    await server.restart(500);
    const upAtMs = Date.now() - barrierAt;
    const r = await run;
    assert.equal(r.status, 'completed');
    const outages = r.load.outages!;
    assert.ok(outages.length >= 1, JSON.stringify(r.load));
    const o = outages[0];
    assert.ok(o.recovered, JSON.stringify(o));
    // It starts with the first request the shutdown cut, between the signal and the server being back.
    assert.ok(o.startMs >= killedAtMs - 50 && o.startMs < upAtMs, `outage starts at ${o.startMs} ms; the server was stopped at ${killedAtMs} ms and back at ${upAtMs} ms`);
    assert.ok(o.endMs >= upAtMs - 50, `the outage ends at ${o.endMs} ms, after the server was back at ${upAtMs} ms`);
    assert.ok(o.endMs - o.startMs >= 400, `the server was down ≥ 500 ms: ${o.endMs - o.startMs} ms`);
    assert.ok(r.load.reconnects! >= 4, `${r.load.reconnects} reconnects`);
    assert.ok(r.load.requests.failed >= 4, 'the requests cut by the shutdown are counted');
    assert.ok(r.errors.some((e) => /^57P01|CONNECTION_LOST|ECONNRESET|08/.test(e.code)), JSON.stringify(r.errors));
    // Requests succeed after the outage: the timeline has successes after its end.
    assert.ok(r.timeline.some((p) => p.tMs > o.endMs && p.count > 0));
    assert.equal(await waitNoPgloadSessions(2000, server.url), 0);
  });

  it('without reconnect the clients stop: the run ends early with the failures counted and grouped', async () => {
    const run = profile({ sql: 'SELECT pg_sleep(0.01)', connection: { url: server.url }, clients: 3, durationMs: 20_000, baselineRuns: 1, explain: false, sampleIntervalMs: 0, maxErrors: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    await server.restart();
    const r = await run;
    assert.ok(Date.now() - started < 15_000, 'the run did not wait for its 20 s');
    assert.equal(r.status, 'clients-lost');
    assert.equal(r.load.outages?.[0].recovered, false);
    assert.ok(r.load.requests.failed >= 3);
    assert.equal(await waitNoPgloadSessions(2000, server.url), 0);
  });

  it('the network goes silent (no FIN): client-side timeouts end the run, and nothing is left once the link closes', async () => {
    const proxy = await silentProxy(server.port);
    try {
      const started = Date.now();
      const run = profile({
        sql: 'SELECT pg_sleep(0.01)',
        connection: { url: `postgres://${server.user}:${server.password}@127.0.0.1:${proxy.port}/${server.database}` },
        clients: 3,
        requests: 10_000_000,
        statementTimeoutMs: 1000,
        baselineRuns: 1,
        explain: false,
        sampleIntervalMs: 0,
        maxErrors: 0,
      });
      await new Promise((r) => setTimeout(r, 1000));
      proxy.freeze();
      const r = await run;
      const took = Date.now() - started;
      // Statement timeout 1 s + 5 s of client patience, then at most 5 s per check after the load.
      assert.ok(took < 30_000, `ended after ${took} ms`);
      assert.equal(r.status, 'clients-lost');
      const g = r.errors.find((e) => e.code === 'CLIENT_TIMEOUT');
      assert.ok(g && g.count >= 3, JSON.stringify(r.errors));
      assert.match(g.message, /No answer from the server within the statement timeout \+ 5 s/);
    } finally {
      await proxy.close();
    }
    assert.equal(await waitNoPgloadSessions(2000, server.url), 0);
  });

  it('slots taken between the capacity check and the connections: refused with the reasons counted, nothing left', async () => {
    const hogs: Client[] = [];
    try {
      const max = Number((await withAdmin((c) => c.query('SHOW max_connections'))).rows[0].max_connections);
      const used = Number((await withAdmin((c) => c.query('SELECT count(*) FROM pg_stat_activity WHERE backend_type = $1', ['client backend']))).rows[0].count);
      const clients = Math.max(4, max - used - 12);
      await assert.rejects(
        profile(
          { sql: 'SELECT 1', connection: { url: testDb().url }, clients, requests: clients, baselineRuns: 1, explain: false, sampleIntervalMs: 0 },
          {
            onProgress: (p) => {
              // Right when pgload starts opening its sessions, another application takes 20 slots.
              if (p.message.startsWith('opening') && hogs.length === 0) {
                for (let i = 0; i < 20; i++) {
                  const c = new Client({ connectionString: testDb().url, application_name: 'pgload-test-hog' });
                  c.on('error', () => undefined);
                  hogs.push(c);
                  void c.connect().catch(() => undefined);
                }
              }
            },
          },
        ),
        (e: PgloadError) => {
          // Per client: how many could not connect, and why, counted.
          assert.match(e.message, /^\d+ of \d+ clients could not open a session, so the load did not start: \d+× .*(too many clients already|remaining connection slots)/);
          return true;
        },
      );
    } finally {
      await Promise.all(hogs.map((c) => c.end().catch(() => undefined)));
    }
    assert.equal(await waitNoPgloadSessions(2000), 0);
  });

  describe('cancel in every phase', () => {
    const cancelAt = async (when: (message: string, phase: string) => boolean, explain = true) => {
      const ac = new AbortController();
      const started = Date.now();
      const outcome = await profile(
        { sql: 'SELECT pg_sleep(0.2)', connection: { url: testDb().url }, clients: 3, requests: 60, baselineRuns: 2, explain, sampleIntervalMs: 0 },
        { signal: ac.signal, onProgress: (p) => when(p.message, p.phase) && ac.abort() },
      ).then(
        (r) => ({ result: r, error: undefined }),
        (e: unknown) => ({ result: undefined, error: e as PgloadError }),
      );
      assert.ok(Date.now() - started < 8000, 'the cancel took effect promptly');
      assert.equal(await waitNoPgloadSessions(2000), 0);
      return outcome;
    };

    it('while connecting', async () => {
      const o = await cancelAt((m) => m.startsWith('connecting'));
      assert.equal(o.error?.kind, 'cancelled', String(o.error));
    });

    it('during EXPLAIN ANALYZE alone', async () => {
      const o = await cancelAt((m) => m === 'EXPLAIN ANALYZE alone');
      assert.equal(o.error?.kind, 'cancelled', String(o.error));
      assert.match(o.error!.message, /cancelled during the baseline/);
    });

    it('while opening the clients', async () => {
      const o = await cancelAt((m) => m.startsWith('opening'));
      assert.equal(o.error?.kind, 'cancelled', String(o.error));
    });

    it('during a sweep step: the steps done are kept, the rest noted', async () => {
      const ac = new AbortController();
      const r = await sweep(
        { sql: 'SELECT pg_sleep(0.02)', connection: { url: testDb().url }, steps: [1, 2, 4], maxClients: 4, stepDurationMs: 1000 },
        { signal: ac.signal, onStep: (i, _of, _clients, p) => i === 2 && p?.phase === 'load' && ac.abort() },
      );
      assert.equal(r.steps.length >= 1, true);
      assert.ok(r.steps.length < 3, JSON.stringify(r.steps.map((s) => s.clients)));
      assert.ok(r.notes.some((n) => /Cancelled/.test(n)), JSON.stringify(r.notes));
      assert.equal(await waitNoPgloadSessions(2000), 0);
    });
  });
});
