import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../src/extension/historyStore';
import * as zlib from 'node:zlib';
import { compareResults } from '../../src/core/analysis/compare';
import type { AbResult, DiagnoseResult, ProfileResult, SweepResult } from '../../src/shared/result';

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/result-demo-50-clients.json'), 'utf8')) as ProfileResult;
const at = (minute: number, fingerprint = recorded.fingerprint): ProfileResult => ({ ...recorded, fingerprint, startedAt: new Date(Date.UTC(2026, 10, 21, 9, minute)).toISOString() });

describe('Run history (files in the extension storage folder)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgload-history-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the newest N: the oldest are dropped first, with their files', () => {
    let max = 3;
    const h = new HistoryStore(dir, () => max);
    for (let i = 0; i < 5; i++) h.add(`run-${i}`, at(i), 'demo');
    assert.deepEqual(h.list().map((e) => e.runId), ['run-4', 'run-3', 'run-2']);
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json').length, 3);
    max = 2;
    h.enforceLimit();
    assert.deepEqual(h.list().map((e) => e.runId), ['run-4', 'run-3']);
  });

  it('pinned runs are never pruned; rename and delete persist across a reload', () => {
    const h = new HistoryStore(dir, () => 2);
    h.add('old', at(0), 'demo');
    h.setPinned('old', true);
    h.rename('old', 'before the index');
    for (let i = 1; i <= 3; i++) h.add(`run-${i}`, at(i), 'demo');
    assert.deepEqual(h.list().map((e) => e.runId), ['run-3', 'old'], 'the pinned run stays, the newest unpinned fill the rest');
    assert.ok(h.delete('run-3'));
    const again = new HistoryStore(dir, () => 2);
    assert.deepEqual(again.list().map((e) => [e.runId, e.name, e.pinned]), [['old', 'before the index', true]]);
    assert.equal(again.result('old')!.sql, recorded.sql);
  });

  it('a sweep is kept beside the runs of its statement: its range, best throughput and pool size; read back as a sweep, never as a run', () => {
    const sweep = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/sweep-cpu-2-cores.json'), 'utf8')) as SweepResult;
    const h = new HistoryStore(dir, () => 10);
    h.add('run-1', { ...at(0), fingerprint: sweep.fingerprint, sql: sweep.sql }, 'demo');
    const e = h.addSweep('sweep-1', sweep, 'demo');
    assert.equal(e.kind, 'sweep');
    assert.equal(e.poolSize, sweep.recommendation!.poolSize);
    assert.equal(e.clients, Math.max(...sweep.steps.map((x) => x.clients)));
    assert.equal(e.qps, Math.max(...sweep.steps.map((x) => x.throughputQps)));
    const again = new HistoryStore(dir, () => 10);
    const groups = again.groups();
    assert.equal(groups.length, 1, 'one statement, one group');
    assert.deepEqual(groups[0].runs.map((r) => r.kind).sort(), ['run', 'sweep']);
    assert.equal(again.sweep('sweep-1')!.recommendation!.poolSize, sweep.recommendation!.poolSize);
    assert.equal(again.result('sweep-1'), undefined, 'a sweep is not read as a run');
    assert.equal(again.sweep('run-1'), undefined);
    // Cancelled in its third step with no pool size: the summary is the last complete step's, not the partial one's.
    const cut: SweepResult = { ...sweep, status: 'cancelled', recommendation: null, steps: [sweep.steps[0], sweep.steps[1], { ...sweep.steps[2], throughputQps: 999, p95Ms: 1, partial: true }] };
    const c = h.addSweep('sweep-cut', cut, 'demo');
    assert.deepEqual([c.status, c.poolSize, c.p95Ms, c.qps], ['cancelled', null, sweep.steps[1].p95Ms, Math.max(sweep.steps[0].throughputQps, sweep.steps[1].throughputQps)]);
  });

  it('an A/B is one entry with the figures of B (the side with the change), its verdict and name; read back whole, and as B when compared', () => {
    const h = new HistoryStore(dir, () => 10);
    const a = at(1);
    const b = { ...at(2), options: { ...recorded.options, settings: { work_mem: '64MB' } } };
    const ab: AbResult = { schemaVersion: 1, kind: 'ab', tool: recorded.tool, order: ['A', 'B', 'B', 'A'], rounds: 2, a, b, comparison: compareResults(a, b, { labels: ['without', 'with work_mem=64MB'] }) };
    const e = h.addAb('ab-1', ab, 'demo', 'A/B: work_mem=64MB');
    assert.deepEqual([e.kind, e.name, e.summary, e.startedAt, e.p95Ms], ['ab', 'A/B: work_mem=64MB', ab.comparison.summary, a.startedAt, b.load.latency.p95Ms]);
    const again = new HistoryStore(dir, () => 10);
    assert.deepEqual(again.ab('ab-1')!.order, ['A', 'B', 'B', 'A']);
    assert.deepEqual(again.result('ab-1')!.options.settings, { work_mem: '64MB' });
    assert.equal(again.sweep('ab-1'), undefined);
    assert.equal(again.diagnosis('ab-1'), undefined);
  });

  it('a diagnosis takes over the entry of its application load (one entry, same id), keeps a name given before, and reads back as the diagnosis or its load', () => {
    const d = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(__dirname, '../fixtures/diagnose-demo-100-users.json.gz'))).toString('utf8')) as DiagnoseResult;
    const h = new HistoryStore(dir, () => 10);
    h.add('diag-1', d.runs.load, 'demo');
    h.setPinned('diag-1', true);
    const e = h.addDiagnosis('diag-1', d, 'demo');
    assert.equal(h.list().length, 1);
    assert.equal(fs.readdirSync(dir).filter((f) => f !== 'index.json').length, 1, 'one file: the diagnosis holds the load run');
    assert.deepEqual([e.kind, e.name, e.clients, e.pinned], ['diagnosis', `Diagnosis: ${d.app.users} users, pool ${d.app.poolSize} + ${d.app.maxOverflow}`, d.app.users, true]);
    assert.match(e.summary!, d.answers.pool?.recommended ? new RegExp(`^pool ${d.answers.pool.recommended.poolSize} recommended`) : /^no pool size recommended/);
    const again = new HistoryStore(dir, () => 10);
    assert.equal(again.diagnosis('diag-1')!.startedAt, d.startedAt);
    assert.equal(again.result('diag-1')!.startedAt, d.runs.load.startedAt);
  });

  it('groups runs by statement, newest group first; a file deleted by hand drops its entry', () => {
    const h = new HistoryStore(dir, () => 10);
    h.add('a1', at(1, 'fa'), 'demo');
    h.add('b1', at(2, 'fb'), 'demo');
    h.add('a2', at(3, 'fa'), 'demo');
    assert.deepEqual(h.groups().map((g) => [g.fingerprint, g.runs.map((r) => r.runId)]), [['fa', ['a2', 'a1']], ['fb', ['b1']]]);
    fs.rmSync(path.join(dir, h.entry('b1')!.file));
    assert.deepEqual(new HistoryStore(dir, () => 10).list().map((e) => e.runId), ['a2', 'a1']);
  });

  describe('survives damage and tampering (adversarial)', () => {
    const seed = () => {
      const h = new HistoryStore(dir, () => 10);
      h.add('run-1', at(1), 'demo');
      h.add('run-2', at(2), 'demo');
      h.rename('run-2', 'second');
      return h;
    };
    const index = () => path.join(dir, 'index.json');

    for (const [what, content] of [
      ['cut short by a crash', (t: string) => t.slice(0, Math.floor(t.length / 2))],
      ['emptied', () => ''],
      ['not a list', () => '{"runs": []}'],
    ] as Array<[string, (t: string) => string]>) {
      it(`an index ${what} is rebuilt from the run files, with a message; no run is lost`, () => {
        seed();
        fs.writeFileSync(index(), content(fs.readFileSync(index(), 'utf8')));
        const again = new HistoryStore(dir, () => 10);
        assert.deepEqual(again.list().map((e) => e.runId).sort(), ['run-1', 'run-2']);
        assert.match(again.problems.join(' '), /index could not be read .*rebuilt from the run files/);
        assert.equal(again.result('run-1')!.sql, recorded.sql);
        assert.deepEqual(new HistoryStore(dir, () => 10).problems, [], 'the rebuilt index is written back');
      });
    }

    it('an entry with a mistyped field is skipped and named; the others stay (and its run is listed again from its file)', () => {
      seed();
      const entries = JSON.parse(fs.readFileSync(index(), 'utf8')) as Array<Record<string, unknown>>;
      entries.find((e) => e.runId === 'run-1')!.p95Ms = 'fast';
      fs.writeFileSync(index(), JSON.stringify(entries));
      const again = new HistoryStore(dir, () => 10);
      assert.match(again.problems.join(' '), /entry run-1 was skipped: "p95Ms" is not a number/);
      assert.deepEqual(again.list().map((e) => [e.runId, e.name]), [['run-2', 'second'], ['run-1', undefined]]);
    });

    it('an entry whose file points outside the folder is never read or deleted', () => {
      seed();
      const outside = path.join(path.dirname(dir), `pgload-outside-${process.pid}.json`);
      fs.writeFileSync(outside, '{"keep": true}');
      try {
        const entries = JSON.parse(fs.readFileSync(index(), 'utf8')) as Array<Record<string, unknown>>;
        entries.push({ ...entries[0], runId: 'evil', file: `../${path.basename(outside)}` });
        fs.writeFileSync(index(), JSON.stringify(entries));
        const again = new HistoryStore(dir, () => 10);
        assert.match(again.problems.join(' '), /entry evil was skipped: its file .* is not a run file of this folder/);
        assert.equal(again.delete('evil'), false);
        assert.ok(fs.existsSync(outside), 'the file outside the history folder is still there');
      } finally {
        fs.rmSync(outside, { force: true });
      }
    });

    it('a run file the index does not list (a crash between the two writes) is listed again; a foreign file is left out and named', () => {
      const h = seed();
      const file = h.entry('run-1')!.file;
      const entries = (JSON.parse(fs.readFileSync(index(), 'utf8')) as Array<{ runId: string }>).filter((e) => e.runId !== 'run-1');
      fs.writeFileSync(index(), JSON.stringify(entries));
      fs.writeFileSync(path.join(dir, 'notes.json'), '{"mine": 1}');
      const again = new HistoryStore(dir, () => 10);
      assert.deepEqual(again.list().map((e) => e.runId).sort(), ['run-1', 'run-2']);
      assert.equal(again.entry('run-1')!.file, file);
      assert.match(again.problems.join(' '), /1 run was missing from the run history's index/);
      assert.match(again.problems.join(' '), /notes\.json .* is not a run pgload wrote/);
      assert.ok(fs.existsSync(path.join(dir, 'notes.json')), 'a file pgload did not write is not deleted');
    });

    it('writes are atomic: no temporary file is left, and a run file is never half written', () => {
      seed();
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
      for (const f of fs.readdirSync(dir)) JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    });
  });
});
