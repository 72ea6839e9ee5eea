/**
 * Every message, quick pick and input box the extension shows goes through here: one place for the
 * wording rules (short, specific, "Show Log" on errors, no secrets), and one seam for the extension
 * tests, which cannot click a notification or type into an input box.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { redactUrlPasswords } from '../core/connection/redact';
import type { Log } from './log';

export type MessageKind = 'info' | 'warning' | 'error';

export interface ShownMessage {
  kind: MessageKind;
  message: string;
  actions: string[];
}

/** Answers for the tests: what a person would click or type. Undefined means "dismissed". */
export interface UiResponder {
  message?(m: ShownMessage): string | undefined;
  pick?(title: string, labels: string[]): number | undefined;
  input?(title: string, prompt: string, password: boolean): string | undefined;
  /** A file path for a save dialog (undefined: cancelled). */
  save?(title: string, defaultName: string): string | undefined;
  /** A file path for an open dialog (undefined: cancelled). */
  open?(title: string): string | undefined;
}

export class Ui {
  /** The last messages shown (bounded), for the tests. */
  readonly shown: ShownMessage[] = [];
  responder?: UiResponder;

  constructor(private readonly log: Log) {}

  private async message(kind: MessageKind, text: string, modal: boolean, actions: string[]): Promise<string | undefined> {
    const message = redactUrlPasswords(text);
    const all = kind === 'error' ? [...actions, 'Show Log'] : actions;
    const record = { kind, message, actions: all };
    this.shown.push(record);
    if (this.shown.length > 50) this.shown.shift();
    if (kind === 'error') this.log.error(message);
    let picked: string | undefined;
    if (this.responder) picked = this.responder.message?.(record);
    else {
      const show = kind === 'info' ? vscode.window.showInformationMessage : kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
      picked = await show(message, { modal }, ...all);
    }
    if (picked === 'Show Log') {
      this.log.show();
      return undefined;
    }
    return picked;
  }

  info(text: string, ...actions: string[]): Promise<string | undefined> {
    return this.message('info', text, false, actions);
  }

  warn(text: string, ...actions: string[]): Promise<string | undefined> {
    return this.message('warning', text, false, actions);
  }

  /** A short, specific error with a "Show Log" action (the detail goes to the log). */
  error(text: string, ...actions: string[]): Promise<string | undefined> {
    return this.message('error', text, false, actions);
  }

  /**
   * A question whose safe answer is the default (confirming DML): a quick pick with Cancel first, so that Enter or Escape
   * never runs it (a modal dialog would make the action its default button). The text is recorded as a message for the tests.
   */
  async confirm(text: string, action: string): Promise<string | undefined> {
    const record = { kind: 'warning' as const, message: text, actions: ['Cancel', action] };
    this.shown.push(record);
    if (this.shown.length > 50) this.shown.shift();
    const items = [
      { label: '$(close) Cancel', answer: undefined, description: 'nothing runs' },
      { label: `$(warning) ${action}`, answer: action, detail: text },
    ];
    if (this.responder) {
      const i = this.responder.pick?.(text, items.map((x) => x.label));
      return i === undefined ? undefined : items[i].answer;
    }
    const picked = await vscode.window.showQuickPick(items, { title: text, placeHolder: `Enter cancels; choose "${action}" to run it`, ignoreFocusOut: true });
    return picked?.answer;
  }

  async pick<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions & { title: string }): Promise<T | undefined> {
    if (this.responder) {
      const i = this.responder.pick?.(options.title, items.map((x) => x.label));
      return i === undefined ? undefined : items[i];
    }
    return vscode.window.showQuickPick(items, options);
  }

  /** Where to save a file: the save dialog, starting in the workspace folder with `defaultName`. */
  async saveTarget(title: string, defaultName: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
    if (this.responder) {
      const p = this.responder.save?.(title, defaultName);
      return p === undefined ? undefined : vscode.Uri.file(p);
    }
    return vscode.window.showSaveDialog({
      title,
      filters,
      defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir()), defaultName),
    });
  }

  /** A file to open: the open dialog, starting in the workspace folder. */
  async openTarget(title: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
    if (this.responder) {
      const p = this.responder.open?.(title);
      return p === undefined ? undefined : vscode.Uri.file(p);
    }
    const picked = await vscode.window.showOpenDialog({ title, filters, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    return picked?.[0];
  }

  async input(options: vscode.InputBoxOptions & { title: string }): Promise<string | undefined> {
    if (this.responder) {
      const v = this.responder.input?.(options.title, options.prompt ?? '', options.password === true);
      if (v !== undefined && options.validateInput) {
        const problem = await options.validateInput(v);
        if (problem) throw new Error(`test input "${v}" rejected by the input box: ${typeof problem === 'string' ? problem : problem.message}`);
      }
      return v;
    }
    return vscode.window.showInputBox(options);
  }
}
