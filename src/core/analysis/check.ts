/**
 * `pgload check pgload.yml`: a list of statements with their load and budgets, for a CI job.
 *
 *   url: postgres://app@db:5432/shop        # optional: else --url, else PG* variables and ~/.pgpass
 *   defaults: { clients: 10, duration: 5s }  # any run option below, for every check
 *   checks:
 *     - name: orders of a customer
 *       file: queries/orders.sql            # or sql: "SELECT …"; statement: N picks one of a file's statements
 *       clients: 20
 *       duration: 10s                       # or requests: 500
 *       params: { 1: "int:1..1000" }
 *       budgets: { p95: 200ms, qps: 100, errors: 0, hints: warning }
 *
 * The file is read and every check validated (SQL, safety, generators, budgets) before anything runs.
 */
import * as path from 'node:path';
import type * as YamlModule from 'yaml';
import { onFirstUse } from '../lazy';
import type { CapacityDemand, CapacityResult, HintSeverity, ProfileResult } from '../../shared/result';
import { demandWords } from '../../shared/report/capacity';
import { profile, type RunContext } from '../load/runner';
import { capacity } from './capacity';
import { errorMessage, PgloadError } from '../errors';
import { readInputText } from '../inputFile';
import { formatMs } from '../../shared/format';
import type { ProfileInput } from '../options';
import type { ParamInput } from '../load/params';
import { ensureParser } from '../sql';
import { statementNumber } from '../sqlApart';
import { parseOption, RUN_OPTION_TABLE } from '../optionTable';
import { parseDurationMs } from '../units';

export interface Budget {
  /**
   * What is measured: a latency percentile (an upper bound), throughput (a lower bound), failed requests, hints; or
   * the capacity within the p95 budget (a lower bound: users, or requests per second), found by a capacity search.
   */
  metric: 'p50' | 'p90' | 'p95' | 'p99' | 'max' | 'mean' | 'qps' | 'errors' | 'hints' | 'min-users' | 'min-rate';
  /** The bound: ms for latencies, q/s, a count of failed requests, or the lowest hint severity not allowed. */
  limit: number | HintSeverity;
  /** As written, for messages. */
  text: string;
}

export interface CheckSpec {
  name: string;
  input: ProfileInput;
  budgets: Budget[];
  /** Where the check is written: 0-based line and column in the check file (for an editor's test item). */
  at: { line: number; column: number };
  /** Where its statement is when it comes from a file: the path (absolute) and the statement's UTF-16 offsets. */
  source?: { file: string; start: number; end: number };
  /** A capacity check (a min-users or min-rate budget): the search it runs instead of one load, its p95 budget the objective. */
  capacity?: CapacityCheck;
}

export interface CapacityCheck {
  objectiveMs: number;
  demand: CapacityDemand;
  max: number;
  budgetMs: number;
}

export interface CheckFile {
  url?: string;
  checks: CheckSpec[];
}

const LATENCY = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const;
const BUDGET_KEYS = [...LATENCY, 'qps', 'errors', 'hints', 'min-users', 'min-rate'];

/** The yaml library, loaded on first use: its start-up (~8 ms) is not the extension's activation's to pay. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = onFirstUse(() => require('yaml') as typeof YamlModule);

/** A capacity check's search: its demand (users who pause through a pool, or a rate) and its limits. */
const CAPACITY_KEYS = ['thinkTime', 'poolSize', 'maxOverflow', 'poolTimeout', 'maxUsers', 'maxRate', 'budget'];
/** The run options a check file takes: every option of the table with a YAML key, and settings and params. */
const RUN_KEYS = [...RUN_OPTION_TABLE.flatMap((r) => (r.yaml ? [r.yaml] : [])), 'settings', 'params'];
const CHECK_KEYS = ['name', 'sql', 'file', 'statement', 'budgets', 'capacity', ...RUN_KEYS];
const SEVERITY_ORDER: HintSeverity[] = ['info', 'warning', 'critical'];

type Obj = Record<string, unknown>;

export async function loadCheckFile(file: string): Promise<CheckFile> {
  let text: string;
  try {
    text = readInputText(file, 'checkFile', file);
  } catch (err) {
    if ((err as PgloadError).code === 'ENOENT') throw new PgloadError('usage', `${file} does not exist; write one like the example in "pgload check --help"`);
    throw err;
  }
  return parseCheckFile(text, file);
}

export async function parseCheckFile(text: string, file: string): Promise<CheckFile> {
  const bad = (msg: string): never => {
    throw new PgloadError('usage', `${file}: ${msg}`);
  };
  const doc = yaml().parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'somewhere';
    bad(`is not valid YAML at ${at}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let root: unknown;
  try {
    // Aliases are expanded with the yaml library's limit (100): a file of nested aliases (a "billion laughs") is refused.
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return bad(`is refused: ${errorMessage(err).split('\n')[0]} (its aliases would expand without bound); write the checks out, or use fewer aliases`);
  }
  if (!isObj(root)) return bad('must be a mapping with a "checks" list (see "pgload check --help")');
  unknownKeys(root, ['url', 'defaults', 'checks'], 'the top level', bad);
  if (root.url !== undefined && typeof root.url !== 'string') bad('"url" must be a connection URL string');
  const defaults = root.defaults ?? {};
  if (!isObj(defaults)) bad('"defaults" must be a mapping of run options, like { clients: 10, duration: 5s }');
  unknownKeys(defaults as Obj, RUN_KEYS, '"defaults"', bad);
  if (!Array.isArray(root.checks) || root.checks.length === 0) bad('needs a non-empty "checks" list');
  await ensureParser();
  const names = new Set<string>();
  const checkNodes = doc.get('checks', true) as { items: unknown[] } | undefined;
  const checks = (root.checks as unknown[]).map((raw, i) => {
    const where = `check ${i + 1}`;
    if (!isObj(raw)) return bad(`${where} must be a mapping with a name, sql or file, and budgets`);
    unknownKeys(raw, CHECK_KEYS, where, bad);
    const name = raw.name ?? `check ${i + 1}`;
    if (typeof name !== 'string' || name.trim() === '') bad(`${where}: "name" must be text`);
    if (names.has(name as string)) bad(`two checks are named "${name}"; give each its own name`);
    names.add(name as string);
    const label = `check "${name}"`;
    // A check's own requests or duration replaces the default's (either of them).
    const inherited = { ...(defaults as Obj) };
    if (raw.requests !== undefined || raw.duration !== undefined) {
      delete inherited.requests;
      delete inherited.duration;
    }
    const merged = { ...inherited, ...raw };
    const { sql, source } = statementOf(raw, path.dirname(file), label, bad);
    const offset = (checkNodes?.items[i] as { range?: [number, number, number] } | undefined)?.range?.[0] ?? 0;
    const before = text.slice(0, offset).split('\n');
    const budgets = budgetsOf(raw.budgets, label, bad);
    const capacity = capacityOf(raw, budgets, label, bad);
    return {
      name: name as string,
      input: { ...runInput(merged, label, bad), sql },
      // A capacity check's p95 budget is its search's objective; its budget is the capacity.
      budgets: capacity ? budgets.filter((b) => b.metric !== 'p95') : budgets,
      at: { line: before.length - 1, column: before[before.length - 1].length },
      source,
      ...(capacity ? { capacity } : {}),
    };
  });
  return { url: root.url as string | undefined, checks };
}

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function unknownKeys(o: Obj, allowed: string[], where: string, bad: (m: string) => never): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${where} has an unknown key "${k}"; the keys are ${allowed.join(', ')}`);
}

function statementOf(raw: Obj, dir: string, label: string, bad: (m: string) => never): { sql: string; source?: CheckSpec['source'] } {
  if ((raw.sql === undefined) === (raw.file === undefined)) bad(`${label} needs either "sql" or "file"`);
  if (raw.sql !== undefined) {
    if (typeof raw.sql !== 'string' || raw.sql.trim() === '') bad(`${label}: "sql" must be the statement's text`);
    if (raw.statement !== undefined) bad(`${label}: "statement" goes with "file"`);
    return { sql: raw.sql as string };
  }
  if (typeof raw.file !== 'string') return bad(`${label}: "file" must be a path (relative to the check file)`);
  const file = path.resolve(dir, raw.file);
  let text: string;
  try {
    text = readInputText(file, 'sql', `${label}: ${raw.file}`);
  } catch (err) {
    return bad(`${errorMessage(err)}${(err as PgloadError).code === 'ENOENT' ? ' (paths are relative to the check file)' : ''}`);
  }
  const n = raw.statement ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1) bad(`${label}: "statement" must be a whole number from 1 (the statements of ${raw.file} in order), got ${JSON.stringify(raw.statement)}`);
  // Only the statement checked is parsed: a syntax error in another statement of the file does not fail this check.
  let found: ReturnType<typeof statementNumber>;
  try {
    found = statementNumber(text, n as number);
  } catch (err) {
    return bad(`${label}: ${raw.file}: ${errorMessage(err)}`);
  }
  if (raw.statement === undefined && found.count > 1) bad(`${label}: ${raw.file} holds ${found.count} statements; say which with "statement: N"`);
  const st = found.statement;
  return { sql: st.text, source: { file, start: st.start, end: st.end } };
}

function runInput(o: Obj, label: string, bad: (m: string) => never): Omit<ProfileInput, 'sql'> {
  // Every option of the table by its YAML key, parsed and range-checked as the table says.
  const out: Record<string, unknown> = {};
  for (const row of RUN_OPTION_TABLE) {
    if (!row.yaml || o[row.yaml] === undefined) continue;
    const r = parseOption(row, o[row.yaml]);
    if (!r.ok) bad(`${label}: "${row.yaml}" ${JSON.stringify(o[row.yaml])}: ${r.error}`);
    out[row.key] = (r as { value: unknown }).value;
  }
  let params: ParamInput[] | undefined;
  if (o.params !== undefined) {
    if (Array.isArray(o.params)) params = o.params.map((spec, i) => ({ index: i + 1, spec: String(spec) }));
    else if (isObj(o.params)) params = Object.entries(o.params).map(([k, spec]) => ({ index: Number(k.replace(/^\$/, '')), spec: String(spec) }));
    else bad(`${label}: "params" must be a list (for $1, $2, …) or a mapping like { 1: "int:1..1000" }`);
    if (params!.some((p) => !Number.isInteger(p.index) || p.index < 1)) bad(`${label}: "params" keys must be parameter numbers like 1 or $1`);
  }
  let settings: Record<string, string> | undefined;
  if (o.settings !== undefined) {
    if (!isObj(o.settings)) bad(`${label}: "settings" must be a mapping like { work_mem: 64MB }`);
    settings = Object.fromEntries(Object.entries(o.settings as Obj).map(([k, v]) => [k, String(v)]));
  }
  if (out.requests !== undefined && out.durationMs !== undefined) bad(`${label}: give "requests" or "duration", not both`);
  // A check runs 5 s unless it says otherwise.
  if (out.requests === undefined && out.durationMs === undefined) out.durationMs = 5000;
  return { ...(out as Omit<ProfileInput, 'sql'>), settings, params };
}

function budgetsOf(raw: unknown, label: string, bad: (m: string) => never): Budget[] {
  if (raw === undefined) return bad(`${label} has no "budgets"; give at least one, like budgets: { p95: 200ms }`);
  if (!isObj(raw) || Object.keys(raw).length === 0) return bad(`${label}: "budgets" must be a mapping like { p95: 200ms, qps: 100 }`);
  return Object.entries(raw).map(([metric, value]) => {
    if (!BUDGET_KEYS.includes(metric)) bad(`${label}: unknown budget "${metric}"; the budgets are ${BUDGET_KEYS.join(', ')}`);
    const text = String(value).trim();
    // "< 200ms", "> 100", or just the bound: the direction is the metric's own.
    const expect = metric === 'qps' || metric.startsWith('min-') ? '>' : metric === 'hints' ? '' : '<';
    const op = /^([<>]=?)\s*/.exec(text)?.[1];
    if (op && op[0] !== expect) bad(`${label}: budget ${metric} ${text}: ${metric} is a ${expect === '>' ? 'lower' : 'upper'} bound, write it as ${metric}: ${expect} …`);
    const bound = text.replace(/^[<>]=?\s*/, '');
    if (metric === 'hints') {
      const sev = bound.replace(/^no\s+/i, '').toLowerCase();
      if (!SEVERITY_ORDER.includes(sev as HintSeverity)) bad(`${label}: budget hints ${text}: give the lowest severity not allowed: info, warning or critical`);
      return { metric: 'hints' as const, limit: sev as HintSeverity, text };
    }
    if (metric === 'min-users' || metric === 'min-rate') {
      const n = Number(bound.replace(/\s*(users|\/s|q\/s)$/i, ''));
      if (!(n > 0) || (metric === 'min-users' && !Number.isInteger(n))) bad(`${label}: budget ${metric} ${text}: give ${metric === 'min-users' ? 'a whole number of users, like 100' : 'requests per second, like 50'}`);
      return { metric: metric as Budget['metric'], limit: n, text };
    }
    if (metric === 'qps' || metric === 'errors') {
      const n = Number(bound.replace(/\s*(q\/s|qps|\/s)$/i, ''));
      if (!Number.isFinite(n) || n < 0) bad(`${label}: budget ${metric} ${text}: give a number, like ${metric === 'qps' ? '100' : '0'}`);
      return { metric: metric as Budget['metric'], limit: n, text };
    }
    const r = typeof value === 'number' ? { ok: true as const, ms: value } : parseDurationMs(bound, 'ms');
    if (!r.ok || r.ms <= 0) bad(`${label}: budget ${metric} ${text}: give a duration like 200ms or 1.5s`);
    return { metric: metric as Budget['metric'], limit: (r as { ms: number }).ms, text };
  });
}

/** One budget against a result: whether it held, and a sentence with the measured figure and the bound. */
export interface BudgetOutcome {
  budget: Budget;
  ok: boolean;
  text: string;
}

/**
 * Every budget against a result, one sentence each with the measured figure. `bound` names a latency bound in the
 * sentence ("the budget" in a check file; the CLI's gates say "--max-p95").
 */
export function budgetOutcomes(r: ProfileResult, budgets: Budget[], bound: (metric: string) => string = () => 'the budget'): BudgetOutcome[] {
  const l = r.load.latency;
  const f = formatMs;
  return budgets.map((b) => {
    if ((LATENCY as readonly string[]).includes(b.metric)) {
      const v = b.metric === 'max' ? l.maxMs : b.metric === 'mean' ? l.meanMs : l[`${b.metric as 'p50'}Ms`];
      if (l.count === 0) return { budget: b, ok: false, text: `${b.metric} not measured (no successful request) is above ${bound(b.metric)} ${f(b.limit as number)}` };
      const ok = v <= (b.limit as number);
      return { budget: b, ok, text: `${b.metric} ${f(v)} is ${ok ? 'within' : 'above'} ${bound(b.metric)} ${f(b.limit as number)}` };
    }
    if (b.metric === 'qps') {
      const ok = r.load.throughputQps >= (b.limit as number);
      return { budget: b, ok, text: `throughput ${r.load.throughputQps.toFixed(1)} q/s is ${ok ? 'at or above' : 'below'} the budget ${b.limit} q/s` };
    }
    if (b.metric === 'errors') {
      const n = r.load.requests.failed;
      const ok = n <= (b.limit as number);
      return { budget: b, ok, text: `${n} failed request${n === 1 ? '' : 's'}, the budget allows ${b.limit}` };
    }
    const min = SEVERITY_ORDER.indexOf(b.limit as HintSeverity);
    const found = r.hints.filter((h) => SEVERITY_ORDER.indexOf(h.severity) >= min);
    return {
      budget: b,
      ok: found.length === 0,
      text: found.length ? `${found.length} hint${found.length === 1 ? '' : 's'} of severity ${b.limit} or above: ${found.map((h) => h.title).join('; ')}` : `no hint of severity ${b.limit} or above`,
    };
  });
}

/** The budgets a result breaks, one sentence each (see budgetOutcomes). */
export function evaluateBudgets(r: ProfileResult, budgets: Budget[], bound: (metric: string) => string = () => 'the budget'): string[] {
  return budgetOutcomes(r, budgets, bound)
    .filter((o) => !o.ok)
    .map((o) => o.text);
}

/**
 * A check with a min-users or min-rate budget searches the capacity within its p95 budget: the two are required
 * together, and nothing else is measured by it. `capacity:` describes the demand; without it, users back to back
 * through a pool of 5 + 10 (SQLAlchemy's defaults), or a rate on those sessions.
 */
function capacityOf(raw: Obj, budgets: Budget[], label: string, bad: (m: string) => never): CapacityCheck | undefined {
  const min = budgets.filter((b) => b.metric === 'min-users' || b.metric === 'min-rate');
  if (min.length === 0) {
    if (raw.capacity !== undefined) bad(`${label}: "capacity" describes the search of a min-users or min-rate budget; give one, like budgets: { p95: 500ms, min-users: 100 }`);
    return undefined;
  }
  if (min.length > 1) bad(`${label}: give min-users or min-rate, not both`);
  const p95 = budgets.find((b) => b.metric === 'p95');
  if (!p95) bad(`${label}: ${min[0].metric} is the capacity within a p95 objective; give the p95 budget too, like budgets: { p95: 500ms, ${min[0].metric}: ${min[0].text} }`);
  const others = budgets.filter((b) => b.metric !== 'p95' && b !== min[0]);
  if (others.length) bad(`${label}: a capacity check measures its capacity only; put ${others.map((b) => b.metric).join(', ')} in a check of its own`);
  const c = raw.capacity ?? {};
  if (!isObj(c)) return bad(`${label}: "capacity" must be a mapping like { thinkTime: 5s, poolSize: 20, maxOverflow: 100, budget: 2m }`);
  unknownKeys(c, CAPACITY_KEYS, `${label}'s "capacity"`, bad);
  const ms = (key: string, fallback: number, min = 0): number => {
    if (c[key] === undefined) return fallback;
    const r = typeof c[key] === 'number' ? { ok: true as const, ms: (c[key] as number) * 1000 } : parseDurationMs(String(c[key]), 's');
    if (!r.ok || r.ms < min) bad(`${label}: capacity ${key} ${JSON.stringify(c[key])}: give a duration like 5s`);
    return (r as { ms: number }).ms;
  };
  const whole = (key: string, fallback: number, lo: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < lo) bad(`${label}: capacity ${key} ${JSON.stringify(c[key])}: give a whole number of at least ${lo}`);
    return v as number;
  };
  const poolSize = whole('poolSize', 5, 1);
  const maxOverflow = whole('maxOverflow', 10, 0);
  const budgetMs = ms('budget', 180_000, 20_000);
  const byRate = min[0].metric === 'min-rate';
  if (byRate && c.thinkTime !== undefined) bad(`${label}: "thinkTime" is the pause of users; min-rate searches an arrival rate`);
  const demand: CapacityDemand = byRate
    ? { kind: 'rate', sessions: poolSize + maxOverflow }
    : { kind: 'users', thinkTimeMs: ms('thinkTime', 0), thinkTimeDistribution: 'exponential', poolSize, maxOverflow, poolTimeoutMs: ms('poolTimeout', 30_000, 1) };
  if (c.maxRate !== undefined && !(typeof c.maxRate === 'number' && c.maxRate > 1)) bad(`${label}: capacity maxRate ${JSON.stringify(c.maxRate)}: give requests per second above 1, like 500`);
  const max = byRate ? ((c.maxRate as number | undefined) ?? 10_000) : whole('maxUsers', 1000, 2);
  return { objectiveMs: p95!.limit as number, demand, max, budgetMs };
}

/** A capacity check's budget against its search: the capacity found, at or above the budget. */
export function capacityOutcomes(c: CapacityResult, budgets: Budget[]): BudgetOutcome[] {
  return budgets.map((b) => {
    const ok = c.capacity !== null && c.capacity >= (b.limit as number);
    const found = c.capacity === null ? 'none (no load meets it)' : demandWords(c.demand, c.capacity);
    return { budget: b, ok, text: `the capacity within p95 ≤ ${formatMs(c.objective.p95Ms)} is ${found}, ${ok ? 'at or above' : 'below'} the budget ${demandWords(c.demand, b.limit as number)}` };
  });
}

/** One check as it ran: its budgets' outcomes, and the run (or the capacity search) they stand on. */
export interface CheckRun {
  outcomes: BudgetOutcome[];
  /** Why the check could not be judged (its run ended early), else null. */
  endedEarly: string | null;
  result?: ProfileResult;
  capacity?: CapacityResult;
  ms: number;
}

/** Runs one check: its load and budgets, or its capacity search (CLI and editor alike). */
export async function runCheck(spec: CheckSpec, connection: ProfileInput['connection'], ctx: RunContext = {}): Promise<CheckRun> {
  const input = { ...spec.input, connection };
  if (spec.capacity) {
    const k = spec.capacity;
    const c = await capacity({ base: input, objectiveP95Ms: k.objectiveMs, demand: k.demand, max: k.max, budgetMs: k.budgetMs }, { signal: ctx.signal, logger: ctx.logger, environment: ctx.environment });
    return { outcomes: capacityOutcomes(c, spec.budgets), endedEarly: c.status === 'cancelled' ? 'the search was cancelled' : null, capacity: c, ms: c.search.elapsedMs };
  }
  const result = await profile(input, ctx);
  return { outcomes: budgetOutcomes(result, spec.budgets), endedEarly: result.status !== 'completed' ? (result.statusDetail ?? result.status) : null, result, ms: result.load.wallMs };
}
