/** The "pgload" log channel, the core's Logger on top of it, and short error messages with "Show Log". */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { redactUrlPasswords } from '../core/redact';

export class Log implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('pgload', { log: true });
  }

  // Every line passes the URL-password redactor; run-specific secrets are removed by the core's redacting logger.
  debug(m: string): void {
    this.channel.debug(redactUrlPasswords(m));
  }
  info(m: string): void {
    this.channel.info(redactUrlPasswords(m));
  }
  warn(m: string): void {
    this.channel.warn(redactUrlPasswords(m));
  }
  error(m: string): void {
    this.channel.error(redactUrlPasswords(m));
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
