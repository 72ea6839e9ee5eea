/**
 * The `pgload` command: a thin shell around the core. Dispatches to one file per command (commands/), which parse
 * their flags (flags.ts), run, print the report and return the exit code (io.ts).
 * Exit codes: 0 ok · 1 some requests failed (or the run ended early) · 2 bad usage or input, nothing ran ·
 * 3 a --max-* gate failed · 130 cancelled (Ctrl-C).
 */
import { PgloadError, errorMessage } from '../core/errors';
import { makeRedactor } from '../core/connection/redact';
import { VERSION } from '../core/version';
import { EXIT, CliIO, UsageError, failedOutputs, usage } from './io';
import { runCommand } from './commands/run';
import { compareCommand } from './commands/compare';
import { sweepCommand } from './commands/sweep';
import { checkCommand } from './commands/check';
import { poolsCommand } from './commands/pools';
import { abCommand } from './commands/ab';
import { diagnoseCommand } from './commands/diagnose';
import { topCommand } from './commands/top';
import { capacityCommand } from './commands/capacity';
import { mergeCommand } from './commands/merge';

export const MAIN_HELP = `pgload ${VERSION} — profile a PostgreSQL query under concurrent load

Usage:
  pgload diagnose (--sql TEXT | --file PATH) [--users 100 --pool-size 20 --max-overflow 100] [--budget 3m] [--sql-b B]
  pgload capacity (--sql TEXT | --file PATH) --max-p95 500ms [--think-time 5s --pool-size 20 --max-overflow 100]
  pgload run (--sql TEXT | --file PATH [--statement N]) [options]
  pgload sweep (--sql TEXT | --file PATH [--statement N]) [--max-clients 64] [--steps 1,2,4] [--step-duration 5s]
  pgload pools (--sql TEXT | --file PATH) --users N --pool 20+100 --pool 4 [--duration 10s]
  pgload compare BEFORE.json AFTER.json [--max-regression 10%]
  pgload check pgload.yml [--url URL] [--json PATH|-] [--markdown PATH]
  pgload ab (--sql A | --file A) (--setting NAME=VALUE | --sql-b B | --file-b B) [--rounds 4]
  pgload top [--url URL] [--limit 20] [--order total|mean|temp|calls]
  pgload merge SHARD.json … --json all.json [--max-p95 500ms]
  pgload --help | --version

Commands:
  diagnose Answer the four questions in one planned run: pool size, settings, the query under load, ORM or raw SQL.
  capacity The most users (or requests/s) that meet a p95 objective, found by a search that brackets it.
  run     Run a statement alone (baseline) and then with N concurrent clients; print the report.
  sweep   Run it at 1, 2, 4, … clients; fit the Universal Scalability Law; recommend a pool size.
  pools   Compare application-pool configurations side by side (pool wait vs database time).
  compare Compare two saved results: percentiles with intervals, significance, hints and plans.
  check   Run a list of statements with budgets (p95 < 200ms, qps > 100, no warning hint): a CI gate.
  ab      A against B in alternating legs (other settings, or other SQL such as an ORM query vs a rewrite).
  top     The database's top statements from pg_stat_statements, with generators suggested for their $1 … $n.
  merge   The shards of a run split across processes or machines (run --shard i/n) as one result, merged exactly.

Run "pgload COMMAND --help" (e.g. "pgload diagnose --help") for every option. Connection: --url, or the PG* environment variables
(PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT) and ~/.pgpass.

Example:
  PGHOST=localhost PGDATABASE=shop pgload run --sql "SELECT * FROM orders WHERE id = 42" --clients 50 --duration 30s
`;

/** Runs the CLI with the given arguments; returns the exit code. Never throws. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  failedOutputs.length = 0;
  const code = await dispatch(argv, io);
  // A file that could not be written was printed instead: the run's own outcome stands unless it was a success.
  if (failedOutputs.length > 0 && code === EXIT.ok) {
    io.stderr(`pgload: ${failedOutputs.join('; ')}: the content was printed above instead\n`);
    return EXIT.usage;
  }
  return code;
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  const redact = makeRedactor([io.env.PGPASSWORD]);
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    if (command === 'run') return await runCommand(rest, io);
    if (command === 'sweep') return await sweepCommand(rest, io);
    if (command === 'pools') return await poolsCommand(rest, io);
    if (command === 'compare') return compareCommand(rest, io);
    if (command === 'check') return await checkCommand(rest, io);
    if (command === 'ab') return await abCommand(rest, io);
    if (command === 'diagnose') return await diagnoseCommand(rest, io);
    if (command === 'capacity') return await capacityCommand(rest, io);
    if (command === 'top') return await topCommand(rest, io);
    if (command === 'merge') return mergeCommand(rest, io);
    usage(`Unknown command "${command}"; the commands are "diagnose", "run", "sweep", "pools", "compare", "check", "ab", "top" and "merge" (see "pgload --help")`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`pgload: ${redact(err.message)}\n`);
      return EXIT.usage;
    }
    if (err instanceof PgloadError) {
      io.stderr(`pgload: ${redact(err.message)}\n`);
      if (err.kind === 'cancelled') return EXIT.cancelled;
      return EXIT.usage;
    }
    io.stderr(`pgload: unexpected error: ${redact(errorMessage(err))}\n`);
    return EXIT.failures;
  }
}
