/**
 * Runs that put heavy load on a server (a sweep, a capacity search, a diagnosis) are asked about first: the range of
 * sessions and how long, in one sentence, with Cancel first. The answer "don't ask again" is remembered per
 * connection for that range only: a wider range or a longer budget asks again. Pure: unit-tested without VS Code.
 */
import { defaultSteps, rechecks } from '../../core/analysis/sweep';
import { formatDuration, plural } from '../../shared/numbers';

export type HeavyKind = 'sweep' | 'capacity' | 'diagnose';

export interface HeavyPlan {
  kind: HeavyKind;
  /** What will run, on which connection: the question's sentence. */
  sentence: string;
  /** The range as remembered ("don't ask again" holds for exactly this one); never shown. */
  signature: string;
  /** The range in a few words, beside "Run it". */
  brief: string;
  /** The setting that changes the range. */
  setting: string;
}

/** A sweep: its steps (1, 2, 4, … clients), each for the step's length. */
export function sweepPlan(connection: string, maxClients: number, stepSeconds: number): HeavyPlan {
  const steps = defaultSteps(maxClients);
  const shown = steps.length > 8 ? `${steps.slice(0, 6).join(', ')}, … ${steps[steps.length - 1]}` : steps.join(', ');
  // The first step measured again at the end, to check that the server's speed held.
  const again = rechecks(steps) ? 1 : 0;
  const total = formatDuration((steps.length + again) * stepSeconds * 1000);
  return {
    kind: 'sweep',
    sentence:
      `Find the right pool size runs ${plural(steps.length, 'step')} of ${formatDuration(stepSeconds * 1000)} (${shown} client${maxClients === 1 ? '' : 's'})${again ? `, then ${steps[0]} again as a speed check,` : ''} on "${connection}": ` +
      `about ${total}, up to ${plural(maxClients, 'session')} at once.`,
    signature: `sweep ${maxClients} × ${stepSeconds} s`,
    brief: `${plural(steps.length, 'step')} up to ${plural(maxClients, 'client')}${again ? ' and a speed check' : ''}, about ${total}`,
    setting: 'pgload.sweep.maxClients',
  };
}

/** A capacity search or a diagnosis: the application's pool opens up to `sessions`, within the budget. */
export function appLoadPlan(kind: 'capacity' | 'diagnose', connection: string, sessions: number, budgetMs: number): HeavyPlan {
  const what = kind === 'capacity' ? 'Find capacity raises the users of your application until p95 passes the objective' : "Diagnose runs the statement alone, under your application's load and at the pool sizes it compares";
  return {
    kind,
    sentence: `${what} on "${connection}": up to ${formatDuration(budgetMs)}, up to ${plural(sessions, 'session')} at once.`,
    signature: `${kind} ${sessions} sessions ${Math.round(budgetMs / 1000)} s`,
    brief: `up to ${plural(sessions, 'session')}, up to ${formatDuration(budgetMs)}`,
    setting: 'pgload.diagnose.budgetSeconds',
  };
}

/** Whether the remembered answers for a connection cover this plan. */
export function remembered(accepted: readonly string[] | undefined, plan: HeavyPlan): boolean {
  return accepted?.includes(plan.signature) ?? false;
}
