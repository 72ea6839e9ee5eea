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
  [/--sql-b or --file-b/g, 'a second statement (pgload ab --sql-b in a terminal)'],
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

export function inEditorWords(message: string): string {
  let out = message;
  for (const [re, words] of PHRASES) out = out.replace(re, words);
  for (const [re, setting] of SETTINGS) out = out.replace(re, `the ${setting} setting`);
  return out;
}
