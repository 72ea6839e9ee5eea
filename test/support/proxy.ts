/** TCP proxies in front of a test server that misbehave the way networks do. */
import * as net from 'node:net';

/** A TCP proxy in front of the server that can go silent: bytes are dropped, nothing is closed (no FIN). */
export async function silentProxy(targetPort: number): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    down.on('data', (d) => !frozen && up.write(d));
    up.on('data', (d) => !frozen && down.write(d));
    down.on('end', () => !frozen && up.end());
    up.on('end', () => !frozen && down.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => (frozen = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
