/** The files a result can be saved as, from the report panel and the Runs view: one place for both. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatMarkdownReport, formatTimelineCsv } from '../shared/format';
import { buildHtmlReport, exportState, loadReportAssets } from '../core/report/htmlreport';
import type { ProfileResult, SweepResult } from '../shared/result';
import type { Ui } from './ui';

export type ExportFormat = 'json' | 'markdown' | 'html' | 'csv';

export const EXPORT_FORMATS: Array<{ format: ExportFormat; label: string; detail: string }> = [
  { format: 'markdown', label: 'Markdown', detail: 'the report for a pull request or a ticket' },
  { format: 'json', label: 'JSON', detail: 'the result object, for pgload compare or your own tools' },
  { format: 'html', label: 'HTML', detail: 'a self-contained page with the charts, opens offline' },
  { format: 'csv', label: 'CSV', detail: 'the timeline: requests, errors, q/s, p50, p95 per interval' },
];

const EXT: Record<ExportFormat, { ext: string; filter: string; what: string }> = {
  json: { ext: 'json', filter: 'JSON', what: 'the pgload result as JSON' },
  markdown: { ext: 'md', filter: 'Markdown', what: 'the Markdown report' },
  html: { ext: 'html', filter: 'HTML', what: 'a self-contained HTML report' },
  csv: { ext: 'csv', filter: 'CSV', what: 'the timeline as CSV' },
};

export function exportContent(format: ExportFormat, r: ProfileResult, connectionLabel: string, extensionUri: vscode.Uri, sweep?: SweepResult): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2) + '\n';
    case 'markdown':
      return formatMarkdownReport(r);
    case 'csv':
      return formatTimelineCsv(r);
    case 'html':
      return buildHtmlReport(exportState(r, connectionLabel, sweep ? { sweep } : {}), loadReportAssets(path.join(extensionUri.fsPath, 'dist')));
  }
}

/** Asks where, writes the file; returns whether it was saved and a sentence for the user. */
export async function exportResult(ui: Ui, format: ExportFormat, r: ProfileResult, connectionLabel: string, extensionUri: vscode.Uri, sweep?: SweepResult): Promise<[boolean, string]> {
  const e = EXT[format];
  const name = `pgload-${r.fingerprint}${format === 'csv' ? '-timeline' : ''}.${e.ext}`;
  const target = await ui.saveTarget(`Save ${e.what}`, name, { [e.filter]: [e.ext] });
  if (!target) return [false, 'Not saved.'];
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(exportContent(format, r, connectionLabel, extensionUri, sweep)));
  return [true, `Saved to ${target.fsPath}.`];
}
