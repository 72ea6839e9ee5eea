/**
 * How a run ends, whatever ends it (the load done, a failure, a cancel, a silent server): requests in flight cancelled,
 * sessions closed and checked gone on the server, the server's counters and the pooler's queue read after the load —
 * each step bounded, and none of them waiting for a server that stopped answering.
 */
import type { Client } from 'pg';
import type { PoolerSummary, ProfileResult, ServerCounters } from '../../shared/result';
import { clientTimeoutMs, closeSession, openSession } from '../connection/connection';
import { readPoolerCounters, sendCancelRequest } from '../connection/pooler';
import { cancelBackends, ensureGone, ensureRequestsGone } from '../connection/server';
import { CLIENT_TIMEOUT } from '../connection/wire';
import { errorMessage } from '../errors';
import { counterDelta, snapshotCounters } from '../insight/serverStats';
import { plural, RunState } from './runState';

export abstract class RunEnd extends RunState {
  /** The user's stop: no new requests, in-flight queries cancelled on the server. */
  protected async abort(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.halt();
    this.log.info('cancel requested: stopping new requests and cancelling running queries');
    await this.cancelInFlight();
  }

  protected async cancelInFlight(): Promise<void> {
    // A worker thread's sessions are all cancelled: which of them is mid-request is known only there, and a
    // cancel that reaches an idle session does nothing.
    const busyClients = [...this.loadClients, ...(this.baselineClient ? [this.baselineClient] : [])].filter((c) => c.busy && c.pid);
    if (this.pooler) {
      // The process ids are the pooler's: each query is cancelled the way libpq does it, through the pooler.
      await Promise.all(busyClients.map((c) => sendCancelRequest(this.conn, c.session.client)));
      return;
    }
    const busy = busyClients.map((c) => c.pid).concat(this.group?.pids ?? []);
    if (busy.length === 0 || !this.control || this.control.broken || this.silent) return;
    try {
      await cancelBackends(this.control.client, busy);
    } catch (err) {
      this.log.warn(`could not cancel running queries: ${errorMessage(err)}`);
    }
  }

  /** Cancels what still runs and closes every session but the control session. */
  protected async closeSessionsButControl(): Promise<void> {
    const sessions = [...this.sessions].filter((s) => s !== this.control);
    // Queries still running (e.g. after a failure elsewhere) are cancelled first so the backends can leave.
    await this.cancelInFlight();
    if (this.group) {
      // Worker threads close their own sessions; one that does not end in time is terminated (its sockets with it).
      const group = this.group;
      group.stop();
      await bounded(group.finished(), AFTER_LOAD_MS, 'ending the load workers').catch(() => group.terminate());
    }
    // A silent server answers no goodbye: the sockets are dropped at once.
    await Promise.all(sessions.map((s) => closeSession(s, this.silent ? 100 : 2000)));
    for (const s of sessions) this.sessions.delete(s);
  }

  /** The backends of this run's sessions, but the control session's. */
  protected workerPids(): number[] {
    const controlPid = this.control ? this.pidOf(this.control) : -1;
    return [...this.pids].filter((p) => p !== controlPid);
  }

  /** Closes every session but the control session, and waits (on the server) until they are gone. */
  protected async closeWorkers(): Promise<number | null> {
    await this.closeSessionsButControl();
    if (this.silent) return null;
    if (!this.control || this.control.broken) return 0;
    try {
      return await bounded(this.leftoverCheck(this.control.client, this.workerPids()), AFTER_LOAD_MS, 'checking that the sessions closed');
    } catch (err) {
      if (err instanceof SilentServer) await this.markSilent();
      this.log.warn(`could not verify that all sessions closed: ${errorMessage(err)}`);
      return null;
    }
  }

  /**
   * Requests that got no answer within the statement timeout + margin (CLIENT_TIMEOUT): the server or the network went
   * silent. From here on nothing waits for the server; the report says when it was noticed and the bound kept.
   */
  protected silenceDuringLoad(): ProfileResult['load']['silence'] {
    const timedOut = this.errors.list().find((e) => e.code === CLIENT_TIMEOUT);
    if (!timedOut) return undefined;
    this.silent = true;
    const wait = clientTimeoutMs(this.o.statementTimeoutMs);
    const boundMs = wait + SILENCE_MARGIN_MS;
    return {
      detectedAtMs: timedOut.firstAtMs,
      boundMs,
      text:
        `The server stopped answering during the load (first noticed ${(timedOut.firstAtMs / 1000).toFixed(1)} s into it): requests in flight waited the statement timeout (${formatSeconds(this.o.statementTimeoutMs)}) plus pgload's margin of ${formatSeconds(wait - this.o.statementTimeoutMs)}, ` +
        `then pgload dropped its sessions without waiting for an answer; after a silence a run ends within ${formatSeconds(boundMs)}. Check the network between pgload and the server; the figures cover the requests answered before.`,
    };
  }

  /** The server stopped answering: the control session is dropped, and no later step waits for it. */
  protected async markSilent(): Promise<void> {
    this.silent = true;
    await this.dropControl();
  }

  /**
   * Our sessions still on the server after they were closed (0 expected); those still there are ended. Through a pooler
   * the sessions are the pooler's to keep: what must be gone is any request of the run still running on them.
   */
  protected leftoverCheck(control: Client, pids: number[]): Promise<number> {
    if (this.pooler) return ensureRequestsGone(control, this.loadApplicationName());
    return ensureGone(control, pids, this.o.applicationName);
  }

  /** The pooler's queue counters (SHOW STATS) at the start of the load, when its console is open. */
  protected async poolerCountersBefore(): Promise<void> {
    if (!this.pooler?.console) return;
    this.pooler.before = await readPoolerCounters(this.pooler.console, this.conn.database).catch(() => null);
  }

  /** The pooler's queue over the load, and the notes on what the pooler changed in the run. */
  protected async finishPoolerSummary(requests: number, meanLatencyMs: number, wallMs: number): Promise<PoolerSummary | undefined> {
    const p = this.pooler;
    if (!p) return undefined;
    const s = p.summary;
    if (p.console && p.before && !this.silent) {
      const after = await bounded(readPoolerCounters(p.console, this.conn.database), AFTER_LOAD_MS, 'reading the pooler\'s counters').catch(() => null);
      if (after && after.transactions > p.before.transactions) {
        const transactions = after.transactions - p.before.transactions;
        const totalMs = (after.waitUs - p.before.waitUs) / 1000;
        s.wait = { totalMs, transactions, meanPerTransactionMs: totalMs / transactions };
      }
    }
    const notes = s.notes;
    notes.push(
      s.settingsRoute === 'transaction'
        ? `Each request ran as ${this.mode === 'read-only' ? 'BEGIN READ ONLY' : 'BEGIN'}; SELECT set_config(…, true); the statement; ROLLBACK in one round trip: the settings are local to each transaction, so no server session keeps them${s.poolMode ? '' : ' (the pool mode is unknown, and this is right in every mode)'}.`
        : 'The settings were set right after connecting (set_config): in session pooling the server session stays with its client until it disconnects.',
    );
    if (this.mode === 'read-only') {
      notes.push(
        `Read-only was checked on the server before any request (SHOW transaction_read_only = on) on ${plural(s.readOnlyVerifiedSessions, 'session')}, ${s.settingsRoute === 'transaction' ? 'inside a transaction begun as each request\'s is' : 'after the settings were set'}.`,
      );
    }
    if (this.waits && s.settingsRoute === 'transaction') {
      const planned = Math.floor(wallMs / this.waits.intervalMs);
      notes.push(
        this.waits.samples < 0.8 * planned
          ? `The wait sampler's queries go through the pooler too and waited their turn in its queue: ${this.waits.samples} samples were taken where ${planned} were planned, so the wait figures rest on fewer samples.`
          : "The wait sampler's queries go through the pooler too: each borrows a server session for a moment.",
      );
    }
    if (s.wait) {
      const share = meanLatencyMs > 0 ? ` (${((s.wait.meanPerTransactionMs / meanLatencyMs) * 100).toFixed(0)} % of the mean request latency)` : '';
      notes.push(
        `Clients waited ${s.wait.meanPerTransactionMs.toFixed(2)} ms per transaction on average inside the pooler for a server session${share}: ${(s.wait.totalMs / 1000).toFixed(2)} s over ${s.wait.transactions} transactions (SHOW STATS; pgload's own sampling and checks included). That part of the latency is the pooler's queue, not time in PostgreSQL.`,
      );
    } else if (!p.console) {
      notes.push(`The pooler's own queue cannot be told apart from time in PostgreSQL: its admin console could not be read (${s.consoleUnavailable}). For PgBouncer, add pgload's user to stats_users to see it.`);
    }
    notes.push("The server's free connection slots were not checked against the clients: the pooler holds the clients' connections and lends its server sessions (its max_client_conn and pool size are the limits).");
    if (requests === 0) notes.push('No request completed, so the pooler figures cover none.');
    return s;
  }

  /** The server's counters over the load; a control session lost meanwhile (a restart) is opened again. */
  protected async countersAfter(versionNum: number, requests: number, queryId?: string): Promise<ServerCounters> {
    if (!this.countersBefore) return { database: null, statement: null, notes: ['The server counters were not read.'] };
    if (this.silent) return { database: null, statement: null, notes: ['The server counters were not read after the load: the server stopped answering.'] };
    try {
      if (!this.control || this.control.broken) {
        if (this.control) this.sessions.delete(this.control);
        this.control = await bounded(this.open({ statementTimeoutMs: 15_000, readOnly: true }), AFTER_LOAD_MS, 'opening a session for the counters');
      }
      const delta = counterDelta(this.countersBefore, await bounded(snapshotCounters(this.control.client, versionNum), AFTER_LOAD_MS, 'reading the counters'), requests, queryId);
      if (this.outages.length) delta.notes.push('Sessions were lost during the run (e.g. a server restart): the counters span it, and a crash may have reset them.');
      return delta;
    } catch (err) {
      if (err instanceof SilentServer) await this.markSilent();
      return { database: null, statement: null, notes: [`The server counters were not read after the load: ${errorMessage(err)}`] };
    }
  }

  /** A control session that stopped answering is closed (its socket destroyed), never queried again. */
  protected async dropControl(): Promise<void> {
    if (!this.control) return;
    const c = this.control;
    this.control = undefined;
    this.sessions.delete(c);
    await closeSession(c, 200);
  }

  /** Closes every session; terminates any of ours still on the server; returns how many remain (0 expected). */
  protected async cleanup(): Promise<number | null> {
    await this.closeSessionsButControl();
    const ours = this.workerPids();
    let leftover: number | null = 0;
    let control = this.control && !this.control.broken ? this.control : undefined;
    let temporary = false;
    try {
      if (!control && ours.length > 0 && !this.silent) {
        // The control session is gone (e.g. the server restarted): a fresh one checks what is left.
        const opening = openSession(this.conn, { statementTimeoutMs: 15_000, readOnly: true, applicationName: this.o.applicationName, route: this.route }, this.sslDecided);
        control = await bounded(opening, AFTER_LOAD_MS, 'opening a session to check').catch(() => {
          // Opened after all (too late): closed, not left behind.
          void opening.then((s) => closeSession(s), () => undefined);
          return undefined;
        });
        temporary = control !== undefined;
      }
      if (this.silent) leftover = null;
      else if (control) leftover = await bounded(this.leftoverCheck(control.client, ours), AFTER_LOAD_MS, 'checking that the sessions closed');
      else if (ours.length > 0) leftover = null;
    } catch (err) {
      leftover = null;
      if (err instanceof SilentServer) this.silent = true;
      this.log.warn(`could not verify that all sessions closed: ${errorMessage(err)}`);
    } finally {
      if (this.control) {
        await closeSession(this.control, this.silent ? 100 : 2000);
        this.sessions.delete(this.control);
        this.control = undefined;
      }
      if (temporary && control) await closeSession(control, this.silent ? 100 : 2000);
      if (this.pooler?.console) {
        await this.pooler.console.client.end().catch(() => undefined);
        this.pooler.console = undefined;
      }
    }
    if (leftover !== null && leftover > 0) this.log.warn(`${leftover} pgload sessions were still on the server after the run`);
    return leftover;
  }
}

/** Each step after the load (checks, counters) gets this long: a server or network that went silent cannot hold the run. */
export const AFTER_LOAD_MS = 5000;

/** After the client timeout of a silent request, what the rest of a run may take at most (dropping sessions, the report). */
export const SILENCE_MARGIN_MS = 3000;

const formatSeconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

export class SilentServer extends Error {}

export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SilentServer(`no answer from the server within ${ms / 1000} s while ${what}`)), ms);
  });
  // The losing promise's later rejection is handled: it must not surface as an unhandled rejection.
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
