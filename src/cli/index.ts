/** The `pgload` executable: wires the process (argv, streams, Ctrl-C, exit code) to `main`. */
import { EXIT } from './io';
import { main } from './main';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write('\npgload: stopping: cancelling running queries and closing sessions (Ctrl-C again to quit at once)\n');
    controller.abort();
  } else {
    process.exit(EXIT.cancelled);
  }
});
process.on('SIGTERM', () => controller.abort());
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`pgload: internal error (unhandled rejection): ${reason instanceof Error ? reason.message : String(reason)}\n`);
  process.exitCode = EXIT.failures;
});

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  env: process.env,
  signal: controller.signal,
}).then((code) => {
  process.exitCode = code;
});
