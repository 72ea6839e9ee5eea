/**
 * One hint per cause, as every report shows them: a spill is seen by EXPLAIN as its node (a sort, a hash, an
 * aggregate), as the temporary files it wrote, as the work_mem that would keep it in memory and as the server's waits
 * on temp files — four hints of one cause. They are shown as one: the spill that costs most leads, the work_mem
 * advice gives the one thing to try, the rest are folded under it. Grouping only: every figure is the result's.
 */
import type { Hint, HintId } from '../result';

const SPILL: ReadonlySet<HintId> = new Set<HintId>(['sort-spill', 'hash-batches', 'hashagg-spill', 'node-spill', 'temp-io', 'work-mem-advice', 'temp-file-waits']);
const SPILL_NODES: ReadonlySet<HintId> = new Set<HintId>(['sort-spill', 'hash-batches', 'hashagg-spill', 'node-spill']);

export interface HintCause {
  /** The hint the cause is told by (its title, detail, node and estimate lead). */
  lead: Hint;
  /** The other hints of the same cause, in rank order. */
  also: Hint[];
  /** The one thing to try for the cause: the work_mem that keeps every spilling node in memory when there is one. */
  sql?: string;
  action: string;
}

/** The hints (in the result's rank order) as causes, in the same order: the place of a cause is its lead's. */
export function hintCauses(hints: readonly Hint[]): HintCause[] {
  const spills = hints.filter((h) => SPILL.has(h.id));
  const out: HintCause[] = [];
  let spillDone = false;
  for (const h of hints) {
    if (!SPILL.has(h.id)) {
      out.push({ lead: h, also: [], ...(h.sql ? { sql: h.sql } : {}), action: h.action });
      continue;
    }
    if (spillDone) continue;
    spillDone = true;
    // The costliest spilling node leads (the first in rank order); then any spill hint.
    const lead = spills.find((s) => SPILL_NODES.has(s.id)) ?? spills[0];
    const advice = spills.find((s) => s.id === 'work-mem-advice');
    const by = advice ?? lead;
    // The advice's title is its verdict (the value, and whether it is affordable at this concurrency): it leads the action.
    const action = advice && advice !== lead ? `${advice.title}. ${advice.action}` : by.action;
    out.push({ lead, also: spills.filter((s) => s !== lead), ...(by.sql ? { sql: by.sql } : {}), action });
  }
  return out;
}
