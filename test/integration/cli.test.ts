import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { ProfileResult } from '../../src/shared/result';
import { fromNthExecution, testDb, waitNoPgloadSessions, withAdmin } from '../support/server';
import { CLI, pgload, tmp } from '../support/cli';

describe('pgload CLI', function () {
  this.timeout(90_000);
  const url = () => testDb().url;

  before(() => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is built (npm run build)');
  });

  it('exit 0: a clean run prints the full report; --json and --markdown write the same result', async () => {
    const json = tmp('r.json');
    const md = tmp('r.md');
    const r = await pgload(['run', '--url', url(), '--sql', 'SELECT pg_sleep(0.005)', '--clients', '4', '--requests', '40', '--json', json, '--markdown', md]);
    assert.equal(r.code, 0, r.stderr);
    for (const label of ['Baseline', 'Cold (first run)', 'Under load (4 clients × 40 requests)', 'Total time', 'Requests', 'Throughput', 'Percentiles', 'p99.9', 'Over 500 ms', 'Slowdown', 'Connect']) {
      assert.ok(r.stdout.includes(label), `report has "${label}"\n${r.stdout}`);
    }
    const result = JSON.parse(fs.readFileSync(json, 'utf8')) as ProfileResult;
    assert.equal(result.load.requests.ok, 40);
    assert.equal(result.schemaVersion, 1);
    const mdText = fs.readFileSync(md, 'utf8');
    assert.match(mdText, /\| p95 \| .* \| .* \|/);
    assert.ok(!r.stdout.includes(testDb().password) && !r.stderr.includes(testDb().password) && !mdText.includes(testDb().password));
  });

  it('--html writes one self-contained page with the result, --csv the timeline, both free of the password', async () => {
    const [json, html, csv] = [tmp('r.json'), tmp('r.html'), tmp('r.csv')];
    const r = await pgload(['run', '--url', url(), '--sql', 'SELECT pg_sleep(0.002)', '--clients', '2', '--requests', '60', '--json', json, '--html', html, '--csv', csv, '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(fs.readFileSync(json, 'utf8')) as ProfileResult;
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;|Content-Security-Policy" content="default-src 'none'/);
    assert.ok(!/<(script|link|img)[^>]+(src|href)=["']?https?:/i.test(page), 'no external script, stylesheet or image');
    assert.ok(page.includes(JSON.stringify(result.fingerprint)), 'the result is inside');
    assert.ok(!page.includes(result.hdr.load), 'without the HDR data');
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines[0], 't_ms,duration_ms,count,errors,qps,p50_ms,p95_ms,max_ms');
    assert.equal(lines.length, result.timeline.length + 1);
    assert.equal(lines.slice(1).reduce((n, l) => n + Number(l.split(',')[2]), 0), result.load.requests.total, 'the counts add up to the requests');
    for (const text of [page, lines.join('\n')]) assert.ok(!text.includes(testDb().password));
    const bad = await pgload(['run', '--url', url(), '--sql', 'SELECT 1', '--html', '']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--html needs a path/);
  });

  it('secrets: the password and the full URL appear nowhere — stdout, stderr with --verbose, JSON, Markdown, HTML, CSV, errors', async () => {
    const db = testDb();
    const full = url();
    const files = { json: tmp('s.json'), md: tmp('s.md'), html: tmp('s.html'), csv: tmp('s.csv') };
    const outputs: string[] = [];
    const ok = await pgload(['run', '--url', full, '--sql', 'SELECT pg_sleep(0.001)', '--clients', '2', '--requests', '20', '--verbose', '--json', files.json, '--markdown', files.md, '--html', files.html, '--csv', files.csv]);
    assert.equal(ok.code, 0, ok.stderr);
    outputs.push(ok.stdout, ok.stderr, ...Object.values(files).map((f) => fs.readFileSync(f, 'utf8')));
    // Failures that quote the connection: a wrong database, a statement the server rejects, a refused port.
    for (const args of [
      ['run', '--url', full.replace(/\/[^/]+$/, '/no_such_db'), '--sql', 'SELECT 1', '--verbose'],
      ['run', '--url', full, '--sql', 'SELECT * FROM no_such_table', '--verbose'],
      ['run', '--url', full.replace(`:${db.port}/`, ':1/'), '--sql', 'SELECT 1', '--verbose'],
      ['sweep', '--url', full, '--sql', 'SELECT 1', '--steps', '1,2,3', '--step-duration', '500ms', '--json', '-'],
      ['check', tmp('c.yml', `url: ${full}\nchecks:\n  - name: one\n    sql: SELECT 1\n    requests: 10\n    clients: 1\n    budgets: { p95: 1s }\n`), '--json', '-'],
    ]) {
      const r = await pgload(args);
      outputs.push(r.stdout, r.stderr);
    }
    const all = outputs.join('\n');
    assert.ok(all.length > 10_000, 'there was plenty of output to search');
    assert.equal(all.split(db.password).length - 1, 0, 'the password appears nowhere');
    assert.equal(all.split(full).length - 1, 0, 'the full URL appears nowhere');
  });

  it('--json - puts only the JSON on stdout and the report on stderr; PG* variables work without --url', async () => {
    const db = testDb();
    const r = await pgload(['run', '--sql', 'SELECT 1', '--clients', '2', '--requests', '10', '--json', '-'], {
      PGHOST: db.host,
      PGPORT: String(db.port),
      PGUSER: db.user,
      PGPASSWORD: db.password,
      PGDATABASE: db.database,
    });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as ProfileResult;
    assert.equal(result.load.requests.total, 10);
    assert.equal(result.connection.port, db.port);
    assert.match(r.stderr, /Under load/);
  });

  it('exit 1: some requests failed; the errors are grouped in the report', async () => {
    // Every execution from the 4th on fails (a sequence counts them; writes allowed for it): the baseline's two
    // (1 cold + 1 warm, no EXPLAIN) always pass, the load passes at most its first, however fast the machine is.
    const args = (sql: string) => ['run', '--url', url(), '--sql', sql, '--clients', '2', '--requests', '40', '--max-errors', '0', '--baseline-runs', '1', '--no-explain', '--allow-writes', '--no-progress'];
    const r = await pgload([...args(`SELECT ${await fromNthExecution(4, '1/(random() * 0)::int', '1')}`), '--json', '-']);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout) as ProfileResult;
    assert.equal(result.load.requests.total, 40);
    assert.ok(result.load.requests.ok <= 1, `ok ${result.load.requests.ok}: only the third execution passes`);
    const group = result.errors.find((e) => e.code === '22012');
    assert.equal(group?.count, result.load.requests.failed, JSON.stringify(result.errors));
    const text = await pgload(args(`SELECT ${await fromNthExecution(4, '1/(random() * 0)::int', '1')}`));
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /Errors\n\s+[\d,]+× 22012 division by zero \(first at/);
  });

  it('exit 3: a --max-p95 gate fails and says by how much', async () => {
    const r = await pgload(['run', '--url', url(), '--sql', 'SELECT pg_sleep(0.01)', '--clients', '2', '--requests', '10', '--max-p95', '2ms']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /GATE FAILED: p95 \d+(\.\d+)? ms is above --max-p95 2\.00 ms/);
    const ok = await pgload(['run', '--url', url(), '--sql', 'SELECT pg_sleep(0.01)', '--clients', '2', '--requests', '10', '--max-p95', '1s', '--max-p99', '1s']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('--file with --statement N profiles that statement of the file', async () => {
    const file = tmp('q.sql', '-- two queries\nSELECT 1;\nSELECT pg_sleep(0.002) AS second;\n');
    const r = await pgload(['run', '--url', url(), '--file', file, '--statement', '2', '--clients', '1', '--requests', '3', '--json', '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as ProfileResult).sql, 'SELECT pg_sleep(0.002) AS second');
  });

  it('--help documents every flag with an example', async () => {
    const main = await pgload(['--help']);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /pgload run/);
    const run = await pgload(['run', '--help']);
    assert.equal(run.code, 0);
    for (const flag of ['--sql', '--file', '--statement', '--url', '--clients', '--requests', '--duration', '--warmup', '--threshold', '--statement-timeout', '--allow-writes', '--json', '--markdown', '--max-p95', '--max-p99', '--max-errors', '--baseline-runs']) {
      assert.ok(run.stdout.includes(flag), flag);
    }
    assert.ok((run.stdout.match(/e\.g\. /g) ?? []).length >= 12, 'examples next to the flags');
  });

  describe('bad input: one specific line, exit 2, nothing touched', () => {
    const secret = 'Sup3r-Secret-Pw';
    const cases: Array<{ name: string; args: () => string[]; env?: () => Record<string, string>; expect: RegExp }> = [
      { name: 'no SQL', args: () => ['run', '--url', url()], expect: /No SQL given; use --sql "SELECT …", --file query\.sql, or --mix a\.sql@70 --mix b\.sql@30/ },
      { name: 'empty --sql', args: () => ['run', '--url', url(), '--sql', '  '], expect: /--sql is empty/ },
      { name: 'an empty file', args: () => ['run', '--url', url(), '--file', tmp('empty.sql', '')], expect: /the file is empty/ },
      { name: 'a missing file', args: () => ['run', '--url', url(), '--file', '/no/such/file.sql'], expect: /--file \/no\/such\/file\.sql: no such file/ },
      { name: 'a file that is not UTF-8', args: () => ['run', '--url', url(), '--file', tmp('latin1.sql', Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27]))], expect: /is not UTF-8 text/ },
      { name: 'an unknown flag', args: () => ['run', '--sql', 'SELECT 1', '--clinets', '5'], expect: /Unknown option --clinets/ },
      { name: 'an unknown command', args: () => ['profile'], expect: /Unknown command "profile"/ },
      { name: '--clients 0', args: () => ['run', '--sql', 'SELECT 1', '--clients', '0'], expect: /--clients 0: 0 is too small; the smallest allowed is 1/ },
      { name: '--clients non-numeric', args: () => ['run', '--sql', 'SELECT 1', '--clients', 'many'], expect: /--clients many: "many" is not a whole number/ },
      { name: '--duration -1', args: () => ['run', '--sql', 'SELECT 1', '--duration', '-1'], expect: /--duration -1: a duration cannot be negative/ },
      { name: 'both --requests and --duration', args: () => ['run', '--sql', 'SELECT 1', '--requests', '5', '--duration', '5s'], expect: /either --requests or --duration, not both/ },
      { name: 'a flag without its value', args: () => ['run', '--sql'], expect: /--sql needs a value/ },
      { name: 'a URL that does not parse', args: () => ['run', '--sql', 'SELECT 1', '--url', `postgres://u:${secret}@host:port/db`], expect: /does not parse; write it like postgres:\/\// },
      { name: 'a syntax error', args: () => ['run', '--url', url(), '--sql', 'SELECT * FORM t WHERE'], expect: /SQL syntax error at line 1, column 10: syntax error at or near "FORM"/ },
      { name: 'two statements', args: () => ['run', '--url', url(), '--sql', 'SELECT 1; SELECT 2'], expect: /holds 2 statements; pgload profiles one at a time\. Pick one \(CLI: --statement N\)/ },
      { name: 'a statement number out of range', args: () => ['run', '--url', url(), '--file', tmp('two.sql', 'SELECT 1;\nSELECT 2;'), '--statement', '3'], expect: /--statement 3: .* holds 2 statements; give a number from 1 to 2/ },
      { name: 'DDL', args: () => ['run', '--url', url(), '--sql', 'DROP TABLE x', '--allow-writes'], expect: /does not run schema changes \(DROP\)/ },
      { name: 'DML without --allow-writes', args: () => ['run', '--url', url(), '--sql', 'DELETE FROM x'], expect: /changes data \(DELETE\); pgload refuses it unless writes are allowed \(CLI: --allow-writes\)/ },
      { name: 'connection refused', args: () => ['run', '--sql', 'SELECT 1', '--url', `postgres://u:${secret}@127.0.0.1:1/db`], expect: /Connection refused at 127\.0\.0\.1:1: is PostgreSQL running there/ },
      {
        name: 'authentication failed (the password never printed)',
        args: () => ['run', '--sql', 'SELECT 1', '--url', `postgres://${testDb().user}:${secret}@${testDb().host}:${testDb().port}/${testDb().database}`],
        expect: /Password authentication failed for user "postgres" at 127\.0\.0\.1:\d+; check the password \(it came from the URL\)/,
      },
      {
        name: 'authentication failed with PGPASSWORD',
        args: () => ['run', '--sql', 'SELECT 1'],
        env: () => ({ PGHOST: testDb().host, PGPORT: String(testDb().port), PGUSER: testDb().user, PGDATABASE: testDb().database, PGPASSWORD: secret }),
        expect: /Password authentication failed .*\(it came from PGPASSWORD\)/,
      },
      { name: 'an unknown database', args: () => ['run', '--sql', 'SELECT 1', '--url', url().replace(/\/[^/]+$/, '/no_such_db')], expect: /Database "no_such_db" does not exist at 127\.0\.0\.1:\d+; check the database name/ },
      { name: 'comments only (SQL starting with "--" is taken as SQL, not a flag)', args: () => ['run', '--url', url(), '--sql', '-- nothing here\n/* still nothing */'], expect: /only comments|no statement/i },
      { name: '1 MB of text that is not SQL', args: () => ['run', '--url', url(), '--file', tmp('huge.sql', 'lorem ipsum '.repeat(90_000))], expect: /SQL syntax error at line 1, column 1: syntax error at or near "lorem"/ },
      { name: 'binary garbage', args: () => ['run', '--url', url(), '--file', tmp('garbage.sql', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) % 256)))], expect: /is not UTF-8 text|NUL character/ },
      { name: 'SET without LOCAL', args: () => ['run', '--url', url(), '--sql', 'SET work_mem = 1000000'], expect: /pgload refuses SET/ },
      { name: 'VACUUM', args: () => ['run', '--url', url(), '--sql', 'VACUUM', '--allow-writes'], expect: /pgload refuses VACUUM/ },
      { name: 'COPY … TO PROGRAM', args: () => ['run', '--url', url(), '--sql', "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'", '--allow-writes'], expect: /pgload refuses COPY/ },
      { name: 'transaction control', args: () => ['run', '--url', url(), '--sql', 'BEGIN'], expect: /refuses transaction control/ },
      { name: 'a bad --set', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--set', 'work_mem'], expect: /--set work_mem: write it as NAME=VALUE/ },
      { name: '--set of a setting pgload owns', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--set', 'default_transaction_read_only=off'], expect: /default_transaction_read_only cannot be set: pgload makes every request read-only itself unless writes are allowed/ },
      { name: 'a bad --param', args: () => ['run', '--url', url(), '--sql', 'SELECT $1::int', '--param', '1=int:9..1'], expect: /low end above its high end/ },
      { name: 'a bad --rate', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--rate', 'fast'], expect: /--rate fast: write requests per second from 0\.01 to 1,000,000, like --rate 100\/s/ },
      { name: 'a bad --arrival', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--rate', '10/s', '--arrival', 'bursty'], expect: /--arrival bursty: use constant or poisson/ },
      { name: '--pool-size without --users', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--pool-size', '5'], expect: /An application pool needs both --users and --pool-size/ },
      { name: 'a bad --max-p95', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--max-p95', 'soon'], expect: /--max-p95/ },
      { name: 'a too-fine --sample-interval', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--sample-interval', '5ms'], expect: /--sample-interval 5ms: must be at least 10ms \(or 0 for off\)/ },
      { name: '--server-vcpus 0', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--server-vcpus', '0'], expect: /--server-vcpus 0/ },
      { name: 'a negative --seed', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--seed', '-1'], expect: /--seed -1/ },
      { name: 'an empty --json path', args: () => ['run', '--url', url(), '--sql', 'SELECT 1', '--json', ' '], expect: /--json needs a path, or - for stdout/ },
      { name: 'sweep steps that are not numbers', args: () => ['sweep', '--url', url(), '--sql', 'SELECT 1', '--steps', '1,two,4'], expect: /--steps 1,two,4: give client counts separated by commas/ },
      { name: 'SSL required but not offered', args: () => ['run', '--sql', 'SELECT 1', '--url', `${url()}?sslmode=require`], expect: /SSL is required \(sslmode=require\) but the server at 127\.0\.0\.1:\d+ does not offer it/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await pgload(c.args(), c.env?.() ?? {});
        assert.equal(r.code, 2, `exit code\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stderr, c.expect);
        assert.equal(r.stdout, '', 'nothing on stdout');
        const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('pgload: ') && !/^pgload: (connecting|baseline|opening)/.test(l));
        assert.ok(lines.length >= 1 && lines[0].startsWith('pgload: '), r.stderr);
        assert.ok(!r.stderr.includes(secret), 'the password is not printed');
      });
    }
    after(async () => {
      assert.equal(await waitNoPgloadSessions(2000), 0);
      const tables = await withAdmin(async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'x'")).rows[0].n);
      assert.equal(tables, 0);
    });
  });
});
