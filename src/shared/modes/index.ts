/**
 * The load modes' report texts, registered once: the report asks the list instead of testing each mode. A new mode
 * adds its file here and its engine half to src/core/load/modes/index.ts.
 */
import type { ProfileResult, ResultOptions } from '../result';
import { closedText } from './closed';
import type { ModeText } from './mode';
import { poolText } from './pool';
import { rampText } from './ramp';
import { rateText } from './rate';

/** In the order they are asked; the closed loop, last, describes any run the others do not claim. */
export const MODE_TEXTS: readonly ModeText[] = [poolText, rateText, rampText, closedText];

/** The load in one phrase: `100 users over a pool of 20 + 100 overflow … × 10 s`. */
export function describeLoad(o: ResultOptions, amount: string, warm: string): string {
  for (const m of MODE_TEXTS) {
    const text = m.describe(o, amount, warm);
    if (text !== undefined) return text;
  }
  return amount;
}

/** The figures of the mode that ran, a line each. */
export function modeLines(r: Pick<ProfileResult, 'options' | 'load'>): string[] {
  return MODE_TEXTS.flatMap((m) => m.lines(r));
}
