/**
 * The messages between the extension and the report panel. Types only: both sides `import type` this file.
 * The webview says `ready` before the extension posts anything; requests from the webview carry an id
 * that the extension answers with `ack`. The extension validates every message before acting on it.
 */
import type { ProfileResult } from './result';

/** What the panel shows of a run's live progress (a subset of the core's Progress). */
export interface ProgressView {
  phase: 'preparing' | 'connecting' | 'baseline' | 'load' | 'closing';
  done: number;
  total: number | null;
  elapsedMs: number;
  plannedMs: number | null;
  qps: number;
  p95Ms: number | null;
  errors: number;
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
}

export type ToWebview =
  | { type: 'show'; panel: PanelState }
  | { type: 'progress'; runId: string; progress: ProgressView }
  | { type: 'ack'; requestId: number; ok: boolean; message?: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'rerun'; requestId: number }
  | { type: 'cancel'; requestId: number }
  | { type: 'copyMarkdown'; requestId: number }
  | { type: 'saveJson'; requestId: number }
  | { type: 'showLog'; requestId: number }
  /** Copy a hint's SQL (e.g. `SET LOCAL work_mem = '64MB';`) to the clipboard. */
  | { type: 'copyText'; requestId: number; text: string };

/** What the webview keeps with vscode.setState so that the serializer can restore the panel. */
export interface WebviewPersistedState {
  runId: string;
  fingerprint: string;
}
