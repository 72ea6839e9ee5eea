/**
 * Draws the extension's icon (media/icon.png, 256 × 256, what the Marketplace and the Extensions view show) from the
 * activity-bar symbol media/pgload.svg, on a dark rounded square, with Debian's Chromium. Run it after changing the
 * symbol: `npx tsx scripts/icon.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from './lib/code-server';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const symbol = fs.readFileSync(path.join(root, 'media/pgload.svg'), 'utf8').replace(/stroke-width="1.3"/g, 'stroke-width="1.1"');
  const html = `<!DOCTYPE html><html><body style="margin:0;background:transparent">
<div style="width:256px;height:256px;border-radius:48px;background:#1e2a3a;display:flex;align-items:center;justify-content:center">
<div style="width:200px;height:200px">${symbol.replace('<svg ', '<svg width="200" height="200" ')}</div></div></body></html>`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 256, height: 256 } });
    await page.setContent(html);
    await page.screenshot({ path: path.join(root, 'media/icon.png'), omitBackground: true, clip: { x: 0, y: 0, width: 256, height: 256 } });
  } finally {
    await browser.close();
  }
}

void main();
