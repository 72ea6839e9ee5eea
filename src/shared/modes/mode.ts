/**
 * What a load mode adds to the report, on the browser-safe side (the panel renders it too): how its plan line reads,
 * and its own figures, a line each. The engine's half of a mode (its checks and driver) is src/core/load/modes/.
 */
import type { ProfileResult, ResultOptions } from '../result';

export interface ModeText {
  /** The load as the report's first line says it, when this mode ran (undefined: another mode ran). */
  describe(o: ResultOptions, amount: string, warm: string): string | undefined;
  /** Its own figures, a line each; empty when it did not run. */
  lines(r: Pick<ProfileResult, 'options' | 'load'>): string[];
}
