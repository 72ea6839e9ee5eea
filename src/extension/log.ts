/** The "pgload" log channel, the core's Logger on top of it, and short error messages with "Show Log". */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { redactUrlPasswords } from '../core/connection/redact';

export class Log implements Logger, vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  /** The last lines written (bounded): what the tests search for secrets. */
  readonly recent: string[] = [];

  constructor() {
    this.channel = vscode.window.createOutputChannel('pgload', { log: true });
  }

  // Every line passes the URL-password redactor; run-specific secrets are removed by the core's redacting logger.
  debug(m: string): void {
    this.channel.debug(this.keep(redactUrlPasswords(m)));
  }
  info(m: string): void {
    this.channel.info(this.keep(redactUrlPasswords(m)));
  }
  warn(m: string): void {
    this.channel.warn(this.keep(redactUrlPasswords(m)));
  }
  error(m: string): void {
    this.channel.error(this.keep(redactUrlPasswords(m)));
  }

  private keep(line: string): string {
    this.recent.push(line);
    if (this.recent.length > 1000) this.recent.shift();
    return line;
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
