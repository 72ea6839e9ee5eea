/**
 * The messages between the extension and the report panel. Types only: both sides `import type` this file.
 * The webview says `ready` before the extension posts anything; requests from the webview carry an id
 * that the extension answers with `ack`. The extension validates every message before acting on it.
 */
import type { ProgressView } from './result';
import type { PanelState } from './panelState';
export type { ProgressView } from './result';
export type { PanelResult, PanelState, RunState } from './panelState';

export type ToWebview =
  | { type: 'show'; panel: PanelState }
  | { type: 'progress'; runId: string; progress: ProgressView }
  | { type: 'ack'; requestId: number; ok: boolean; message?: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'rerun'; requestId: number }
  /** Run the concurrency sweep of the panel's statement (again). */
  | { type: 'sweep'; requestId: number }
  /** An A/B test of the panel's statement against a setting, a second statement or prepared statements (asked in VS Code). */
  | { type: 'abTest'; requestId: number }
  /** Diagnose the panel's statement (again). */
  | { type: 'diagnose'; requestId: number }
  /** Find the capacity of the panel's statement within the objective (again). */
  | { type: 'capacity'; requestId: number }
  /** Try a hint's setting (`SET LOCAL work_mem = '64MB';`): an A/B against the panel's statement. */
  | { type: 'tryHint'; requestId: number; sql: string }
  /** Save the panel's diagnosis (the Answers tab) as JSON, Markdown or a self-contained HTML report. */
  | { type: 'exportDiagnosis'; requestId: number; format: 'json' | 'markdown' | 'html' }
  | { type: 'cancel'; requestId: number }
  | { type: 'copyMarkdown'; requestId: number }
  | { type: 'saveJson'; requestId: number }
  /** Save a self-contained HTML report (charts included, opens offline). */
  | { type: 'exportHtml'; requestId: number }
  /** Save the timeline as CSV. */
  | { type: 'exportCsv'; requestId: number }
  | { type: 'showLog'; requestId: number }
  /** Copy a hint's SQL (e.g. `SET LOCAL work_mem = '64MB';`) to the clipboard. */
  | { type: 'copyText'; requestId: number; text: string };

/** What the webview keeps with vscode.setState so that the serializer can restore the panel. */
export interface WebviewPersistedState {
  runId: string;
  fingerprint: string;
}
