/**
 * The panel beside an editor: at 370, 440 and 800 px every tab keeps its content within the panel — a table wider than
 * the panel scrolls in its own box (nothing cut off, the page itself never scrolls sideways), plan node names are not
 * broken one word per line. Screenshots in test-results/ (light at 370, dark at 440).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { stateFromDiagnosis } from '../../src/shared/panelState';
import type { DiagnoseResult } from '../../src/shared/result';
import { panelBench, results, root } from './harness';

const diagnosis = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(root, 'test/fixtures/diagnose-demo-100-users.json.gz'))).toString('utf8')) as DiagnoseResult;

/** What does not fit: the page's sideways overflow, and every element cut by a box that does not scroll. */
function measure(): { pageOverflow: number; cut: string[]; brokenNames: string[] } {
  const w = document.documentElement.clientWidth;
  const cut: string[] = [];
  for (const e of Array.from(document.querySelectorAll('#app *'))) {
    const r = e.getBoundingClientRect();
    if (r.width === 0) continue;
    // Inside a box that scrolls sideways, being wider is fine: it can be scrolled to.
    let scroller: Element | null = e.parentElement;
    while (scroller && scroller !== document.body && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
    if (scroller && scroller !== document.body) continue;
    // The outermost element that sticks out is named, not each of its children.
    if (r.right > w + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1)) cut.push(`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${String(e.className).split(' ')[0]} right ${Math.round(r.right)} > ${w}`);
  }
  const brokenNames = Array.from(document.querySelectorAll('.plan-name'))
    .filter((e) => {
      const words = (e.textContent ?? '').trim().split(/\s+/).length;
      const range = document.createRange();
      range.selectNodeContents(e);
      const lines = new Set(Array.from(range.getClientRects(), (x) => Math.round(x.top))).size;
      return words >= 3 && lines >= words;
    })
    .map((e) => e.textContent ?? '');
  return { pageOverflow: document.documentElement.scrollWidth - w, cut: cut.slice(0, 8), brokenNames: brokenNames.slice(0, 5) };
}

describe('The panel at half width and narrower', function () {
  this.timeout(120_000);
  const bench = panelBench();

  for (const width of [370, 440, 800]) {
    it(`at ${width} px every tab fits or scrolls in its own box: Answers, Report, Plan, Scaling`, async () => {
      const page = await bench.openPanel(width === 440 ? 'dark' : 'light');
      await page.setViewportSize({ width, height: 1000 });
      await bench.show(page, stateFromDiagnosis('run-1', diagnosis, 'demo'));
      await page.waitForSelector('#answers');
      const problems: string[] = [];
      for (const tab of ['answers', 'report', 'plan', 'scaling']) {
        await page.click(`#tab-${tab}`);
        await page.waitForTimeout(300);
        const m = await page.evaluate(`(${measure.toString()})()`) as ReturnType<typeof measure>;
        if (m.pageOverflow > 0) problems.push(`${tab}: the page scrolls sideways by ${m.pageOverflow} px`);
        for (const c of m.cut) problems.push(`${tab}: cut off: ${c}`);
        for (const n of m.brokenNames) problems.push(`${tab}: a node name broken word by word: ${n}`);
        if (width !== 800) await page.screenshot({ path: path.join(results, `webview-${width}-${tab}.png`), fullPage: true });
      }
      assert.deepEqual(problems, []);
      await page.close();
    });
  }
});
