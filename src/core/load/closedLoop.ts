/**
 * The closed loop: one client per session, each sending its next request as soon as the last one answered, so the
 * database sees exactly `clients` concurrent requests. A lost session ends its client, or — with reconnect —
 * opens a new one and goes on.
 */
import type { LoadClient, LoadDriver, LoadSink, Requests } from './driver';

export class ClosedLoop implements LoadDriver {
  readonly atDurationEnd = 'stop';

  constructor(
    private readonly clients: LoadClient[],
    private readonly requests: Requests,
    private readonly reconnect: boolean,
  ) {}

  run(sink: LoadSink): Promise<void> {
    return Promise.all(this.clients.map((c) => this.client(c, sink))).then(() => undefined);
  }

  stop(): void {
    // Each client checks sink.stopping() before its next request; nothing waits here.
  }

  private async client(c: LoadClient, sink: LoadSink): Promise<void> {
    while (!sink.stopping() && sink.claim()) {
      let lost = false;
      c.busy = true;
      await this.requests.backToBack(c.session, (us, failure) => {
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
      if (!this.reconnect || !(await this.requests.reconnect(c))) break;
    }
  }
}
