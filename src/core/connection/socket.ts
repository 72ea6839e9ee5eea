/**
 * The socket under a session. Without TLS, pgload gives node-postgres a socket that reads into one buffer (Node's
 * `onread` option) instead of through Node's stream machinery: what arrives goes straight to pgload's request loop
 * (./wire) while it owns the session, and to node-postgres as ordinary 'data' events (a copy) otherwise. A read
 * through the stream machinery allocates a buffer and passes it through several layers; on `SELECT 1` that was
 * about a third of pgload's user CPU per request (see docs/benchmarks.md). Through TLS the socket is Node's own and
 * the loop listens to its 'data' events.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Client } from 'pg';

/** Takes one read: the bytes are `data[0, length)`, valid only during the call (the buffer is reused for the next read). */
export type Reader = (data: Buffer, length: number) => void;

const READER = Symbol('pgload.reader');
type DirectSocket = Socket & { [READER]?: Reader | null };

/**
 * One read buffer per thread, shared by its sockets: each read is handed on synchronously, before the next one is
 * made, and whoever keeps bytes copies them. 64 kB, as Node reads by default; thousands of sessions share it.
 */
let readBuffer: Buffer | undefined;

/** A socket for node-postgres (its `stream` option) that pgload's loop can read directly. */
export function directSocket(): Socket {
  const buffer = (readBuffer ??= Buffer.allocUnsafe(64 * 1024));
  const onread: OnReadOpts = {
    buffer,
    callback: (length: number, data: Uint8Array) => {
      const reader = socket[READER];
      if (reader) reader(data as Buffer, length);
      else socket.emit('data', Buffer.from(data.subarray(0, length)));
      return true;
    },
  };
  // Node documents `onread` as an option of the constructor (nodejs/node#54194); @types/node lists it for connect() only.
  const socket: DirectSocket = new Socket({ onread } as SocketConstructorOpts);
  socket[READER] = null;
  return socket;
}

/**
 * Sends the socket's reads to `reader` until releaseReads(). Returns false (and changes nothing) when the socket
 * reads through its 'data' events, as a TLS socket does: the caller listens to those.
 */
export function takeReads(socket: Socket, reader: Reader): boolean {
  const s = socket as DirectSocket;
  if (s[READER] === undefined) return false;
  s[READER] = reader;
  return true;
}

/** Gives the socket's reads back to node-postgres. */
export function releaseReads(socket: Socket): void {
  const s = socket as DirectSocket;
  if (s[READER] !== undefined) s[READER] = null;
}

/** The socket under this client's session (the load loop writes its pre-built requests on it). */
export function sessionSocket(client: Client): Socket {
  return (client as unknown as { connection: { stream: Socket } }).connection.stream;
}
