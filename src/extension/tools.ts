/**
 * pgload for agents in the editor (language-model tools): profile a statement under load, and read the last result.
 * An agent gets the same safety as a person: DDL refused with the reason, a write profiled only once confirmed (every
 * request rolled back), and a run against a server that is not on this machine confirmed first. In chat, VS Code asks
 * with the messages prepareInvocation returns; invoked without a chat (lm.invokeTool from code), pgload asks itself.
 */
import { isLocalHost } from '../core/connection/local';
import * as vscode from 'vscode';
import { ensureParser, parseSingleStatement } from '../core/sql';
import { errorMessage } from '../core/errors';
import { formatMarkdownReport } from '../shared/format';
import { oneLine } from '../shared/text';
import { formatDiagnoseMarkdown } from '../shared/report/diagnose';
import { readConnections, readDefaultConnectionName, type ConnectionSetting } from './config';
import type { RunController } from './runController';
import type { ResultStore } from './resultStore';
import type { Ui } from './ui';

export const TOOL_PROFILE = 'pgload_profile';
export const TOOL_LAST_RESULT = 'pgload_last_result';

export interface ProfileToolInput {
  sql: string;
  clients?: number;
  durationSeconds?: number;
  /** A connection's name in pgload.connections (default: the active one). */
  connection?: string;
}

export interface LastResultToolInput {
  sql?: string;
}

/** Whether a connection's server is this machine (a local host name or a Unix socket folder). */
export function isLocalConnection(c: Pick<ConnectionSetting, 'host' | 'url'>): boolean {
  let host = c.host;
  if (host === undefined && c.url) {
    try {
      host = /^postgres(ql)?:\/\//i.test(c.url) ? new URL(c.url).hostname : /(?:^|\s)host=(\S+)/.exec(c.url)?.[1];
    } catch {
      return false;
    }
  }
  return isLocalHost(host ?? process.env.PGHOST ?? 'localhost');
}

function text(...parts: string[]): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult(parts.map((p) => new vscode.LanguageModelTextPart(p)));
}

export class ProfileTool implements vscode.LanguageModelTool<ProfileToolInput> {
  constructor(
    private readonly runs: RunController,
    private readonly ui: Ui,
  ) {}

  private connectionFor(name: string | undefined): ConnectionSetting | undefined {
    const list = readConnections();
    const wanted = name ?? readDefaultConnectionName();
    return wanted ? list.find((c) => c.name === wanted) : list.length === 1 ? list[0] : undefined;
  }

  /** What needs a person's yes: a write (rolled back), a server that is not this machine. Undefined: nothing. */
  private async needsConfirmation(input: ProfileToolInput): Promise<{ title: string; message: string; action: string } | undefined> {
    await ensureParser();
    const statement = parseSingleStatement(input.sql);
    const c = this.connectionFor(input.connection);
    const load = `${input.clients ?? 10} clients for ${input.durationSeconds ?? 10} s`;
    const reasons: string[] = [];
    if (statement.kind === 'dml') reasons.push(`it changes data (${statement.nodeType.replace(/Stmt$/, '').toUpperCase()}): every request runs in a transaction that is rolled back, so no row is kept — but locks are taken while it runs`);
    if (c && !isLocalConnection(c)) reasons.push(`it runs ${load} against "${c.name}", a server that is not this machine`);
    if (reasons.length === 0) return undefined;
    // The statement itself in the question: the person answers for what will run, not for a description of it.
    return {
      title: 'Profile under load?',
      message: `An agent asks pgload to profile ${oneLine(input.sql, 100)} (${load}): ${reasons.join('; and ')}.`,
      action: statement.kind === 'dml' ? 'Profile with Rollback' : 'Run It',
    };
  }

  async prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<ProfileToolInput>): Promise<vscode.PreparedToolInvocation> {
    const confirm = await this.needsConfirmation(options.input).catch(() => undefined);
    return {
      invocationMessage: `pgload: profiling under load (${options.input.clients ?? 10} clients, ${options.input.durationSeconds ?? 10} s)`,
      ...(confirm ? { confirmationMessages: { title: confirm.title, message: new vscode.MarkdownString(confirm.message) } } : {}),
    };
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<ProfileToolInput>): Promise<vscode.LanguageModelToolResult> {
    const input = options.input;
    if (typeof input?.sql !== 'string' || input.sql.trim() === '') return text('No SQL was given: pass the statement to profile in "sql".');
    let confirm;
    try {
      confirm = await this.needsConfirmation(input);
    } catch (err) {
      return text(`pgload cannot profile this: ${errorMessage(err)}`);
    }
    if (input.connection !== undefined && !this.connectionFor(input.connection)) {
      return text(`There is no connection named "${input.connection}" in pgload.connections; the connections are ${readConnections().map((c) => `"${c.name}"`).join(', ') || 'none'}.`);
    }
    // In chat VS Code has asked already (the confirmation messages above); from code nobody has: pgload asks, as it asks a person.
    if (confirm && options.toolInvocationToken === undefined) {
      const yes = await this.ui.confirm(confirm.message, confirm.action);
      if (yes !== confirm.action) return text('Not run: the person using the editor did not confirm it.');
    }
    const from = this.ui.shown.length;
    const result = await this.runs.profileForTool(input.sql, {
      clients: input.clients,
      durationSeconds: input.durationSeconds,
      connection: input.connection ? this.connectionFor(input.connection) : undefined,
      writesConfirmed: confirm !== undefined,
    });
    if (!result) {
      const said = this.ui.shown.slice(from).map((m) => m.message);
      return text(`The run did not complete. ${said.join(' ') || 'See the pgload log.'}`);
    }
    return text(formatMarkdownReport(result));
  }
}

export class LastResultTool implements vscode.LanguageModelTool<LastResultToolInput> {
  constructor(private readonly store: ResultStore) {}

  async invoke(options: vscode.LanguageModelToolInvocationOptions<LastResultToolInput>): Promise<vscode.LanguageModelToolResult> {
    const sql = options.input?.sql;
    const stored = sql ? this.store.bySql(sql) ?? this.store.all().find((r) => r.result.sql.trim() === sql.trim()) : this.store.latest();
    if (!stored) return text(sql ? 'pgload has no result for this statement yet: profile it first (the pgload_profile tool, or Profile under load).' : 'pgload has no result yet: profile a statement first.');
    const diagnosis = this.store.diagnosisBySql(stored.result.sql)?.diagnosis;
    const parts = [formatMarkdownReport(stored.result)];
    if (diagnosis) parts.push(formatDiagnoseMarkdown(diagnosis));
    return text(...parts);
  }
}
