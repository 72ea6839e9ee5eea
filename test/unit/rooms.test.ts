import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../..');
const files = (dir: string): string[] =>
  fs
    .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));

/** Functions (declarations, methods, arrows) longer than `max` lines, as `file:line name (n lines)`. */
function longFunctions(file: string, max: number): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const from = source.getLineAndCharacterOfPosition(n.getStart()).line;
      const lines = source.getLineAndCharacterOfPosition(n.end).line - from + 1;
      const name = n.name?.getText() ?? (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '(anonymous)');
      if (lines > max) found.push(`${file}:${from + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

describe('Rooms a newcomer can read', () => {
  it('no file of the code, the scripts or the tests is over 600 lines', () => {
    const long = ['src', 'webview', 'scripts', 'test']
      .flatMap(files)
      .map((f) => ({ f, lines: fs.readFileSync(path.join(root, f), 'utf8').replace(/\n$/, '').split('\n').length }))
      .filter((x) => x.lines > 600)
      .map((x) => `${x.f} (${x.lines} lines)`);
    assert.deepEqual(long, [], 'split these by what their parts do (docs/architecture.md says where things go)');
  });

  it('no function of the code or the scripts is over 80 lines', () => {
    const long = ['src', 'webview', 'scripts'].flatMap(files).filter((f) => f.endsWith('.ts')).flatMap((f) => longFunctions(f, 80));
    assert.deepEqual(long, [], 'give these named steps');
  });
});
