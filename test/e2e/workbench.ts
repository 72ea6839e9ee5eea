/** A person's moves in the workbench (code-server in Chromium), for the e2e tests: palette, Explorer, quick picks, the report's frame. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';

const root = path.resolve(__dirname, '../..');

/** The VSIX as `npm run package` makes it (its prepublish step builds again), written into `dir`; its path. */
export function packageVsix(dir: string): string {
  const vsix = path.join(dir, 'pgload.vsix');
  execFileSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], { cwd: root, stdio: 'pipe' });
  return vsix;
}

export async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Opens a workspace file as a person does: its row in the Explorer, until its tab is the active one. */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name });
  // Another view (Runs, Testing) may have taken the side bar: back to the Explorer first.
  if ((await page.locator('.monaco-workbench').count()) > 0 && !(await row.first().isVisible().catch(() => false))) {
    // The explorer may still be drawing after a reload: look again before switching views.
    await row.first().waitFor({ timeout: 3000 }).catch(() => palette(page, 'View: Show Explorer'));
  }
  await row.waitFor({ timeout: 60_000 });
  await row.click();
  await page.waitForSelector(`.tab.active:has-text("${name}")`, { timeout: 30_000 });
}

/** The frame of the report panel on screen (others may be open behind it), once it shows the element. */
export function visibleReportFrame(page: Page, selector: string, ms = 60_000): Promise<Frame> {
  return poll(`the visible report panel to show ${selector}`, async () => {
    for (const f of page.frames()) {
      if (!f.url().includes('/webview/') && !f.url().startsWith('vscode-webview')) continue;
      if (!(await f.$(selector).catch(() => null))) continue;
      const el = await f.frameElement().catch(() => null);
      if (el && (await el.isVisible().catch(() => false))) {
        const outer = f.parentFrame() ? await f.parentFrame()!.frameElement().catch(() => null) : null;
        if (!outer || (await outer.isVisible().catch(() => false))) return f;
      }
    }
    return undefined;
  }, ms);
}

/** Runs a command from the palette as a person does: F1, its title, Enter. */
export async function palette(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(`>${title}`);
  // The row that is this command (not one whose title merely contains the words).
  const row = page.locator('.quick-input-list .monaco-list-row:visible', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
}

/** Picks a row of the open quick pick as a person does with the keyboard: its text typed into the filter, then Enter. */
export async function pickRow(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input:visible');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(text);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row:visible', { hasText: text }).first().waitFor({ timeout: 30_000 });
  // An Enter that arrives while the list re-renders after the filter can be lost: the question then stays open with its
  // row chosen (seen once in a fresh clone's run). It is pressed again only while the question still shows the text typed.
  for (let tries = 0; tries < 3; tries++) {
    await page.keyboard.press('Enter');
    const taken = await page
      .waitForFunction(
        (typed) => {
          const widget = document.querySelector<HTMLElement>('.quick-input-widget');
          const field = widget?.querySelector<HTMLInputElement>('input');
          return !widget || widget.offsetParent === null || !field || field.value !== typed;
        },
        text,
        { timeout: 3_000 },
      )
      .then(
        () => true,
        () => false,
      );
    if (taken) return;
  }
}

/** The frame of the pgload report webview, once it shows the element. */
export function reportFrame(page: Page, selector: string): Promise<Frame> {
  return poll(`the report panel to show ${selector}`, async () => {
    for (const f of page.frames()) {
      if (!f.url().includes('/webview/') && !f.url().startsWith('vscode-webview')) continue;
      if (await f.$(selector).catch(() => null)) return f;
    }
    return undefined;
  });
}

