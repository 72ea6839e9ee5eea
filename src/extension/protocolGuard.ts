/** Validation of messages from the webview: type and shape are checked before the extension acts. */
import type { FromWebview } from '../shared/protocol';

const WITH_REQUEST = new Set(['rerun', 'sweep', 'diagnose', 'capacity', 'abTest', 'cancel', 'copyMarkdown', 'saveJson', 'exportHtml', 'exportCsv', 'showLog']);

export function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready' && Object.keys(m).length === 1) return { type: 'ready' };
  if (m.type === 'copyText') {
    if (typeof m.requestId !== 'number' || !Number.isSafeInteger(m.requestId) || typeof m.text !== 'string' || m.text.length > 10_000 || Object.keys(m).length !== 3) return undefined;
    return { type: 'copyText', requestId: m.requestId, text: m.text };
  }
  if (m.type === 'exportDiagnosis') {
    if (typeof m.requestId !== 'number' || !Number.isSafeInteger(m.requestId) || !['json', 'markdown', 'html'].includes(m.format as string) || Object.keys(m).length !== 3) return undefined;
    return { type: 'exportDiagnosis', requestId: m.requestId, format: m.format as 'json' | 'markdown' | 'html' };
  }
  if (m.type === 'tryHint') {
    if (typeof m.requestId !== 'number' || !Number.isSafeInteger(m.requestId) || typeof m.sql !== 'string' || m.sql.length > 2_000 || Object.keys(m).length !== 3) return undefined;
    return { type: 'tryHint', requestId: m.requestId, sql: m.sql };
  }
  if (typeof m.type === 'string' && WITH_REQUEST.has(m.type)) {
    if (typeof m.requestId !== 'number' || !Number.isSafeInteger(m.requestId) || Object.keys(m).length !== 2) return undefined;
    return { type: m.type, requestId: m.requestId } as FromWebview;
  }
  return undefined;
}
