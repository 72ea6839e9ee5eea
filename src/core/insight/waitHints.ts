/** Hints from what the server's sessions waited on during the load. */
import type { Hint, WaitSampling } from '../../shared/result';
import { IDLE } from './sampler';

export interface WaitHintContext {
  /** Sessions the run used against the database. */
  clients: number;
  /** The pool size a sweep of this statement measured, if one exists: the one voice on pool size. */
  measuredPool?: { poolSize: number; saturated?: boolean; measuredAt: string };
  /**
   * Whose transaction a request ran in: the user's several statements (a transaction or a mix), or pgload's own
   * BEGIN … ROLLBACK around a write; with the round trips of a request's timed span, and whether pgload was the bottleneck.
   */
  /** A script's statements, each its own round trip inside the request's transaction. */
  transaction?: { roundTrips: number; clientBound: boolean };
}

/**
 * What to do about more active sessions than CPUs. With a sweep of the statement, its measurement; without, a rule
 * of thumb that says it is one and never asks for more sessions than the run used.
 */
function fewerQueriesAction(vcpus: number, ctx: WaitHintContext): string {
  const m = ctx.measuredPool;
  if (m) {
    const when = m.measuredAt.slice(0, 16).replace('T', ' ');
    if (m.saturated === false) {
      return `The sweep of this statement (${when}) found throughput still rising up to ${m.poolSize} concurrent queries, so it did not measure a limit: sweep to more clients before changing the pool; meanwhile make the query cheaper or add CPUs.`;
    }
    return m.poolSize < ctx.clients
      ? `Let fewer queries run at once: the sweep of this statement (${when}) measured its best throughput with ${m.poolSize} concurrent ${m.poolSize === 1 ? 'query' : 'queries'}; this run had ${ctx.clients}. Size the application's pool (pool_size + max_overflow) to ${m.poolSize}, or make the query cheaper, or add CPUs.`
      : `The sweep of this statement (${when}) measured its best throughput with ${m.poolSize} concurrent queries, no fewer than this run's ${ctx.clients}: the CPUs are the limit at this concurrency — make the query cheaper, or add CPUs.`;
  }
  const rule = vcpus * 2;
  const fewer = Math.max(1, Math.min(rule, ctx.clients - 1));
  return (
    `Let fewer queries run at once than this run's ${ctx.clients}: ` +
    (rule < ctx.clients
      ? `a rule of thumb — not a measurement — is about ${rule} connections for ${vcpus} vCPUs (cores × 2)`
      : `the usual rule of thumb (cores × 2 = ${rule}) is no fewer than ${ctx.clients}, so try ${fewer}`) +
    `; \`pgload sweep\` (or "Find the right pool size") measures the right number for this statement. Or make the query cheaper, or add CPUs.`
  );
}

export function waitHints(w: WaitSampling | null, ctx: WaitHintContext): Hint[] {
  if (!w || w.samples < 5) return [];
  const hints: Hint[] = [];
  const share = (test: (event: string) => boolean) => w.shares.filter((s) => test(s.event)).reduce((a, s) => a + s.share, 0);
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  const cpu = share((e) => e === 'CPU');
  if (w.serverVcpus && w.avgActive > w.serverVcpus * 1.5 && cpu >= 0.4) {
    hints.push({
      id: 'cpu-saturation',
      severity: 'warning',
      title: `${w.avgActive.toFixed(1)} sessions were active on ${w.serverVcpus} vCPUs`,
      detail: `On average ${w.avgActive.toFixed(1)} sessions were executing at once on a server with ${w.serverVcpus} vCPUs (${w.vcpusSource}); ${pct(cpu)} of the samples were on CPU. Past the number of CPUs, more concurrent queries only wait for their turn: each takes longer, throughput does not grow.`,
      action: fewerQueriesAction(w.serverVcpus, ctx),
    });
  }
  const temp = share((e) => /^IO:BufFile/i.test(e));
  if (temp >= 0.1) {
    hints.push({
      id: 'temp-file-waits',
      severity: 'warning',
      title: `Sessions waited on temporary files ${pct(temp)} of the time`,
      detail: `${pct(temp)} of the samples were IO:BufFileRead/BufFileWrite: sorts and hashes spilling to disk, all sessions at once.`,
      action: 'See the spill and work_mem hints: keep this query\'s sorts and hashes in memory (SET LOCAL work_mem).',
    });
  }
  const locks = share((e) => /^Lock:/.test(e));
  if (locks >= 0.1) {
    const top = w.shares.find((s) => s.event.startsWith('Lock:'))!;
    hints.push({
      id: 'lock-waits',
      severity: 'warning',
      title: `Sessions waited on locks ${pct(locks)} of the time`,
      detail: `${pct(locks)} of the samples waited on heavyweight locks (mostly ${top.event}): the sessions block each other (row or table locks).`,
      action: 'Shorten the transactions that hold the locks, touch rows in a consistent order, or avoid locking (FOR UPDATE, UPDATE of the same rows) in this query.',
    });
  }
  const lw = share((e) => /^LWLock:/.test(e));
  if (lw >= 0.1) {
    const top = w.shares.find((s) => s.event.startsWith('LWLock:'))!;
    hints.push({
      id: 'lwlock-waits',
      severity: 'info',
      title: `Sessions waited on internal locks ${pct(lw)} of the time`,
      detail: `${pct(lw)} of the samples waited on LWLocks (mostly ${top.event}): contention inside the server (buffer mapping, WAL, lock manager).`,
      action: 'Fewer concurrent sessions often reduce this contention more than any setting.',
    });
  }
  const inTx = share((e) => e === 'Idle in transaction');
  const tx = ctx.transaction;
  // Samples of a session running a statement or waiting inside one (not idle, in a transaction or out of one).
  const running = share((e) => e !== IDLE && e !== 'Idle in transaction');
  if (inTx >= 0.3 && tx) {
    const trips = `${Number(tx.roundTrips.toFixed(1))} round trips per request`;
    const pgloads = tx.clientBound ? " In this run part of each gap is pgload's own queueing (see the hint on pgload's overhead): run it from another machine to see the gaps the application would leave." : '';
    hints.push({
      id: 'idle-in-transaction',
      severity: inTx > running ? 'warning' : 'info',
      title: `The sessions sat idle inside the request's transaction ${pct(inTx)} of the time`,
      detail: `${pct(inTx)} of the samples found a session inside a request's transaction, waiting for its next statement (${trips}): ${inTx > running ? 'more time went to the gaps between statements than to running them' : 'the statements themselves ran'} (${pct(running)} of the samples). All that time the transaction holds its snapshot and any row locks it took.${pgloads}`,
      action: "Fewer round trips per request: one statement (a join or a CTE) where several read together; no explicit transaction around reads that do not need one snapshot; in the application, no work between the statements of an open transaction (keep the SQLAlchemy session's transaction short).",
    });
  }
  const idle = share((e) => e === IDLE);
  if (idle >= 0.3) {
    hints.push({
      id: 'sessions-idle',
      severity: 'info',
      title: `The server sessions were idle ${pct(idle)} of the time`,
      detail: `${pct(idle)} of the samples found the sessions idle, waiting for pgload to send the next request: the load generator, not the server, set the pace for part of the run.`,
      action: 'Fewer clients per pgload process, or a faster client machine; the latencies still count only the time from sending to receiving.',
    });
  }
  return hints;
}
