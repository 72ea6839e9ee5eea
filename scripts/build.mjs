// Bundles the CLI (and later the extension and the webview) with esbuild; copies the SQL parser's WASM next to them.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const watch = process.argv.includes('--watch');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // pg-native is an optional native driver that node-postgres tries to load only when asked for.
  external: ['pg-native', 'tsx/cjs'],
  // node-postgres looks at `navigator` to detect Cloudflare Workers; VS Code's extension host reports any
  // touch of `navigator` as an error (PendingMigrationError). These bundles run on Node: there is none.
  // Its Cloudflare check also builds a `Response` at load time, which makes Node load its whole fetch
  // implementation (undici, ~15 ms of the extension's activation); the WASM loader of hdr-histogram-js only
  // tests for it. Neither is wanted on Node.
  define: { __PGLOAD_VERSION__: JSON.stringify(pkg.version), navigator: 'undefined', Response: 'undefined' },
};

/*
 * Libraries the core loads on first use (src/core/lazy.ts). In the extension they are bundles of their own in
 * dist/vendor/, required when first used: V8 compiles the extension's bundle as a whole when VS Code loads it, so
 * a library inside it costs activation its compile time (~10 ms for these four on this machine) even when never run.
 * The CLI and the load worker keep them inside (one file each).
 */
const LATER = ['yaml', 'hdr-histogram-js', 'tar', 'csv-parse/sync'];
const vendorFile = (name) => `vendor/${name.replace(/\W+/g, '-')}.js`;
const loadedLater = {
  name: 'loaded-later',
  setup(b) {
    b.onResolve({ filter: /^[\w@/.-]+$/ }, (a) => (LATER.includes(a.path) ? { path: `./${vendorFile(a.path)}`, external: true } : undefined));
  },
};

await Promise.all([
  ...LATER.map((name) =>
    build({ ...common, stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js' }, outfile: join(dist, vendorFile(name)), minify: true }),
  ),
  build({ ...common, entryPoints: [join(root, 'src/cli/index.ts')], outfile: join(dist, 'cli.js'), banner: { js: '#!/usr/bin/env node' } }),
  // The load worker thread (both the CLI and the extension start it from dist/).
  build({ ...common, entryPoints: [join(root, 'src/core/load/loadWorker.ts')], outfile: join(dist, 'loadWorker.js'), minify: true }),
  // The extension: `vscode` is provided by the host.
  build({ ...common, entryPoints: [join(root, 'src/extension/extension.ts')], outfile: join(dist, 'extension.js'), external: [...common.external, 'vscode'], plugins: [loadedLater], minify: true }),
  // The report panel: a browser bundle with Chart.js and the webview UI toolkit inside (no CDN).
  build({
    entryPoints: [join(root, 'webview/main.ts')],
    outfile: join(dist, 'webview/main.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  }),
]);
chmodSync(join(dist, 'cli.js'), 0o755);
copyFileSync(join(root, 'node_modules/libpg-query/wasm/libpg-query.wasm'), join(dist, 'libpg-query.wasm'));
if (!watch) console.log(`built dist/ (pgload ${pkg.version})`);
