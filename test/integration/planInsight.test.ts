/**
 * Plan insight on real servers: where the time goes (node times that add up), hints ranked by what they could save,
 * and index advice checked with HypoPG's hypothetical indexes on Debian's PostgreSQL 15 (postgresql-15-hypopg) —
 * or said to be unchecked where HypoPG is missing (the embedded PostgreSQL 18). No index is ever built.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Client } from 'pg';
import { profile } from '../../src/core/load/runner';
import { diagnose } from '../../src/core/analysis/diagnose';
import { formatTextReport } from '../../src/shared/format';
import type { ProfileResult } from '../../src/shared/result';
import { startPostgresFromBinaries } from '../../scripts/lib/embedded-pg';
import { INDEX_SETUP_SQL, INDEX_SHAPES, INDEX_VACUUM_SQL, INSIGHT_SCENARIOS, INSIGHT_SETUP_SQL, SHOP4_ANALYZE, SHOP4_QUERY, SHOP4_SQL } from '../support/insight';
import { testDb, withAdmin } from '../support/server';

const DEBIAN_PG = '/usr/lib/postgresql/15/bin';
const HYPOPG = '/usr/share/postgresql/15/extension/hypopg.control';

/** A shop like the one pgload exists for, small: purchases with lines, and an EXISTS over the lines. */
const SHOP_SQL = `
CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL);
CREATE TABLE purchases (id int PRIMARY KEY, customer int NOT NULL, created date NOT NULL);
CREATE TABLE purchase_lines (purchase_id int NOT NULL, item_id int NOT NULL, qty int NOT NULL);
INSERT INTO items SELECT g, g % 40 FROM generate_series(1, 2000) g;
INSERT INTO purchases SELECT g, g % 5000, date '2026-01-01' + (g % 300) FROM generate_series(1, 100000) g;
INSERT INTO purchase_lines SELECT 1 + (g::bigint * 7919) % 100000, 1 + g % 2000, 1 + g % 3 FROM generate_series(1, 300000) g;
ANALYZE items, purchases, purchase_lines;`;
const EXISTS_SQL = 'SELECT p.id, p.created FROM purchases p WHERE p.customer = 42 AND EXISTS (SELECT 1 FROM purchase_lines l WHERE l.purchase_id = p.id AND l.qty = 3) ORDER BY p.created DESC LIMIT 20';
const quick = { clients: 2, requests: 6, baselineRuns: 1, sampleIntervalMs: 0, settings: { max_parallel_workers_per_gather: '0', jit: 'off' } };

describe('Plan insight: time per node, ranked hints, index advice', function () {
  this.timeout(120_000);

  describe('with HypoPG (Debian PostgreSQL 15)', () => {
    let server: { url: string; stop(): Promise<void> };
    before(async () => {
      if (!fs.existsSync(DEBIAN_PG) || !fs.existsSync(HYPOPG)) throw new Error(`Debian's PostgreSQL 15 with HypoPG is needed: apt-get install -y postgresql-15-hypopg (.ci/run installs it)`);
      server = await startPostgresFromBinaries(DEBIAN_PG);
      const c = new Client({ connectionString: server.url });
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query(`CREATE EXTENSION hypopg; ${SHOP_SQL}`);
      } finally {
        await c.end();
      }
    });
    after(() => server?.stop());

    const indexCount = async () => {
      const c = new Client({ connectionString: server.url });
      await c.connect();
      try {
        return (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public'")).rows[0].n;
      } finally {
        await c.end();
      }
    };

    const suggestionsOf = (r: ProfileResult) => r.hints.filter((h) => h.id === 'index-suggestion');
    const dropBuilt = async (c: Client) => {
      const built = (await c.query<{ i: string }>("SELECT indexname AS i FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey'")).rows;
      for (const b of built) await c.query(`DROP INDEX ${b.i}`);
    };

    /** Runs `body` with tables made by `setup` (statements run one by one) and dropped by `teardown` after, whatever happens. */
    const withTables = async (setup: string[], teardown: string, body: () => Promise<void>) => {
      const c = new Client({ connectionString: server.url });
      c.on('error', () => undefined);
      await c.connect();
      try {
        for (const q of setup) await c.query(q);
        await body();
      } finally {
        await c.query(teardown);
        await c.end();
      }
    };

    it('the EXISTS query: HypoPG searches the candidates (composite, covering, then the best pair); each suggestion has its cost, size and write cost; none is built', async () => {
      const before = await indexCount();
      const r: ProfileResult = await profile({ sql: EXISTS_SQL, connection: { url: server.url }, ...quick });
      assert.equal(r.status, 'completed');
      const suggestions = suggestionsOf(r);
      assert.ok(suggestions.length >= 1, r.hints.map((h) => `${h.id}: ${h.title}`).join('\n') + '\n' + r.insight.counters.notes.join('\n'));
      for (const s of suggestions) {
        assert.equal(s.verified?.method, 'hypopg');
        assert.ok(s.verified!.costAfter <= s.verified!.costBefore * 0.9, JSON.stringify(s.verified));
        assert.ok(s.verified!.sizeBytes! > 8192, `HypoPG's size: ${s.verified!.sizeBytes}`);
        assert.match(s.sql!, /^(CREATE INDEX CONCURRENTLY ON (purchases|purchase_lines) \(\w+( DESC)?(, \w+( DESC)?)*\)( INCLUDE \(\w+(, \w+)*\))?;\n?)+$/);
        assert.match(s.title, /checked with HypoPG/);
        assert.match(s.detail, /Size about [\d.]+ (kB|MB)|Both together about/);
        assert.match(s.detail, /row writes\/s|no inserts or updates/);
      }
      // By construction the EXISTS's lines are found by purchase and quantity, and the customer's purchases by date:
      // a composite on each side, and the two together beat either alone.
      const best = suggestions[0];
      assert.match(best.title, /^Two indexes/, suggestions.map((s) => s.title).join('\n'));
      assert.match(best.sql!, /ON purchase_lines \(purchase_id, qty\)/);
      assert.match(best.sql!, /ON purchases \(customer/);
      assert.ok(best.verified!.costAfter < best.verified!.costWithFirst!, JSON.stringify(best.verified));
      assert.match(best.detail, /the EXISTS's Seq Scan on purchase_lines becomes an Index (Only )?Scan|Index (Only )?Scan on purchase_lines/);
      assert.match(formatTextReport(r), /could save about \S+ ms per request — the planner's cost falls by \d+/);
      assert.equal(await indexCount(), before, 'no index was built');
      const text = formatTextReport(r);
      assert.match(text, /Where the time goes \(plan (under load|alone), each node's own time\)/);
    });

    it('the first suggestion, built, makes the query faster alone and under load: the check was right', async () => {
      const first = await profile({ sql: EXISTS_SQL, connection: { url: server.url }, ...quick, requests: 20 });
      const s = suggestionsOf(first)[0];
      const c = new Client({ connectionString: server.url });
      c.on('error', () => undefined);
      await c.connect();
      try {
        for (const stmt of s.sql!.split(/;\n?/).filter((x) => x.trim())) await c.query(stmt);
        await c.query('ANALYZE purchases, purchase_lines');
        const second = await profile({ sql: EXISTS_SQL, connection: { url: server.url }, ...quick, requests: 20 });
        const alone = (r: ProfileResult) => r.insight.plans.find((p) => p.when === 'alone')!.executionMs!;
        // By construction: 300,000 rows read into a hash on every request, against a few index lookups.
        assert.ok(alone(second) < alone(first) / 2, `${alone(first)} → ${alone(second)} ms`);
        assert.ok(second.load.latency.meanMs < first.load.latency.meanMs, `under load: ${first.load.latency.meanMs} → ${second.load.latency.meanMs} ms`);
        assert.ok(!suggestionsOf(second).some((h) => h.sql === s.sql), 'not suggested again once it exists');
      } finally {
        await dropBuilt(c);
        await c.end();
      }
    });

    it('the composite, covering, partial and expression shapes: HypoPG confirms the index each needs; where no index helps, none is suggested', async () => {
      await withTables([INDEX_SETUP_SQL, INDEX_VACUUM_SQL], 'DROP TABLE ix_people', async () => {
        for (const shape of INDEX_SHAPES) {
          const r = await profile({ sql: shape.sql, connection: { url: server.url }, ...quick, settings: shape.settings });
          const sqls = suggestionsOf(r).map((h) => h.sql!);
          const said = `${shape.name}: ${sqls.join(' | ') || 'none'}\n${r.insight.counters.notes.join('\n')}`;
          if (shape.want.length === 0) assert.deepEqual(sqls, [], said);
          // One of the shapes it needs is suggested (the planner picks between a partial index and a composite one).
          else assert.ok(shape.want.some((w) => sqls.some((x) => x.startsWith(w.replace('CREATE INDEX', 'CREATE INDEX CONCURRENTLY')))), said);
        }
      });
    });

    it('diagnose with index trials allowed: the best suggestion is built for B, measured, leads the query answer and the best fix, and is gone after', async () => {
      await withTables([SHOP4_SQL(200_000), SHOP4_ANALYZE], 'DROP TABLE order_lines, orders, products, customers', async () => {
        const before = await indexCount();
        const d = await diagnose({
          base: { sql: SHOP4_QUERY, connection: { url: server.url }, settings: quick.settings },
          app: { users: 4, poolSize: 2, maxOverflow: 0, poolTimeoutMs: 30_000 },
          budgetMs: 60_000,
          allowIndexTrials: true,
        });
        const phase = d.phases.find((p) => p.id === 'index')!;
        assert.equal(phase.status, 'done', JSON.stringify(d.phases));
        const trial = d.runs.index!.indexTrial!;
        assert.ok(trial.indexes.every((i) => i.buildMs.length >= 1 && !i.kept), JSON.stringify(trial));
        // By construction (a sort of every paid order against an index in the Limit's order) the index wins by far.
        assert.equal(d.runs.index!.comparison.verdict, 'faster', d.runs.index!.comparison.summary);
        assert.equal(d.answers.best?.answer, 3, d.answers.best?.text);
        assert.match(d.answers.best!.text, /^Best measured fix: an index on (orders|order_lines|products) /);
        assert.equal(d.answers.query[0].measured, true);
        assert.match(d.answers.query[0].evidence, /Measured on this database \(an index trial/);
        assert.equal(await indexCount(), before, 'the trial dropped what it built');
      });
    });

    it("the shape of #28 (four tables, EXISTS over a join, status and date, ORDER BY … LIMIT, foreign keys indexed): past 'already indexed' to the index that fits the plan", async () => {
      await withTables([SHOP4_SQL(200_000), SHOP4_ANALYZE], 'DROP TABLE order_lines, orders, products, customers', async () => {
        const before = await indexCount();
        const r = await profile({ sql: SHOP4_QUERY, connection: { url: server.url }, ...quick });
        const suggestions = suggestionsOf(r);
        const notes = r.insight.counters.notes.join('\n');
        // The foreign keys are indexed, and said so; the search goes on to composite and covering shapes.
        assert.match(notes, /order_lines \(order_id\) is already indexed \(order_lines_order_id_idx\)/);
        assert.ok(suggestions.length >= 2, suggestions.map((h) => h.title).join('\n') + '\n' + notes);
        // By construction: a status and a date filter under ORDER BY created DESC LIMIT — orders by (status, created), or
        // by created within status = 'paid' — is suggested and cuts the cost by more than half (alone or in the pair).
        const orders = suggestions.find((h) => /ON orders \(status, created DESC\)|ON orders \(created DESC\) WHERE status = 'paid'::text/.test(h.sql ?? ''));
        assert.ok(orders, suggestions.map((h) => h.sql).join('\n'));
        assert.ok(orders.verified!.costAfter < orders.verified!.costBefore / 2, JSON.stringify(orders.verified));
        // The best suggestion comes first.
        assert.ok(suggestions.every((h) => h.verified!.costAfter >= suggestions[0].verified!.costAfter), suggestions.map((h) => `${h.sql}: ${h.verified!.costAfter}`).join('\n'));
        // A composite that leads with an indexed foreign key names the index it makes redundant.
        const lines = suggestions.find((h) => /ON order_lines \(product_id, order_id\)/.test(h.sql ?? ''));
        if (lines) assert.match(lines.detail, /make order_lines_product_id_idx redundant/);
        assert.equal(await indexCount(), before, 'no index was built');
      });
    });
  });

  describe('without HypoPG (embedded PostgreSQL 18)', () => {
    before(() => withAdmin((c) => c.query(INSIGHT_SETUP_SQL)));

    it('index candidates are shown as not checked, with the words that say how to check them', async () => {
      const s = INSIGHT_SCENARIOS.find((x) => x.name === 'exists-hash-semi')!;
      const r = await profile({ sql: s.sql, connection: { url: testDb().url }, clients: 2, requests: 4, baselineRuns: 1, settings: s.settings, sampleIntervalMs: 0 });
      const hint = r.hints.find((h) => h.id === 'index-suggestion' && /ins_par \(k\)/.test(h.sql ?? ''));
      assert.ok(hint, r.hints.map((h) => `${h.id}: ${h.sql ?? h.title}`).join('\n'));
      assert.equal(hint.verified, null);
      assert.match(hint.detail, /not checked — install HypoPG to check/);
      assert.equal(hint.severity, 'info');
      // The EXISTS itself is named, with the share of the execution it took.
      const exists = r.hints.find((h) => h.id === 'exists-hash-semi')!;
      assert.match(exists.detail, /reads [\d,]+ rows \(\d+(\.\d)? % of the execution\)/);
    });

    it('an index the table already has is never suggested: the note names it, the missing one is still suggested', async () => {
      await withAdmin((c) =>
        c.query(`DROP TABLE IF EXISTS ix_b, ix_a;
          CREATE TABLE ix_a (id int PRIMARY KEY, v int);
          INSERT INTO ix_a SELECT g, g % 7 FROM generate_series(1, 20000) g;
          CREATE TABLE ix_b (a_id int, w int);
          INSERT INTO ix_b SELECT (g * 7) % 20000 + 1, g FROM generate_series(1, 20000) g;
          ANALYZE ix_a, ix_b;`),
      );
      const r = await profile({ sql: 'SELECT count(*) FROM ix_b b JOIN ix_a a ON a.id = b.a_id WHERE a.v >= 0', connection: { url: testDb().url }, clients: 1, requests: 2, baselineRuns: 1, sampleIntervalMs: 0 });
      const sqls = r.hints.filter((h) => h.id === 'index-suggestion').map((h) => h.sql);
      assert.ok(!sqls.some((x) => /ix_a \(id\)/.test(x ?? '')), `ix_a (id) is its primary key: ${sqls.join(' | ')}`);
      assert.ok(sqls.some((x) => /ix_b \(a_id\)/.test(x ?? '')), `ix_b (a_id) has no index: ${sqls.join(' | ')}`);
      assert.ok(r.insight.counters.notes.some((n) => /ix_a \(id\) is already indexed \(ix_a_pkey\)/.test(n)), r.insight.counters.notes.join('\n'));
    });

    it('every plan carries its node times, adding up to the execution, and hints on nodes come first, ranked by what they could save', async () => {
      const s = INSIGHT_SCENARIOS.find((x) => x.name === 'sort-spill')!;
      const r = await profile({ sql: s.sql, connection: { url: testDb().url }, clients: 4, requests: 12, baselineRuns: 1, settings: s.settings, sampleIntervalMs: 0 });
      for (const p of r.insight.plans.filter((x) => x.json)) {
        const own = p.nodes!.reduce((a, n) => a + n.exclusiveMs, 0);
        assert.ok(Math.abs(own - p.executionMs!) <= 0.15 * p.executionMs! + 0.5, `${p.when}: node times ${own} ms, execution ${p.executionMs} ms`);
        assert.ok(Math.abs(p.nodes!.reduce((a, n) => a + n.share, 0) - 1) < 0.002);
      }
      const estimated = r.hints.filter((h) => h.estimate);
      assert.ok(estimated.length >= 1);
      assert.deepEqual(r.hints.slice(0, estimated.length), estimated, 'hints with an estimate come first');
      for (let i = 1; i < estimated.length; i++) assert.ok(estimated[i - 1].estimate!.perRequestMs >= estimated[i].estimate!.perRequestMs);
      // The estimate is the node's share of the mean latency under load.
      const e = estimated[0].estimate!;
      assert.ok(Math.abs(e.perRequestMs - e.share * r.load.latency.meanMs) < 0.01 * r.load.latency.meanMs + 0.01, JSON.stringify(e));
    });
  });
});
