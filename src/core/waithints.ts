/** Hints from what the server's sessions waited on during the load. */
import type { Hint, WaitSampling } from '../shared/result';
import { IDLE } from './sampler';

export function waitHints(w: WaitSampling | null): Hint[] {
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
      action: `Let fewer queries run at once: a pool of about ${w.serverVcpus * 2}–${w.serverVcpus * 4} connections to this server gives the same throughput with shorter latency; make the query cheaper, or add CPUs.`,
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
  const idle = share((e) => e === IDLE);
  if (idle >= 0.3) {
    hints.push({
      id: 'client-bound',
      severity: 'info',
      title: `The server sessions were idle ${pct(idle)} of the time`,
      detail: `${pct(idle)} of the samples found the sessions idle, waiting for pgload to send the next request: the load generator, not the server, set the pace for part of the run.`,
      action: 'Fewer clients per pgload process, or a faster client machine; the latencies still count only the time from sending to receiving.',
    });
  }
  return hints;
}
