import * as assert from 'node:assert/strict';
import { parseFromWebview } from '../../src/extension/protocolGuard';

describe('Messages from the webview are checked before the extension acts', () => {
  it('accepts the known messages in their exact shape', () => {
    assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    for (const type of ['rerun', 'sweep', 'cancel', 'copyMarkdown', 'saveJson', 'exportHtml', 'exportCsv', 'showLog']) {
      assert.deepEqual(parseFromWebview({ type, requestId: 7 }), { type, requestId: 7 });
    }
    assert.deepEqual(parseFromWebview({ type: 'copyText', requestId: 1, text: "SET LOCAL work_mem = '8MB';" }), { type: 'copyText', requestId: 1, text: "SET LOCAL work_mem = '8MB';" });
  });

  it('drops anything else: unknown types, extra or missing fields, wrong types, oversized text', () => {
    const bad: unknown[] = [
      null,
      undefined,
      'rerun',
      42,
      [],
      [{ type: 'rerun', requestId: 1 }],
      {},
      { type: 'runSql', requestId: 1, sql: 'DROP TABLE users' },
      { type: 'rerun' },
      { type: 'rerun', requestId: '1' },
      { type: 'rerun', requestId: 1.5 },
      { type: 'rerun', requestId: Number.MAX_SAFE_INTEGER + 2 },
      { type: 'rerun', requestId: 1, sql: 'DROP TABLE users' },
      { type: 'ready', extra: true },
      { type: 'copyText', requestId: 1 },
      { type: 'copyText', requestId: 1, text: 5 },
      { type: 'copyText', requestId: 1, text: 'x'.repeat(10_001) },
      { type: 'copyText', requestId: 1, text: 'ok', more: 1 },
      { type: { toString: () => 'rerun' }, requestId: 1 },
    ];
    for (const m of bad) assert.equal(parseFromWebview(m), undefined, JSON.stringify(m));
  });
});
