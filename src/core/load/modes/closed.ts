/**
 * The closed loop, the default mode: one client per session, each sending its next request as soon as the last one
 * answered, so the database sees exactly `clients` concurrent requests. A lost session ends its client, or — with
 * reconnect — opens a new one and goes on. It alone runs on several event loops (../workerThreads.ts) when asked.
 */
import type { LoadClient, LoadDriver, LoadSink, Requests } from '../driver';
import { fortyPercent, type LoadMode } from './mode';

export const closedMode: LoadMode = {
  name: 'plain clients',
  selects: () => true,
  check: () => undefined,
  concurrency: (o) => ({ count: o.clients, noun: 'clients' }),
  reconnects: true,
  explainAtMs: fortyPercent,
  resultOptions: () => ({}),
  driver: (clients, o, requests) => new ClosedLoop(clients, requests, o.reconnect),
};

export class ClosedLoop implements LoadDriver {
  readonly atDurationEnd = 'stop';

  constructor(
    private readonly clients: LoadClient[],
    private readonly requests: Requests,
    private readonly reconnect: boolean,
  ) {}

  run(sink: LoadSink): Promise<void> {
    return Promise.all(this.clients.map((c) => closedLoopClient(c, sink, this.requests, this.reconnect))).then(() => undefined);
  }

  stop(): void {
    // Each client checks sink.stopping() before its next request; nothing waits here.
  }
}

/** One client of a closed loop: requests back to back until the budget, the run or its session ends. */
export async function closedLoopClient(c: LoadClient, sink: LoadSink, requests: Requests, reconnect: boolean): Promise<void> {
  while (!sink.stopping() && sink.claim()) {
    let lost = false;
    c.busy = true;
    await requests.backToBack(c.session, (us, failure) => {
      if (failure === undefined) {
        sink.succeeded(us);
        sink.served(c);
      } else if (sink.failed(failure, c)) {
        lost = true;
        return false;
      }
      return !sink.stopping() && sink.claim();
    });
    c.busy = false;
    if (!lost || c.alive || sink.stopping()) break;
    sink.sessionsLost(1, sink.sinceStartMs());
    if (!reconnect || !(await requests.reconnect(c))) break;
  }
}
