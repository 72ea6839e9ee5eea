/**
 * The run options, declared once: each row says which field of the run it sets, its CLI flag, its key in a
 * pgload.yml check file, its VS Code setting, its kind and range, its default and its help line. The CLI's parser
 * and help, the check file's keys and the extension's setting checks are derived from this table; adding an option
 * is one row here plus its use in the engine. (Options with a structure of their own — the SQL, the connection,
 * --set, --param, an application pool, a fixed rate — are parsed where they are used.)
 */
import { parseDurationMs, parseSizeKB, parseWholeNumber, SERVER_MEMORY_RANGE_KB } from './units';

/** Clients (database sessions) a run may open at most. */
export const MAX_CLIENTS = 10_000;

/** An application pool's ranges (--users, --pool-size, --max-overflow, --pool-timeout; pgload.app.*), in one place. */
export const APP_POOL_LIMITS = {
  users: { min: 1, max: 100_000 },
  size: { min: 1, max: MAX_CLIENTS },
  maxOverflow: { min: 0, max: MAX_CLIENTS },
  timeoutMs: { min: 1, max: 3_600_000 },
} as const;

/** An application user's pause between requests (--think-time; pgload.app.thinkTimeSeconds), in ms. */
export const THINK_TIME_LIMITS_MS = { min: 0, max: 3_600_000 } as const;

/** A fixed arrival rate's ranges (--rate, --max-outstanding, the seed). */
export const RATE_LIMITS = {
  perSecond: { min: 0.01, max: 1_000_000 },
  maxOutstanding: { min: 1, max: 10_000_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
} as const;

export type OptionKind = 'count' | 'duration' | 'flag' | 'size' | 'name' | 'workers';

export interface OptionRow {
  /** The run option (ProfileInput field) it sets. */
  key:
    | 'clients'
    | 'requests'
    | 'durationMs'
    | 'rampMs'
    | 'warmupPerClient'
    | 'baselineRuns'
    | 'thresholdMs'
    | 'statementTimeoutMs'
    | 'maxErrors'
    | 'allowWrites'
    | 'reconnect'
    | 'workers'
    | 'prepared'
    | 'seed'
    | 'serverVcpus'
    | 'serverMemoryKB'
    | 'explain'
    | 'sampleIntervalMs'
    | 'applicationName';
  /** The CLI flag, without `--`. */
  flag: string;
  /** A boolean flag that turns the option off (`--no-explain` sets explain to false). */
  negated?: boolean;
  /** The key in a check file's `defaults` and `checks` (absent: not settable there). */
  yaml?: string;
  /** The VS Code setting `pgload.<name>`, in the unit it is written there. */
  /**
   * The VS Code setting. `editorDefault`: the editor's default where it differs from the command line's (the editor runs
   * for a time by default, so that a fast statement still gives its waits and timeline enough samples).
   */
  setting?: { name: string; unit: 'count' | 'ms' | 's' | 'flag' | 'text'; zeroIsUnset?: boolean; editorDefault?: number };
  kind: OptionKind;
  /** Durations: the unit of a bare number. */
  bare?: 'ms' | 's';
  /** The range, in the value's own unit (a count, ms, kB). */
  min?: number;
  max?: number;
  /** Durations: 0 is allowed and means off. */
  zeroIsOff?: boolean;
  /** The CLI's placeholder for the value (`N`, `TIME`, `SIZE`, `NAME`). */
  arg?: string;
  group: 'how much' | 'limits' | 'protocol' | 'insight';
  help: string;
  example?: string;
}

export const RUN_OPTION_TABLE: readonly OptionRow[] = [
  { key: 'clients', flag: 'clients', yaml: 'clients', setting: { name: 'clients', unit: 'count' }, kind: 'count', min: 1, max: MAX_CLIENTS, arg: 'N', group: 'how much', help: 'Concurrent clients, each on its own session (default 10).', example: '--clients 100' },
  { key: 'requests', flag: 'requests', yaml: 'requests', setting: { name: 'requests', unit: 'count' }, kind: 'count', min: 1, max: 1_000_000_000, arg: 'N', group: 'how much', help: 'Total requests across all clients (default 200).', example: '--requests 5000' },
  { key: 'durationMs', flag: 'duration', yaml: 'duration', setting: { name: 'durationSeconds', unit: 's', zeroIsUnset: true, editorDefault: 10 }, kind: 'duration', bare: 's', min: 100, max: 86_400_000, arg: 'TIME', group: 'how much', help: 'Run for a time instead of a number of requests.', example: '--duration 30s' },
  { key: 'rampMs', flag: 'ramp', yaml: 'ramp', kind: 'duration', bare: 's', min: 100, max: 86_400_000, arg: 'TIME', group: 'how much', help: 'Start the clients in up to 10 steps over this time, then run them all until --duration ends; the report gives each stage (sessions all open at the start).', example: '--ramp 10s' },
  { key: 'warmupPerClient', flag: 'warmup', yaml: 'warmup', kind: 'count', min: 0, max: 1_000_000, arg: 'N', group: 'how much', help: 'Requests per client before timing starts, not counted (default 0).', example: '--warmup 5' },
  { key: 'baselineRuns', flag: 'baseline-runs', yaml: 'baselineRuns', kind: 'count', min: 1, max: 10_000, arg: 'N', group: 'how much', help: 'Warm single executions after the cold one (default 5).', example: '--baseline-runs 20' },
  { key: 'thresholdMs', flag: 'threshold', yaml: 'threshold', setting: { name: 'thresholdMs', unit: 'ms' }, kind: 'duration', bare: 'ms', min: 1, max: 3_600_000, arg: 'TIME', group: 'limits', help: 'Count requests slower than this (default 500ms).', example: '--threshold 200ms' },
  { key: 'statementTimeoutMs', flag: 'statement-timeout', yaml: 'statementTimeout', setting: { name: 'statementTimeoutMs', unit: 'ms' }, kind: 'duration', bare: 'ms', min: 1, max: 2_147_483_647, arg: 'TIME', group: 'limits', help: 'Server-side statement_timeout per request (default 30s).', example: '--statement-timeout 5s' },
  { key: 'maxErrors', flag: 'max-errors', yaml: 'maxErrors', kind: 'count', min: 0, max: 1_000_000_000, arg: 'N', group: 'limits', help: 'Stop the run after N failed requests; 0 never (default 100).', example: '--max-errors 10' },
  { key: 'allowWrites', flag: 'allow-writes', yaml: 'allowWrites', kind: 'flag', group: 'limits', help: 'Allow INSERT/UPDATE/DELETE/MERGE; each request is rolled back.' },
  { key: 'reconnect', flag: 'reconnect', yaml: 'reconnect', kind: 'flag', group: 'limits', help: 'A client whose session is lost (server restart, terminated backend) connects again, retrying with backoff, instead of stopping; the report shows the outage window.' },
  { key: 'workers', flag: 'workers', yaml: 'workers', kind: 'workers', min: 1, max: 64, arg: 'N|auto', group: 'limits', help: 'Event loops (worker threads) running the clients, like pgbench -j (default auto: one per 32 clients, up to half the cores). Plain --clients runs only.', example: '--workers 2' },
  { key: 'prepared', flag: 'prepared', yaml: 'prepared', setting: { name: 'prepared', unit: 'flag' }, kind: 'flag', group: 'protocol', help: 'Send the statement as a named prepared statement (parse and plan once per session, like pgbench -M prepared).' },
  { key: 'seed', flag: 'seed', yaml: 'seed', kind: 'count', min: 0, max: RATE_LIMITS.seed.max, arg: 'N', group: 'protocol', help: 'Seed of every random choice (parameter values, Poisson arrivals); the same seed repeats them (default 1).' },
  { key: 'applicationName', flag: 'application-name', yaml: 'applicationName', setting: { name: 'applicationName', unit: 'text' }, kind: 'name', arg: 'NAME', group: 'protocol', help: "The sessions' application_name, how the server and a pooler tell them apart (default pgload).", example: '--application-name pgload-ci' },
  { key: 'serverVcpus', flag: 'server-vcpus', yaml: 'serverVcpus', setting: { name: 'serverVcpus', unit: 'count', zeroIsUnset: true }, kind: 'count', min: 1, max: 4096, arg: 'N', group: 'insight', help: "The server's CPU count, to compare with active sessions.", example: '--server-vcpus 2' },
  { key: 'serverMemoryKB', flag: 'server-memory', yaml: 'serverMemory', kind: 'size', min: SERVER_MEMORY_RANGE_KB.min, max: SERVER_MEMORY_RANGE_KB.max, arg: 'SIZE', group: 'insight', help: "The server's memory, to weigh work_mem × clients against.", example: '--server-memory 16GB' },
  { key: 'explain', flag: 'no-explain', negated: true, yaml: 'explain', setting: { name: 'explain', unit: 'flag' }, kind: 'flag', group: 'insight', help: 'Do not capture EXPLAIN ANALYZE (alone and under load).' },
  { key: 'sampleIntervalMs', flag: 'sample-interval', yaml: 'sampleInterval', setting: { name: 'sampleIntervalMs', unit: 'ms' }, kind: 'duration', bare: 'ms', min: 10, max: 60_000, zeroIsOff: true, arg: 'TIME', group: 'insight', help: 'How often to sample what sessions wait on; 0 off (default 100ms).', example: '--sample-interval 250ms' },
];

export type OptionValue = number | boolean | string;
export type Parsed = { ok: true; value: OptionValue } | { ok: false; error: string };

/** Whether an application_name is one PostgreSQL keeps as given: 1–63 printable ASCII characters. */
export function checkApplicationName(v: string): string | null {
  if (v.length === 0 || v.length > 63) return `an application name has 1 to 63 characters, got ${v.length}`;
  if (!/^[\x20-\x7e]+$/.test(v)) return 'an application name is printable ASCII only (PostgreSQL replaces anything else with ?)';
  return null;
}

/**
 * A value of `row` as a person gave it: text from the CLI or YAML, a number or boolean from YAML or a setting (a bare
 * number in the row's bare unit for durations). Returns the value in the run's unit, or an error sentence.
 */
export function parseOption(row: OptionRow, raw: unknown): Parsed {
  const text = typeof raw === 'string' ? raw : undefined;
  switch (row.kind) {
    case 'flag':
      if (typeof raw !== 'boolean') return { ok: false, error: `must be true or false, got ${JSON.stringify(raw)}` };
      return { ok: true, value: raw };
    case 'count': {
      const r = parseWholeNumber(typeof raw === 'number' ? String(raw) : (text ?? JSON.stringify(raw)), row.min!, row.max!);
      return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error };
    }
    case 'workers': {
      if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return { ok: true, value: 'auto' };
      const r = parseWholeNumber(typeof raw === 'number' ? String(raw) : (text ?? JSON.stringify(raw)), row.min!, row.max!);
      return r.ok ? { ok: true, value: r.value } : { ok: false, error: `${r.error} (or auto)` };
    }
    case 'duration': {
      if (typeof raw === 'string' && /^\s*-/.test(raw)) return { ok: false, error: 'a duration cannot be negative; write it like 500ms or 30s' };
      let ms: number;
      if (typeof raw === 'number') ms = raw * (row.bare === 's' ? 1000 : 1);
      else {
        const r = parseDurationMs(text ?? JSON.stringify(raw), row.bare ?? 'ms');
        if (!r.ok) return { ok: false, error: r.error };
        ms = r.ms;
      }
      if (ms === 0 && row.zeroIsOff) return { ok: true, value: 0 };
      if (!(ms >= row.min!)) return { ok: false, error: `must be at least ${formatBound(row.min!)}${row.zeroIsOff ? ' (or 0 for off)' : ''}` };
      if (ms > row.max!) return { ok: false, error: `must be at most ${formatBound(row.max!)}` };
      return { ok: true, value: ms };
    }
    case 'size': {
      const r = parseSizeKB(text ?? JSON.stringify(raw), { min: row.min!, max: row.max! });
      return r.ok ? { ok: true, value: r.kb } : { ok: false, error: r.error };
    }
    case 'name': {
      if (typeof raw !== 'string') return { ok: false, error: `must be text, got ${JSON.stringify(raw)}` };
      const problem = checkApplicationName(raw);
      return problem ? { ok: false, error: problem } : { ok: true, value: raw };
    }
  }
}

/** How a message names the option of a row: `statement timeout (ms)`, `max errors`. */
export function optionLabel(row: OptionRow): string {
  const unit = /Ms$/.test(row.key) ? ' (ms)' : /KB$/.test(row.key) ? ' (kB)' : '';
  const words = row.key.replace(/(Ms|KB)$/, '').replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
  return `${words}${unit}`;
}

/**
 * A value already in the run's unit (a ProfileInput field), checked against its row's kind and range; an error
 * sentence, or null. The same ranges as parseOption: the table is the one place they are written.
 */
export function checkOptionValue(row: OptionRow, v: unknown): string | null {
  const name = optionLabel(row);
  switch (row.kind) {
    case 'flag':
      return typeof v === 'boolean' ? null : `${name} must be true or false, got ${JSON.stringify(v)}`;
    case 'name': {
      if (typeof v !== 'string') return `${name} must be text, got ${JSON.stringify(v)}`;
      const problem = checkApplicationName(v);
      return problem && `The application name ${JSON.stringify(v)} cannot be used: ${problem}`;
    }
    case 'workers':
    case 'count':
      if (row.kind === 'workers' && v === 'auto') return null;
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${name} must be a whole number, got ${JSON.stringify(v)}`;
      return v < row.min! || v > row.max! ? `${name} must be from ${row.min} to ${row.max}, got ${v}` : null;
    case 'duration':
    case 'size':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${name} must be a number, got ${JSON.stringify(v)}`;
      if (v === 0 && row.zeroIsOff) return null;
      if (v < row.min!) return `${name} must be at least ${row.min}${row.zeroIsOff ? ' (or 0 for off)' : ''}, got ${v}`;
      return v > row.max! ? `${name} must be at most ${row.max}, got ${v}` : null;
  }
}

function formatBound(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The help lines of a group, as `pgload run --help` prints them. */
export function optionHelp(group: OptionRow['group'], rows: readonly OptionRow[] = RUN_OPTION_TABLE): string {
  return rows
    .filter((r) => r.group === group)
    .map((r) => {
      const head = `  --${r.flag}${r.arg ? ` ${r.arg}` : ''}`.padEnd(27);
      return `${head}${r.example ? `${r.help.padEnd(60)} e.g. ${r.example}` : r.help}`;
    })
    .join('\n');
}

/** The row of a CLI flag (without `--`). */
export function rowByFlag(flag: string): OptionRow | undefined {
  return RUN_OPTION_TABLE.find((r) => r.flag === flag);
}
