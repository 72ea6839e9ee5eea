/**
 * What the extension suites share: the activated extension, the answers a person would give to its questions, the
 * test PostgreSQL, and small waits. The suites (the *.test.ts beside it) run in the order index.ts requires them.
 * The test PostgreSQL comes from PGLOAD_TEST_ADMIN_URL (for inspecting the server) and the workspace settings
 * (for the extension, without a password: the extension must ask for it and keep it in SecretStorage).
 */
import * as assert from 'node:assert/strict';
import { Client } from 'pg';
import * as vscode from 'vscode';
import type { PgloadApi } from '../../src/extension/extension';
import type { ShownMessage } from '../../src/extension/ui';

export const ADMIN_URL = process.env.PGLOAD_TEST_ADMIN_URL ?? '';
export const PASSWORD = process.env.PGLOAD_TEST_PASSWORD ?? '';

export async function pgloadSessions(): Promise<number> {
  const c = new Client({ connectionString: ADMIN_URL, application_name: 'pgload-test-admin' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pgload'")).rows[0].n;
  } finally {
    await c.end();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run in a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

export async function selectText(editor: vscode.TextEditor, text: string): Promise<void> {
  const at = editor.document.getText().indexOf(text);
  assert.ok(at >= 0, `"${text}" is in the document`);
  editor.selection = new vscode.Selection(editor.document.positionAt(at), editor.document.positionAt(at + text.length));
}

export let api: PgloadApi;
/** What the tests answer, as a person would, to messages, quick picks and input boxes. */
export const answers = {
  passwords: [] as string[],
  message: (_m: ShownMessage): string | undefined => undefined,
  pick: (_title: string, _labels: string[]): number | undefined => undefined,
  /** Input boxes other than passwords (e.g. parameter generators). */
  input: (_title: string, _prompt: string): string | undefined => undefined,
  /** Save dialogs: the path chosen. */
  save: (_title: string, _defaultName: string): string | undefined => undefined,
  /** Open dialogs: the path chosen. */
  open: (_title: string): string | undefined => undefined,
};
export const asked: string[] = [];

before(async () => {
  assert.ok(ADMIN_URL && PASSWORD, 'PGLOAD_TEST_ADMIN_URL and PGLOAD_TEST_PASSWORD are set by the test runner');
  const ext = vscode.extensions.getExtension('pgload.pgload');
  assert.ok(ext, 'the extension under development is loaded');
  api = (await ext.activate()) as PgloadApi;
  // First a wrong password, then the right one: the extension must ask again and keep only the right one.
  answers.passwords = ['not-the-password', PASSWORD];
  api.ui.responder = {
    input: (title, prompt, password) => {
      if (!password) return answers.input(title, prompt);
      asked.push(`${title}: ${prompt}`);
      return answers.passwords.shift();
    },
    message: (m) => answers.message(m),
    pick: (title, labels) => answers.pick(title, labels),
    save: (title, name) => answers.save(title, name),
    open: (title) => answers.open(title),
  };
});

/** The messages shown while fn ran. */
export async function messagesDuring(fn: () => Thenable<unknown>): Promise<ShownMessage[]> {
  const from = api.ui.shown.length;
  await fn();
  return api.ui.shown.slice(from);
}

export async function setSettings(values: Record<string, unknown>): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('pgload');
  for (const [k, v] of Object.entries(values)) await cfg.update(k, v, vscode.ConfigurationTarget.Workspace);
}
