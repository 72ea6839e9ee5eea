/**
 * The messages between the extension and the report panel. Types only: both sides `import type` this file.
 * The webview says `ready` before the extension posts anything; requests from the webview carry an id
 * that the extension answers with `ack`. The extension validates every message before acting on it.
 */
import type { Comparison, DiagnoseResult, ProfileResult, SweepResult } from './result';

/** A run's live progress, as the core reports it and the panel shows it. */
export interface ProgressView {
  phase: 'preparing' | 'connecting' | 'baseline' | 'load' | 'closing';
  /** Requests done in the load phase so far (successful and failed). */
  done: number;
  /** Planned requests (request mode) or null (duration mode). */
  total: number | null;
  /** Milliseconds since the barrier (load), else since the phase started. */
  elapsedMs: number;
  /** Planned length in duration mode, else null. */
  plannedMs: number | null;
  /** Successful requests per second over the last second or more. */
  qps: number;
  /** p95 of the whole load so far, in ms (null before the first response). */
  p95Ms: number | null;
  errors: number;
  /** A phase change worth a line ("opening 50 sessions"), or '' for a plain update. */
  message: string;
}

/** The result as the panel receives it: the result object without the HDR encodings it has no use for. */
export type PanelResult = Omit<ProfileResult, 'hdr'>;

export type RunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface PanelState {
  /** Identifies the run the panel shows; the serializer uses it to restore the panel after a reload. */
  runId: string;
  fingerprint: string;
  sql: string;
  connectionLabel: string;
  state: RunState;
  progress?: ProgressView;
  result?: PanelResult;
  /** One sentence when the run failed. */
  error?: string;
  /** What is running or failed: a profile run (the default) or a concurrency sweep. */
  activity?: 'run' | 'sweep' | 'diagnose';
  /** The statement's latest concurrency sweep, for the Scaling tab. */
  sweep?: SweepResult;
  /** Two runs compared (from the Runs view), for the Compare tab. */
  comparison?: Comparison;
  /** A diagnosis (the Answers tab): its answers, phases and the measurements behind them. */
  diagnosis?: DiagnoseResult;
  /** When this run failed or was cancelled: the statement's last good report, one click away. */
  lastGood?: PanelState;
}

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
