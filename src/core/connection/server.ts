/** What pgload asks the server on its control session: version and settings, free slots, cancel, cleanup. */
import type { Client } from 'pg';
import type { ServerInfo } from '../../shared/result';
import { APPLICATION_NAME } from './connection';
import { PgloadError } from '../errors';

export const REPORTED_SETTINGS = [
  'work_mem',
  'max_connections',
  'shared_buffers',
  'max_parallel_workers_per_gather',
  'jit',
  'hash_mem_multiplier',
  'effective_cache_size',
  'random_page_cost',
  'max_parallel_workers',
  'max_worker_processes',
  'default_transaction_isolation',
  'block_size',
] as const;

export async function readServerInfo(control: Client): Promise<ServerInfo> {
  const r = await control.query<{ version: string; num: number; role: string; superuser: boolean; settings: Record<string, string | null> }>(
    `SELECT current_setting('server_version') AS version,
            current_setting('server_version_num')::int AS num,
            current_user AS role, coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
            (SELECT json_object_agg(name, current_setting(name, true)) FROM unnest($1::text[]) AS name) AS settings`,
    [REPORTED_SETTINGS],
  );
  const row = r.rows[0];
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(row.settings ?? {})) if (v !== null) settings[k] = v;
  return {
    version: row.version,
    versionNum: row.num,
    role: { name: row.role, superuser: row.superuser },
    settings: {
      work_mem: settings.work_mem ?? '',
      max_connections: settings.max_connections ?? '',
      shared_buffers: settings.shared_buffers ?? '',
      max_parallel_workers_per_gather: settings.max_parallel_workers_per_gather ?? '',
      jit: settings.jit ?? '',
      ...settings,
    },
  };
}

export interface Capacity {
  maxConnections: number;
  reserved: number;
  inUse: number;
  free: number;
  /** The tightest limit and why, for the message. */
  limitedBy: string;
}

/** Free connection slots for new sessions of this role in this database (the control session already counted). */
export async function readCapacity(control: Client): Promise<Capacity> {
  const r = await control.query<{
    max: number;
    su_reserved: number;
    reserved: number;
    in_use: number;
    role_limit: number | null;
    role_in_use: number;
    db_limit: number | null;
    db_in_use: number;
  }>(
    `SELECT current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int AS su_reserved,
            coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
            (SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user) AS role_limit,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = current_user)::int AS role_in_use,
            (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database())::int AS db_in_use`,
  );
  const c = r.rows[0];
  const reserved = c.su_reserved + c.reserved;
  let free = c.max - reserved - c.in_use;
  let limitedBy = `max_connections ${c.max} − ${reserved} reserved − ${c.in_use} in use`;
  if (c.role_limit !== null && c.role_limit >= 0 && c.role_limit - c.role_in_use < free) {
    free = c.role_limit - c.role_in_use;
    limitedBy = `the role's CONNECTION LIMIT ${c.role_limit} − ${c.role_in_use} of its sessions in use`;
  }
  if (c.db_limit !== null && c.db_limit >= 0 && c.db_limit - c.db_in_use < free) {
    free = c.db_limit - c.db_in_use;
    limitedBy = `the database's CONNECTION LIMIT ${c.db_limit} − ${c.db_in_use} sessions in use`;
  }
  return { maxConnections: c.max, reserved, inUse: c.in_use, free: Math.max(0, free), limitedBy };
}

/** Refuses, before anything runs, a run that needs more sessions than the server has free. */
export function assertCapacity(capacity: Capacity, needed: number, what: string): void {
  if (needed <= capacity.free) return;
  throw new PgloadError(
    'capacity',
    `${what} ${needed === 1 ? 'needs 1 connection' : `need ${needed} connections`}, but the server has ${capacity.free} free (${capacity.limitedBy}). ` +
      `Use ${Math.max(1, capacity.free)} clients or fewer, or free connections on the server.`,
  );
}

/** Asks the server to cancel the running query of each backend (same role: no special privilege needed). */
export async function cancelBackends(control: Client, pids: number[]): Promise<void> {
  if (pids.length === 0) return;
  await control.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
}

/**
 * Polls `still` (the backends still there) for up to `waitMs`; ends those left with `end` and polls again. Returns how
 * many are left at the end.
 */
async function waitThenEnd(still: () => Promise<number[]>, end: (pids: number[]) => Promise<unknown>, waitMs: number): Promise<number> {
  const poll = async () => {
    const deadline = Date.now() + waitMs;
    let left = await still();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      left = await still();
    }
    return left;
  };
  let left = await poll();
  if (left.length > 0) {
    await end(left);
    left = await poll();
  }
  return left.length;
}

const pidsOf = (rows: Array<{ pid: number }>) => rows.map((r) => r.pid);

/**
 * Waits up to `waitMs` for the given backends to leave the server; terminates the ones still there and
 * waits again. Returns how many pgload sessions among them are still present at the end.
 */
export async function ensureGone(control: Client, pids: number[], applicationName = APPLICATION_NAME, waitMs = 1000): Promise<number> {
  if (pids.length === 0) return 0;
  return waitThenEnd(
    async () => pidsOf((await control.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND application_name = $2', [pids, applicationName])).rows),
    (left) => control.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [left]),
    waitMs,
  );
}

/**
 * Through a pooler: waits up to `waitMs` until no server session with the run's application_name is still running
 * a request (idle ones are the pooler's to keep); cancels those that are and waits again. Returns how many still run.
 */
export async function ensureRequestsGone(control: Client, applicationName: string, waitMs = 1000): Promise<number> {
  return waitThenEnd(
    async () =>
      pidsOf(
        (
          await control.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()`,
            [applicationName],
          )
        ).rows,
      ),
    (left) => cancelBackends(control, left),
    waitMs,
  );
}

/** The report's note for a superuser connection: everything holds, and one more wall is cheap to add. */
export function superuserNote(role: string): string {
  return (
    `Connected as "${role}", a superuser: pgload's guarantees hold (every request read-only unless writes are allowed, and rolled back), but a superuser passes every permission check behind them. ` +
    'Profile as a role that cannot write (e.g. one granted only pg_read_all_data) so that the server itself refuses what pgload might miss.'
  );
}
