/**
 * Entry of the in-host test suite: VS Code loads this file in its extension host (extensionTestsPath) and
 * calls run(). Works the same under @vscode/test-electron (desktop) and code-server (here).
 */
import Mocha from 'mocha';
import * as fs from 'node:fs';

export const DONE_MARKER = 'PGLOAD_EXTENSION_TESTS_DONE';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, color: false, reporter: 'spec' });
  // Defines describe/it on the global object before the test files are evaluated.
  mocha.suite.emit('pre-require', globalThis, 'pgload-extension-tests', mocha);
  // The suites in the order they build on each other (the first run asks for the password; the Runs view lists what
  // ran before it; the secrets suite looks at everything the others stored).
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./basics.test');
  require('./badinput.test');
  require('./sweep.test');
  require('./diagnose.test');
  require('./tools.test');
  require('./loadmodes.test');
  require('./views.test');
  require('./runs.test');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const failed: string[] = [];
  let passes = 0;
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // The code-server runner waits for this file: a remote extension host does not report its exit to
      // the page, and its last log lines can be lost when it shuts down.
      const resultFile = process.env.PGLOAD_EXTENSION_RESULT_FILE;
      if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ failures, passes, failed }));
      console.log(`${DONE_MARKER} failures=${failures}`);
      if (failures > 0) reject(new Error(`${failures} extension tests failed`));
      else resolve();
    });
    runner.on('pass', () => passes++);
    runner.on('fail', (test, err: Error) => failed.push(`${test.fullTitle()}: ${err.message}`));
  });
}
