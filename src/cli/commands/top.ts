/** `pgload top`: the server's top statements from pg_stat_statements, with generators suggested for their `$n`. */
import type { ParseArgsConfig } from 'node:util';
import { TOP_ORDERS, topStatements, type TopOrder } from '../../core/insight/top';
import { formatTopMarkdown, formatTopReport } from '../../shared/report/top';
import { EXIT, CliIO, usage, emitJson, writeOutput, checkOutputPaths } from '../io';
import { connectionFromFlags, parseCommand, whole } from '../flags';

export const TOP_HELP = `Usage: pgload top [--url URL] [--limit 20] [--order total|mean|temp|calls] [--json PATH|-] [--markdown PATH]

Lists what the application really sends: the database's top statements from pg_stat_statements (calls, mean and
total time and its share, rows per call, temporary-file blocks, cache hits), each with how pgload can profile it
and, for its normalized constants ($1 …), value generators suggested from the columns' statistics (pg_stats: most
common values, histogram bounds) — check them, edit them, then run the "profile:" line it prints.

  --url URL          The database (else the PG* variables and ~/.pgpass).
  --limit N          How many statements (default 20, at most 1000).
  --order BY         total (default), mean, temp (temporary-file blocks) or calls.
  --json PATH|-      Write the list as JSON (statements[]).
  --markdown PATH    Write it as a Markdown table.

Needs pg_stat_statements: shared_preload_libraries = 'pg_stat_statements' (then a restart) and
CREATE EXTENSION pg_stat_statements in the database. Reads only; nothing is reset.

Exit codes: 0 listed · 2 bad usage, or pg_stat_statements missing (the lines to enable it are printed).
`;

export const TOP_OPTIONS = {
  url: { type: 'string' },
  limit: { type: 'string' },
  order: { type: 'string' },
  json: { type: 'string' },
  markdown: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export async function topCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, TOP_OPTIONS, 'top', TOP_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  if (positionals.length > 0) usage(`pgload top takes no file or statement, got "${positionals[0]}" (see "pgload top --help")`);
  const limit = whole('limit', v.limit, 1, 1000) ?? 20;
  const order = (v.order ?? 'total').toLowerCase();
  if (!TOP_ORDERS.includes(order as TopOrder)) usage(`--order ${v.order}: use one of ${TOP_ORDERS.join(', ')}`);
  const r = await topStatements({ connection: connectionFromFlags(v.url), limit, order: order as TopOrder }, { env: io.env });
  if (v.markdown !== undefined) writeOutput(io, v.markdown, formatTopMarkdown(r) + '\n', 'Markdown list');
  emitJson(io, v.json, r, 'top statements')(formatTopReport(r) + '\n');
  return EXIT.ok;
}
