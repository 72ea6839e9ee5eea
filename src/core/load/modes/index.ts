/**
 * The load modes, registered once. The run and the option checks ask this list: which mode the options select, its
 * checks, its driver and its part of the result. A new mode is one file in this folder, one row here, its report text
 * in src/shared/modes/ and its options (a row of ../../optionTable.ts, a field of the result).
 */
import { usageError } from '../../errors';
import type { ProfileOptions } from '../../options';
import { closedMode } from './closed';
import type { LoadMode } from './mode';
import { poolMode } from './pool';
import { rampMode } from './ramp';
import { rateMode } from './rate';

export type { LoadMode, ModeDriver, ModeFigures, LoadEnd } from './mode';

/** Every mode but the default; at most one may be selected. */
const SELECTABLE: readonly LoadMode[] = [poolMode, rateMode, rampMode];

/** The mode the options select: one of the selectable ones, else the closed loop. */
export function loadModeOf(o: ProfileOptions): LoadMode {
  return SELECTABLE.find((m) => m.selects(o)) ?? closedMode;
}

/** Refuses two modes at once, checks the selected one's options, and what the others allow (reconnecting). */
export function checkLoadMode(o: ProfileOptions): LoadMode {
  const chosen = SELECTABLE.filter((m) => m.selects(o));
  if (chosen.length > 1) throw usageError(`Give one way of sending the load, not ${chosen.map((m) => m.name).join(' and ')}`);
  const mode = chosen[0] ?? closedMode;
  mode.check(o);
  if (o.reconnect === true && !mode.reconnects) throw usageError(`Reconnecting works with clients of their own (--clients), not with ${mode.name}`);
  return mode;
}
