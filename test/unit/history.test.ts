import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../src/extension/historyStore';
import type { ProfileResult, SweepResult } from '../../src/shared/result';

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
});
