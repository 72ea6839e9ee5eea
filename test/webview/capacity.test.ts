/**
 * The Capacity tab alone in Chromium, fed a capacity search recorded from a real run, and its HTML export opened from
 * a file with the network cut. Screenshots in test-results/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHtmlReport, capacityState, loadReportAssets } from '../../src/core/report/htmlReport';
import { stateFromCapacity } from '../../src/shared/panelState';
import type { CapacityResult } from '../../src/shared/result';
import { panelBench, results, root } from './harness';

/** Recorded from a real `pgload capacity`: pg_sleep(0.02), users pausing 200 ms, a pool of 4, p95 ≤ 100 ms, 2 cores. */
const recorded = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/capacity-users-pool-4.json'), 'utf8')) as CapacityResult;

describe('Capacity tab in Chromium', function () {
  this.timeout(60_000);
  const bench = panelBench();

  it('opens on its tab: the capacity, the answer and its limit as the result says them, the chart with the objective, the steps', async () => {
    const page = await bench.openPanel('light');
    await bench.show(page, stateFromCapacity('cap-1', recorded, 'demo'));
    await page.waitForSelector('#capacity');
    assert.equal(await page.getAttribute('#tab-capacity', 'aria-selected'), 'true');
    assert.equal(await page.textContent('#tile-capacity .tile-value'), String(recorded.capacity));
    assert.equal(await page.textContent('#capacity-answer'), recorded.answer);
    if (recorded.limitedBy) assert.match((await page.textContent('#capacity-limit')) ?? '', new RegExp(`What limits it: ${recorded.limitedBy.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(await page.locator('#capacity-steps tbody tr').count(), recorded.steps.length);
    assert.equal(await page.locator('#capacity-steps tr.picked th').textContent(), String(recorded.capacity));
    assert.equal(await page.locator('#capacity-steps tr.verdict-fails').count(), recorded.steps.filter((s) => s.verdict === 'fails').length);
    assert.ok((await bench.inkOf(page, 'chart-capacity')) > 3000, 'the capacity chart has drawn');
    await page.screenshot({ path: path.join(results, 'webview-capacity.png'), fullPage: true });
    await page.click('vscode-button[data-action="capacity"]');
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string }> }).__sent);
    assert.deepEqual(sent.map((m) => m.type), ['ready', 'capacity']);
    await page.close();
  });

  it('the exported HTML report opens from a file with the network cut and draws the chart', async () => {
    const file = path.join(results, 'capacity-export.html');
    fs.writeFileSync(file, buildHtmlReport(capacityState(recorded, 'demo'), loadReportAssets(path.join(root, 'dist'))));
    const context = await bench.browser().newContext({ offline: true, viewport: { width: 1200, height: 1400 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('file://' + file);
    await page.waitForSelector('#capacity');
    assert.ok((await bench.inkOf(page, 'chart-capacity')) > 3000, 'the chart has drawn offline');
    assert.equal(await page.locator('vscode-button[data-action="capacity"]').first().isVisible(), false, 'the search needs VS Code: hidden in the file');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
