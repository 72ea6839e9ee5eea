/** What a report says about a run split across processes: one shard's share and start, or the merge of all shards. */
import type { ProfileResult } from '../result';
import { formatCount, formatMs } from '../numbers';

type ShardInput = Pick<ProfileResult, 'shard' | 'shards' | 'load'>;

/** How close the shards' starts were, against what the clocks can tell apart. */
function spreadText(spreadMs: number, uncertaintyMs: number): string {
  const within = `within ${formatMs(spreadMs)} of each other on the server's clock`;
  return spreadMs <= uncertaintyMs ? `${within}, less than the clocks' uncertainty (± ${formatMs(uncertaintyMs)}): one start as far as can be measured` : `${within} (each clock known to ± ${formatMs(uncertaintyMs)})`;
}

/** The lines about shards, for the terminal and Markdown alike (empty for a run that was not split). */
export function shardLines(r: ShardInput): string[] {
  if (r.shards) {
    const m = r.shards;
    const how = m.start.how === 'start-at' ? 'at the --start-at instant' : 'together once all were ready';
    return [
      `${m.count} shards (run ${m.runId}) released their clients ${how}, ${spreadText(m.start.spreadMs, m.start.clockUncertaintyMs)}. Latency is merged from their histograms; the baseline, plans, waits and counters are shard 1's.`,
      ...m.members.map((s) => `shard ${s.index}: ${formatCount(s.clients)} client${s.clients === 1 ? '' : 's'} · ${formatCount(s.ok)} ok · ${formatCount(s.failed)} failed · p50 ${formatMs(s.p50Ms)} · p95 ${formatMs(s.p95Ms)} · released +${formatMs(s.releasedAfterMs)}`),
      ...m.notes,
    ];
  }
  if (r.shard) {
    const s = r.shard;
    const t = s.totals;
    const share = t.users !== null ? `${formatCount(r.load.clients)} sessions for its share of ${formatCount(t.users)} users` : `${formatCount(r.load.clients)} of ${formatCount(t.clients)} clients`;
    const requests = t.requests !== null ? `, ${formatCount(r.load.requests.total)} of ${formatCount(t.requests)} requests` : '';
    const late = s.start.releasedServerMs - s.start.plannedServerMs;
    return [
      `Shard ${s.index} of ${s.count} (run ${s.runId}): ${share}${requests}. Released ${formatMs(Math.abs(late))} ${late >= 0 ? 'after' : 'before'} its planned instant on the server's clock (known to ± ${formatMs(s.start.clockUncertaintyMs)}), after waiting ${formatMs(s.start.waitedMs)}${s.start.how === 'start-at' ? ' for --start-at' : ' for the other shards'}. Merge all ${s.count} results with "pgload merge".`,
    ];
  }
  return [];
}
