import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeTarget, explainConnectError, parseConnectionString, resolveConnection } from '../../src/core/connection/connection';
import { PgloadError } from '../../src/core/errors';
import { makeRedactor, redactUrlPasswords } from '../../src/core/connection/redact';
import { scratchDir } from '../support/scratch';

const noEnv = { env: {}, homedir: '/nonexistent-home', osUser: 'alice' };

function tmpdir(): string {
  return scratchDir('pgload-unit-');
}

describe('Connection settings', () => {
  it('parses a URL with a percent-encoded password, port, database and sslmode', () => {
    const f = parseConnectionString('postgresql://app%40corp:p%40ss%3Aword@db.example.com:6543/shop%20db?sslmode=require&connect_timeout=3');
    assert.deepEqual(f, { host: 'db.example.com', port: '6543', user: 'app@corp', password: 'p@ss:word', database: 'shop db', sslmode: 'require', connect_timeout: '3' });
  });

  it('parses IPv6 hosts and libpq key=value strings', () => {
    assert.equal(parseConnectionString('postgres://u@[::1]:5433/d').host, '::1');
    assert.deepEqual(parseConnectionString("host=h port=5444 dbname=d user=u password='a b\\'c' sslmode=disable"), {
      host: 'h',
      port: '5444',
      database: 'd',
      user: 'u',
      password: "a b'c",
      sslmode: 'disable',
    });
  });

  it('refuses a URL that does not parse, without echoing its password', () => {
    for (const bad of ['mysql://u:secret@h/d', 'postgres://u:secret@h:notaport/d', 'host=h garbage']) {
      assert.throws(
        () => resolveConnection({ url: bad }, noEnv),
        (e: PgloadError) => e.kind === 'usage' && !e.message.includes('secret'),
        bad,
      );
    }
  });

  it('falls back as libpq does: fields, then URL, then PG* variables, then defaults', () => {
    const env = { PGHOST: 'envhost', PGPORT: '5999', PGDATABASE: 'envdb', PGUSER: 'envuser', PGPASSWORD: 'envpw', PGSSLMODE: 'disable' };
    const fromEnv = resolveConnection({}, { ...noEnv, env });
    assert.deepEqual([fromEnv.host, fromEnv.port, fromEnv.database, fromEnv.user, fromEnv.password, fromEnv.passwordSource, fromEnv.sslmode], ['envhost', 5999, 'envdb', 'envuser', 'envpw', 'environment', 'disable']);
    const mixed = resolveConnection({ url: 'postgres://urluser:urlpw@urlhost/urldb', port: 7000 }, { ...noEnv, env });
    assert.deepEqual([mixed.host, mixed.port, mixed.database, mixed.user, mixed.password, mixed.passwordSource], ['urlhost', 7000, 'urldb', 'urluser', 'urlpw', 'url']);
    const defaults = resolveConnection({}, noEnv);
    assert.deepEqual([defaults.host, defaults.port, defaults.user, defaults.database, defaults.sslmode, defaults.passwordSource], ['localhost', 5432, 'alice', 'alice', 'prefer', 'none']);
  });

  it('reads the password from ~/.pgpass with wildcards and escapes, and ignores a file others can read', () => {
    const dir = tmpdir();
    const file = path.join(dir, '.pgpass');
    fs.writeFileSync(file, '# comment\nother:5432:*:bob:nope\ndb.local:*:shop:bob:s3cr\\:et\\\\x\n*:*:*:*:fallback\n', { mode: 0o600 });
    const r = resolveConnection({ host: 'db.local', database: 'shop', user: 'bob' }, { env: {}, homedir: dir });
    assert.equal(r.password, 's3cr:et\\x');
    assert.equal(r.passwordSource, 'pgpass');
    assert.equal(resolveConnection({ host: 'x', user: 'y' }, { env: {}, homedir: dir }).password, 'fallback');
    const viaEnv = resolveConnection({ host: 'x', user: 'y' }, { env: { PGPASSFILE: file }, homedir: '/nowhere' });
    assert.equal(viaEnv.password, 'fallback');
    fs.chmodSync(file, 0o644);
    const open = resolveConnection({ host: 'db.local', database: 'shop', user: 'bob' }, { env: {}, homedir: dir });
    assert.equal(open.password, undefined);
    assert.match(open.warnings[0], /ignored because others can read it; run chmod 0600/);
  });

  it('validates sslmode and the CA file up front', () => {
    assert.throws(() => resolveConnection({ sslmode: 'sometimes' }, noEnv), /sslmode "sometimes" is not supported; use one of disable, prefer, require, verify-ca, verify-full/);
    assert.throws(() => resolveConnection({ sslmode: 'verify-ca' }, noEnv), /verify-ca needs the CA/);
    assert.throws(() => resolveConnection({ sslmode: 'verify-full', sslrootcert: '/no/such/ca.pem' }, noEnv), /CA file "\/no\/such\/ca.pem" \(sslrootcert\) does not exist/);
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate');
    assert.throws(() => resolveConnection({ sslmode: 'require', sslrootcert: path.join(dir, 'ca.pem') }, noEnv), /holds no PEM certificate/);
  });

  it('explains connection failures in one sentence without the password', () => {
    const c = resolveConnection({ url: 'postgres://bob:hunter2-secret@db:5432/shop' }, noEnv);
    const cases: Array<[object, RegExp]> = [
      [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, /Connection refused at db:5432/],
      [{ code: '28P01', message: 'password authentication failed for user "bob"' }, /Password authentication failed for user "bob" at db:5432; check the password \(it came from the URL\)/],
      [{ code: '3D000', message: 'database "shop" does not exist' }, /Database "shop" does not exist at db:5432/],
      [{ message: 'The server does not support SSL connections' }, /SSL is required \(sslmode=prefer\)/],
      [{ message: 'connection to postgres://bob:hunter2-secret@db failed' }, /Could not connect to bob@db:5432\/shop/],
    ];
    for (const [err, re] of cases) {
      const e = explainConnectError(err, c);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('hunter2-secret'), e.message);
      assert.equal(e.kind, 'connection');
    }
    assert.equal(describeTarget(c), 'bob@db:5432/shop');
  });
});

describe('Redaction', () => {
  it('masks URL and keyword passwords and the known secrets, also percent-encoded', () => {
    assert.equal(redactUrlPasswords('see postgres://u:pw@h/d and password=abc host=h'), 'see postgres://u:***@h/d and password=*** host=h');
    const r = makeRedactor(['p@ss word']);
    assert.equal(r('auth with p@ss word failed; url p%40ss%20word'), 'auth with *** failed; url ***');
    assert.equal(makeRedactor(['ab'])('about abc'), 'about abc'); // too short to mask everywhere
  });
});
