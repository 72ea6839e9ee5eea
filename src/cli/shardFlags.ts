/** `--shard i/n` with `--run-id`, `--shard-wait` and `--start-at`: one shard of a run split across processes. */
import type { ParseArgsConfig } from 'node:util';
import { parseShard, shareOf, type ShardInput } from '../core/load/shard/split';
import { DEFAULT_BACKGROUND_CLIENTS, type BackgroundInput } from '../core/load/background';
import { duration } from './flags';
import { usage } from './io';

export const SHARD_FLAGS = {
  shard: { type: 'string' },
  'run-id': { type: 'string' },
  'shard-wait': { type: 'string' },
  'start-at': { type: 'string' },
} satisfies ParseArgsConfig['options'];

export const SHARD_HELP = `Split across processes or machines (see docs/scale-out.md; merge the results with "pgload merge"):
  --shard I/N              Run the I-th of N equal shares of the load: clients, requests, --rate, --users and
                           --max-errors are totals split so the shares add up exactly; each share has its own seed.
                           The baseline, EXPLAIN, wait sampling and counters run on shard 1 only. The shards meet on
                           the server (pg_stat_activity) and release their clients at one instant of its clock.
                           auto/N takes I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job, 0-based).
                                                                                      e.g. --shard 2/4 --json shard-2.json
  --run-id NAME            Names the run the shards meet in (default: from the statement and the totals).
  --shard-wait TIME        How long a shard waits for the others once ready (default 2m); then it fails.
  --start-at TIME          Release at this instant of the server's clock instead of meeting (ISO 8601 with a zone).
                                                                                      e.g. --start-at 2026-12-04T18:00:00Z`;

type ShardValues = { shard?: string; 'run-id'?: string; 'shard-wait'?: string; 'start-at'?: string };

/** The shard asked for, or undefined without --shard (the other shard flags then refused). */
export function shardFromFlags(v: ShardValues, env: Record<string, string | undefined>): ShardInput | undefined {
  if (v.shard === undefined) {
    for (const f of ['run-id', 'shard-wait', 'start-at'] as const) if (v[f] !== undefined) usage(`--${f} goes with --shard I/N`);
    return undefined;
  }
  const { index, count } = parseShard(v.shard, env);
  const waitMs = duration('shard-wait', v['shard-wait'], 's', 1000);
  let startAtMs: number | undefined;
  if (v['start-at'] !== undefined) {
    const text = v['start-at'].trim();
    startAtMs = Date.parse(text);
    if (!/(Z|[+-]\d\d:?\d\d)$/i.test(text) || !Number.isFinite(startAtMs)) {
      usage(`--start-at ${v['start-at']}: write an instant with its zone, like 2026-12-04T18:00:00Z (every shard must read the same instant)`);
    }
  }
  return { index, count, ...(v['run-id'] !== undefined ? { runId: v['run-id'] } : {}), ...(waitMs !== undefined ? { waitMs } : {}), ...(startAtMs !== undefined ? { startAtMs } : {}) };
}

/** A background load is a total too: this shard's share of its clients and rate (none when its share is empty). */
export function shardBackground(background: BackgroundInput | undefined, shard: ShardInput | undefined): BackgroundInput | undefined {
  if (!background || !shard) return background;
  const clients = shareOf(background.clients ?? DEFAULT_BACKGROUND_CLIENTS, shard.index, shard.count);
  if (clients < 1) return undefined;
  return { ...background, clients, ...(background.ratePerSecond !== undefined ? { ratePerSecond: background.ratePerSecond / shard.count } : {}) };
}
