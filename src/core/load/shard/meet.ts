/**
 * How the shards of a split run start together, through the database they load rather than a service of ours: each
 * shard measures its clock against the server's (clock_timestamp(), corrected by half the round trip), announces
 * itself in its control session's application_name with the server instant it was ready, and watches
 * pg_stat_activity until all n are there. Every shard then computes the same start — the last shard's ready instant
 * plus a lead — and releases its clients when its own clock, corrected, reaches it. With --start-at the instant is
 * given instead and nobody waits for anybody.
 */
import type { Client } from 'pg';
import type { ShardStartHow } from '../../../shared/result';
import { PgloadError } from '../../errors';
import type { ShardOptions } from './split';

/** This process's clock, in ms since the epoch, with sub-millisecond resolution. */
export const localNowMs = (): number => performance.timeOrigin + performance.now();

export interface ClockReading {
  /** Server clock − local clock. */
  offsetMs: number;
  /** Half the round trip of the reading used: the offset is known to within this. */
  uncertaintyMs: number;
}

/** The server's clock against ours: the reading with the shortest of `samples` round trips. */
export async function readServerClock(client: Pick<Client, 'query'>, samples = 7): Promise<ClockReading> {
  let best: ClockReading | undefined;
  for (let i = 0; i < samples; i++) {
    const before = localNowMs();
    const r = await client.query<{ ms: string }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS ms');
    const after = localNowMs();
    const reading = { offsetMs: Number(r.rows[0].ms) - (before + after) / 2, uncertaintyMs: (after - before) / 2 };
    if (!best || reading.uncertaintyMs < best.uncertaintyMs) best = reading;
  }
  return best!;
}

/** Time between the last shard's arrival and the release: every shard sees the last one well within it. */
export const LEAD_MS = 1500;
const POLL_MS = 100;
const PREFIX = 'pgload-shard';

export interface ShardStart {
  how: ShardStartHow;
  /** The instant this shard is to release its clients, on the server's clock. */
  plannedServerMs: number;
  /** Its offset from the instant all shards agreed on (a constant rate's shards interleave their arrivals). */
  phaseMs: number;
  clock: ClockReading;
  /** From ready to the release. */
  waitedMs: number;
}

/** What a shard writes into its application_name (at most 63 bytes): the run, its number, and when it was ready. */
export function announcement(runId: string, index: number, count: number, readyServerMs: number): string {
  return `${PREFIX} ${runId} ${index}/${count} ${Math.round(readyServerMs)}`;
}

const ANNOUNCEMENT = new RegExp(`^${PREFIX} (\\S+) (\\d+)/(\\d+) (\\d+)$`);

/** Reads the announcements of one run seen in pg_stat_activity; throws when they contradict this shard. */
export function readAnnouncements(names: string[], shard: Pick<ShardOptions, 'runId' | 'index' | 'count'>): Map<number, number> {
  const seen = new Map<number, number>();
  for (const name of names) {
    const m = ANNOUNCEMENT.exec(name);
    if (!m || m[1] !== shard.runId) continue;
    const [index, count, ready] = [Number(m[2]), Number(m[3]), Number(m[4])];
    if (count !== shard.count) {
      throw new PgloadError('usage', `Another shard of run ${shard.runId} counts ${count} shards where this one counts ${shard.count}: start every shard with the same --shard …/n (or give each run its own --run-id).`);
    }
    const before = seen.get(index);
    if (before !== undefined && before !== ready) {
      throw new PgloadError('usage', `Two processes are shard ${index} of ${count} of run ${shard.runId}: give each process its own number (--shard 1/${count} … ${count}/${count}, or a Kubernetes Indexed Job with --shard auto/${count}).`);
    }
    seen.set(index, ready);
  }
  return seen;
}

/** The start every shard computes from the same announcements: the last ready instant plus the lead. */
export function agreedStart(seen: Map<number, number>): number {
  return Math.max(...seen.values()) + LEAD_MS;
}

/**
 * Waits for the other shards (or for --start-at) on the control session, then until the agreed instant. Returns
 * when this shard's clients are to be released; throws when the others do not come in time, or on cancel.
 */
export async function meetShards(
  client: Pick<Client, 'query'>,
  shard: ShardOptions,
  ctx: { signal?: AbortSignal; onWaiting?: (here: number[]) => void; log: (line: string) => void },
): Promise<ShardStart> {
  const clock = await readServerClock(client);
  const serverNow = () => localNowMs() + clock.offsetMs;
  const readyServerMs = serverNow();
  const readyLocal = localNowMs();
  ctx.log(`shard ${shard.index}/${shard.count} of run ${shard.runId}: server clock ${clock.offsetMs >= 0 ? '+' : ''}${clock.offsetMs.toFixed(1)} ms from ours (± ${clock.uncertaintyMs.toFixed(1)} ms)`);
  let how: ShardStartHow;
  let startServerMs: number;
  if (shard.startAtMs !== undefined) {
    how = 'start-at';
    startServerMs = shard.startAtMs;
    if (startServerMs + shard.phaseMs <= readyServerMs) {
      throw new PgloadError('usage', `--start-at ${new Date(shard.startAtMs).toISOString()} had passed (by the server's clock) when shard ${shard.index} of ${shard.count} was ready at ${new Date(readyServerMs).toISOString()}: give a later time.`);
    }
  } else {
    how = 'together';
    startServerMs = await waitForAll(client, shard, readyServerMs, ctx);
  }
  const planned = startServerMs + shard.phaseMs;
  // Timers until 4 ms before, then turns of the event loop: a timer may fire a few milliseconds late on a busy machine.
  await sleepUntil(() => planned - 4 - serverNow(), ctx.signal);
  while (serverNow() < planned && !ctx.signal?.aborted) await new Promise<void>((resolve) => setImmediate(resolve));
  return { how, plannedServerMs: planned, phaseMs: shard.phaseMs, clock, waitedMs: localNowMs() - readyLocal };
}

async function waitForAll(client: Pick<Client, 'query'>, shard: ShardOptions, readyServerMs: number, ctx: { signal?: AbortSignal; onWaiting?: (here: number[]) => void }): Promise<number> {
  await client.query("SELECT set_config('application_name', $1, false)", [announcement(shard.runId, shard.index, shard.count, readyServerMs)]);
  const deadline = localNowMs() + shard.waitMs;
  const prefix = `${PREFIX} ${shard.runId} `;
  // The announcement stays until the control session closes: a shard that has seen all n must not vanish before the
  // others have seen it too.
  let reported = -1;
  for (;;) {
    if (ctx.signal?.aborted) throw new PgloadError('cancelled', 'The run was cancelled while its shard waited for the others; nothing was measured under load.');
    const r = await client.query<{ name: string }>('SELECT application_name AS name FROM pg_stat_activity WHERE left(application_name, length($1)) = $1', [prefix]);
    const seen = readAnnouncements(r.rows.map((x) => x.name), shard);
    if (seen.size === shard.count) return agreedStart(seen);
    if (seen.size !== reported) {
      reported = seen.size;
      ctx.onWaiting?.([...seen.keys()].sort((a, b) => a - b));
    }
    if (localNowMs() > deadline) {
      const missing = Array.from({ length: shard.count }, (_, i) => i + 1).filter((i) => !seen.has(i));
      throw new PgloadError(
        'connection',
        `Only ${seen.size} of ${shard.count} shards of run ${shard.runId} were ready within ${Math.round(shard.waitMs / 1000)} s (missing: ${missing.join(', ')}); nothing was measured under load. Start the missing shards with the same flags, or give them longer with --shard-wait.`,
      );
    }
    await sleep(POLL_MS, ctx.signal);
  }
}

/** Sleeps `ms` (ends early on abort). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Sleeps until `left()` is 0 or less, looking again at least every second (a timer may fire early or late). */
async function sleepUntil(left: () => number, signal?: AbortSignal): Promise<void> {
  for (let ms = left(); ms > 0 && !signal?.aborted; ms = left()) await sleep(Math.min(ms, 1000), signal);
}
