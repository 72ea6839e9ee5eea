/**
 * An application connection pool in front of the database, as SQLAlchemy's QueuePool (pool_size + max_overflow,
 * pool_timeout) or a plain fixed-size pool (HikariCP, pgx): U users share the pool's sessions; a request first
 * waits for a session (pool wait), then runs (database time). Waiters are served first come, first served.
 */

import type { PoolSettings } from '../../shared/result';

/** The pool the users share: pool_size + max_overflow sessions, and how long a request waits for one. */
export type PoolOptions = PoolSettings;

export class PoolTimeout extends Error {
  readonly code = 'POOL_TIMEOUT';
  constructor(o: PoolOptions) {
    // SQLAlchemy's wording, so that a user recognises the error their application would raise.
    super(`QueuePool limit of size ${o.size} overflow ${o.maxOverflow} reached, connection timed out, timeout ${(o.timeoutMs / 1000).toFixed(2)}`);
  }
}

export class PoolClosed extends Error {}

interface Waiter<T> {
  resolve(item: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SessionPool<T> {
  private readonly idle: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closed = false;
  /** The most sessions in use at once. */
  maxInUse = 0;
  private inUse = 0;

  constructor(
    items: T[],
    private readonly options: PoolOptions,
  ) {
    this.idle = [...items];
  }

  /** A free session at once, or undefined when the caller must wait (acquire). */
  tryAcquire(): T | undefined {
    if (this.closed) return undefined;
    const item = this.idle.pop();
    if (item !== undefined) {
      this.inUse++;
      if (this.inUse > this.maxInUse) this.maxInUse = this.inUse;
    }
    return item;
  }

  /** Waits, first come first served, until a session is returned or the pool timeout passes. */
  acquire(): Promise<T> {
    if (this.closed) return Promise.reject(new PoolClosed());
    const item = this.tryAcquire();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve: (i) => {
          clearTimeout(waiter.timer);
          resolve(i);
        },
        reject: (e) => {
          clearTimeout(waiter.timer);
          reject(e);
        },
        timer: setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new PoolTimeout(this.options));
        }, this.options.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Returns a session; a broken one is dropped (the pool shrinks, as a real pool would until it reconnects). */
  release(item: T, usable: boolean): void {
    const next = usable ? this.waiters.shift() : undefined;
    if (next) {
      next.resolve(item);
      return;
    }
    this.inUse--;
    if (usable && !this.closed) this.idle.push(item);
  }

  /** Ends the pool: every waiter is rejected with PoolClosed. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new PoolClosed());
  }
}
