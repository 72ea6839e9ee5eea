/**
 * The engine's sentences name command-line flags (`--statement-timeout`, `PGHOST`); in VS Code the same knobs are
 * settings and dialogs. One table turns the flags into the editor's words, so every message reads as VS Code's.
 * Pure: unit-tested without VS Code.
 */
import { RUN_OPTION_TABLE } from '../core/optionTable';

/** Flags that are not rows of the option table, and phrases that have no flag at all. */
const PHRASES: Array<[RegExp, string]> = [
  [/\(--url, PGHOST, PGPORT\)/g, "(the connection's host and port: Edit Connection)"],
  [/--allow-writes/g, 'confirming the write when pgload asks'],
  [/\(--sql-b or --file-b\)/g, '(in the panel: "A/B test…", B a second statement)'],
  [/--sql-b or --file-b/g, 'a second statement ("A/B test…" in the panel)'],
  [/(measure it|compare the two|Measure a rewrite)(:| with) pgload ab --sql-b/g, '$1 with "A/B test…" in the panel (B the rewrite)'],
  [/\(pgload sweep --max-clients (\d+)\)/g, '(set pgload.sweep.maxClients to $1 and Find the right pool size again)'],
  [/`pgload sweep` \(or "Find the right pool size"\)/g, '"Find the right pool size"'],
  [/\(a sweep tells: pgload sweep\)/g, '(Find the right pool size tells)'],
  [/--param N=GENERATOR|--param/g, "the statement's parameter values (its $n CodeLens)"],
  [/--max-clients (\d+)/g, 'pgload.sweep.maxClients = $1'],
  [/--max-clients/g, 'pgload.sweep.maxClients'],
  [/--step-duration/g, 'pgload.sweep.stepSeconds'],
  [/--users/g, 'pgload.app.users'],
  [/--pool-size/g, 'pgload.app.poolSize'],
  [/--max-overflow/g, 'pgload.app.maxOverflow'],
  [/--think-time/g, 'pgload.app.thinkTimeSeconds'],
  [/--budget/g, 'pgload.diagnose.budgetSeconds'],
  [/--clients/g, 'pgload.clients'],
];

/** A flag of the option table → its setting, when it has one. */
const SETTINGS: Array<[RegExp, string]> = RUN_OPTION_TABLE.filter((r) => r.setting).map((r) => [new RegExp(`--${r.flag}(?![\\w-])`, 'g'), `pgload.${r.setting!.name}`]);

/** Keys whose strings are SQL, names or figures the user wrote or the server gave: never reworded. */
const VERBATIM = new Set(['sql', 'sqlB', 'query', 'statement', 'statements', 'transaction', 'fingerprint', 'indexStatements', 'plan', 'plans', 'settings', 'params', 'connection', 'connectionLabel', 'name', 'file']);

/**
 * A panel's state in the editor's words: every sentence of the engine (hints, answers, notes, verdicts) with its flags
 * turned into settings and dialogs; SQL, plans and names left exactly as they are. A copy; the state is not changed.
 */
export function inEditorWordsDeep<T>(value: T): T {
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (key !== undefined && VERBATIM.has(key)) return v;
    if (typeof v === 'string') return v.includes('--') || v.includes('pgload sweep') ? inEditorWords(v) : v;
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, undefined) as T;
}

export function inEditorWords(message: string): string {
  let out = message;
  for (const [re, words] of PHRASES) out = out.replace(re, words);
  for (const [re, setting] of SETTINGS) out = out.replace(re, `the ${setting} setting`);
  return out;
}

/** The sentence for a User setting the workspace overrides, or undefined when it does not. */
export function shadowSentence(key: string, inspected: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined): string | undefined {
  if (!inspected || inspected.globalValue === undefined) return undefined;
  const [where, value] = inspected.workspaceFolderValue !== undefined ? ["this folder's", inspected.workspaceFolderValue] : ["this workspace's", inspected.workspaceValue];
  if (value === undefined || JSON.stringify(value) === JSON.stringify(inspected.globalValue)) return undefined;
  if (typeof value === 'object' || typeof inspected.globalValue === 'object') {
    return `pgload: pgload.${key} is set in ${where} settings too, which take precedence over your User setting: runs here use ${where.replace("this ", 'the ')} list.`;
  }
  const show = (v: unknown) => JSON.stringify(v);
  return `pgload: pgload.${key} is ${show(value)} in ${where} settings, which take precedence over your User setting (${show(inspected.globalValue)}): runs here use ${show(value)}.`;
}
