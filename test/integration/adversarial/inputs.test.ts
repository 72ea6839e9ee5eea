/**
 * Adversarial probes, inputs and outputs: files that never end, files too large, text that would steer the terminal or
 * the Markdown it is printed into, passwords in URLs that do not parse, output paths that cannot be written, signals.
 * Each refusal is exit 2 in bounded time with a sentence saying what was wrong; nothing is lost or changed.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProfileResult } from '../../../src/shared/result';
import { assertRefused, run, setUpVictims, unchanged, url } from '../../support/adversary';
import { CLI, pgload, tmp } from '../../support/cli';
import { withAdmin } from '../../support/server';

describe('Adversarial: inputs that never end, and inputs too large', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-adv-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--file on a FIFO with no writer: refused at once, not a hang', async () => {
    const fifo = path.join(dir, 'q.fifo');
    execFileSync('mkfifo', [fifo]);
    const t = Date.now();
    assertRefused(await pgload(['run', '--url', url(), '--file', fifo], {}, 15_000), /is a pipe \(FIFO\), not a regular file/);
    assert.ok(Date.now() - t < 10_000);
  });

  it('--file /dev/zero and a --param csv: file on /dev/zero: refused, memory bounded', async () => {
    assertRefused(await pgload(['run', '--url', url(), '--file', '/dev/zero'], {}, 15_000), /--file \/dev\/zero: is a device/);
    assertRefused(await pgload(['run', '--url', url(), '--sql', 'SELECT $1::int', '--param', '1=csv:/dev/zero:id'], {}, 15_000), /CSV file for \$1 \(\/dev\/zero\): is a device/);
  });

  it('a check file of 10 MB is refused by its size; a folder given as --file says so', async () => {
    const big = path.join(dir, 'big.yml');
    fs.writeFileSync(big, `checks:\n${'  # padding\n'.repeat(1_000_000)}`);
    assertRefused(await pgload(['check', big, '--url', url()], {}, 15_000), /is \d+\.\d MiB, more than the 4 MiB pgload reads/);
    assertRefused(await pgload(['run', '--url', url(), '--file', dir], {}, 15_000), /is a folder/);
  });

  it('a YAML alias bomb is refused as such, not expanded', async () => {
    const bomb = path.join(dir, 'bomb.yml');
    const level = (name: string, of: string) => `${name}: &${name} [${Array(9).fill(`*${of}`).join(', ')}]`;
    fs.writeFileSync(bomb, ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]', level('b', 'a'), level('c', 'b'), level('d', 'c'), level('e', 'd'), level('f', 'e'), 'checks: [*f]', ''].join('\n'));
    assertRefused(await pgload(['check', bomb, '--url', url()], {}, 15_000), /aliases would expand without bound/);
  });

  it('a control character inside a string literal: refused with where it is and how to write it', async () => {
    assertRefused(await run("SELECT 'a\u0001b'"), /control character U\+0001 at line 1, column 10.*E'\\x01' or chr\(1\)/);
  });
});

describe('Adversarial: secrets and what users read', function () {
  this.timeout(90_000);
  before(setUpVictims);

  it('a URL with "/", "#", "?" or a space in its password: the message never shows the password', async () => {
    for (const bad of ['postgres://u:pa/ss#w?o rd@127.0.0.1:1/x', 'postgres://u:s3cr#t@127.0.0.1:1/x', 'postgresql://u:a b c@[::1/x']) {
      const r = await pgload(['run', '--sql', 'SELECT 1', '--url', bad], {}, 15_000);
      assert.equal(r.code, 2, r.stderr);
      for (const secret of ['pa/ss', 's3cr#t', 'a b c', 'o rd']) assert.ok(!r.stderr.includes(secret), `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /\*\*\*/);
    }
  });

  it('escape sequences in a server message, a table name in the plan and pg_stat_statements text reach the terminal as visible text', async () => {
    const esc = "chr(27) || ']0;pwned' || chr(7) || chr(27) || '[2J'";
    await withAdmin(async (c) => {
      await c.query(`CREATE OR REPLACE FUNCTION adv_shout() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', ${esc}; END $$`);
      const evil = (await c.query<{ n: string }>(`SELECT 'adv_' || ${esc} AS n`)).rows[0].n;
      await c.query(`CREATE TABLE IF NOT EXISTS "${evil.replace(/"/g, '""')}" (id int)`);
      await c.query(`CREATE OR REPLACE VIEW adv_clean AS SELECT * FROM "${evil.replace(/"/g, '""')}"`);
      // A query whose comment holds the sequence: pg_stat_statements keeps comments, and pgload top prints the text.
      await c.query(`SELECT /* ${evil.replace(/\*\//g, '')} */ count(*) FROM adv_rows`);
    });
    const shout = await run('SELECT adv_shout()');
    assert.equal(shout.code, 2, shout.stderr);
    assert.match(shout.stderr, /\\u001b\]0;pwned\\u0007\\u001b\[2J/);
    const plan = await run('SELECT count(*) FROM adv_clean');
    assert.equal(plan.code, 0, plan.stderr);
    const top = await pgload(['top', '--url', url(), '--limit', '100']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /\\u001b\]0;pwned/);
    for (const r of [shout, plan, top]) assert.ok(!/\u001b|\u0007/.test(r.stdout + r.stderr), JSON.stringify((r.stdout + r.stderr).slice(0, 300)));
  });

  it('HTML in a table name stays text in the Markdown export', async () => {
    const name = 'adv_<img src=x onerror=alert(1)>';
    await withAdmin((c) => c.query(`CREATE TABLE IF NOT EXISTS "${name}" (id int)`));
    const md = tmp('report.md');
    const r = await run(`SELECT count(*) FROM "${name}"`, '--markdown', md);
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(md, 'utf8');
    // Inside a fenced code block it is code; everywhere else it must be escaped text.
    const outsideCode = text.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
    assert.ok(!outsideCode.includes('<img'), outsideCode.slice(0, 600));
    assert.match(outsideCode, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('an output path that cannot be written is refused before anything connects', async () => {
    const r = await unchanged(() => run('SELECT adv_write()', '--allow-writes', '--json', '/nonexistent-pgload-dir/x.json'));
    assertRefused(r, /--json \/nonexistent-pgload-dir\/x\.json: the folder \/nonexistent-pgload-dir does not exist.*nothing was run/);
    assert.doesNotMatch(r.stderr, /connecting/);
  });

  it('an output that fails after the run (its folder removed meanwhile) is printed instead, with the path named, exit 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-adv-out-'));
    const out = path.join(dir, 'result.json');
    // The folder exists when the run starts, and is gone when the result is written.
    const child = spawn(process.execPath, [CLI, 'run', '--url', url(), '--sql', 'SELECT pg_sleep(0.05)', '--clients', '1', '--duration', '2s', '--json', out, '--no-progress'], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 1000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /could not write the JSON result to .*result\.json \(ENOENT\); here it is instead:/);
    const printed = stderr.slice(stderr.indexOf('here it is instead:') + 'here it is instead:'.length);
    const result = JSON.parse(printed.slice(0, printed.lastIndexOf('}') + 1)) as ProfileResult;
    assert.ok(result.load.requests.ok > 0, 'the whole result was printed');
    assert.match(stdout, /Under load/, 'the text report was printed too');
  });
});

describe('Adversarial: signals end the process promptly, results kept', function () {
  this.timeout(60_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during the load: exit 130 within seconds, the partial result written`, async () => {
      const out = tmp('partial.json');
      const child = spawn(process.execPath, [CLI, 'run', '--url', url(), '--sql', 'SELECT pg_sleep(0.02)', '--clients', '2', '--duration', '60s', '--json', out, '--no-progress'], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } });
      let stderr = '';
      let sent = 0;
      child.stderr.on('data', (d) => {
        stderr += d;
        if (!sent && /Under load|load:|starting the load|the load/.test(stderr)) {
          sent = Date.now();
          setTimeout(() => child.kill(signal), 1000);
        }
      });
      const fallback = setTimeout(() => {
        if (!sent) {
          sent = Date.now();
          child.kill(signal);
        }
      }, 8000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(fallback);
      assert.equal(code, 130, stderr);
      assert.ok(Date.now() - sent < 20_000, `ended ${Date.now() - sent} ms after the signal`);
      const result = JSON.parse(fs.readFileSync(out, 'utf8')) as ProfileResult;
      assert.equal(result.status, 'cancelled');
      assert.ok(result.load.requests.ok > 0);
    });
  }
});
