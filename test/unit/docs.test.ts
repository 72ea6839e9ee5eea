import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

/**
 * Every `code span` that names a path of the repository, as the paths it may mean: a path from the root (`src/…`), or
 * a bare file name (`wire.ts`), which is in the folder named last before it, or at the root.
 */
function namedPaths(text: string): Array<{ named: string; candidates: string[] }> {
  const out: Array<{ named: string; candidates: string[] }> = [];
  let folder = '';
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const span = m[1];
    if (/^(src|webview|test|scripts|media|docs|demo)\//.test(span)) {
      out.push({ named: span, candidates: [span] });
      folder = span.endsWith('/') ? span : path.posix.dirname(span) + '/';
    } else if (/^[\w.-]+\.(md|mjs|json|ts)$/.test(span)) out.push({ named: span, candidates: [path.posix.join(folder, span), span] });
  }
  return out;
}

describe('Docs that map the code', () => {
  it('docs/architecture.md names only paths that exist, and names the rooms, the modes and the flow of a run', () => {
    const text = read('docs/architecture.md');
    const paths = namedPaths(text);
    assert.ok(paths.length >= 40, `it names ${paths.length} paths`);
    const missing = paths.filter((p) => !p.candidates.some((c) => fs.existsSync(path.join(root, c)))).map((p) => p.named);
    assert.deepEqual(missing, [], 'paths named in docs/architecture.md that do not exist');
    for (const room of ['src/core/', 'src/cli/', 'src/extension/', 'src/shared/', 'webview/', 'test/']) assert.ok(text.includes(`\`${room}\``), `names ${room}`);
    // Every load mode file is on the map.
    for (const f of fs.readdirSync(path.join(root, 'src/core/load/modes'))) assert.ok(text.includes('src/core/load/modes/'), f);
    assert.match(text, /## Where to change what/);
  });

  it('every relative link of the README and docs/ leads to a file that exists, and the README has the two set-up commands', () => {
    const pages = ['README.md', 'SECURITY.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const broken: string[] = [];
    for (const page of pages) {
      for (const m of read(page).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        if (!fs.existsSync(path.join(root, path.dirname(page), target))) broken.push(`${page} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
    const readme = read('README.md');
    assert.match(readme, /npm install && npm run demo/);
    assert.match(readme, /\nnpm test\s/);
    for (const doc of ['docs/cli.md', 'docs/result.md', 'docs/benchmarks.md', 'docs/architecture.md', 'SECURITY.md']) assert.ok(readme.includes(`](${doc})`), `the README links ${doc}`);
  });
});
