/**
 * The search: every candidate asked of the planner with HypoPG's hypothetical indexes (EXPLAIN without and with
 * it), then the best second index given the best first one, as a greedy advisor does. All inside one read-only
 * transaction that is rolled back: HypoPG's indexes live in the session's memory and nothing is built.
 */
import type { Client } from 'pg';
import type { IndexVerified } from '../../../shared/result';
import { withInternalMark } from '../../connection/connection';
import { errorMessage } from '../../errors';
import { flattenPlan } from '../plan';
import { candidateKey, indexSql, type IndexCandidate } from './candidates';

type Json = Record<string, unknown>;
const num = (n: Json, key: string): number => (typeof n[key] === 'number' ? (n[key] as number) : 0);

/** A candidate counts when the planner uses it and its cost falls by at least this share. */
export const HELPS_BELOW = 0.9;

export interface CheckedCandidate {
  candidate: IndexCandidate;
  verified: IndexVerified | null;
  /** Checked and the planner would use it for a lower cost. */
  helps: boolean;
}

export interface IndexSearch {
  checked: CheckedCandidate[];
  /** The best second index once the best first one exists, when it lowers the cost further. */
  pair: { first: IndexCandidate; second: IndexCandidate; verified: IndexVerified } | null;
  notes: string[];
}

export type Explain = () => Promise<Json>;

/** Runs EXPLAIN (FORMAT JSON[, VERBOSE]) of the statement on `client`, planning only. */
export function explainer(client: Client, sql: string, values: Array<string | null> | undefined, verbose = false): Explain {
  return async () => {
    const r = await client.query({ text: withInternalMark(`EXPLAIN (${verbose ? 'VERBOSE, ' : ''}FORMAT JSON) ${sql}`), rowMode: 'array', queryMode: 'extended', ...(values?.length ? { values } : {}) });
    const raw = r.rows[0]?.[0] as unknown;
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: Json }>;
    return parsed[0].Plan;
  };
}

interface Hypothetical {
  indexrelid: number;
  indexname: string;
  bytes: number;
}

async function create(client: Client, c: IndexCandidate): Promise<Hypothetical> {
  const r = await client.query<{ indexrelid: number; indexname: string; bytes: string }>(
    withInternalMark('SELECT h.indexrelid, h.indexname, hypopg_relation_size(h.indexrelid)::text AS bytes FROM hypopg_create_index($1) h'),
    [indexSql(c, false)],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`HypoPG made no index of ${indexSql(c, false)}`);
  return { indexrelid: row.indexrelid, indexname: row.indexname, bytes: Number(row.bytes) };
}

/** How the plan changes where the new index is used: "the EXISTS's Seq Scan on order_lines becomes an Index Only Scan". */
export function planChange(before: Json, after: Json, indexName: string): string | undefined {
  const used = flattenPlan(after).find((n) => n.raw['Index Name'] === indexName);
  if (!used) return undefined;
  const table = used.raw['Relation Name'] as string | undefined;
  const alias = used.raw.Alias as string | undefined;
  const was = flattenPlan(before).find((n) => n.raw['Relation Name'] === table && n.raw.Alias === alias);
  // Inside the EXISTS: below the inner (second) side of a semi or anti join.
  let semi = false;
  for (let child = used, up = used.parent; up; child = up, up = up.parent) if ((up.raw['Join Type'] === 'Semi' || up.raw['Join Type'] === 'Anti') && up.children[1] === child) semi = true;
  const where = semi ? `the EXISTS's ` : '';
  const verb = used.type === 'Bitmap Index Scan' ? 'a Bitmap Index Scan' : `an ${used.type}`;
  const onTable = table ? ` on ${table}` : '';
  return was && was.type !== used.type ? `${where}${was.type}${onTable} becomes ${verb}` : `${where}${onTable.trim() || 'the scan'} is read with ${verb}`;
}

const shapeOf = (plan: Json): string =>
  flattenPlan(plan)
    .slice(0, 6)
    .map((n) => n.label.replace(/ #\d+$/, '').replace(/<\d+>btree_\S+/, 'the new index'))
    .join(' → ');

/**
 * Checks each candidate, then the best pair. `explain` plans the statement on `client`; the caller has begun the
 * transaction and rolls it back. Stops early (what was checked is kept) when `stopped()` says so.
 */
export async function searchIndexes(client: Client, explain: Explain, candidates: IndexCandidate[], stopped: () => boolean = () => false): Promise<IndexSearch> {
  const notes: string[] = [];
  const checked: CheckedCandidate[] = [];
  const before = await explain();
  const costBefore = num(before, 'Total Cost');
  const verify = async (c: IndexCandidate, base: Json, baseCost: number): Promise<{ verified: IndexVerified; used: boolean; made: Hypothetical }> => {
    const made = await create(client, c);
    const after = await explain();
    const used = JSON.stringify(after).includes(made.indexname);
    const change = used ? planChange(base, after, made.indexname) : undefined;
    return { made, used, verified: { method: 'hypopg', costBefore: baseCost, costAfter: num(after, 'Total Cost'), planShape: shapeOf(after), sizeBytes: made.bytes, ...(change ? { change } : {}) } };
  };
  for (const c of candidates) {
    if (stopped()) break;
    try {
      const { verified, used } = await verify(c, before, costBefore);
      await client.query(withInternalMark('SELECT hypopg_reset()'));
      const helps = used && verified.costAfter <= costBefore * HELPS_BELOW;
      checked.push({ candidate: c, verified, helps });
      if (!helps) notes.push(`HypoPG: ${indexSql(c)} ${used ? `would lower the plan's cost only from ${costBefore.toFixed(0)} to ${verified.costAfter.toFixed(0)}` : 'would not be used by the planner'}; not suggested.`);
    } catch (err) {
      notes.push(`HypoPG could not check ${indexSql(c)}: ${errorMessage(err)}`);
      await client.query(withInternalMark('SELECT hypopg_reset()')).catch(() => undefined);
    }
  }
  const pair = stopped() ? null : await bestPair(client, explain, checked, verify, notes);
  return { checked, pair, notes };
}

/** With the best index in place, the candidate that lowers the cost most again (by HELPS_BELOW at least). */
async function bestPair(
  client: Client,
  explain: Explain,
  checked: CheckedCandidate[],
  verify: (c: IndexCandidate, base: Json, cost: number) => Promise<{ verified: IndexVerified; used: boolean; made: Hypothetical }>,
  notes: string[],
): Promise<IndexSearch['pair']> {
  const ranked = checked.filter((x) => x.helps).sort((a, b) => a.verified!.costAfter - b.verified!.costAfter);
  const first = ranked[0];
  if (!first) return null;
  let best: IndexSearch['pair'] = null;
  try {
    const made = await create(client, first.candidate);
    const base = await explain();
    const baseCost = num(base, 'Total Cost');
    for (const x of checked) {
      if (x === first || candidateKey(x.candidate) === candidateKey(first.candidate) || x.verified === null) continue;
      const second = await verify(x.candidate, base, baseCost);
      await client.query(withInternalMark('SELECT hypopg_drop_index($1)'), [second.made.indexrelid]);
      if (!second.used || second.verified.costAfter > baseCost * HELPS_BELOW) continue;
      if (!best || second.verified.costAfter < best.verified.costAfter) {
        best = { first: first.candidate, second: x.candidate, verified: { ...second.verified, costBefore: first.verified!.costBefore, sizeBytes: made.bytes + second.made.bytes, costWithFirst: baseCost } };
      }
    }
  } catch (err) {
    notes.push(`HypoPG could not check pairs of indexes: ${errorMessage(err)}`);
  } finally {
    await client.query(withInternalMark('SELECT hypopg_reset()')).catch(() => undefined);
  }
  return best;
}
