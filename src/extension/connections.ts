/**
 * Connections: which one is active (settings + a per-workspace choice), its status bar item, and the
 * password — never in settings: asked once, kept in SecretStorage, or taken from PGPASSWORD / ~/.pgpass.
 */
import * as vscode from 'vscode';
import { isPasswordProblem, type ConnectionInput } from '../core/connection/connection';
import { PgloadError, errorMessage } from '../core/errors';
import { probeConnection } from '../core/connection/probe';
import { addConnectionSetting, readConnections, readDefaultConnectionName, SettingsError, type ConnectionSetting } from './config';
import { isLocalHost } from '../core/connection/local';
import { inEditorWords } from './words';
import { Commands, SQL_LANGUAGES } from './constants';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import type { Ui } from './ui';

/** A pseudo-connection for the PG* variables of the environment VS Code was started with. */
export const ENVIRONMENT_CONNECTION = '(PG* environment)';
const ACTIVE_KEY = 'pgload.activeConnection';
const secretKey = (name: string) => `pgload.password:${name}`;

export class ConnectionManager extends Disposable {
  private readonly status: vscode.StatusBarItem;
  private runText: string | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly ui: Ui,
  ) {
    super();
    this.status = this._register(vscode.window.createStatusBarItem('pgload.connection', vscode.StatusBarAlignment.Left, 50));
    this.status.name = 'pgload connection';
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.updateStatus()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('pgload') && this.updateStatus()));
    this.updateStatus();
  }

  private hasEnvironment(): boolean {
    return Boolean(process.env.PGHOST || process.env.PGDATABASE || process.env.PGSERVICE);
  }

  /** The connections a user can pick: the configured ones, plus the environment's when PG* variables are set. */
  available(): ConnectionSetting[] {
    const list = readConnections();
    if (this.hasEnvironment() && !list.some((c) => c.name === ENVIRONMENT_CONNECTION)) list.push({ name: ENVIRONMENT_CONNECTION });
    return list;
  }

  /** The connections, or undefined after telling the user what is wrong with the settings. */
  private async availableOrReport(): Promise<ConnectionSetting[] | undefined> {
    try {
      return this.available();
    } catch (err) {
      await this.reportSettings(err);
      return undefined;
    }
  }

  /** The active connection's name: this workspace's choice, else pgload.defaultConnection, else the only one. */
  private isConfigured(name: string): boolean {
    try {
      return this.available().some((c) => c.name === name);
    } catch {
      return true;
    }
  }

  activeName(): string | undefined {
    const chosen = this.context.workspaceState.get<string>(ACTIVE_KEY);
    // A connection chosen once and since removed from the settings is not the active one any more.
    if (chosen && this.isConfigured(chosen)) return chosen;
    const def = readDefaultConnectionName();
    if (def) return def;
    try {
      const list = this.available();
      return list.length === 1 ? list[0].name : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sets the text shown while a run is in progress (undefined: back to the connection). */
  setRunStatus(text: string | undefined): void {
    this.runText = text;
    this.updateStatus();
  }

  private updateStatus(): void {
    if (this.runText) {
      this.status.text = `$(pulse) ${this.runText}`;
      this.status.tooltip = 'pgload run in progress — click to cancel';
      this.status.command = Commands.cancel;
      this.status.show();
      return;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || !SQL_LANGUAGES.includes(editor.document.languageId)) {
      this.status.hide();
      return;
    }
    const name = this.activeName();
    this.status.text = `$(database) pgload: ${name ?? 'no connection'}`;
    this.status.tooltip = name ? `pgload profiles against "${name}" — click to switch` : 'pgload has no connection — click to choose or add one';
    this.status.command = Commands.selectConnection;
    this.status.show();
  }

  async select(): Promise<ConnectionSetting | undefined> {
    const list = await this.availableOrReport();
    if (!list) return undefined;
    const active = this.activeName();
    type Item = vscode.QuickPickItem & { connection?: ConnectionSetting; add?: boolean };
    const items: Item[] = list.map((c) => ({
      label: `${c.name === active ? '$(check) ' : ''}${c.name}`,
      description: describeSetting(c),
      connection: c,
    }));
    items.push({ label: '$(add) Add connection…', add: true });
    const picked = await this.ui.pick(items, { title: 'pgload: connection to profile against', placeHolder: 'Pick a connection' });
    if (!picked) return undefined;
    if (picked.add) return this.add();
    await this.context.workspaceState.update(ACTIVE_KEY, picked.connection!.name);
    this.updateStatus();
    return picked.connection;
  }

  /**
   * Seven questions, each titled with its step, then the connection is added to the user settings (no password there:
   * it goes to the system keychain) and tried at once: the server's version, or what failed and how to fix it.
   */
  async add(): Promise<ConnectionSetting | undefined> {
    const STEPS = 7;
    let step = 0;
    const title = () => `pgload: add connection (${++step}/${STEPS})`;
    const ask = (prompt: string, value: string, validate?: (v: string) => string | undefined) =>
      this.ui.input({ title: title(), prompt, value, ignoreFocusOut: true, validateInput: validate });
    const existing = new Set(this.available().map((c) => c.name));
    const name = await ask('A name for this connection', 'local', (v) => (v.trim() === '' ? 'Give a name' : existing.has(v.trim()) ? `"${v.trim()}" exists already` : undefined));
    if (name === undefined) return undefined;
    const host = await ask('Host name or address of the PostgreSQL server', 'localhost', (v) => (v.trim() === '' ? 'Give a host' : undefined));
    if (host === undefined) return undefined;
    const port = await ask('Port', '5432', (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'A port is a number from 1 to 65535'));
    if (port === undefined) return undefined;
    const database = await ask('Database', 'postgres', (v) => (v.trim() === '' ? 'Give a database' : undefined));
    if (database === undefined) return undefined;
    const user = await ask('User', 'postgres', (v) => (v.trim() === '' ? 'Give a user' : undefined));
    if (user === undefined) return undefined;
    const local = isLocalHost(host.trim());
    const modes = [
      { label: 'prefer', description: 'TLS when the server offers it, else plain (libpq\'s default)', mode: 'prefer' },
      { label: 'require', description: 'TLS always; the certificate is not checked', mode: 'require' },
      { label: 'verify-full', description: "TLS, and the server's certificate and host name are checked (managed services: RDS, Aurora, Cloud SQL)", mode: 'verify-full' },
      { label: 'disable', description: 'never TLS (a server on this machine or a trusted network)', mode: 'disable' },
    ];
    const picked = await this.ui.pick(local ? [modes[3], ...modes.slice(0, 3)] : modes, { title: `${title()}: TLS (sslmode)`, placeHolder: local ? 'A server on this machine: disable is usual' : 'A server elsewhere: require or verify-full', ignoreFocusOut: true });
    if (!picked) return undefined;
    const password = await this.ui.input({ title: title(), prompt: 'Password (empty: none, or asked when the server wants one). Kept in the system keychain, never in settings.', password: true, ignoreFocusOut: true });
    if (password === undefined) return undefined;
    const c: ConnectionSetting = { name: name.trim(), host: host.trim(), port: Number(port), database: database.trim(), user: user.trim(), sslmode: picked.mode };
    const where = await this.adopt(c, password);
    await this.test(c, `connection "${c.name}" added to ${where === 'workspace' ? "this workspace's settings (where its connections are)" : 'your User settings'}`);
    return c;
  }

  /**
   * Keeps a connection: in the settings where the connections are (the User settings when there are none), its
   * password (when there is one) in the system keychain, and makes it the active one.
   */
  async adopt(c: ConnectionSetting, password: string): Promise<'workspace' | 'user'> {
    const where = await addConnectionSetting(c);
    if (password !== '') await this.context.secrets.store(secretKey(c.name), password);
    else await this.context.secrets.delete(secretKey(c.name));
    await this.context.workspaceState.update(ACTIVE_KEY, c.name);
    this.updateStatus();
    return where;
  }

  /** What must happen before a session opens on a connection (the sample database starts); may give its new address. */
  beforeConnect: ((c: ConnectionSetting) => Promise<ConnectionSetting>) | undefined;

  /**
   * The connection for a run, or undefined after telling the user what is missing (no connection, an unknown
   * default, bad settings). Never throws.
   */
  async forRun(): Promise<ConnectionSetting | undefined> {
    const list = await this.availableOrReport();
    if (!list) return undefined;
    if (list.length === 0) {
      const pick = await this.ui.warn('pgload has no connection to profile against. Add one (host, database, user), or set PGHOST/PGDATABASE before starting VS Code.', 'Add Connection', 'Open Settings');
      if (pick === 'Add Connection') return this.add();
      if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'pgload.connections');
      return undefined;
    }
    const name = this.activeName();
    if (!name) return this.select();
    const found = list.find((c) => c.name === name);
    if (!found) {
      const names = list.map((c) => `"${c.name}"`).join(', ');
      const pick = await this.ui.error(`pgload: the connection "${name}" is not in pgload.connections (there: ${names}).`, 'Select Connection', 'Open Settings');
      if (pick === 'Select Connection') return this.select();
      if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'pgload.defaultConnection');
      return undefined;
    }
    return found;
  }

  async reportSettings(err: unknown): Promise<void> {
    const message = err instanceof SettingsError ? err.message : `pgload: the settings could not be read: ${errorMessage(err)}`;
    const pick = await this.ui.error(message, 'Open Settings');
    if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', err instanceof SettingsError ? err.setting : 'pgload');
  }

  private inputFor(c: ConnectionSetting, password: string | undefined): ConnectionInput {
    if (c.name === ENVIRONMENT_CONNECTION) return { password };
    return { url: c.url, host: c.host, port: c.port, database: c.database, user: c.user, sslmode: c.sslmode, sslrootcert: c.sslrootcert, password };
  }

  /**
   * Runs `fn` with the connection's settings and password. When the server refuses the password (or wants
   * one), asks for it — up to three times — and keeps it in SecretStorage only once it worked; a stored
   * password that stopped working is removed.
   */
  async withPassword<T>(given: ConnectionSetting, fn: (input: ConnectionInput) => Promise<T>): Promise<T> {
    const c = this.beforeConnect ? await this.beforeConnect(given) : given;
    const stored = await this.context.secrets.get(secretKey(c.name));
    let password = stored;
    let asked = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn(this.inputFor(c, password));
        if (asked && password !== undefined) await this.context.secrets.store(secretKey(c.name), password);
        return result;
      } catch (err) {
        if (!isPasswordProblem(err) || attempt >= 3) throw err;
        if (stored !== undefined && password === stored) await this.context.secrets.delete(secretKey(c.name));
        const wrong = (err as PgloadError).code === '28P01';
        const entered = await this.ui.input({
          title: `pgload: password for "${c.name}"`,
          prompt: wrong
            ? `The server refused ${password === undefined ? 'the password' : 'that password'} for this connection. Enter it again (kept in the system keychain once it works).`
            : 'The server asks for a password. It is kept in the system keychain, never in settings.',
          password: true,
          ignoreFocusOut: true,
        });
        if (entered === undefined) throw new PgloadError('cancelled', 'No password was entered; nothing ran.');
        password = entered;
        asked = true;
      }
    }
  }

  /** Whether SecretStorage holds a password for this connection (tests check what was kept). */
  async hasStoredPassword(name: string): Promise<boolean> {
    return (await this.context.secrets.get(secretKey(name))) !== undefined;
  }

  async forgetPassword(): Promise<void> {
    const list = await this.availableOrReport();
    if (!list) return;
    const withSecret: ConnectionSetting[] = [];
    for (const c of list) if ((await this.context.secrets.get(secretKey(c.name))) !== undefined) withSecret.push(c);
    if (withSecret.length === 0) {
      this.ui.info('pgload keeps no password for any connection.');
      return;
    }
    const picked = await this.ui.pick(
      withSecret.map((c) => ({ label: c.name, description: describeSetting(c) })),
      { title: 'pgload: forget the password of…' },
    );
    if (!picked) return;
    await this.context.secrets.delete(secretKey(picked.label));
    this.ui.info(`pgload forgot the password of "${picked.label}".`);
  }

  /** Connects once and says to what (the server's version), or what failed; `added` begins the sentence after Add Connection. */
  async test(given?: ConnectionSetting, added?: string): Promise<void> {
    const c = given ?? (await this.forRun());
    if (!c) return;
    try {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `pgload: connecting to "${c.name}"…` }, () =>
        this.withPassword(c, (input) => probeConnection(input)),
      );
      for (const w of r.warnings) this.log.warn(w);
      const through = r.pooler ? ` through a connection pooler (${r.pooler})` : '';
      this.log.info(`test connection "${c.name}": ${r.target} PostgreSQL ${r.version}${r.ssl ? ' (TLS)' : ''}${through}`);
      this.ui.info(`pgload: ${added ? `${added}; ` : ''}connected to ${r.target} — PostgreSQL ${r.version}${r.ssl ? ' over TLS' : ''}${through}.`);
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') return;
      const msg = inEditorWords(err instanceof PgloadError ? err.message : errorMessage(err));
      if (!added) {
        await this.ui.error(`pgload: ${msg}`);
        return;
      }
      const pick = await this.ui.error(`pgload: ${added}, but connecting failed: ${msg}`, 'Edit Connection', 'Test Again');
      if (pick === 'Edit Connection') await vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'pgload.connections' } });
      if (pick === 'Test Again') await this.test(c, added);
    }
  }
}

export function describeSetting(c: ConnectionSetting): string {
  if (c.name === ENVIRONMENT_CONNECTION) return [process.env.PGUSER, process.env.PGHOST, process.env.PGDATABASE].filter(Boolean).join(' · ');
  if (c.url) return c.url.replace(/:\/\/([^:/@]*):[^@/]*@/, '://$1:***@');
  return `${c.user ?? ''}${c.user ? '@' : ''}${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? ''}`;
}
