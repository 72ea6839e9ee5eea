import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_HELP } from '../../src/cli/commands/run';
import { parseCheckFile } from '../../src/core/analysis/check';
import { DEFAULTS } from '../../src/core/options';
import { parseOption, RUN_OPTION_TABLE, rowByFlag, type OptionRow } from '../../src/core/optionTable';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { type: string; default?: unknown; minimum?: number; maximum?: number }> } } };
const settings = pkg.contributes.configuration.properties;
const row = (flag: string) => rowByFlag(flag)!;

describe('One option table: the CLI, check files and VS Code settings agree with it', () => {
  it('every option is in `pgload run --help`, with its help line', () => {
    for (const r of RUN_OPTION_TABLE) {
      assert.ok(RUN_HELP.includes(`--${r.flag}`), r.flag);
      assert.ok(RUN_HELP.includes(r.help.slice(0, 40)), `${r.flag}: ${r.help}`);
    }
  });

  it('every option with a VS Code setting is declared in package.json with the same type, range and default', () => {
    const scale = (r: OptionRow) => (r.setting!.unit === 's' ? 1000 : 1);
    for (const r of RUN_OPTION_TABLE.filter((x) => x.setting)) {
      const s = settings[`pgload.${r.setting!.name}`];
      assert.ok(s, `pgload.${r.setting!.name} is declared`);
      const type = r.setting!.unit === 'flag' ? 'boolean' : r.setting!.unit === 'text' ? 'string' : 'integer';
      assert.equal(s.type, type, r.setting!.name);
      if (type === 'integer') {
        assert.equal(s.minimum, r.setting!.zeroIsUnset || r.zeroIsOff ? 0 : Math.ceil(r.min! / scale(r)), `${r.setting!.name} minimum`);
        assert.equal(s.maximum, Math.floor(r.max! / scale(r)), `${r.setting!.name} maximum`);
      }
      // The setting's default is the engine's default (or "unset" where 0 means unset).
      const engine = (DEFAULTS as Record<string, unknown>)[r.key];
      if (r.setting!.editorDefault !== undefined) assert.equal(s.default, r.setting!.editorDefault, r.setting!.name);
      else if (r.setting!.zeroIsUnset) assert.equal(s.default, 0, r.setting!.name);
      else if (r.key !== 'requests' && engine !== undefined) assert.equal(s.default, typeof engine === 'number' ? engine / scale(r) : engine, r.setting!.name);
    }
  });

  it('every option with a YAML key is taken by a check file, and a bad value is refused naming the key', async () => {
    const samples: Record<OptionRow['kind'], unknown> = { count: 2, duration: '2s', flag: true, size: '16GB', name: 'pgload-ci', workers: 'auto' };
    for (const r of RUN_OPTION_TABLE.filter((x) => x.yaml)) {
      const value = r.key === 'durationMs' ? '2s' : r.key === 'sampleIntervalMs' ? '100ms' : samples[r.kind];
      const text = `defaults:\n  ${r.yaml}: ${JSON.stringify(value)}\nchecks:\n  - sql: SELECT 1\n    budgets: { p95: 1s }\n`;
      const file = await parseCheckFile(text, 'pgload.yml');
      assert.ok(file.checks.length === 1, r.yaml);
      const bad = `defaults:\n  ${r.yaml}: ${r.kind === 'flag' ? '"yes"' : r.kind === 'name' ? '""' : '"lots"'}\nchecks:\n  - sql: SELECT 1\n    budgets: { p95: 1s }\n`;
      await assert.rejects(parseCheckFile(bad, 'pgload.yml'), new RegExp(`"${r.yaml}"`), r.yaml);
    }
  });

  it('parses values as people write them, in the run\'s units, and says what is wrong otherwise', () => {
    assert.deepEqual(parseOption(row('clients'), '100'), { ok: true, value: 100 });
    assert.deepEqual(parseOption(row('clients'), 100), { ok: true, value: 100 });
    assert.deepEqual(parseOption(row('clients'), '0'), { ok: false, error: '0 is too small; the smallest allowed is 1' });
    assert.deepEqual(parseOption(row('duration'), '30'), { ok: true, value: 30_000 }, 'a bare duration is seconds');
    assert.deepEqual(parseOption(row('threshold'), 200), { ok: true, value: 200 }, 'a bare threshold is milliseconds');
    assert.equal((parseOption(row('duration'), '-1') as { error: string }).error, 'a duration cannot be negative; write it like 500ms or 30s');
    assert.deepEqual(parseOption(row('sample-interval'), '0'), { ok: true, value: 0 });
    assert.match((parseOption(row('sample-interval'), '5ms') as { error: string }).error, /at least 10ms \(or 0 for off\)/);
    assert.deepEqual(parseOption(row('server-memory'), '16GB'), { ok: true, value: 16 * 1024 * 1024 });
    assert.deepEqual(parseOption(row('workers'), 'auto'), { ok: true, value: 'auto' });
    assert.match((parseOption(row('workers'), '65') as { error: string }).error, /too large.*\(or auto\)/);
    assert.deepEqual(parseOption(row('application-name'), 'pgload-ci'), { ok: true, value: 'pgload-ci' });
    assert.match((parseOption(row('application-name'), 'x'.repeat(64)) as { error: string }).error, /1 to 63 characters/);
    assert.match((parseOption(row('application-name'), 'naïve') as { error: string }).error, /printable ASCII/);
  });
});
