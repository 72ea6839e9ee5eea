/**
 * Connection poolers between pgload and PostgreSQL (PgBouncer, RDS Proxy, Supavisor, PgCat): how one is recognised,
 * what its admin console tells (PgBouncer: version, pool mode, its own queue), and the cancel that goes through it.
 *
 * Recognised by (1) a refusal of a startup parameter ("unsupported startup parameter: statement_timeout", PgBouncer's
 * words), or (2) a session whose server process (pg_backend_pid()) is not the process id the connection announced:
 * a pooler hands out its own keys. Through a pooler, pgload's settings travel inside each request's transaction
 * unless the pooler is known to keep one server session per client (session pooling), where settings set after connecting
 * holds. Wait sampling goes by application_name (PgBouncer sets it on the server session it lends), cancel by the
 * protocol's CancelRequest (poolers forward it), the leftover check by application_name.
 */
import * as net from 'node:net';
import { Client } from 'pg';
import { serialize } from 'pg-protocol';
import type { PoolMode } from '../../shared/result';
import { errorMessage } from '../errors';
import { backendPid, closeSession, markInternal, withInternalMark, NOT_READ_ONLY, openSession, type OpenedSession, type ResolvedConnection, type SessionSettings } from './connection';

/** The startup parameter a pooler refused, when this connection error is such a refusal. */
export function refusedStartupParameter(err: unknown): string | undefined {
  const m = /unsupported startup parameter:\s*(\S+)/i.exec(errorMessage(err));
  return m ? m[1] : undefined;
}

/**
 * Opens a control session and finds out whether a pooler stands in front of the server. Through a pooler the
 * session is opened again with nothing but application_name at startup (route 'transaction': pgload's own queries
 * need no setting; the caller decides the route of the run's sessions). A session that is not read-only although it
 * must be, on a direct server, is refused (NOT_READ_ONLY).
 */
export async function openControlSession(
  c: ResolvedConnection,
  settings: SessionSettings,
  sslDecided?: { useSsl: boolean },
): Promise<{ session: OpenedSession; detectedBy: string | null }> {
  const opened = await openControl(c, settings, sslDecided);
  // Everything it sends is pgload's own: marked, so that pgload top leaves it out.
  markInternal(opened.session.client);
  return opened;
}

async function openControl(c: ResolvedConnection, settings: SessionSettings, sslDecided?: { useSsl: boolean }): Promise<{ session: OpenedSession; detectedBy: string | null }> {
  let session: OpenedSession | undefined;
  let detectedBy: string | undefined;
  let notReadOnly: unknown;
  try {
    session = await openSession(c, settings, sslDecided);
  } catch (err) {
    const refused = refusedStartupParameter(err);
    if (refused) detectedBy = `it refused the startup parameter ${refused}`;
    else if ((err as { code?: string }).code === NOT_READ_ONLY) notReadOnly = err;
    else throw err;
  }
  if (!detectedBy) {
    // The startup settings went through (or were dropped without a word): is the process we talk to the server's?
    const probe = session ?? (await openSession(c, { ...settings, readOnly: false }, sslDecided));
    let serverPid = 0;
    try {
      serverPid = (await probe.client.query<{ pid: number }>(withInternalMark('SELECT pg_backend_pid() AS pid'))).rows[0]?.pid ?? 0;
    } catch (err) {
      await closeSession(probe);
      throw err;
    }
    const announced = backendPid(probe.client);
    if (serverPid === announced) {
      if (notReadOnly === undefined) return { session: probe, detectedBy: null };
      await closeSession(probe);
      throw notReadOnly;
    }
    detectedBy = `the connection announced process ${announced}, and the server process serving it is ${serverPid}`;
    await closeSession(probe);
  }
  return { session: await openSession(c, { ...settings, route: 'transaction' }, sslDecided), detectedBy };
}

export interface PoolerConsole {
  /** e.g. "PgBouncer 1.18.0". */
  version: string;
  /** [major, minor] of PgBouncer, when the version says so. */
  pgbouncer: [number, number] | null;
  poolMode: PoolMode | null;
  /** PgBouncer ≥ 1.21: named prepared statements kept across server sessions when > 0. */
  maxPreparedStatements: number | null;
  client: Client;
}

/**
 * PgBouncer's admin console (the `pgbouncer` database on the same address, for a user in admin_users or stats_users):
 * its version, this database's pool mode, whether it keeps prepared statements. Resolves with the reason when it
 * cannot be read (a pooler other than PgBouncer, or a user not allowed there).
 */
export async function openPoolerConsole(c: ResolvedConnection, useSsl: boolean): Promise<PoolerConsole | { unavailable: string }> {
  const client = new Client({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password ?? '',
    database: 'pgbouncer',
    ssl: useSsl && c.sslmode !== 'disable' ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: Math.min(c.connectTimeoutMs, 5000),
    application_name: 'pgload',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const version = (await client.query<{ version: string }>('SHOW VERSION')).rows[0]?.version ?? 'unknown';
    const pools = (await client.query<{ database: string; user: string; pool_mode?: string }>('SHOW POOLS')).rows;
    const config = (await client.query<{ key: string; value: string }>('SHOW CONFIG')).rows;
    const setting = (key: string) => config.find((r) => r.key === key)?.value;
    const ours = pools.find((p) => p.database === c.database && p.user === c.user) ?? pools.find((p) => p.database === c.database);
    const mode = (ours?.pool_mode ?? setting('pool_mode'))?.toLowerCase();
    const m = /PgBouncer\s+(\d+)\.(\d+)/i.exec(version);
    const mps = setting('max_prepared_statements');
    return {
      version,
      pgbouncer: m ? [Number(m[1]), Number(m[2])] : null,
      poolMode: mode === 'session' || mode === 'transaction' || mode === 'statement' ? mode : null,
      maxPreparedStatements: mps === undefined ? null : Number(mps),
      client,
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    return { unavailable: c.redact(errorMessage(err)) };
  }
}

export interface PoolerCounters {
  /** µs clients waited for a server session (PgBouncer's total_wait_time). */
  waitUs: number;
  transactions: number;
}

/** This database's totals from SHOW STATS (PgBouncer keeps them live; the averages there are per stats_period). */
export async function readPoolerCounters(console: PoolerConsole, database: string): Promise<PoolerCounters | null> {
  const rows = (await console.client.query<{ database: string; total_wait_time: string; total_xact_count: string }>('SHOW STATS')).rows;
  const row = rows.find((r) => r.database === database);
  return row ? { waitUs: Number(row.total_wait_time), transactions: Number(row.total_xact_count) } : null;
}

/**
 * The protocol's CancelRequest for the query running on this client's session, on a connection of its own — what
 * libpq's PQcancel sends. A pooler forwards it to the server session it lent; the server's pg_cancel_backend
 * cannot be used there, since pgload does not know which server process serves the client.
 */
export function sendCancelRequest(c: Pick<ResolvedConnection, 'host' | 'port'>, client: Client, timeoutMs = 2000): Promise<void> {
  const pid = backendPid(client);
  const secret = (client as unknown as { secretKey?: number }).secretKey;
  if (!pid || secret === undefined || secret === null) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = c.host.startsWith('/') ? net.connect({ path: `${c.host}/.s.PGSQL.${c.port}` }) : net.connect({ host: c.host, port: c.port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    // As libpq does: write the request and wait for the other side to close. Half-closing first makes PgBouncer 1.18
    // take the request for an unexpected EOF, and crash while it forwards it.
    socket.once('connect', () => socket.write(serialize.cancel(pid, secret)));
    socket.once('close', done);
    socket.once('error', done);
  });
}

/** PgBouncer from 1.21 keeps protocol-level prepared statements in transaction pooling when max_prepared_statements > 0. */
export function keepsPreparedStatements(console: PoolerConsole | undefined): boolean {
  if (!console?.pgbouncer) return false;
  const [major, minor] = console.pgbouncer;
  return (major > 1 || (major === 1 && minor >= 21)) && (console.maxPreparedStatements ?? 0) > 0;
}
