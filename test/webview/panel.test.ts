/**
 * The built report panel alone in Chromium: the exact HTML the extension serves (same builder, same CSP),
 * a stubbed acquireVsCodeApi, fed a recorded result from a real run. Screenshots in test-results/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMs } from '../../src/shared/format';
import { buildHtmlReport, diagnosisState, exportState, loadReportAssets } from '../../src/core/report/htmlReport';
import * as zlib from 'node:zlib';
import { compareResults } from '../../src/core/analysis/compare';
import type { PanelState } from '../../src/shared/protocol';
import { stateFromDiagnosis } from '../../src/shared/panelState';
import type { DiagnoseResult, ProfileResult, SweepResult } from '../../src/shared/result';
import { panelBench, results, root } from './harness';

const fixture = <T>(name: string) => JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures', name), 'utf8')) as T;
const recorded = fixture<ProfileResult>('result-demo-50-clients.json');
/** Recorded from real runs: a sweep of a CPU-bound query on this 2-core machine, and 40 users on a pool of 4 + 2. */
const sweepRecorded = fixture<SweepResult>('sweep-cpu-2-cores.json');
const poolRecorded = fixture<ProfileResult>('result-pool-40-users.json');
/** Recorded from real runs: the EXISTS query of a shop on PostgreSQL 15 with HypoPG (8 clients), and 20 clients through PgBouncer. */
const shopRecorded = fixture<ProfileResult>('result-shop-exists-15.json');
const poolerRecorded = fixture<ProfileResult>('result-pgbouncer-transaction.json');
/** 4 shards of pg_sleep(0.01) × 40 clients for 15 s, merged by pgload merge. */
const mergedRecorded = fixture<ProfileResult>('result-merged-4-shards.json');
/** Recorded from a real `pgload diagnose` of the demo query: 100 users on a pool of 20 + 100, a 4-minute budget, 2 cores. */
const diagnosisRecorded = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(root, 'test/fixtures/diagnose-demo-100-users.json.gz'))).toString('utf8')) as DiagnoseResult;

function withoutHdr(r: ProfileResult): PanelState['result'] {
  const { hdr: _hdr, ...rest } = r;
  return rest;
}

function stateOf(r: ProfileResult, over: Partial<PanelState> = {}): PanelState {
  return { runId: 'run-1', fingerprint: r.fingerprint, sql: r.sql, connectionLabel: 'demo', state: 'done', result: withoutHdr(r), ...over };
}

describe('Report panel in Chromium', function () {
  this.timeout(60_000);
  const bench = panelBench();
  const { openPanel, post, show, inkOf } = bench;

  for (const theme of ['light', 'dark'] as const) {
    it(`renders the summary and every chart of a recorded run (${theme} theme)`, async () => {
      const page = await openPanel(theme);
      await show(page, stateOf(recorded));
      await page.waitForSelector('#summary');
      const summary = await page.textContent('#summary');
      assert.ok(summary?.includes(formatMs(recorded.load.latency.p50Ms)), summary ?? '');
      assert.ok(summary?.includes(formatMs(recorded.load.latency.p95Ms)));
      assert.ok(summary?.includes(formatMs(recorded.baseline.latency.meanMs)));
      assert.equal(await page.textContent('#tile-qps .tile-value'), `${recorded.load.throughputQps.toFixed(1)} q/s`);
      for (const id of ['chart-percentiles', 'chart-histogram', 'chart-latency-time', 'chart-throughput', 'chart-waits', 'chart-waits-time']) {
        const ink = await inkOf(page, id);
        assert.ok(ink > 2000, `${id} has drawn (${ink} pixels)`);
      }
      // The server side: hints with their SQL, the plan comparison, the counters.
      const hints = (await page.textContent('#hints')) ?? '';
      for (const h of recorded.hints) assert.ok(hints.includes(h.title), h.title);
      assert.equal(await page.locator('#plan-diff tbody tr').count(), recorded.insight.planDiff!.rows.length);
      assert.ok(((await page.textContent('#plan-diff-notes')) ?? '').includes(recorded.insight.planDiff!.notes[0]));
      assert.match((await page.textContent('#server-facts')) ?? '', /temp files/);
      // Each wait has one colour, the same in the doughnut and in the bars over time.
      const colors = async (id: string) => JSON.parse((await page.getAttribute(`#${id}`, 'data-colors')) ?? '{}') as Record<string, string>;
      const donut = await colors('chart-waits');
      const bars = await colors('chart-waits-time');
      const both = Object.keys(donut).filter((k) => k in bars);
      assert.ok(both.length >= 2, JSON.stringify({ donut, bars }));
      for (const k of both) assert.equal(donut[k], bars[k], k);
      assert.equal(new Set(Object.values(donut)).size, Object.keys(donut).length, 'no two waits share a colour');
      assert.equal(await page.textContent('#mode'), 'Mode: each request in a READ ONLY transaction, rolled back');
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, theme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)');
      assert.deepEqual((page as unknown as { cspViolations: string[] }).cspViolations, [], 'no CSP violation');
      await page.screenshot({ path: path.join(results, `webview-${theme}.png`), fullPage: true });
      await page.close();
    });
  }

  it('is never blank at start: the page is written with its state, so the statement shows before any script runs and the report draws before the ready handshake', async () => {
    const running: PanelState = { runId: 'first-paint', fingerprint: 'f', sql: "SELECT '<b>x</b>' AS starting", connectionLabel: 'shop', state: 'running' };
    const bare = await openPanel('light', { state: running, javaScript: false });
    try {
      assert.equal(await bare.textContent('#sql'), running.sql);
      assert.equal(await bare.textContent('#first-paint'), 'Starting the run on shop…');
      assert.equal(await bare.locator('b').count(), 0, 'the SQL is text');
      await bare.screenshot({ path: path.join(results, 'webview-first-paint.png') });
    } finally {
      await bare.close();
    }
    // With scripts: the recorded report is drawn from the page alone — no 'show' message is posted here.
    const page = await openPanel('light', { state: stateOf(recorded) });
    try {
      await page.waitForSelector('#summary');
      assert.ok((await page.textContent('#summary'))?.includes(formatMs(recorded.load.latency.p95Ms)));
    } finally {
      await page.close();
    }
  });

  it('shows SQL, error messages and hints with HTML in them as text: nothing injected, no script run', async () => {
    const page = await openPanel('dark');
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const evil: ProfileResult = {
      ...recorded,
      sql: `SELECT '${payload}' AS a`,
      errors: [{ code: '42P01', message: `relation "${payload}" does not exist`, count: 3, phase: 'load', firstAtMs: 12 }],
      hints: [{ id: 'row-misestimate', severity: 'warning', title: payload, detail: payload, node: payload, action: payload, sql: payload }],
      server: { ...recorded.server, settings: { ...recorded.server.settings, work_mem: payload } },
    };
    await show(page, stateOf(evil, { connectionLabel: payload }));
    await page.waitForSelector('#summary');
    const counts = await page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      xss: (window as unknown as { __xss?: number }).__xss,
    }));
    assert.deepEqual(counts, { img: 0, scripts: 2, xss: undefined }, 'only the page\'s own two scripts: the stub and the bundle');
    assert.ok((await page.textContent('#sql'))?.includes(payload));
    assert.ok((await page.textContent('#errors'))?.includes(payload));
    assert.ok((await page.textContent('#hints'))?.includes(payload));
    await page.close();
  });

  it('shows live progress while running, and the buttons send requests with ids', async () => {
    const page = await openPanel('light');
    await show(page, { runId: 'run-2', fingerprint: 'f', sql: 'SELECT 1', connectionLabel: 'demo', state: 'running' });
    await page.waitForSelector('#progress');
    for (let i = 1; i <= 5; i++) {
      await post(page, { type: 'progress', runId: 'run-2', progress: { phase: 'load', done: i * 100, total: 1000, elapsedMs: i * 1000, plannedMs: null, qps: 100 + i, p95Ms: 20 + i, errors: 0, message: '' } });
    }
    assert.equal(await page.textContent('#progress-text'), '500 / 1,000 requests · 105 q/s · p95 25.0 ms · 0 errors');
    assert.ok((await inkOf(page, 'chart-live')) > 1000, 'the live chart has drawn');
    await page.click('vscode-button[data-action="cancel"]');
    await show(page, stateOf(recorded, { runId: 'run-2' }));
    await page.waitForSelector('#summary');
    await page.click('vscode-button[data-action="copyMarkdown"]');
    await page.click('vscode-button[data-action="saveJson"]');
    await page.locator('vscode-button[data-action="copyText"]').first().click();
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string; requestId?: number; text?: string }> }).__sent);
    assert.deepEqual(
      sent.map((m) => m.type),
      ['ready', 'cancel', 'copyMarkdown', 'saveJson', 'copyText'],
    );
    assert.equal(sent[4].text, recorded.hints.find((h) => h.sql)!.sql);
    assert.ok(sent.slice(1).every((m, i, all) => typeof m.requestId === 'number' && (i === 0 || m.requestId > all[i - 1].requestId!)));
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __state: unknown }).__state), { runId: 'run-2', fingerprint: recorded.fingerprint });
    await post(page, { type: 'ack', requestId: 3, ok: true, message: 'Markdown report copied.' });
    assert.equal(await page.textContent('#toast'), 'Markdown report copied.');
    await page.close();
  });

  it('a diagnosis in progress leads with its phase of how many and the time left; the live chart runs on across phases', async () => {
    const page = await openPanel('dark');
    await show(page, { runId: 'run-d', fingerprint: 'f', sql: 'SELECT 1', connectionLabel: 'demo', state: 'running', activity: 'diagnose' });
    await page.waitForSelector('#progress');
    const stage = { index: 2, of: 5, label: 'Concurrency sweep to the saturation point', leftMs: 136_000, fraction: 0.1 };
    // Two phases' loads, each with its clock starting at 0.
    for (const [i, s] of [[1, { ...stage, index: 1, leftMs: 150_000 }], [2, stage]] as const) {
      for (let t = 1; t <= 4; t++) await post(page, { type: 'progress', runId: 'run-d', progress: { phase: 'load', done: t * 50, total: null, elapsedMs: t * 700, plannedMs: 3000, qps: 60 * i + t, p95Ms: 10 + t, errors: 0, message: '', stage: s } });
    }
    assert.equal(await page.textContent('#progress-stage'), 'Phase 2 of 5: Concurrency sweep to the saturation point · about 2 min 16 s left');
    assert.equal(await page.textContent('#progress-text'), '200 requests · 2.80 s of 3.00 s · 124 q/s · p95 14.0 ms · 0 errors');
    assert.equal(await page.evaluate(() => (document.getElementById('progress-bar') as HTMLProgressElement).value), 0.1, 'the bar shows the share of the plan done');
    assert.ok((await inkOf(page, 'chart-live')) > 1000, 'the live chart has drawn');
    await page.locator('#progress').screenshot({ path: path.join(results, 'webview-progress-diagnose.png') });
    await page.close();
  });

  it('an application-pool run shows the pool wait and the database time stacked per percentile', async () => {
    const page = await openPanel('light');
    await show(page, stateOf(poolRecorded));
    await page.waitForSelector('#summary');
    assert.ok((await inkOf(page, 'chart-pool-split')) > 2000, 'the pool chart has drawn');
    assert.equal(await page.getAttribute('#chart-pool-split', 'aria-label'), 'Pool wait vs database time');
    const split = (await page.textContent('#pool-split')) ?? '';
    assert.ok(split.includes(`p50 ${formatMs(poolRecorded.load.pool!.waitMs.p50Ms)} + ${formatMs(poolRecorded.load.pool!.dbMs.p50Ms)}`), split);
    await page.locator('#chart-pool-split').screenshot({ path: path.join(results, 'webview-pool-split.png') });
    await page.close();
  });

  it('with a run and a sweep, the tabs switch between the report and the scaling view', async () => {
    const page = await openPanel('light');
    await show(page, { ...stateOf(recorded), sweep: sweepRecorded });
    await page.waitForSelector('#summary');
    assert.equal(await page.$('#scaling'), null);
    await page.click('#tab-scaling');
    await page.waitForSelector('#scaling');
    assert.equal(await page.$('#summary'), null);
    assert.ok((await inkOf(page, 'chart-scaling')) > 3000);
    await page.click('#tab-report');
    await page.waitForSelector('#summary');
    assert.ok((await inkOf(page, 'chart-percentiles')) > 2000, 'the report charts are drawn again');
    // A statement without a sweep: the Scaling tab offers to run one.
    await show(page, stateOf(recorded, { runId: 'run-9' }));
    await page.click('#tab-scaling');
    assert.match((await page.textContent('#scaling')) ?? '', /No concurrency sweep of this statement yet/);
    assert.ok(await page.$('#scaling vscode-button[data-action="sweep"]'));
    await page.close();
  });

  it('the exported HTML report opens from a file with the network cut, draws every chart and makes no request', async () => {
    const file = path.join(results, 'report-export.html');
    fs.writeFileSync(file, buildHtmlReport(exportState(recorded, 'demo', { sweep: sweepRecorded }), loadReportAssets(path.join(root, 'dist'))));
    const context = await bench.browser().newContext({ offline: true, viewport: { width: 1200, height: 1400 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto('file://' + file);
    await page.waitForSelector('#summary');
    for (const id of ['chart-percentiles', 'chart-histogram', 'chart-latency-time', 'chart-throughput', 'chart-waits']) assert.ok((await inkOf(page, id)) > 2000, `${id} has drawn`);
    assert.deepEqual(requests, ['file://' + file], 'no request but the file itself');
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('vscode-button').first().isVisible(), false, 'no buttons that would do nothing');
    await page.screenshot({ path: path.join(results, 'report-export.png'), fullPage: true });
    await page.click('#tab-scaling');
    assert.ok((await inkOf(page, 'chart-scaling')) > 3000, 'the sweep travels with it');
    // A run with node times: the Plan tab and "Show in plan" work from the file too.
    const shopFile = path.join(results, 'report-export-plan.html');
    fs.writeFileSync(shopFile, buildHtmlReport(exportState(shopRecorded, 'demo'), loadReportAssets(path.join(root, 'dist'))));
    await page.goto('file://' + shopFile);
    await page.waitForSelector('#summary');
    await page.click(`button.show-node[data-node="${shopRecorded.hints[0].node}"]`);
    assert.equal(await page.getAttribute('tr.plan-node.selected', 'data-node'), shopRecorded.hints[0].node);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a diagnosis opens on its Answers tab: the four answers as the result says them, the pool chart, Try it sends the setting; the export has no button', async () => {
    const d = diagnosisRecorded;
    const page = await openPanel('light');
    // As the extension sends it: the running diagnosis, then the same run finished with its answers.
    await show(page, { runId: 'run-1', fingerprint: d.fingerprint, sql: d.sql, connectionLabel: 'demo', state: 'running', activity: 'diagnose' });
    await show(page, stateFromDiagnosis('run-1', d, 'demo'));
    await page.waitForSelector('#answers');
    assert.equal(await page.getAttribute('#tab-answers', 'aria-selected'), 'true');
    // The tab renders the answers' own sentences: nothing recomputed.
    assert.ok(((await page.textContent('#answer-pool')) ?? '').includes(d.answers.pool!.text));
    const settings = (await page.textContent('#answer-settings')) ?? '';
    for (const x of d.answers.settings) assert.ok(settings.includes(x.text), x.text);
    const query = (await page.textContent('#answer-query')) ?? '';
    for (const q of d.answers.query) assert.ok(query.includes(q.title), q.title);
    assert.ok(((await page.textContent('#answer-orm')) ?? '').includes(d.answers.orm!.text));
    // The headline and the capacity within the objective, each with its evidence.
    assert.ok(((await page.textContent('#answer-demand')) ?? '').includes(d.answers.demand!.text));
    assert.ok(d.answers.capacity, 'the recorded demo diagnosis has its capacity phase (--max-p95 500ms)');
    assert.ok(((await page.textContent('#answer-capacity')) ?? '').includes(d.answers.capacity.text));
    assert.match((await page.textContent('#answer-capacity .evidence')) ?? '', d.answers.capacity.evidence === 'weak' ? /^Evidence: weak/ : /^Evidence: strong/);
    assert.equal(await page.locator('#diagnose-phases tbody tr').count(), d.phases.length);
    if (d.answers.pool?.recommended) assert.ok((await inkOf(page, 'chart-answer-pool')) > 1000, 'the pool chart has drawn');
    await page.screenshot({ path: path.join(results, 'webview-answers.png'), fullPage: true });
    // A setting measured as not helping offers no Try it, and says why; one that helped (or was not measured) does.
    for (const x of d.answers.settings.filter((s) => s.measured && !s.helps)) {
      assert.equal(await page.locator(`#answer-settings [data-setting="${x.name}"] vscode-button[data-action="tryHint"]`).count(), 0, x.name);
      assert.match((await page.textContent(`#answer-settings [data-setting="${x.name}"] .try-why-not`)) ?? '', /no need to try it again here/);
    }
    // Try it sends the setting's SQL with a request id.
    // (The recorded demo measured its only setting as not helping: a setting the budget left unmeasured has Try it.)
    const unmeasured = { name: 'max_parallel_workers_per_gather', value: '0', sql: 'SET LOCAL max_parallel_workers_per_gather = 0;', scope: 'query' as const, measured: null, memory: null, helps: false, text: 'max_parallel_workers_per_gather = 0 was not measured: the phase was cut short. A suggestion, not an answer.' };
    // A setting that moved p99 beyond the noise and nothing else: its figures say which moved and which did not.
    const p99Only = { ...unmeasured, name: 'hash_mem_multiplier', value: '2', sql: 'SET LOCAL hash_mem_multiplier = 2;', helps: true, text: 'hash_mem_multiplier = 2 helps: p99 −15 % significantly.' };
    const measured = { p50ChangePct: -13.2, p95ChangePct: -24.3, p99ChangePct: -15.2, throughputChangePct: 1.7, significant: true, significantOn: { p99: 'better' as const }, requests: { a: 424, b: 434 }, summary: '' };
    const withTry: DiagnoseResult = { ...d, answers: { ...d.answers, settings: [...d.answers.settings, unmeasured, { ...p99Only, measured }] } };
    await show(page, stateFromDiagnosis('run-1', withTry, 'demo'));
    await page.waitForSelector(`#answer-settings [data-setting="${unmeasured.name}"]`);
    assert.equal(await page.textContent(`#answer-settings [data-setting="hash_mem_multiplier"] .figures`), ' · p99 −15 % · p95 −24 % (within noise) · q/s +1.7 % (within noise)');
    const tryable = withTry.answers.settings.find((x) => /^SET LOCAL /.test(x.sql) && !(x.measured && !x.helps))!;
    assert.equal(tryable.name, unmeasured.name);
    await page.click(`#answer-settings vscode-button[data-action="tryHint"][data-sql="${tryable.sql}"]`);
    const sent = await page.evaluate(() => (window as unknown as { __sent: Array<{ type: string; sql?: string; requestId?: number }> }).__sent.filter((m) => m.type === 'tryHint'));
    assert.deepEqual(sent.map((m) => m.sql), [tryable.sql]);
    assert.equal(typeof sent[0].requestId, 'number');
    // Half width: nothing wider than the panel.
    await page.setViewportSize({ width: 560, height: 1200 });
    // The charts follow their box once the browser has laid it out again (a resize observer).
    await page.waitForFunction(() => document.getElementById('chart-answer-pool')!.getBoundingClientRect().right <= document.documentElement.clientWidth, undefined, { timeout: 5000 }).catch(() => undefined);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#answers *'))
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`),
    );
    assert.ok(overflow <= 0, `the Answers tab is ${overflow} px wider than a half-width panel: ${wide.join(', ')}`);
    await page.screenshot({ path: path.join(results, 'webview-answers-half.png'), fullPage: true });
    await page.close();

    const file = path.join(results, 'diagnosis-export.html');
    fs.writeFileSync(file, buildHtmlReport(diagnosisState(d, 'demo'), loadReportAssets(path.join(root, 'dist'))));
    const context = await bench.browser().newContext({ offline: true, viewport: { width: 1200, height: 1400 } });
    const exported = await context.newPage();
    const errors: string[] = [];
    exported.on('pageerror', (e) => errors.push(e.message));
    await exported.goto('file://' + file);
    await exported.waitForSelector('#answers');
    assert.equal(await exported.locator('vscode-button[data-action="tryHint"]').first().isVisible(), false, 'Try it needs VS Code: hidden in the file');
    // The capacity searches' chart, from the diagnosis's own result: p95 against the users, the objective drawn.
    await exported.click('#tab-capacity');
    await exported.waitForSelector('#chart-capacity');
    assert.ok((await bench.inkOf(exported, 'chart-capacity')) > 1000, 'the capacity chart has drawn');
    // The search with the best fix, beside the search as it is: its answer, and its own line on the chart.
    const withFix = d.runs.capacity!.withFix!;
    assert.ok(withFix, 'the recorded demo searched again with its best fix');
    assert.equal((await exported.textContent('#capacity-fix-answer'))?.trim(), `With ${d.answers.capacity!.withFix!.what}: ${withFix.answer}`);
    assert.match((await exported.textContent('section.chart:has(#chart-capacity) p.muted')) ?? '', new RegExp(`Purple: the same search with ${d.answers.capacity!.withFix!.what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.$`));
    await exported.screenshot({ path: path.join(results, 'diagnosis-export-capacity.png'), fullPage: true });
    await exported.click('#tab-answers');
    await exported.click('#show-app-load');
    await exported.waitForSelector('#summary');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('a comparison opens on the Compare tab: verdict, both percentile curves, figures with intervals, hints gone and new', async () => {
    const c = compareResults(poolRecorded, recorded, { labels: ['pool run', 'demo run'] });
    const page = await openPanel('light');
    await show(page, { ...stateOf(recorded, { runId: 'compare:1:2' }), comparison: c });
    await page.waitForSelector('#compare');
    assert.equal(await page.getAttribute('#tab-compare', 'aria-selected'), 'true');
    assert.equal(await page.textContent('#compare-verdict'), c.summary);
    assert.equal(await page.locator('#compare-metrics tbody tr').count(), 4);
    assert.match((await page.textContent('#compare-metrics tr[data-metric="p95"]')) ?? '', /demo run better|pool run better|within noise/);
    assert.ok((await inkOf(page, 'chart-compare')) > 3000, 'the overlaid curves have drawn');
    assert.equal(await page.locator('#compare-hints li.hint-appeared').count(), c.hints.appeared.length);
    await page.screenshot({ path: path.join(results, 'webview-compare.png'), fullPage: true });
    // At half width (a panel beside the editor): the table fits, and no header or change breaks inside a word.
    await page.setViewportSize({ width: 440, height: 900 });
    const fit = await page.evaluate(() => {
      const table = document.querySelector('#compare-metrics') as HTMLElement;
      const cells = Array.from(table.querySelectorAll('thead th:nth-child(4), tbody td:nth-child(4)'));
      // One line: its text's boxes all on one line (no helper function here: tsx would name it, and the page lacks __name).
      return {
        tableWidth: table.scrollWidth,
        viewport: document.documentElement.clientWidth,
        unbroken: cells.map((c) => {
          const range = document.createRange();
          range.selectNodeContents(c);
          const verdict = c.querySelector('.verdict');
          if (verdict) range.setEndBefore(verdict);
          const words = (verdict?.textContent ?? '').trim().split(/\s+/).length;
          const v = document.createRange();
          if (verdict) v.selectNodeContents(verdict);
          const [own, under] = [range, v].map((r) => new Set(Array.from(r.getClientRects(), (x) => Math.round(x.top))).size);
          return { text: c.textContent, lines: own, verdictLines: verdict ? under : 0, words };
        }),
      };
    });
    assert.ok(fit.tableWidth <= fit.viewport, JSON.stringify(fit));
    // The change on one line; what it means, under it, may wrap between words, never inside one.
    assert.ok(fit.unbroken.every((c) => c.lines === 1 && c.verdictLines <= c.words), JSON.stringify(fit.unbroken));
    await page.screenshot({ path: path.join(results, 'webview-compare-half.png'), fullPage: true });
    await page.click('#tab-report');
    await page.waitForSelector('#summary');
    await page.close();
  });

  it('a mix lists its scripts, and each statement of a transaction its own p50/p95 and share of the request', async () => {
    const mix = structuredClone(recorded);
    const l = recorded.load.latency;
    mix.load.scripts = [
      { name: 'browse.sql', weight: 70, share: 0.71, transaction: false, statements: 1, requests: { ok: 710, failed: 0 }, throughputQps: 71, latency: l },
      { name: 'checkout.sql', weight: 30, share: 0.29, transaction: true, statements: 2, requests: { ok: 285, failed: 5 }, throughputQps: 28.5, latency: l },
    ];
    mix.load.statements = [
      { index: 1, script: 'browse.sql', sql: 'SELECT 1', latency: l, shareOfRequest: 1, failed: 0, planAlone: null },
      { index: 1, script: 'checkout.sql', sql: 'UPDATE stock SET n = n - 1 WHERE id = $1', latency: l, shareOfRequest: 0.42, failed: 5, planAlone: null },
      { index: 2, script: 'checkout.sql', sql: 'INSERT INTO orders VALUES ($1)', latency: l, shareOfRequest: 0.31, failed: 0, planAlone: null },
    ];
    const page = await openPanel('light');
    await show(page, stateOf(mix));
    await page.waitForSelector('#statements');
    const scripts = await page.locator('#scripts li').allTextContents();
    assert.match(scripts[0], /^browse\.sql @70: 71 % of requests · 71\.0 q\/s · p50 /);
    assert.match(scripts[1], /checkout\.sql @30: .* 5 failed \(2 statements, one transaction\)$/);
    const statements = await page.locator('#statements li').allTextContents();
    assert.equal(statements.length, 3);
    assert.match(statements[1], /^checkout\.sql #1 UPDATE stock SET n = n - 1 WHERE id = \$1 — p50 .+ · 42 % of its request · 5 failed here$/);
    await page.close();
  });

  it('a run too short to trust its waits and timeline says so above its summary, and its time axis still draws', async () => {
    const short = structuredClone(recorded);
    short.load.wallMs = 310;
    short.timeline = short.timeline.slice(0, 3).map((p, i) => ({ ...p, tMs: i * 100, durationMs: 100 }));
    short.insight.waits!.samples = 3;
    const page = await openPanel('light');
    await show(page, stateOf(short));
    await page.waitForSelector('#short-run');
    assert.match((await page.textContent('#short-run')) ?? '', /^This run lasted 310 ms \(3 timeline intervals, 3 wait samples\): too short to trust its waits and its timeline/);
    // In the editor the advice names the setting, never a command-line flag.
    assert.match((await page.textContent('#short-run')) ?? '', /Run it for 10 s or more \(the pgload\.durationSeconds setting\)\.$/);
    assert.ok((await inkOf(page, 'chart-latency-time')) > 500, 'the latency over time has drawn');
    await page.locator('#chart-throughput').screenshot({ path: path.join(results, 'webview-short-run-throughput.png') });
    await show(page, { ...stateOf(recorded), runId: 'run-2' });
    await page.waitForSelector('#summary');
    assert.equal(await page.locator('#short-run').count(), 0, 'a 20 s run has no such note');
    await page.close();
  });

  it('a run of writes says in its header that every request was rolled back', async () => {
    const page = await openPanel('light');
    const rolledBack = { ...recorded, options: { ...recorded.options, executionMode: 'rolled-back' as const, allowWrites: true } };
    await show(page, stateOf(rolledBack));
    await page.waitForSelector('#mode');
    assert.equal(await page.textContent('#mode'), 'Mode: each request in a transaction that is rolled back');
    assert.equal(await page.getAttribute('#mode', 'class'), 'mode mode-rolled-back');
    await page.close();
  });

  it('a failed run keeps the last good report one click away, and the failure one click back', async () => {
    const page = await openPanel('dark');
    const good = stateOf(recorded, { runId: 'run-good' });
    await show(page, { runId: 'run-bad', fingerprint: recorded.fingerprint, sql: recorded.sql, connectionLabel: 'demo', state: 'failed', error: 'Connection refused at db:5433: is PostgreSQL running there?', lastGood: good });
    await page.waitForSelector('#failure');
    await page.click('#show-last-good');
    await page.waitForSelector('#summary');
    assert.ok(((await page.textContent('#summary')) ?? '').includes(formatMs(recorded.load.latency.p95Ms)));
    assert.match((await page.textContent('#failed-behind')) ?? '', /The latest run failed: Connection refused at db:5433/);
    await page.click('#show-failure');
    await page.waitForSelector('#failure');
    assert.match((await page.textContent('#failure')) ?? '', /The run failed/);
    await page.close();
  });

  it('a failed run shows the reason and offers a re-run', async () => {
    const page = await openPanel('dark');
    await show(page, { runId: 'run-3', fingerprint: 'f', sql: 'SELECT 1', connectionLabel: 'demo', state: 'failed', error: 'Connection refused at db:5432: is PostgreSQL running there?' });
    await page.waitForSelector('#failure');
    assert.match((await page.textContent('#failure')) ?? '', /The run failed.*Connection refused at db:5432/s);
    assert.ok(await page.$('vscode-button[data-action="rerun"]'));
    await page.close();
  });

  it('the Plan tab draws the tree with each node\'s own time; a hint\'s "Show in plan" opens its node; alone and under load toggle', async () => {
    const page = await openPanel('dark');
    await show(page, stateOf(shopRecorded));
    await page.waitForSelector('#summary');
    // The hints say what they could save, ranked; the first is pinned to a node of the plan.
    const first = shopRecorded.hints[0];
    assert.ok(first.estimate && first.node);
    assert.match((await page.textContent('#hints')) ?? '', /could save up to \S+ ms per request/);
    await page.click(`button.show-node[data-node="${first.node}"]`);
    await page.waitForSelector('#plan-tree');
    assert.equal(await page.getAttribute('#tab-plan', 'aria-selected'), 'true');
    const under = shopRecorded.insight.plans.find((p) => p.when === 'under-load')!;
    assert.equal(await page.locator('#plan-tree tbody tr').count(), under.nodes!.length);
    assert.equal(await page.getAttribute('tr.plan-node.selected', 'data-node'), first.node);
    // Each row: the engine's figures, not recomputed; the biggest share has the full bar.
    const top = [...under.nodes!].sort((a, b) => b.share - a.share)[0];
    const row = page.locator(`tr.plan-node[data-node="${top.node}"]`);
    assert.match((await row.textContent()) ?? '', new RegExp(`${formatMs(top.exclusiveMs).replace('.', '\\.')} · \\d+ %`));
    assert.equal(await row.locator('.plan-bar-fill').evaluate((el) => (el as HTMLElement).style.width), '100%');
    assert.match((await row.textContent()) ?? '', new RegExp(top.what.slice(0, 30).replace(/[()]/g, '.')));
    // The pinned hints sit on their node.
    assert.ok((await page.locator(`tr.plan-node[data-node="${first.node}"] .plan-hint`).count()) >= 1);
    await page.screenshot({ path: path.join(results, 'webview-plan.png'), fullPage: true });
    await page.click('#plan-alone');
    const alone = shopRecorded.insight.plans.find((p) => p.when === 'alone')!;
    assert.equal(await page.getAttribute('#plan-alone', 'aria-pressed'), 'true');
    assert.match((await page.textContent('#plan')) ?? '', new RegExp(formatMs(alone.executionMs).replace('.', '\\.')));
    await page.close();
  });

  it('a merged run of 4 shards opens like any run, saying how its shards started and what each measured', async () => {
    const page = await openPanel('dark');
    await show(page, stateOf(mergedRecorded));
    await page.waitForSelector('#shards');
    const lines = await page.locator('#shards li').allTextContents();
    const m = mergedRecorded.shards!;
    assert.equal(lines.length, 1 + m.count + m.notes.length);
    assert.match(lines[0], new RegExp(`^4 shards \\(run ${m.runId}\\) released their clients together once all were ready, within ${formatMs(m.start.spreadMs).replace('.', '\\.')} of each other`));
    assert.match(lines[1], /^shard 1: 10 clients · [\d,]+ ok · 0 failed · p50 /);
    // The summary is the merged figures: all 40 clients and every request.
    assert.match((await page.textContent('#summary')) ?? '', /Under load \(40 clients\)/);
    assert.ok(((await page.textContent('#summary')) ?? '').includes(`${mergedRecorded.load.requests.ok.toLocaleString('en-US')} ok`));
    await page.locator('#shards').screenshot({ path: path.join(results, 'webview-merged-shards.png') });
    await page.close();
  });

  it('a run through PgBouncer names the pooler, its mode, its queue and what it changed', async () => {
    const page = await openPanel('light');
    await show(page, stateOf(poolerRecorded));
    await page.waitForSelector('#pooler');
    const text = (await page.textContent('#pooler')) ?? '';
    const p = poolerRecorded.connection.pooler!;
    assert.match(text, /Pooler: PgBouncer 1\.18\.0 · transaction pooling · settings inside each request's transaction/);
    assert.ok(text.includes(`${formatMs(p.wait!.meanPerTransactionMs)} per transaction waiting in the pooler`), text);
    assert.equal(await page.locator('#pooler li').count(), p.notes.length);
    await page.locator('#pooler').screenshot({ path: path.join(results, 'webview-pooler.png') });
    await page.close();
  });
});
