/**
 * The extension's settings, read through one typed module. Bad values are reported with the setting's
 * name and what to put there; nothing is run with them.
 */
import * as vscode from 'vscode';
import { Settings } from './constants';
import type { ProfileInput } from '../core/options';
import { APP_POOL_LIMITS, MAX_CLIENTS, parseOption, RATE_LIMITS, RUN_OPTION_TABLE, THINK_TIME_LIMITS_MS, type OptionRow } from '../core/optionTable';
import { parseSizeKB } from '../core/units';
import { usersForRate } from '../core/analysis/appDemand';

export interface ConnectionSetting {
  name: string;
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  sslmode?: string;
  sslrootcert?: string;
  /** What the server has, for the hints (`serverVcpus` overrides pgload.serverVcpus for this connection). */
  serverVcpus?: number;
  /** The server's memory, like "16GB": what work_mem × concurrency is weighed against. */
  serverMemory?: string;
  /** The application's pool on this connection, for "Diagnose under load" (overrides pgload.app.*). */
  app?: Partial<AppPoolSetting>;
  /** A scratch or development database where Try it may build an index suggestion to measure it (off by default). */
  allowIndexTrials?: boolean;
}

/** The application's pool as the settings give it (seconds for the timeout, as people write it). */
export interface AppPoolSetting {
  users: number;
  poolSize: number;
  maxOverflow: number;
  poolTimeoutSeconds: number;
  /** Each user's pause between requests (exponential around it); 0: back to back. */
  thinkTimeSeconds: number;
  /** Or the requests per second the application's metrics show (arrivals on the pool's sessions); 0: users. */
  requestsPerSecond: number;
}

const APP_LIMITS: Record<keyof AppPoolSetting, { setting: string; min: number; max: number }> = {
  users: { setting: Settings.appUsers, ...APP_POOL_LIMITS.users },
  poolSize: { setting: Settings.appPoolSize, ...APP_POOL_LIMITS.size },
  maxOverflow: { setting: Settings.appMaxOverflow, ...APP_POOL_LIMITS.maxOverflow },
  poolTimeoutSeconds: { setting: Settings.appPoolTimeoutSeconds, min: Math.ceil(APP_POOL_LIMITS.timeoutMs.min / 1000), max: APP_POOL_LIMITS.timeoutMs.max / 1000 },
  thinkTimeSeconds: { setting: Settings.appThinkTimeSeconds, min: THINK_TIME_LIMITS_MS.min / 1000, max: THINK_TIME_LIMITS_MS.max / 1000 },
  requestsPerSecond: { setting: Settings.appRequestsPerSecond, min: 0, max: RATE_LIMITS.perSecond.max },
};
/** The settings that may have a fraction (seconds of think time); the others are whole numbers. */
const FRACTIONAL: ReadonlySet<keyof AppPoolSetting> = new Set(['thinkTimeSeconds', 'requestsPerSecond']);

/**
 * The diagnosis's demand from the settings: a rate when pgload.app.requestsPerSecond is set (it then stands for the
 * users and their pause), else the users pausing pgload.app.thinkTimeSeconds.
 */
export function appDemand(app: AppPoolSetting): { users: number; poolSize: number; maxOverflow: number; poolTimeoutMs: number; thinkTimeMs?: number; rateQps?: number } {
  const pool = { poolSize: app.poolSize, maxOverflow: app.maxOverflow, poolTimeoutMs: app.poolTimeoutSeconds * 1000 };
  if (app.requestsPerSecond > 0) return { ...pool, users: usersForRate(app.poolSize, app.maxOverflow), rateQps: app.requestsPerSecond };
  return { ...pool, users: app.users, ...(app.thinkTimeSeconds > 0 ? { thinkTimeMs: app.thinkTimeSeconds * 1000 } : {}) };
}

/** The application's pool for a diagnosis: pgload.app.*, with what the connection overrides (checked when read). */
export function readAppPool(c: ConnectionSetting): AppPoolSetting {
  const out = {} as AppPoolSetting;
  for (const key of Object.keys(APP_LIMITS) as Array<keyof AppPoolSetting>) {
    const { setting, min, max } = APP_LIMITS[key];
    out[key] = c.app?.[key] ?? numberSetting(setting, min, max, !FRACTIONAL.has(key));
  }
  return out;
}

/** The p95 objective "Find capacity" offers first (pgload.app.maxP95Ms). */
export function readCapacityObjective(): number {
  return numberSetting(Settings.appMaxP95Ms, 1, 3_600_000);
}

export function readDiagnoseBudgetMs(): number {
  return numberSetting(Settings.diagnoseBudgetSeconds, 1, 7200) * 1000;
}

export interface RunDefaults {
  clients: number;
  requests: number;
  /** 0: use requests. */
  durationSeconds: number;
  statementTimeoutMs: number;
  /** Every run option from the settings (the option table's), in the run's units: thresholdMs, explain, prepared, … */
  runOptions: Partial<ProfileInput>;
  /** The concurrency sweep: its largest step and each step's length. */
  sweepMaxClients: number;
  sweepStepSeconds: number;
}

export class SettingsError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(Settings.section);
}

/** A numeric setting held to its range (a whole number unless `whole` is false), refused with what to write. */
function numberSetting(name: string, min: number, max: number, whole = true): number {
  const v = cfg().get<unknown>(name);
  if (typeof v !== 'number' || !Number.isFinite(v) || (whole && !Number.isInteger(v)) || v < min || v > max) {
    throw new SettingsError(`pgload.${name}`, `The setting pgload.${name} is ${JSON.stringify(v)}; it must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
  }
  return v;
}

/** A setting of an option in the table, checked against the table's range in the setting's own unit. */
function tableSetting(key: OptionRow['key']): number {
  const row = RUN_OPTION_TABLE.find((r) => r.key === key)!;
  const unit = row.setting!.unit;
  const scale = unit === 's' ? 1000 : 1;
  const min = row.setting!.zeroIsUnset || row.zeroIsOff ? 0 : Math.ceil(row.min! / scale);
  return numberSetting(row.setting!.name, min, Math.floor(row.max! / scale));
}

/**
 * Every option of the table that has a VS Code setting, read and range-checked as the table says, in the run's units.
 * A setting whose 0 means "unset" is left out at 0. A new option with a setting needs no code here.
 */
function tableSettings(): Partial<ProfileInput> {
  const out: Record<string, unknown> = {};
  for (const row of RUN_OPTION_TABLE) {
    if (!row.setting) continue;
    const { name, unit, zeroIsUnset } = row.setting;
    if (unit === 'flag' || unit === 'text') {
      const raw = cfg().get<unknown>(name);
      const r = parseOption(row, raw);
      if (!r.ok) throw new SettingsError(`pgload.${name}`, `The setting pgload.${name} is ${JSON.stringify(raw)}: ${r.error}.`);
      out[row.key] = (r as { value: unknown }).value;
      continue;
    }
    const v = tableSetting(row.key);
    if (v === 0 && zeroIsUnset) continue;
    out[row.key] = unit === 's' ? v * 1000 : v;
  }
  return out as Partial<ProfileInput>;
}

export function readRunDefaults(): RunDefaults {
  const runOptions = tableSettings();
  return {
    clients: tableSetting('clients'),
    requests: tableSetting('requests'),
    durationSeconds: tableSetting('durationMs'),
    statementTimeoutMs: tableSetting('statementTimeoutMs'),
    runOptions,
    sweepMaxClients: numberSetting(Settings.sweepMaxClients, 1, MAX_CLIENTS),
    sweepStepSeconds: numberSetting(Settings.sweepStepSeconds, 1, 3600),
  };
}

export function codeLensEnabled(): boolean {
  return cfg().get<boolean>(Settings.codeLensEnabled) !== false;
}

export function askBeforeRun(): boolean {
  return cfg().get<boolean>(Settings.askBeforeRun) !== false;
}

const CONNECTION_FIELDS = new Set(['name', 'url', 'host', 'port', 'database', 'user', 'sslmode', 'sslrootcert', 'serverVcpus', 'serverMemory', 'app', 'allowIndexTrials']);

/** The configured connections; entries that are not objects with a name are reported, not ignored. */
export function readConnections(): ConnectionSetting[] {
  const raw = cfg().get<unknown>(Settings.connections) ?? [];
  if (!Array.isArray(raw)) {
    throw new SettingsError('pgload.connections', 'The setting pgload.connections must be a list of connections like { "name": "local", "host": "localhost", "database": "shop" }.');
  }
  const seen = new Set<string>();
  return raw.map((c: unknown, i: number) => {
    if (!c || typeof c !== 'object' || typeof (c as { name?: unknown }).name !== 'string' || (c as { name: string }).name.trim() === '') {
      throw new SettingsError('pgload.connections', `Entry ${i + 1} of pgload.connections has no "name"; give every connection a name.`);
    }
    const conn = c as ConnectionSetting & Record<string, unknown>;
    if (seen.has(conn.name)) throw new SettingsError('pgload.connections', `Two entries of pgload.connections are named "${conn.name}"; names must be unique.`);
    seen.add(conn.name);
    if ('password' in conn) {
      throw new SettingsError(
        'pgload.connections',
        `Connection "${conn.name}" has a "password" in settings. Remove it: pgload asks for the password once and keeps it in the system keychain (or uses PGPASSWORD / ~/.pgpass).`,
      );
    }
    if (typeof conn.url === 'string' && /^postgres(ql)?:\/\/[^/@]*:[^/@]*@/i.test(conn.url)) {
      throw new SettingsError(
        'pgload.connections',
        `The url of connection "${conn.name}" holds a password. Remove it from the URL: pgload asks for the password once and keeps it in the system keychain.`,
      );
    }
    if (conn.port !== undefined && (typeof conn.port !== 'number' || !Number.isInteger(conn.port) || conn.port < 1 || conn.port > 65535)) {
      throw new SettingsError('pgload.connections', `Connection "${conn.name}" has port ${JSON.stringify(conn.port)}; give a number from 1 to 65535.`);
    }
    if (conn.allowIndexTrials !== undefined && typeof conn.allowIndexTrials !== 'boolean') {
      throw new SettingsError('pgload.connections', `Connection "${conn.name}" has allowIndexTrials ${JSON.stringify(conn.allowIndexTrials)}; give true (a scratch database where indexes may be built to measure them) or false.`);
    }
    if (conn.serverVcpus !== undefined && (typeof conn.serverVcpus !== 'number' || !Number.isInteger(conn.serverVcpus) || conn.serverVcpus < 1 || conn.serverVcpus > 4096)) {
      throw new SettingsError('pgload.connections', `Connection "${conn.name}" has serverVcpus ${JSON.stringify(conn.serverVcpus)}; give the server's CPU count, a whole number from 1 to 4096.`);
    }
    if (conn.serverMemory !== undefined) {
      const size = typeof conn.serverMemory === 'string' ? parseSizeKB(conn.serverMemory) : undefined;
      if (!size?.ok) throw new SettingsError('pgload.connections', `Connection "${conn.name}" has serverMemory ${JSON.stringify(conn.serverMemory)}: ${size && !size.ok ? size.error : 'write it as text like "16GB"'}.`);
    }
    if (conn.app !== undefined) {
      if (!conn.app || typeof conn.app !== 'object' || Array.isArray(conn.app)) throw new SettingsError('pgload.connections', `Connection "${conn.name}" has app ${JSON.stringify(conn.app)}; write it like { "users": 100, "poolSize": 20, "maxOverflow": 100 }.`);
      for (const [k, v] of Object.entries(conn.app)) {
        const limits = APP_LIMITS[k as keyof AppPoolSetting];
        if (!limits) throw new SettingsError('pgload.connections', `Connection "${conn.name}" has an unknown app field "${k}"; the fields are ${Object.keys(APP_LIMITS).join(', ')}.`);
        const whole = !FRACTIONAL.has(k as keyof AppPoolSetting);
        if (typeof v !== 'number' || !Number.isFinite(v) || (whole && !Number.isInteger(v)) || v < limits.min || v > limits.max) {
          throw new SettingsError('pgload.connections', `Connection "${conn.name}" has app.${k} ${JSON.stringify(v)}; give ${whole ? 'a whole number' : 'a number'} from ${limits.min} to ${limits.max}.`);
        }
      }
    }
    for (const k of Object.keys(conn)) {
      if (!CONNECTION_FIELDS.has(k)) throw new SettingsError('pgload.connections', `Connection "${conn.name}" has an unknown field "${k}"; the fields are ${[...CONNECTION_FIELDS].join(', ')}.`);
    }
    return conn;
  });
}

export function readDefaultConnectionName(): string | undefined {
  const v = cfg().get<string>(Settings.defaultConnection);
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** The server's memory of a connection in kB, when its settings give it (already validated by readConnections). */
export function connectionServerMemoryKB(c: ConnectionSetting): number | undefined {
  const r = c.serverMemory !== undefined ? parseSizeKB(c.serverMemory) : undefined;
  return r?.ok ? r.kb : undefined;
}

/**
 * Appends a connection where the connections are set: the workspace's settings when it has its own list (a User
 * setting would be hidden by it), else the User settings. Returns which, for the sentence that says so.
 */
export async function addConnectionSetting(c: ConnectionSetting): Promise<'workspace' | 'user'> {
  const inspected = cfg().inspect<ConnectionSetting[]>(Settings.connections);
  const inWorkspace = inspected?.workspaceValue !== undefined;
  const current = ((inWorkspace ? inspected?.workspaceValue : inspected?.globalValue) ?? []).filter((x) => x.name !== c.name);
  await cfg().update(Settings.connections, [...current, c], inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
  return inWorkspace ? 'workspace' : 'user';
}
