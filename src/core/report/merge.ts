/**
 * `pgload merge`: the results of a split run's shards as one result. Latency is merged exactly — the shards' HDR
 * histograms (same settings) are added, so the merged p95 is the p95 of one histogram of every request, which
 * averaging the shards' percentiles is not. Timelines are aligned on the server's clock (each shard recorded when it
 * released its clients), errors summed by SQLSTATE, counts summed. What runs once per run (the baseline, plans,
 * waits, counters) is shard 1's. Figures that cannot be merged exactly are left out, and the result says which.
 */
import type { ClientOverhead, ErrorGroup, Hint, MergedShards, ProfileResult, RunStatus, ShardFacts, TimelinePoint } from '../../shared/result';
import { PgloadError } from '../errors';
import { createHistogram, decodeHistogram, encodeHistogram, latencyStats, logBuckets, percentileCurve } from '../load/histogram';
import { intervalHistogram, timelinePoint } from '../load/timeline';
import { hundredths } from '../load/shard/split';

type Shard = ProfileResult & { shard: ShardFacts };

/** Checks that `results` are all the shards of one run, each once; returns them by shard number. */
export function checkShards(results: Array<{ name: string; result: ProfileResult }>): Shard[] {
  if (results.length === 0) throw new PgloadError('usage', 'No results to merge: give the shards\' result files, like pgload merge shard-*.json --json all.json');
  for (const { name, result } of results) {
    if (!result.shard) throw new PgloadError('usage', `${name} is not a shard's result (it was run without --shard i/n): only the shards of one split run merge.`);
  }
  const first = results[0].result.shard!;
  const byIndex = new Map<number, Shard>();
  for (const { name, result } of results) {
    const s = result.shard!;
    if (s.runId !== first.runId || s.count !== first.count) {
      throw new PgloadError('usage', `${name} is shard ${s.index} of ${s.count} of run ${s.runId}, but ${results[0].name} is of run ${first.runId} (${first.count} shards): merge the shards of one run.`);
    }
    if (result.fingerprint !== results[0].result.fingerprint) throw new PgloadError('usage', `${name} profiled another statement than ${results[0].name}: merge the shards of one run.`);
    if (byIndex.has(s.index)) throw new PgloadError('usage', `Shard ${s.index} of ${s.count} is given twice (${name}): give each shard's result once.`);
    byIndex.set(s.index, result as Shard);
  }
  const missing = Array.from({ length: first.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new PgloadError('usage', `Shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${first.count} ${missing.length === 1 ? 'is' : 'are'} missing from run ${first.runId}: a merge of some shards would understate the load. Give all ${first.count} results.`);
  }
  return [...byIndex.values()].sort((a, b) => a.shard.index - b.shard.index);
}

const STATUS_ORDER: RunStatus[] = ['completed', 'clients-lost', 'bailed-out', 'cancelled'];

/** All shards of one run as one result (checked by checkShards). */
export function mergeShards(results: Array<{ name: string; result: ProfileResult }>): ProfileResult {
  const shards = checkShards(results);
  const one = shards[0];
  const origin = Math.min(...shards.map((s) => s.shard.start.releasedServerMs));
  const shiftOf = (s: Shard) => s.shard.start.releasedServerMs - origin;

  const hist = createHistogram();
  for (const s of shards) hist.add(decodeHistogram(s.hdr.load));
  const ok = sum(shards, (s) => s.load.requests.ok);
  const failed = sum(shards, (s) => s.load.requests.failed);
  const wallMs = Math.max(...shards.map((s) => shiftOf(s) + s.load.wallMs));
  const stats = latencyStats(hist);
  const base = one.baseline.latency;
  const connect = shards.flatMap((s) => s.shard.connectMs).sort((a, b) => a - b);
  const over = sum(shards, (s) => s.load.overThreshold.count);
  const status = shards.map((s) => s.status).reduce((a, b) => (STATUS_ORDER.indexOf(b) > STATUS_ORDER.indexOf(a) ? b : a));
  const totals = one.shard.totals;
  const notes = droppedParts(shards);

  return {
    ...one,
    status,
    ...(status !== 'completed' ? { statusDetail: shards.filter((s) => s.status !== 'completed').map((s) => `Shard ${s.shard.index}: ${s.statusDetail ?? s.status}`).join(' ') } : { statusDetail: undefined }),
    startedAt: minIso(shards.map((s) => s.startedAt)),
    finishedAt: maxIso(shards.map((s) => s.finishedAt)),
    options: {
      ...one.options,
      clients: totals.clients,
      requests: totals.requests,
      maxErrors: sum(shards, (s) => s.options.maxErrors),
      ...(one.options.rate && totals.ratePerSecond !== null ? { rate: { ...one.options.rate, perSecond: totals.ratePerSecond, maxOutstanding: sum(shards, (s) => s.options.rate?.maxOutstanding ?? 0) } } : {}),
      ...(one.options.pool && totals.users !== null ? { pool: { ...one.options.pool, users: totals.users } } : {}),
    },
    load: {
      clients: sum(shards, (s) => s.load.clients),
      requests: { total: ok + failed, ok, failed },
      wallMs,
      throughputQps: wallMs > 0 ? (ok * 1000) / wallMs : 0,
      latency: stats,
      overThreshold: { thresholdMs: one.load.overThreshold.thresholdMs, count: over, percent: ok > 0 ? (over * 100) / ok : 0 },
      slowdown: base.meanMs > 0 && stats.count > 0 ? stats.meanMs / base.meanMs : null,
      connectMs: { p50Ms: connect[Math.floor((connect.length - 1) / 2)] ?? 0, maxMs: connect[connect.length - 1] ?? 0 },
      percentiles: percentileCurve(hist),
      client: mergedClient(shards),
    },
    timeline: mergedTimeline(shards, shiftOf),
    histogram: logBuckets(hist),
    errors: mergedErrors(shards, shiftOf),
    hints: mergedHints(shards),
    hdr: { unit: 'us', baseline: one.hdr.baseline, load: encodeHistogram(hist) },
    cleanup: shards.some((s) => s.cleanup.leftoverSessions === null)
      ? { leftoverSessions: null, note: shards.map((s) => s.cleanup.note).find((n) => n) }
      : { leftoverSessions: sum(shards, (s) => s.cleanup.leftoverSessions ?? 0) },
    shard: undefined,
    shards: mergedFacts(shards, notes),
  };
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
const minIso = (xs: string[]) => xs.reduce((a, b) => (b < a ? b : a));
const maxIso = (xs: string[]) => xs.reduce((a, b) => (b > a ? b : a));

/** Parts of a shard's load figures that are not kept in a form that adds up exactly: left out, and said. */
function droppedParts(shards: Shard[]): string[] {
  const parts: Array<[keyof ProfileResult['load'], string]> = [
    ['pool', "the application pool's wait/database split"],
    ['openLoop', "the open loop's uncorrected latency and queue wait"],
    ['ramp', "the ramp's stages"],
    ['steady', 'the steady-state figures'],
    ['statements', "each statement's own latency"],
    ['scripts', "each script's figures"],
    ['background', "the background load's figures"],
    ['outages', 'the outage windows'],
  ];
  const out: string[] = [];
  for (const [key, words] of parts) {
    if (shards.some((s) => s.load[key] !== undefined)) out.push(`${words[0].toUpperCase()}${words.slice(1)} ${words.endsWith('s') ? 'are' : 'is'} in each shard's own result, not merged.`);
  }
  return out;
}

/** pgload's own cost: summed over the shards' processes; the delay and the share of a core are the worst shard's. */
function mergedClient(shards: Shard[]): ClientOverhead | undefined {
  const cs = shards.map((s) => s.load.client).filter((c): c is ClientOverhead => c !== undefined);
  if (cs.length === 0) return undefined;
  const cpuMs = sum(cs, (c) => c.cpuMs);
  const requests = sum(shards, (s) => s.load.requests.total);
  return {
    cpuMs,
    ...(cs.every((c) => c.cpuSystemMs !== undefined) ? { cpuSystemMs: sum(cs, (c) => c.cpuSystemMs!) } : {}),
    cpuUsPerRequest: requests > 0 ? (cpuMs * 1000) / requests : 0,
    cpuShareOfOneCore: Math.max(...cs.map((c) => c.cpuShareOfOneCore)),
    eventLoopDelayP99Ms: Math.max(...cs.map((c) => c.eventLoopDelayP99Ms)),
    eventLoopDelayMaxMs: Math.max(...cs.map((c) => c.eventLoopDelayMaxMs)),
    clientBound: cs.some((c) => c.clientBound),
  };
}

/**
 * The shards' intervals, each moved by its release's distance from the earliest shard's (server clock) and added
 * into intervals as long as the longest shard's: counts and errors add exactly, and so do the interval histograms.
 */
function mergedTimeline(shards: Shard[], shiftOf: (s: Shard) => number): TimelinePoint[] {
  const intervalMs = Math.max(...shards.map((s) => typicalInterval(s.shard.slots)));
  if (!(intervalMs > 0)) return [];
  const buckets: Array<{ startMs: number; endMs: number; hist: ReturnType<typeof intervalHistogram>; errors: number }> = [];
  for (const s of shards) {
    const shift = shiftOf(s);
    for (const slot of s.shard.slots) {
      const k = Math.max(0, Math.floor((slot.tMs + shift) / intervalMs));
      for (let i = buckets.length; i <= k; i++) buckets.push({ startMs: i * intervalMs, endMs: (i + 1) * intervalMs, hist: intervalHistogram(), errors: 0 });
      const b = buckets[k];
      b.hist.add(decodeHistogram(slot.hdr));
      b.errors += slot.errors;
      b.endMs = Math.max(b.endMs, Math.min((k + 1) * intervalMs, slot.tMs + shift + slot.durationMs));
    }
  }
  // The last interval ends where the last shard's did.
  const last = buckets[buckets.length - 1];
  if (last) last.endMs = Math.max(last.startMs, Math.max(...shards.map((s) => shiftOf(s) + s.load.wallMs)));
  return buckets.map(timelinePoint);
}

function typicalInterval(slots: ShardFacts['slots']): number {
  const full = slots.slice(0, -1).map((s) => s.durationMs).sort((a, b) => a - b);
  return full.length ? full[Math.floor(full.length / 2)] : (slots[0]?.durationMs ?? 0);
}

/** Errors by SQLSTATE (and message, and phase), counted over all shards; the first on the merged time axis. */
function mergedErrors(shards: Shard[], shiftOf: (s: Shard) => number): ErrorGroup[] {
  const groups = new Map<string, ErrorGroup>();
  for (const s of shards) {
    for (const e of s.errors) {
      const key = `${e.phase}\u0000${e.code}\u0000${e.message}`;
      const at = e.firstAtMs + shiftOf(s);
      const g = groups.get(key);
      if (g) {
        g.count += e.count;
        g.firstAtMs = Math.min(g.firstAtMs, at);
      } else groups.set(key, { ...e, firstAtMs: at });
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** Shard 1's hints (its plans, waits and counters), and any other kind a later shard found (e.g. pgload client-bound there). */
function mergedHints(shards: Shard[]): Hint[] {
  const out = [...shards[0].hints];
  for (const s of shards.slice(1)) for (const h of s.hints) if (!out.some((x) => x.id === h.id)) out.push(h);
  return out;
}

function mergedFacts(shards: Shard[], notes: string[]): MergedShards {
  // Each shard's release less its phase: all equal if every shard released at the one agreed instant.
  const lateness = shards.map((s) => s.shard.start.releasedServerMs - s.shard.start.phaseMs);
  const earliest = Math.min(...lateness);
  const r2 = hundredths;
  return {
    count: shards.length,
    runId: shards[0].shard.runId,
    start: {
      how: shards[0].shard.start.how,
      spreadMs: r2(Math.max(...lateness) - earliest),
      clockUncertaintyMs: r2(Math.max(...shards.map((s) => s.shard.start.clockUncertaintyMs))),
    },
    members: shards.map((s, i) => ({
      index: s.shard.index,
      clients: s.load.clients,
      ok: s.load.requests.ok,
      failed: s.load.requests.failed,
      p50Ms: s.load.latency.p50Ms,
      p95Ms: s.load.latency.p95Ms,
      releasedAfterMs: r2(lateness[i] - earliest),
    })),
    notes,
  };
}
