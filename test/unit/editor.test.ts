import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitColor } from '../../src/shared/waitColors';
import { formatProgress, formatStage, stagesLeftMs, statusForProgress } from '../../src/shared/format';

describe('Wait colours: one per wait, the same everywhere', () => {
  it('is stable: the same wait gets the same colour in every call, chart and run', () => {
    for (const w of ['CPU', 'IO:BufFileWrite', 'LWLock:BufferMapping', 'IPC:BgWorkerShutdown', 'Lock:transactionid']) assert.equal(waitColor(w), waitColor(w));
  });

  it('tells apart the pairs that shared a colour before: CPU and IPC:MessageQueueReceive, BufFileWrite and BgWorkerShutdown', () => {
    assert.notEqual(waitColor('CPU'), waitColor('IPC:MessageQueueReceive'));
    assert.notEqual(waitColor('IO:BufFileWrite'), waitColor('IPC:BgWorkerShutdown'));
  });

  it("temp-file I/O has a colour of its own: no other wait of a long list gets the temp files' colours", () => {
    const temp = new Set([waitColor('IO:BufFileWrite'), waitColor('IO:BufFileRead')]);
    const others = ['CPU', 'other', 'Idle (waiting for the client)', 'Idle in transaction', 'IO:DataFileRead', 'IO:WALWrite', 'IO:DataFileExtend', 'IO:WALSync', 'IPC:ExecuteGather', 'IPC:BgWorkerShutdown', 'IPC:MessageQueueReceive', 'LWLock:BufferMapping', 'LWLock:WALWrite', 'LWLock:LockManager', 'Lock:relation', 'Lock:transactionid', 'Lock:tuple', 'Client:ClientRead', 'Client:ClientWrite', 'Timeout:PgSleep', 'Activity:WalWriterMain', 'BufferPin:BufferPin', 'Extension:Extension'];
    for (const w of others) assert.ok(!temp.has(waitColor(w)), `${w} ${waitColor(w)}`);
  });

  it('each class keeps its hue family: every lock wait reads as a lock, every LWLock as an LWLock', () => {
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const hue = (hex: string) => {
      const [r, g, b] = rgb(hex).map((c) => c / 255);
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max === min) return -1;
      const d = max - min;
      const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      return (h * 60 + 360) % 360;
    };
    for (const cls of [['Lock:relation', 'Lock:tuple', 'Lock:transactionid'], ['LWLock:BufferMapping', 'LWLock:WALWrite', 'LWLock:LockManager']]) {
      const hues = cls.map((w) => hue(waitColor(w)));
      assert.ok(Math.max(...hues) - Math.min(...hues) < 12, `${cls.join(', ')}: hues ${hues.map((x) => x.toFixed(0)).join(', ')}`);
    }
    assert.ok(/^#[0-9A-F]{6}$/.test(waitColor('Unknown:Thing')));
  });
});

describe('Editor words for a run in progress', () => {
  it('the status bar says the phase as it changes, then the live rate', () => {
    const p = { qps: 123.4, p95Ms: 5.2 };
    assert.equal(statusForProgress({ ...p, phase: 'connecting' }), 'pgload connecting…');
    assert.equal(statusForProgress({ ...p, phase: 'baseline' }), 'pgload baseline…');
    assert.equal(statusForProgress({ ...p, phase: 'load' }), 'pgload 123 q/s · p95 5.20 ms');
    assert.equal(statusForProgress({ ...p, phase: 'closing' }), 'pgload closing sessions…');
  });

  it('a run of steps says which step of how many and the time left: the rest of this step, then every later one', () => {
    // Five phases of 10, 20, 30, 40 and 50 s, 4 s into the second: 16 s of it, then 120 s.
    assert.equal(stagesLeftMs([10_000, 20_000, 30_000, 40_000, 50_000], 1, 4000), 136_000);
    // A phase past its plan adds nothing of its own; an unplanned phase still to come makes the time unknown.
    assert.equal(stagesLeftMs([10_000, 20_000], 1, 25_000), 0);
    assert.equal(stagesLeftMs([10_000, null, 5000], 0, 1000), null);
    const stage = { index: 2, of: 5, label: 'Concurrency sweep to the saturation point', leftMs: 136_000, fraction: 0.09 };
    assert.equal(formatStage(stage, 'phase'), 'phase 2 of 5: Concurrency sweep to the saturation point · about 2 min 16 s left');
    assert.equal(formatStage({ ...stage, leftMs: 0 }), 'step 2 of 5: Concurrency sweep to the saturation point · finishing');
    assert.equal(formatStage({ ...stage, leftMs: null }), 'step 2 of 5: Concurrency sweep to the saturation point');
    // The status bar: pgload, the step, the live rate once the load runs, the time left.
    assert.equal(statusForProgress({ phase: 'baseline', qps: 0, p95Ms: null, stage }), 'pgload 2/5 · about 2 min 16 s left');
    assert.equal(statusForProgress({ phase: 'load', qps: 123.4, p95Ms: 5.2, stage }), 'pgload 2/5 · 123 q/s · p95 5.20 ms · about 2 min 16 s left');
  });

  it('progress past the planned time says it is finishing the requests in flight, never "4.31 s of 3.88 s"; one request is one', () => {
    const p = { phase: 'load' as const, total: null, qps: 10, p95Ms: 5, errors: 1, message: '' };
    assert.equal(formatProgress({ ...p, done: 1, elapsedMs: 4310, plannedMs: 3880 }), '1 request · 3.88 s done, finishing the requests in flight · 10.0 q/s · p95 5.00 ms · 1 error');
    assert.equal(formatProgress({ ...p, done: 20, elapsedMs: 1000, plannedMs: 3880 }), '20 requests · 1.00 s of 3.88 s · 10.0 q/s · p95 5.00 ms · 1 error');
    assert.equal(formatProgress({ ...p, done: 20, elapsedMs: 1000, plannedMs: null }), '20 requests · 1.00 s · 10.0 q/s · p95 5.00 ms · 1 error');
  });

  it('"Profile under load" comes first in the editor menu, then "Diagnose under load", "Find the right pool size", then Cancel', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { contributes: { menus: Record<string, Array<{ command: string; group?: string }>> } };
    const order = (cmd: string) => pkg.contributes.menus['editor/context'].find((m) => m.command === cmd)!.group!;
    const at = (g: string) => Number(g.split('@')[1]);
    assert.ok(at(order('pgload.profileSelection')) < at(order('pgload.diagnose')));
    assert.ok(at(order('pgload.diagnose')) < at(order('pgload.findPoolSize')));
    assert.ok(at(order('pgload.findPoolSize')) < at(order('pgload.cancel')));
  });

  it('the extension has an icon: a 256 × 256 PNG that the package ships', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { icon?: string };
    assert.equal(pkg.icon, 'media/icon.png');
    const png = fs.readFileSync(path.resolve(__dirname, '../..', pkg.icon));
    assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [256, 256]);
    assert.ok(fs.readFileSync(path.resolve(__dirname, '../../.vscodeignore'), 'utf8').includes('!media/**'), 'media/ is in the VSIX');
  });
});
