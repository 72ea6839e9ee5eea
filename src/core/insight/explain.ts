/**
 * EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON), always inside a transaction that is rolled back — so
 * explaining DML (with writes allowed) changes nothing. Options the server's version lacks are left out.
 */
import { withInternalMark } from '../connection/connection';
import type { Client } from 'pg';
import type { CapturedPlan } from '../../shared/result';
import { errorMessage } from '../errors';

export function explainOptions(versionNum: number): string[] {
  const options = ['ANALYZE', 'BUFFERS'];
  if (versionNum >= 120000) options.push('SETTINGS');
  return options;
}

/**
 * EXPLAIN ANALYZE inside a transaction that is rolled back, sent by the extended protocol (one statement, whatever the
 * text holds). `begin` opens it (BEGIN READ ONLY unless writes are allowed; through a pooler in transaction pooling
 * also the run's settings, which the session itself does not carry).
 */
export async function captureExplain(
  client: Client,
  sql: string,
  versionNum: number,
  when: CapturedPlan['when'],
  values: Array<string | null> | undefined,
  begin: string[],
  /** Also read the statement's query id (one more planning): only for the plan whose counters the run reports. */
  withQueryId = false,
): Promise<CapturedPlan> {
  const options = explainOptions(versionNum);
  const empty = { when, options, planningMs: null, executionMs: null, json: null };
  try {
    // Its transaction statements are pgload's own too: on a session that also runs the statement they are not marked otherwise.
    for (const q of begin) await client.query(withInternalMark(q));
    try {
      // Marked as pgload's own (pg_stat_statements keeps it; pgload top leaves it out).
      const r = await client.query({ text: withInternalMark(`EXPLAIN (${options.join(', ')}, FORMAT JSON) ${sql}`), rowMode: 'array', queryMode: 'extended', ...(values?.length ? { values } : {}) });
      const raw = r.rows[0]?.[0] as unknown;
      const parsed = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
      const top = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
      if (!top || typeof top !== 'object' || !top.Plan) return { ...empty, unavailable: 'The server returned no plan.' };
      const queryId = withQueryId && versionNum >= 140000 ? await readQueryId(client, sql, values) : null;
      return {
        when,
        options,
        planningMs: typeof top['Planning Time'] === 'number' ? (top['Planning Time'] as number) : null,
        executionMs: typeof top['Execution Time'] === 'number' ? (top['Execution Time'] as number) : null,
        json: top,
        ...(queryId ? { queryId } : {}),
      };
    } finally {
      await client.query(withInternalMark('ROLLBACK')).catch(() => undefined);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === '42601' ? 'EXPLAIN cannot take this kind of statement' : `EXPLAIN failed: ${errorMessage(err)}`;
    return { ...empty, unavailable: `${reason}; the run itself is not affected.` };
  }
}

/**
 * The statement's query identifier, as pg_stat_statements keys it: EXPLAIN VERBOSE (planning only) prints it when the
 * server computes one (compute_query_id, on with pg_stat_statements loaded). Read from the text: it is a 64-bit
 * integer, which a JSON number would round. Null when the server computes none or EXPLAIN fails.
 */
async function readQueryId(client: Client, sql: string, values: Array<string | null> | undefined): Promise<string | null> {
  try {
    const r = await client.query({ text: withInternalMark(`EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`), rowMode: 'array', queryMode: 'extended', types: { getTypeParser: () => (v: string) => v }, ...(values?.length ? { values } : {}) });
    const m = /"Query Identifier":\s*(-?\d+)/.exec(String(r.rows[0]?.[0] ?? ''));
    return m && m[1] !== '0' ? m[1] : null;
  } catch {
    return null;
  }
}
