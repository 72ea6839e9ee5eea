/**
 * The Scaling tab alone in Chromium, fed a concurrency sweep recorded from a real run (a CPU-bound query on this 2-core
 * machine, its first step measured again at the end), and variants of it: cancelled, and measured at two speeds.
 * Screenshots in test-results/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recheckVerdict, sweepRecommendation } from '../../src/core/analysis/scaling';
import type { SweepResult } from '../../src/shared/result';
import { panelBench, results, root } from './harness';

const sweepRecorded = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/sweep-cpu-2-cores.json'), 'utf8')) as SweepResult;

describe('Scaling tab in Chromium', function () {
  this.timeout(60_000);
  const { openPanel, show, inkOf } = panelBench();

  const copied = async (page: import('playwright-core').Page) => {
    await page.click('vscode-button[data-action="copyText"]');
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string; text?: string }> }).__sent);
    return sent.find((m) => m.type === 'copyText')!.text!;
  };

  it('a sweep opens on the Scaling tab: recommendation, the fitted chart, the steps; its buttons send requests', async () => {
    const page = await openPanel('dark');
    await show(page, { runId: 'sweep-1', fingerprint: sweepRecorded.fingerprint, sql: sweepRecorded.sql, connectionLabel: 'demo', state: 'done', activity: 'sweep', sweep: sweepRecorded });
    await page.waitForSelector('#scaling');
    assert.equal(await page.getAttribute('#tab-scaling', 'aria-selected'), 'true');
    assert.equal(await page.getAttribute('#tab-report', 'disabled'), '', 'no run yet: the Report tab is disabled');
    assert.equal(await page.textContent('#tile-pool-size .tile-value'), String(sweepRecorded.recommendation!.poolSize));
    assert.equal(await page.textContent('#recommendation'), sweepRecorded.recommendation!.reason);
    assert.match((await page.textContent('#usl')) ?? '', new RegExp(`σ ${sweepRecorded.usl!.sigma.toFixed(4)}`));
    assert.equal(await page.locator('#sweep-steps tbody tr').count(), sweepRecorded.steps.length);
    assert.equal(await page.locator('#sweep-steps tr.picked th').textContent(), String(sweepRecorded.recommendation!.poolSize));
    assert.equal(await page.locator('#sweep-notes li').count(), sweepRecorded.notes.length);
    assert.ok((await inkOf(page, 'chart-scaling')) > 3000, 'the scaling chart has drawn');
    await page.screenshot({ path: path.join(results, 'webview-scaling.png'), fullPage: true });
    await page.click('vscode-button[data-action="sweep"]');
    await page.click('vscode-button[data-action="copyText"]');
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string; text?: string }> }).__sent);
    assert.deepEqual(sent.map((m) => m.type), ['ready', 'sweep', 'copyText']);
    assert.match(sent[2].text!, new RegExp(`Pool size: ${sweepRecorded.recommendation!.poolSize}\\.`));
    await page.close();
  });

  it('a sweep cancelled in its 8-client step shows that step as partial: in the table, hollow in the chart, starred in the copied text, never picked', async () => {
    // The recorded steps 1, 2, 4, then the 8-client step cut short by a cancel (fewer requests: it reads low).
    const steps = [...sweepRecorded.steps.slice(0, 3), { ...sweepRecorded.steps[3], throughputQps: 20, partial: true as const }];
    const cancelled: SweepResult = { ...sweepRecorded, recheck: undefined, status: 'cancelled', steps, curve: sweepRecorded.curve.filter((c) => c.clients <= 4), recommendation: sweepRecommendation(steps, true), notes: ['Cancelled during the step with 8 clients: that step is partial, shown but neither fitted nor used for the pool size.'] };
    const page = await openPanel('dark');
    await show(page, { runId: 'sweep-2', fingerprint: cancelled.fingerprint, sql: cancelled.sql, connectionLabel: 'demo', state: 'cancelled', activity: 'sweep', sweep: cancelled });
    await page.waitForSelector('#sweep-steps');
    assert.equal(await page.locator('#sweep-steps tbody tr').count(), 4);
    assert.equal(await page.locator('#sweep-steps tr.partial th').textContent(), '8 (partial)');
    assert.equal(await page.textContent('#tile-steps .tile-value'), '3 + 1 partial (1–8 clients)');
    assert.notEqual(await page.locator('#sweep-steps tr.picked th').textContent(), '8 (partial)');
    assert.match((await page.textContent('#recommendation')) ?? '', /The sweep was cancelled after 3 complete steps: nothing above 4 clients was measured\./);
    assert.match((await page.locator('section.chart', { has: page.locator('#chart-scaling') }).textContent()) ?? '', /Hollow: the step cut short by the cancel, not fitted\./);
    assert.ok((await inkOf(page, 'chart-scaling')) > 3000, 'the scaling chart has drawn');
    await page.screenshot({ path: path.join(results, 'webview-scaling-cancelled.png'), fullPage: true });
    await page.click('vscode-button[data-action="copyText"]');
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string; text?: string }> }).__sent);
    const text = sent.find((m) => m.type === 'copyText')!.text!;
    assert.match(text, /^\s+8\*\s+20\.0/m);
    assert.match(text, /\(\* cut short by the cancel: shown, but neither fitted nor used for the pool size\)/);
    await page.close();
  });

  it('the speed check of the recorded sweep shows under the pool size: the first step again, both figures, "held"', async () => {
    assert.equal(sweepRecorded.recheck?.verdict, 'held', 'the recording is of a steady server');
    const page = await openPanel('light');
    await show(page, { runId: 'sweep-3', fingerprint: sweepRecorded.fingerprint, sql: sweepRecorded.sql, connectionLabel: 'demo', state: 'done', activity: 'sweep', sweep: sweepRecorded });
    await page.waitForSelector('#recheck');
    assert.match((await page.textContent('#recheck')) ?? '', /^Speed check: measured again after the last step, 1 client gave [\d.]+ ± [\d.]+ q\/s against [\d.]+ ± [\d.]+ q\/s at the start \([+−][\d.]+ %, within 5 %\): the server's speed held through the sweep\.$/);
    assert.match((await page.locator('section.chart', { has: page.locator('#chart-scaling') }).textContent()) ?? '', /Triangle: 1 client measured again after the last step \(the speed check\)\./);
    assert.match(await copied(page), /^  Speed check: measured again after the last step, 1 client gave/m);
    await page.close();
  });

  it('a sweep whose server sped up before its last steps claims no pool size and no peak: the reason, with both figures, where the pool size would be', async () => {
    // The recorded steps, the first measured again at 40 % more (by construction: the figures are set, the verdict computed).
    const first = sweepRecorded.steps[0];
    const recheck = recheckVerdict(first, { ...first, throughputQps: first.throughputQps * 1.4 });
    assert.equal(recheck.verdict, 'drifted');
    const drifted: SweepResult = { ...sweepRecorded, recheck, recommendation: sweepRecommendation(sweepRecorded.steps, false, recheck) };
    assert.equal(drifted.recommendation, null);
    const page = await openPanel('dark');
    await show(page, { runId: 'sweep-4', fingerprint: drifted.fingerprint, sql: drifted.sql, connectionLabel: 'demo', state: 'done', activity: 'sweep', sweep: drifted });
    await page.waitForSelector('#sweep-steps');
    assert.equal(await page.textContent('#tile-pool-size .tile-value'), '–');
    assert.equal(await page.textContent('#tile-peak .tile-value'), 'not claimed: speed changed');
    assert.match((await page.textContent('#recommendation')) ?? '', /^No pool size: the server's speed changed during the sweep\. Measured again after the last step, 1 client gave [\d.]+ ± [\d.]+ q\/s against [\d.]+ ± [\d.]+ q\/s at the start \(\+40\.0 %, beyond the noise\)/);
    assert.equal(await page.locator('#recheck').count(), 0, 'said once, as the reason');
    assert.equal(await page.locator('#sweep-steps tr.picked').count(), 0, 'no step is picked');
    assert.ok((await inkOf(page, 'chart-scaling')) > 3000, 'the scaling chart has drawn');
    await page.screenshot({ path: path.join(results, 'webview-scaling-drifted.png'), fullPage: true });
    const text = await copied(page);
    assert.match(text, /^  No pool size: the server's speed changed during the sweep/m);
    assert.match(text, /no peak is claimed: the server's speed changed during the sweep/);
    assert.doesNotMatch(text, /Pool size: \d/);
    await page.close();
  });
});
