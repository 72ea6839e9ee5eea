/**
 * Adversarial probe, a silent network: a proxy between pgload and the server stops forwarding mid-run without closing
 * anything. The run must end within the bound its report states (the statement timeout and a stated margin), and the
 * leftover check must say what it found — or that it could not check — never "0 left" while sessions remain.
 */
import * as assert from 'node:assert/strict';
import type { ProfileResult } from '../../../src/shared/result';
import { silentProxy } from '../../support/proxy';
import { pgload } from '../../support/cli';
import { testDb, withAdmin } from '../../support/server';

describe('Adversarial: a network that goes silent mid-run', function () {
  this.timeout(120_000);

  it('the run ends within its stated bound, and the report says the leftover check could not run', async () => {
    const db = testDb();
    const proxy = await silentProxy(db.port);
    const url = `postgres://${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}@127.0.0.1:${proxy.port}/${encodeURIComponent(db.database)}?sslmode=disable`;
    try {
      const started = Date.now();
      const running = pgload(['run', '--url', url, '--sql', 'SELECT pg_sleep(0.02)', '--clients', '4', '--duration', '5s', '--statement-timeout', '2s', '--application-name', 'pgload-silent', '--json', '-', '--verbose'], {}, 110_000);
      // Silent once the load runs (the baseline and its checks take well under 4 s here, and the load lasts 5 s).
      let loadSeen = false;
      for (let i = 0; i < 200 && !loadSeen; i++) {
        await new Promise((r) => setTimeout(r, 50));
        loadSeen = await withAdmin(async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload-silent' AND wait_event = 'PgSleep'")).rows[0].n >= 2);
      }
      assert.ok(loadSeen, 'the load started');
      const silencedAt = Date.now();
      proxy.freeze();
      const r = await running;
      const ended = Date.now();
      const result = JSON.parse(r.stdout) as ProfileResult;
      // The bound the report states: the planned end, then the statement timeout plus pgload's margin.
      const bound = result.load.silence;
      assert.ok(bound, `the result says the server stopped answering: ${r.stderr}`);
      assert.match(r.stderr, /stopped answering/);
      assert.ok(ended - silencedAt <= bound.boundMs + 2000, `ended ${ended - silencedAt} ms after the silence; the stated bound is ${bound.boundMs} ms\n${r.stderr}`);
      assert.ok(ended - started < 60_000);
      assert.equal(result.cleanup.leftoverSessions, null, 'the leftover check could not reach the server, and says so');
      assert.match(r.stdout + r.stderr, /could not check whether pgload's sessions are gone/);
    } finally {
      await proxy.close();
    }
  });
});
