/**
 * TLS against real servers with certificates made here: a private CA, a server certificate for 127.0.0.1
 * and one for another host name. verify-full connects; a wrong CA or a wrong host name fails with a clear
 * sentence; require uses TLS, and never falls back to plaintext.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PgloadError } from '../../src/core/errors';
import { profile } from '../../src/core/load/runner';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../scripts/lib/embedded-pg';
import { scratchDir } from '../support/scratch';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** A CA and a server certificate signed by it for `san` (e.g. IP:127.0.0.1), in `dir`. */
function makeCerts(dir: string, name: string, san: string): { cert: string; key: string } {
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext], dir);
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  // The server runs as the postgres user when we are root: it must own its key, readable by nobody else.
  fs.chmodSync(key, 0o600);
  if (process.getuid?.() === 0) {
    const pw = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const gr = execFileSync('id', ['-g', 'postgres']).toString().trim();
    fs.chownSync(key, Number(pw), Number(gr));
    fs.chownSync(cert, Number(pw), Number(gr));
  }
  return { cert, key };
}

describe('TLS: verify-full with a private CA, wrong CA, wrong host name, no plaintext fallback', function () {
  this.timeout(120_000);
  let dir: string;
  let good: EmbeddedServer;
  let otherName: EmbeddedServer;
  let otherCa: string;

  before(async () => {
    dir = scratchDir('pgload-tls-');
    fs.chmodSync(dir, 0o755);
    openssl(['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pgload test CA'], dir);
    const forIp = makeCerts(dir, 'server-ip', 'IP:127.0.0.1');
    const forName = makeCerts(dir, 'server-name', 'DNS:db.pgload.test');
    // A second, unrelated CA: what a user who picked the wrong file would give.
    const other = scratchDir('pgload-tls-other-');
    openssl(['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=another CA'], other);
    otherCa = path.join(other, 'ca.crt');
    const tls = (c: { cert: string; key: string }) => ({ ssl: 'on', ssl_cert_file: c.cert, ssl_key_file: c.key });
    [good, otherName] = await Promise.all([startEmbeddedPostgres({ settings: tls(forIp) }), startEmbeddedPostgres({ settings: tls(forName) })]);
  });

  after(async () => {
    await Promise.all([good?.stop(), otherName?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const url = (s: EmbeddedServer, query: string) => `postgres://${s.user}:${s.password}@127.0.0.1:${s.port}/${s.database}?${query}`;
  const run = (u: string) => profile({ sql: 'SELECT 1', connection: { url: u }, clients: 2, requests: 10, baselineRuns: 1, explain: false, sampleIntervalMs: 0 });

  it('verify-full with the CA file connects over TLS', async () => {
    const r = await run(url(good, `sslmode=verify-full&sslrootcert=${path.join(dir, 'ca.crt')}`));
    assert.equal(r.connection.ssl, true);
    assert.equal(r.connection.sslmode, 'verify-full');
    assert.equal(r.load.requests.ok, 10);
  });

  it('a wrong CA file: refused with a sentence that names the certificate problem', async () => {
    await assert.rejects(run(url(good, `sslmode=verify-full&sslrootcert=${otherCa}`)), (e: PgloadError) => {
      assert.equal(e.kind, 'connection');
      assert.match(e.message, /certificate/i);
      assert.match(e.message, /sslrootcert|CA/);
      assert.ok(!e.message.includes(good.password));
      return true;
    });
  });

  it('a certificate for another host name: verify-full refuses, verify-ca (no host check) connects', async () => {
    await assert.rejects(run(url(otherName, `sslmode=verify-full&sslrootcert=${path.join(dir, 'ca.crt')}`)), (e: PgloadError) => {
      assert.equal(e.kind, 'connection');
      assert.match(e.message, /host name|hostname|does not match|altnames/i);
      return true;
    });
    const r = await run(url(otherName, `sslmode=verify-ca&sslrootcert=${path.join(dir, 'ca.crt')}`));
    assert.equal(r.connection.ssl, true);
  });

  it('require encrypts without checking the certificate; against a server without TLS it fails instead of falling back', async () => {
    const r = await run(url(good, 'sslmode=require'));
    assert.equal(r.connection.ssl, true);
    const plain = await startEmbeddedPostgres();
    try {
      await assert.rejects(run(url(plain, 'sslmode=require')), /SSL is required \(sslmode=require\) but the server at 127\.0\.0\.1:\d+ does not offer it/);
      const prefer = await run(url(plain, 'sslmode=prefer'));
      assert.equal(prefer.connection.ssl, false, 'prefer falls back, and says so in the result');
    } finally {
      await plain.stop();
    }
  });
});
