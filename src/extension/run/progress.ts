/**
 * One progress indicator per run, in one place. The panel shows the step, the live figures and the time left; the
 * status bar says pgload and where the run is (click to cancel); a notification with Cancel appears only while the
 * panel cannot be seen (behind another tab or closed), and goes when it is seen again.
 */
import * as vscode from 'vscode';
import type { ProgressView } from '../../shared/protocol';
import { formatStage, progressFraction, progressLine, stagesLeftMs, statusForProgress } from '../../shared/format';
import type { ReportPanel } from '../panel';

/** A step of a run as planned: what it does and how long it should take (null when unknown). */
export interface RunStep {
  label: string;
  plannedMs: number | null;
}

/** The panel's live figures (and a notice's) are redrawn at most this often. */
const PANEL_EVERY_MS = 250;

interface Notice {
  /** Given by VS Code once the notification is up (not at once). */
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
  close: () => void;
  shownPct: number;
}

export class RunProgress implements vscode.Disposable {
  private steps: RunStep[] = [];
  private step = -1;
  private stepStartedAt = 0;
  private last: ProgressView | undefined;
  private lastStatusAt = 0;
  private lastShownAt = 0;
  private lastStatusText = '';
  private notice: Notice | undefined;
  private readonly watch: vscode.Disposable;
  private ended = false;
  private firstLook: NodeJS.Timeout | undefined;

  constructor(
    private readonly panel: ReportPanel,
    private readonly runId: string,
    private readonly title: string,
    private readonly setStatus: (text: string | undefined) => void,
    private readonly cancel: () => void,
    private readonly noun = 'step',
  ) {
    this.watch = panel.onVisibility((visible) => (visible ? this.closeNotice() : this.openNotice()));
    setStatus('pgload connecting…');
    // A panel opened for this run reports itself visible a moment later: look once it has had the time to.
    this.firstLook = setTimeout(() => {
      if (!panel.visible) this.openNotice();
    }, 750);
  }

  /** The run's steps as planned (a sweep's steps, a diagnosis's phases): the time left is theirs. */
  plan(steps: RunStep[]): void {
    this.steps = steps.map((s) => ({ ...s }));
  }

  /** Step `index` (1-based) starts now; its label and plan replace the planned ones when given. */
  enter(index: number, update: Partial<RunStep> = {}): void {
    while (this.steps.length < index) this.steps.push({ label: '', plannedMs: null });
    this.steps[index - 1] = { ...this.steps[index - 1], ...update };
    this.step = index - 1;
    this.stepStartedAt = Date.now();
  }

  /**
   * A progress report of the engine: shown in the panel and any notice (four times a second at most), and in the status
   * bar (twice a second at most); a new phase or step at once. A short run ticks every 50 ms: each report is drawn by the
   * window, and on a machine the load keeps busy, twenty a second queue up in it until a click on Cancel waits behind them.
   */
  update(p: ProgressView): void {
    if (this.ended) return;
    const view = this.step >= 0 ? { ...p, stage: this.stage() } : p;
    const phaseChanged = view.phase !== this.last?.phase || view.stage?.index !== this.last?.stage?.index;
    this.last = view;
    const now = Date.now();
    if (!phaseChanged && now - this.lastShownAt < PANEL_EVERY_MS) return;
    this.lastShownAt = now;
    this.panel.progress(this.runId, view);
    if (phaseChanged || now - this.lastStatusAt > 500) {
      this.lastStatusAt = now;
      this.showStatus(statusForProgress(view));
    }
    this.reportNotice();
  }

  /** Where the run of steps is now, with the time left and the share done, from the plan and the clock. */
  private stage(): NonNullable<ProgressView['stage']> {
    const planned = this.steps.map((x) => x.plannedMs);
    const leftMs = stagesLeftMs(planned, this.step, Date.now() - this.stepStartedAt);
    const total = planned.reduce<number>((a, x) => a + (x ?? 0), 0);
    return { index: this.step + 1, of: this.steps.length, label: this.steps[this.step].label, leftMs, fraction: leftMs === null || total <= 0 ? null : Math.max(0, Math.min(1, 1 - leftMs / total)) };
  }

  private showStatus(text: string): void {
    if (text === this.lastStatusText) return;
    this.lastStatusText = text;
    this.setStatus(text);
  }

  /** How far the run is, 0–100, when that is known: the steps' share of their plan, else the load's. */
  private percent(): number | undefined {
    const p = this.last;
    if (!p) return undefined;
    const f = progressFraction(p);
    return f === null ? undefined : 100 * f;
  }

  private message(): string {
    const p = this.last;
    if (!p) return 'connecting…';
    const live = progressLine(p);
    return p.stage ? `${formatStage(p.stage, this.noun)} — ${live}` : live;
  }

  /** The notice is kept from the moment it is asked for, so that closing it before VS Code shows it still closes it. */
  private openNotice(): void {
    if (this.notice || this.ended) return;
    let close!: () => void;
    const closed = new Promise<void>((resolve) => (close = resolve));
    const notice: Notice = { close, shownPct: 0 };
    this.notice = notice;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: this.title, cancellable: true }, (progress, token) => {
      token.onCancellationRequested(() => this.cancel());
      notice.progress = progress;
      if (this.notice === notice) this.reportNotice();
      return closed;
    });
  }

  private reportNotice(): void {
    const n = this.notice;
    if (!n?.progress) return;
    const pct = this.percent();
    const increment = pct === undefined ? undefined : Math.max(0, pct - n.shownPct);
    if (increment) n.shownPct += increment;
    n.progress.report({ message: this.message(), ...(increment ? { increment } : {}) });
  }

  private closeNotice(): void {
    this.notice?.close();
    this.notice = undefined;
  }

  /** The run is over: the notice closes and the status bar goes back to the connection. */
  dispose(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.firstLook);
    this.watch.dispose();
    this.closeNotice();
    this.setStatus(undefined);
  }
}
