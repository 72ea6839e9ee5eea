/** The `pgload` executable: wires the process (argv, streams, Ctrl-C, exit code) to `main`. */
import { EXIT } from './io';
import { main } from './main';
import { createInterface } from 'node:readline/promises';
import { visibleControls } from '../shared/text';

/** A yes/no question on the terminal: only "y" or "yes" is a yes; Ctrl-C is a no. */
async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${visibleControls(question)} [y/N] `, { signal: controller.signal });
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

const controller = new AbortController();
/** How long a cancel may take (cancelling running queries, closing sessions) before the process quits anyway. */
const STOP_GRACE_MS = 15_000;
let interrupts = 0;
const stop = (signal: NodeJS.Signals) => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write(`\npgload: ${signal}: stopping: cancelling running queries and closing sessions (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)\n`);
    controller.abort();
    // Whatever hangs (a silent network, a server that does not answer the cancel), the process ends.
    setTimeout(() => {
      process.stderr.write(`pgload: the stop did not finish within ${STOP_GRACE_MS / 1000} s; quitting. The server ends any session left at its statement or idle timeout.\n`);
      process.exit(EXIT.cancelled);
    }, STOP_GRACE_MS).unref();
  } else {
    process.exit(EXIT.cancelled);
  }
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`pgload: internal error (unhandled rejection): ${reason instanceof Error ? reason.message : String(reason)}\n`);
  process.exitCode = EXIT.failures;
});

// Text from the database (names, messages, pg_stat_statements) reaches the terminal with its control characters visible.
main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(visibleControls(t)),
  stderr: (t) => process.stderr.write(visibleControls(t)),
  control: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  ...(process.stdin.isTTY ? { confirm: confirmOnTerminal } : {}),
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  process.exitCode = code;
});
