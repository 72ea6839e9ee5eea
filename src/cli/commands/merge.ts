/** `pgload merge`: the shards of a split run (`pgload run --shard i/n`) as one result, with budgets on the merged figures. */
import type { ParseArgsConfig } from 'node:util';
import { mergeShards } from '../../core/report/merge';
import { readResultFile } from '../../core/report/resultFile';
import { EXIT, CliIO, usage, checkOutputPaths } from '../io';
import { parseCommand } from '../flags';
import { gateLimits, report } from './run';

export const MERGE_HELP = `Usage: pgload merge SHARD.json … [--json PATH|-] [--markdown PATH] [--html PATH] [--max-p95 TIME]

Merges the results of a run split across processes ("pgload run … --shard i/n --json shard-i.json") into one
result. Latency is merged exactly: the shards' HDR histograms are added, so the merged p95 is the p95 of every
request (averaging the shards' percentiles would not be). Timelines are aligned on the server's clock, errors are
summed by SQLSTATE, and the baseline, plans, waits and counters are shard 1's. Every shard of the run must be given,
once. The VS Code panel opens the merged JSON like any other result.

  --json PATH|-            Write the merged result as JSON (- for stdout; the report then goes to stderr).
  --markdown PATH          Write a Markdown report.
  --html PATH              Write a self-contained HTML report.
  --csv PATH               Write the merged timeline as CSV.
  --max-p95 TIME           Exit 3 when the merged p95 is above this.                   e.g. --max-p95 200ms
  --max-p99 TIME           Exit 3 when the merged p99 is above this.

Exit codes: 0 merged · 1 some requests failed or a shard ended early · 2 a file is missing, not a shard's result,
            or shards are missing · 3 a budget failed.

Example:
  pgload merge shard-1.json shard-2.json shard-3.json shard-4.json --json all.json --max-p95 500ms
`;

export const MERGE_OPTIONS = {
  json: { type: 'string' },
  markdown: { type: 'string' },
  html: { type: 'string' },
  csv: { type: 'string' },
  'max-p95': { type: 'string' },
  'max-p99': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export function mergeCommand(args: string[], io: CliIO): number {
  const parsed = parseCommand(args, MERGE_OPTIONS, 'merge', MERGE_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  if (positionals.length === 0) usage('pgload merge takes the result files of every shard, e.g. pgload merge shard-*.json --json all.json');
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  const limits = gateLimits(v);
  const merged = mergeShards(positionals.map((name) => ({ name, result: readResultFile(name) })));
  return report(io, v, merged, limits);
}
