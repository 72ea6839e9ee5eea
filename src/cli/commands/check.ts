/** `pgload check`: the statements of a YAML file against their budgets, as a CI gate. */
import type { ParseArgsConfig } from 'node:util';
import type { CheckOutcome } from '../../shared/result';
import { PgloadError, errorMessage } from '../../core/errors';
import { formatCheckMarkdown, formatCheckReport, formatMs } from '../../shared/format';
import { prepareRun } from '../../core/load/runner';
import { loadCheckFile, runCheck, type CheckSpec } from '../../core/analysis/check';
import { EXIT, CliIO, usage, stderrLogger, writeOutput, emitJson, checkOutputPaths } from '../io';
import { OUTPUT_OPTIONS, parseCommand } from '../flags';

export const CHECK_HELP = `Usage: pgload check FILE.yml [--url URL] [--json PATH|-] [--markdown PATH] [--no-progress]

Runs every statement of the check file with its load and compares the result with its budgets; prints a
summary table. Everything in the file is checked before anything runs.

  url: postgres://app@localhost:5432/shop     # optional; --url wins, else PG* variables and ~/.pgpass
  defaults:                                   # run options for every check
    clients: 10
    duration: 5s                              # or requests: 500
  checks:
    - name: orders of a customer
      file: queries/orders.sql                # relative to this file; or sql: "SELECT …"
      statement: 2                            # which statement, when the file holds several
      clients: 20
      params: { 1: "int:1..1000" }            # generators for $1 … $n, as --param
      settings: { work_mem: 64MB }
      budgets:
        p95: 200ms                            # p50 p90 p95 p99 max mean: upper bounds
        qps: 100                              # at least this throughput
        errors: 0                             # at most this many failed requests
        hints: warning                        # no hint of this severity or above (info, warning, critical)
    - name: the report holds 100 users        # a capacity check: a search instead of one load (pgload capacity)
      file: queries/report.sql
      capacity: { thinkTime: 5s, poolSize: 20, maxOverflow: 100, budget: 2m }   # maxUsers, maxRate, poolTimeout too
      budgets:
        p95: 500ms                            # the objective
        min-users: 100                        # the capacity within it: at least this many users (or min-rate: 50)

Run options: clients, requests, duration, warmup, statementTimeout, threshold, settings, params, prepared,
seed, allowWrites, explain.

Exit codes: 0 every budget met · 3 a budget failed · 1 a check could not run or ended early ·
            2 the file is wrong (nothing ran) · 130 cancelled.
`;

export const CHECK_OPTIONS = {
  url: { type: 'string' },
  markdown: { type: 'string' },
  ...OUTPUT_OPTIONS,
} satisfies ParseArgsConfig['options'];

export async function checkCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(args, CHECK_OPTIONS, 'check', CHECK_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values: v, positionals } = parsed;
  checkOutputPaths(v, ['json', 'markdown', 'html', 'csv']);
  if (positionals.length !== 1) usage(`pgload check takes one check file, got ${positionals.length}; e.g. pgload check pgload.yml (see "pgload check --help")`);
  const file = await loadCheckFile(positionals[0]);
  const url = v.url ?? file.url;
  const connection = url !== undefined ? { url } : {};
  // Every check is validated (SQL, safety, generators, connection settings) before the first runs.
  for (const c of file.checks) {
    try {
      await prepareRun({ ...c.input, connection }, { env: io.env });
    } catch (err) {
      if (err instanceof PgloadError && (err.kind === 'usage' || err.kind === 'input')) usage(`${positionals[0]}: check "${c.name}": ${err.message}`);
      throw err;
    }
  }
  const logger = stderrLogger(io, v.verbose === true);
  const outcomes: CheckOutcome[] = [];
  for (const [i, c] of file.checks.entries()) {
    if (io.signal?.aborted) break;
    if (!v['no-progress']) io.stderr(`pgload: check ${i + 1} of ${file.checks.length}: ${c.name}\n`);
    try {
      const ran = await runCheck(c, connection, { signal: io.signal, logger, environment: { env: io.env } });
      const failures = ran.outcomes.filter((o) => !o.ok).map((o) => o.text);
      if (ran.endedEarly) failures.unshift(`the run ended early: ${ran.endedEarly}`);
      const status = ran.endedEarly ? 'error' : failures.length ? 'failed' : 'passed';
      outcomes.push({ name: c.name, status, failures, budgets: budgetWords(c), ...(ran.result ? { result: ran.result } : {}), ...(ran.capacity ? { capacity: ran.capacity } : {}) });
    } catch (err) {
      if (err instanceof PgloadError && err.kind === 'cancelled') break;
      outcomes.push({ name: c.name, status: 'error', failures: [errorMessage(err)], budgets: budgetWords(c) });
    }
  }
  const out = emitJson(io, v.json, { schemaVersion: 1, kind: 'check', file: positionals[0], checks: outcomes });
  if (v.markdown !== undefined) writeOutput(io, v.markdown, formatCheckMarkdown(outcomes), 'Markdown summary');
  out(formatCheckReport(outcomes, positionals[0]) + '\n');
  if (io.signal?.aborted || outcomes.length < file.checks.length) return EXIT.cancelled;
  if (outcomes.some((o) => o.status === 'error')) return EXIT.failures;
  return outcomes.some((o) => o.status === 'failed') ? EXIT.gate : EXIT.ok;
}

/** The budgets as the report lists them; a capacity check's p95 is its objective. */
function budgetWords(c: CheckSpec): string[] {
  return [...(c.capacity ? [`p95 objective ${formatMs(c.capacity.objectiveMs)}`] : []), ...c.budgets.map((b) => `${b.metric} ${b.text}`)];
}
