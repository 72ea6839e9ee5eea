/** The files a result can be saved as, from the report panel and the Runs view: one place for both. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatMarkdownReport, formatTimelineCsv } from '../shared/format';
import { buildHtmlReport, diagnosisState, exportState, loadReportAssets } from '../core/report/htmlReport';
import { formatDiagnoseMarkdown } from '../shared/report/diagnose';
import type { DiagnoseResult, ProfileResult, SweepResult } from '../shared/result';
import type { Ui } from './ui';
import { exportFileName } from '../shared/text';

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

/** What a panel shows beside its run: the statement's sweep, and the diagnosis the run belongs to. */
export interface ExportExtras {
  sweep?: SweepResult;
  diagnosis?: DiagnoseResult;
}

export function exportContent(format: ExportFormat, r: ProfileResult, connectionLabel: string, extensionUri: vscode.Uri, extra: ExportExtras = {}): string {
  const { sweep, diagnosis } = extra;
  // A diagnosis is exported whole: its answers lead, the application load's run and the sweep come with it.
  if (diagnosis) {
    if (format === 'json') return JSON.stringify(diagnosis, null, 2) + '\n';
    if (format === 'markdown') return formatDiagnoseMarkdown(diagnosis);
    if (format === 'html') return buildHtmlReport(diagnosisState(diagnosis, connectionLabel), loadReportAssets(path.join(extensionUri.fsPath, 'dist')));
  }
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
export async function exportResult(ui: Ui, format: ExportFormat, r: ProfileResult, connectionLabel: string, extensionUri: vscode.Uri, extra: ExportExtras = {}): Promise<[boolean, string]> {
  const e = EXT[format];
  const name = exportFileName(extra.diagnosis && format !== 'csv' ? 'diagnosis' : format === 'csv' ? 'timeline' : 'report', r.sql, r.startedAt, e.ext);
  const target = await ui.saveTarget(`Save ${e.what}`, name, { [e.filter]: [e.ext] });
  if (!target) return [false, 'Not saved.'];
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(exportContent(format, r, connectionLabel, extensionUri, extra)));
  return [true, `Saved to ${target.fsPath}.`];
}
