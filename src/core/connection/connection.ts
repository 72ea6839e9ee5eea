/**
 * Connection settings: from a libpq URL or keyword/value string, from fields (the extension's settings),
 * from the standard PG* environment variables and from ~/.pgpass — resolved once, validated up front.
 * Opening sessions: every session carries application_name = 'pgload', an 'error' listener, and the
 * run's session settings; failures become one specific sentence.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions as TlsOptions, type PeerCertificate } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import type { ConnectionSummary } from '../../shared/result';
import { asDriverError, errorMessage, PgloadError } from '../errors';
import { readInputText } from '../inputFile';
import { makeRedactor, maskUrlCredentials } from './redact';
import { directSocket } from './socket';
import { literal, settingPairs, transactionWrap, withInternalMark, wrapStart, type SessionSettings } from './envelope';

export * from './envelope';

export const APPLICATION_NAME = 'pgload';
/** The code of the connection error raised when the server wants a password and none was given. */
export const NO_PASSWORD = 'NO_PASSWORD';

/** Whether a connection failure is about the password (wrong or missing): a UI may ask for it and retry. */
export function isPasswordProblem(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === '28P01' || code === NO_PASSWORD;
}

export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What a user can give; every field is optional and falls back as libpq does. */
export interface ConnectionInput {
  /** `postgres://user:pass@host:port/db?sslmode=require` or `host=… dbname=… user=…`. */
  url?: string;
  host?: string;
  port?: number | string;
  database?: string;
  user?: string;
  password?: string;
  sslmode?: string;
  sslrootcert?: string;
  /** Seconds to wait for a connection, like libpq's connect_timeout. */
  connectTimeoutSeconds?: number | string;
}

export type PasswordSource = 'given' | 'url' | 'environment' | 'pgpass' | 'none';

export interface ResolvedConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  passwordSource: PasswordSource;
  sslmode: SslMode;
  sslrootcert?: string;
  /** Contents of the CA file, read once. */
  ca?: string;
  connectTimeoutMs: number;
  /** Things worth telling the user that are not errors (e.g. an ignored ~/.pgpass). */
  warnings: string[];
  /** Removes this connection's password (and any URL password) from a text. */
  redact: (text: string) => string;
}

export interface ResolveEnvironment {
  env?: NodeJS.ProcessEnv;
  homedir?: string;
  /** The OS user name, libpq's default user. */
  osUser?: string;
}

interface Fields {
  host?: string;
  port?: string;
  database?: string;
  user?: string;
  password?: string;
  sslmode?: string;
  sslrootcert?: string;
  connect_timeout?: string;
}

/** Parses a `postgres://` URL or a libpq `key=value` string into fields; throws a usage error naming the problem. */
export function parseConnectionString(text: string): Fields {
  const trimmed = text.trim();
  if (trimmed === '') throw new PgloadError('usage', 'The connection URL is empty; give one like postgres://user@host:5432/dbname');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return parseUrl(trimmed);
  if (/^[a-z_]+\s*=/.test(trimmed)) return parseKeywordValue(trimmed);
  throw new PgloadError(
    'usage',
    `The connection URL "${makeRedactor([])(trimmed)}" is neither a postgres:// URL nor a key=value string; give one like postgres://user@host:5432/dbname`,
  );
}

function parseUrl(text: string): Fields {
  let url: URL;
  try {
    // The WHATWG parser needs a special scheme to parse the authority the way libpq does.
    url = new URL(text.replace(/^postgres(ql)?:/i, 'http:'));
  } catch {
    throw new PgloadError(
      'usage',
      `The connection URL "${maskUrlCredentials(text)}" does not parse; write it like postgres://user:password@host:5432/dbname, with characters such as / # ? @ or a space in the password percent-encoded (%2F %23 %3F %40 %20)`,
    );
  }
  const decode = (s: string, what: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new PgloadError('usage', `The ${what} in the connection URL has a broken %-escape; percent-encode special characters (e.g. @ as %40)`);
    }
  };
  const fields: Fields = {};
  if (url.hostname) fields.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.port) fields.port = url.port;
  if (url.username) fields.user = decode(url.username, 'user name');
  if (url.password) fields.password = decode(url.password, 'password');
  const db = url.pathname.replace(/^\//, '');
  if (db) fields.database = decode(db, 'database name');
  for (const [key, value] of url.searchParams) {
    const k = key === 'dbname' ? 'database' : key;
    if (k === 'host' || k === 'port' || k === 'database' || k === 'user' || k === 'password' || k === 'sslmode' || k === 'sslrootcert' || k === 'connect_timeout') {
      fields[k] = value;
    }
  }
  return fields;
}

function parseKeywordValue(text: string): Fields {
  const fields: Fields = {};
  const re = /\s*([a-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    last = re.lastIndex;
    const key = m[1] === 'dbname' ? 'database' : m[1];
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    if (key === 'host' || key === 'port' || key === 'database' || key === 'user' || key === 'password' || key === 'sslmode' || key === 'sslrootcert' || key === 'connect_timeout') {
      fields[key] = value;
    }
  }
  if (text.slice(last).trim() !== '') {
    throw new PgloadError('usage', `The connection string does not parse near "${makeRedactor([])(text.slice(last).trim().slice(0, 20))}"; write key=value pairs separated by spaces`);
  }
  return fields;
}

/**
 * Resolves the connection as libpq would: explicit fields, then the URL, then PG* variables, then defaults;
 * the password from the fields, the URL, PGPASSWORD, or ~/.pgpass (PGPASSFILE). Reads the CA file.
 */
export function resolveConnection(input: ConnectionInput, environment: ResolveEnvironment = {}): ResolvedConnection {
  const env = environment.env ?? process.env;
  const warnings: string[] = [];
  const fromUrl: Fields = input.url ? parseConnectionString(input.url) : {};
  const pick = (given: string | number | undefined, url: string | undefined, envName: string): string | undefined => {
    if (given !== undefined && given !== '') return String(given);
    if (url !== undefined && url !== '') return url;
    const e = env[envName];
    return e !== undefined && e !== '' ? e : undefined;
  };

  const host = pick(input.host, fromUrl.host, 'PGHOST') ?? 'localhost';
  const portText = pick(input.port, fromUrl.port, 'PGPORT') ?? '5432';
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new PgloadError('usage', `The port "${portText}" is not a TCP port; give a number from 1 to 65535`);
  }
  const port = Number(portText);
  const user = pick(input.user, fromUrl.user, 'PGUSER') ?? environment.osUser ?? safeOsUser();
  const database = pick(input.database, fromUrl.database, 'PGDATABASE') ?? user;
  const sslmodeText = (pick(input.sslmode, fromUrl.sslmode, 'PGSSLMODE') ?? 'prefer').toLowerCase();
  if (!(SSL_MODES as readonly string[]).includes(sslmodeText)) {
    throw new PgloadError('usage', `sslmode "${sslmodeText}" is not supported; use one of ${SSL_MODES.join(', ')}`);
  }
  const sslmode = sslmodeText as SslMode;
  const sslrootcert = pick(input.sslrootcert, fromUrl.sslrootcert, 'PGSSLROOTCERT');
  const timeoutText = pick(input.connectTimeoutSeconds, fromUrl.connect_timeout, 'PGCONNECT_TIMEOUT') ?? '10';
  if (!/^\d+(\.\d+)?$/.test(timeoutText)) {
    throw new PgloadError('usage', `connect_timeout "${timeoutText}" is not a number of seconds`);
  }
  const connectTimeoutMs = Math.max(1000, Number(timeoutText) * 1000);

  const { password, passwordSource } = findPassword(input, fromUrl, env, { host, port, database, user, homedir: environment.homedir }, warnings);
  const ca = sslrootcert && sslmode !== 'disable' ? readCa(sslrootcert) : undefined;
  if (sslmode === 'verify-ca' && !ca) {
    throw new PgloadError('usage', 'sslmode=verify-ca needs the CA that signed the server certificate: set sslrootcert (or PGSSLROOTCERT) to its PEM file');
  }

  return {
    host,
    port,
    database,
    user,
    password,
    passwordSource,
    sslmode,
    sslrootcert,
    ca,
    connectTimeoutMs,
    warnings,
    redact: makeRedactor([password]),
  };
}

/** The password as libpq finds it: given, in the URL, PGPASSWORD, or the first matching line of ~/.pgpass (PGPASSFILE). */
function findPassword(input: ConnectionInput, fromUrl: Fields, env: NodeJS.ProcessEnv, target: { host: string; port: number; database: string; user: string; homedir?: string }, warnings: string[]): { password: string | undefined; passwordSource: PasswordSource } {
  const { host, port, database, user } = target;
  let password: string | undefined;
  let passwordSource: PasswordSource = 'none';
  if (input.password !== undefined && input.password !== '') {
    password = input.password;
    passwordSource = 'given';
  } else if (fromUrl.password !== undefined && fromUrl.password !== '') {
    password = fromUrl.password;
    passwordSource = 'url';
  } else if (env.PGPASSWORD) {
    password = env.PGPASSWORD;
    passwordSource = 'environment';
  } else {
    const file = env.PGPASSFILE || path.join(target.homedir ?? os.homedir(), '.pgpass');
    const found = lookupPgpass(file, { host, port, database, user }, warnings);
    if (found !== undefined) {
      password = found;
      passwordSource = 'pgpass';
    }
  }
  return { password, passwordSource };
}

/** The CA certificate (sslrootcert): a PEM file, refused with what to give when it is missing or not a certificate. */
function readCa(sslrootcert: string): string {
  let ca: string;
  try {
    ca = readInputText(sslrootcert, 'certificate', `The CA file "${sslrootcert}" (sslrootcert)`);
  } catch (err) {
    const code = (err as PgloadError).code;
    throw new PgloadError(
      'usage',
      code === 'ENOENT'
        ? `The CA file "${sslrootcert}" (sslrootcert) does not exist; give the path of the server's root certificate in PEM format`
        : `${errorMessage(err)}; check the path and its permissions`,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PgloadError('usage', `The CA file "${sslrootcert}" (sslrootcert) holds no PEM certificate; give the server's root certificate in PEM format`);
  }
  return ca;
}

function safeOsUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** libpq's ~/.pgpass lookup: `host:port:database:user:password`, `*` matches anything, `\:` and `\\` escape. */
export function lookupPgpass(
  file: string,
  target: { host: string; port: number; database: string; user: string },
  warnings: string[],
): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile()) return undefined;
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    warnings.push(`${file} is ignored because others can read it; run chmod 0600 ${file}`);
    return undefined;
  }
  let text: string;
  try {
    text = readInputText(file, 'passwordFile', file);
  } catch (err) {
    warnings.push(`${errorMessage(err)}; it was not used`);
    return undefined;
  }
  const host = target.host.startsWith('/') ? 'localhost' : target.host;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const parts = splitPgpassLine(raw);
    if (parts.length < 5) continue;
    const [h, p, d, u] = parts;
    const pw = parts.slice(4).join(':');
    const match = (pattern: string, value: string) => pattern === '*' || pattern === value;
    if (match(h, host) && match(p, String(target.port)) && match(d, target.database) && match(u, target.user)) return pw;
  }
  return undefined;
}

function splitPgpassLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':' && out.length < 4) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** `user@host:port/database` — never with the password. */
export function describeTarget(c: Pick<ResolvedConnection, 'user' | 'host' | 'port' | 'database'>): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `${c.user}@${host}:${c.port}/${c.database}`;
}

export function connectionSummary(c: ResolvedConnection, usedSsl: boolean): ConnectionSummary {
  return { host: c.host, port: c.port, database: c.database, user: c.user, sslmode: c.sslmode, ssl: usedSsl };
}

function tlsOptions(c: ResolvedConnection): TlsOptions | false {
  switch (c.sslmode) {
    case 'disable':
      return false;
    case 'prefer':
      return { rejectUnauthorized: false };
    case 'require':
      // As libpq: with a root certificate given, require verifies the CA.
      return c.ca ? { ca: c.ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    case 'verify-ca':
      return { ca: c.ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full': {
      // The certificate must name the host we connected to — an IP address too (its IP SAN); SNI carries
      // names only, never an address.
      const identity = { checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(c.host, cert), ...(isIP(c.host) ? {} : { servername: c.host }) };
      return c.ca ? { ca: c.ca, rejectUnauthorized: true, ...identity } : { rejectUnauthorized: true, ...identity };
    }
  }
}

/** How long a client waits for any answer: the statement timeout + 5 s (then the network or server is taken for gone). */
export function clientTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + 5000;
}

function clientConfig(c: ResolvedConnection, s: SessionSettings, ssl: TlsOptions | false): ClientConfig {
  const inStartup = (s.route ?? 'startup') === 'startup';
  const startup = settingPairs(s)
    .filter(([k]) => k !== 'statement_timeout')
    .map(([k, v]) => `-c ${k}=${v.replace(/([\\ ])/g, '\\$1')}`);
  return {
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password ?? '',
    ssl: ssl === false ? false : ssl,
    // Without TLS the load loop reads the socket directly (./socket); node-postgres gets what it reads as 'data' events.
    ...(ssl === false ? { stream: directSocket } : {}),
    // application_name is the one setting poolers keep (PgBouncer tracks it per client), so it always goes at startup.
    application_name: s.applicationName ?? APPLICATION_NAME,
    ...(inStartup ? { statement_timeout: s.statementTimeoutMs, options: startup.join(' ') } : {}),
    // The server stops a statement at statement_timeout; when no answer comes at all (a network cut without a
    // FIN, a hung server), the client gives up 5 s later instead of waiting forever.
    query_timeout: clientTimeoutMs(s.statementTimeoutMs),
    connectionTimeoutMillis: c.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export interface OpenedSession {
  client: Client;
  connectMs: number;
  ssl: boolean;
  /** Set once the session has failed (connection lost, terminated); it must not be used again. */
  readonly broken: boolean;
  /** The last connection-level error, when broken. */
  readonly lastError?: Error;
}

/**
 * Opens one session. `sslDecided` carries the outcome of sslmode=prefer from an earlier session so that
 * a run negotiates once, not once per client.
 */
export async function openSession(
  c: ResolvedConnection,
  settings: SessionSettings,
  sslDecided?: { useSsl: boolean },
): Promise<OpenedSession> {
  let ssl = tlsOptions(c);
  if (c.sslmode === 'prefer' && sslDecided && !sslDecided.useSsl) ssl = false;
  const started = performance.now();
  try {
    return await connectOnce(c, settings, ssl, started);
  } catch (err) {
    if (c.sslmode === 'prefer' && ssl !== false && isSslNotOffered(err)) {
      if (sslDecided) sslDecided.useSsl = false;
      try {
        return await connectOnce(c, settings, false, started);
      } catch (err2) {
        throw explainConnectError(err2, c);
      }
    }
    throw explainConnectError(err, c);
  }
}

async function connectOnce(c: ResolvedConnection, settings: SessionSettings, ssl: TlsOptions | false, started: number): Promise<OpenedSession> {
  const client = new Client(clientConfig(c, settings, ssl));
  const state: { broken: boolean; lastError?: Error } = { broken: false };
  // Without a listener an error on an idle client crashes the process (node-postgres emits 'error').
  client.on('error', (err: Error) => {
    state.broken = true;
    state.lastError = err;
  });
  client.on('end', () => {
    state.broken = true;
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  try {
    await applySettings(client, settings);
  } catch (err) {
    await closeSession(client, 500);
    throw err;
  }
  return {
    client,
    connectMs: performance.now() - started,
    ssl: ssl !== false,
    get broken() {
      return state.broken;
    },
    get lastError() {
      return state.lastError;
    },
  };
}

/** The code of the error raised when a session that must be read-only is not. */
export const NOT_READ_ONLY = 'NOT_READ_ONLY';

/**
 * Applies the settings the startup packet did not carry (set_config after connecting), then verifies — never assumes —
 * that a read-only session is read-only where the requests run: `SHOW transaction_read_only` on the session, or
 * inside a transaction begun as each request's is. A pooler may drop a startup parameter without a word.
 */
async function applySettings(client: Client, s: SessionSettings): Promise<void> {
  const route = s.route ?? 'startup';
  // set_config parses a value as the startup packet does (a list for search_path), where a quoted SET would not.
  if (route === 'set') await client.query(`SELECT ${settingPairs(s).map(([k, v]) => `set_config(${literal(k)}, ${literal(v)}, false)`).join(', ')}`);
  if (!s.readOnly) return;
  let readOnly: string | undefined;
  if (route === 'transaction') {
    const wrap = transactionWrap(s);
    const results = (await client.query(`${wrapStart(wrap).join('; ')}; ${withInternalMark('SHOW transaction_read_only')}; ${wrap.end}`)) as unknown as Array<{ rows: Array<{ transaction_read_only?: string }> }>;
    readOnly = results[wrapStart(wrap).length]?.rows[0]?.transaction_read_only;
  } else {
    readOnly = (await client.query<{ transaction_read_only: string }>(withInternalMark('SHOW transaction_read_only'))).rows[0]?.transaction_read_only;
  }
  if (readOnly !== 'on') {
    const how = route === 'startup' ? 'default_transaction_read_only = on was sent at startup' : route === 'set' ? 'default_transaction_read_only was set on after connecting' : 'the request\'s transaction was begun READ ONLY';
    throw new PgloadError(
      'connection',
      `The session is not read-only (SHOW transaction_read_only = ${readOnly ?? 'nothing'}) although ${how}: something between pgload and PostgreSQL (a connection pooler, a proxy) dropped the setting. ` +
        'pgload does not run a query that could write without it; nothing was run. Connect to PostgreSQL directly, or through the pooler without ignore_startup_parameters hiding the setting.',
      { code: NOT_READ_ONLY },
    );
  }
}

function isSslNotOffered(err: unknown): boolean {
  return /does not support SSL/i.test(asDriverError(err).message ?? '');
}

/** Closes a session; never hangs (the socket is destroyed if the polite goodbye takes longer than `ms`). */
export async function closeSession(s: OpenedSession | Client, ms = 2000): Promise<void> {
  const client = s instanceof Client ? s : s.client;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  const ended = client.end().then(
    () => 'ended' as const,
    () => 'ended' as const,
  );
  const outcome = await Promise.race([ended, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
  }
}

/** Turns a failure to connect into one sentence that says what to do. The password is never in it. */
export function explainConnectError(err: unknown, c: ResolvedConnection): PgloadError {
  // Already one sentence of ours (e.g. the read-only check after connecting).
  if (err instanceof PgloadError) return err;
  const e = asDriverError(err);
  const msg = e.message ?? String(err);
  const where = `${c.host}:${c.port}`;
  const target = describeTarget(c);
  const say = (text: string, code = e.code) => new PgloadError('connection', c.redact(text), { code, cause: err });
  switch (e.code) {
    case 'ECONNREFUSED':
      return say(`Connection refused at ${where}: is PostgreSQL running there and listening on TCP? Check the host and port (--url, PGHOST, PGPORT).`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say(`The host name "${c.host}" could not be resolved; check the host in the URL or PGHOST.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return say(`No route to ${where} (${e.code}); check the host, the network and any firewall.`);
    case 'ENOENT':
      return say(`No PostgreSQL socket at ${where}; check the socket directory given as host.`);
    case '28P01':
      return say(
        `Password authentication failed for user "${c.user}" at ${where}; check the password (${passwordHint(c)}).`,
      );
    case '28000':
      return say(`The server refused user "${c.user}" for database "${c.database}" at ${where}: ${msg}. Check the user name and the server's pg_hba.conf.`);
    case '3D000':
      return say(`Database "${c.database}" does not exist at ${where}; check the database name (the URL path or PGDATABASE).`);
    case '53300':
      return say(`The server at ${where} has no free connection slots (${msg}); close other sessions or use fewer clients.`);
    case '57P03':
      return say(`The server at ${where} is not accepting connections yet (${msg}); try again in a moment.`);
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return say(
        `The server certificate at ${where} is not signed by a trusted CA (${e.code}) with sslmode=${c.sslmode}; set sslrootcert to the CA that signed it.`,
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return say(`The server certificate at ${where} is not valid for the host name "${c.host}" (sslmode=verify-full); connect with the name in the certificate, or use sslmode=verify-ca.`);
    case 'CERT_HAS_EXPIRED':
      return say(`The server certificate at ${where} has expired; renew it on the server.`);
  }
  if (isSslNotOffered(err)) {
    return say(`SSL is required (sslmode=${c.sslmode}) but the server at ${where} does not offer it; enable ssl on the server, or use sslmode=prefer or disable.`);
  }
  if (/client password must be a string|no password was provided|password must be a string/i.test(msg)) {
    return say(`The server asks for a password for user "${c.user}" at ${where} but none was given; ${passwordHint(c)}.`, NO_PASSWORD);
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(msg)) {
    return say(`No answer from ${where} within ${Math.round(c.connectTimeoutMs / 1000)} s; check that the host and port are right and reachable (connect_timeout to wait longer).`);
  }
  if (/Connection terminated unexpectedly/i.test(msg)) {
    return say(`The server at ${where} closed the connection during start-up; it may be shutting down, or the port is not PostgreSQL.`);
  }
  return say(`Could not connect to ${target}: ${msg}`);
}

function passwordHint(c: ResolvedConnection): string {
  switch (c.passwordSource) {
    case 'url':
      return 'it came from the URL';
    case 'environment':
      return 'it came from PGPASSWORD';
    case 'pgpass':
      return 'it came from ~/.pgpass';
    case 'given':
      return 'the one given for this connection';
    case 'none':
      return 'give one with PGPASSWORD, ~/.pgpass or the URL';
  }
}

/*
 * node-postgres keeps the backend's process id (from BackendKeyData) and the session's socket in fields it does not
 * document. They are read here and nowhere else, so a change in pg breaks one place.
 */

/** The server process (backend pid) serving this client's session; 0 before it connected. */
export function backendPid(client: Client): number {
  return (client as unknown as { processID?: number }).processID ?? 0;
}
