/**
 * Index advice, checked — never guessed: candidates from the plan (`candidates.ts`), less those an existing index
 * serves (`catalog.ts`), searched with HypoPG's hypothetical indexes when the extension is installed (`search.ts`),
 * each suggestion with the plan it would give, its size and its write cost. Without HypoPG the first candidates are
 * shown as not checked. pgload never creates an index on the user's database.
 */
import type { Client } from 'pg';
import type { CapturedPlan, Hint, IndexVerified } from '../../../shared/result';
import { formatBytesShort } from '../../../shared/numbers';
import { withInternalMark } from '../../connection/connection';
import { errorMessage } from '../../errors';
import { indexCandidates, indexSql, scanOutputs, type IndexCandidate } from './candidates';
import { againstExistingIndexes, tableWrites, writesWords, type TableWrites } from './catalog';
import { explainer, searchIndexes, type IndexSearch } from './search';

/** What a run found: the candidates and their search (null when HypoPG is not installed). */
export interface IndexAdvice {
  candidates: IndexCandidate[];
  search: IndexSearch | null;
  writes: TableWrites[];
}

/** How to measure a suggestion before building it for good: an index trial, only where the database's owner allows it. */
export const TRY_WORDS =
  'To measure it first on a scratch or development copy: Try it, on a connection marked "allowIndexTrials": true (VS Code), or pgload ab --index "…" --allow-index-trials — built for B\'s legs, dropped after.';

/** Candidates shown unchecked when HypoPG is missing: the first few, not a list to wade through. */
const UNCHECKED_SHOWN = 3;

export interface AdviseInput {
  client: Client;
  sql: string;
  values: Array<string | null> | undefined;
  plan: CapturedPlan | undefined;
  /** Statements that begin the read-only transaction the search runs in (rolled back after). */
  begin: string[];
  notes: string[];
  stopped: () => boolean;
  /** Told before the search starts, with the number of candidates. */
  searching?: (n: number) => void;
}

export async function adviseIndexes(x: AdviseInput): Promise<IndexAdvice | null> {
  const plain = indexCandidates(x.plan);
  if (plain.length === 0 || x.stopped()) return null;
  const installed = (await x.client.query<{ v: string }>(withInternalMark("SELECT extversion AS v FROM pg_extension WHERE extname = 'hypopg'"))).rows.length > 0;
  if (!installed) {
    const candidates = await againstExisting(x, plain);
    return candidates.length ? { candidates, search: null, writes: [] } : null;
  }
  for (const q of x.begin) await x.client.query(withInternalMark(q));
  try {
    // The columns each scan outputs (EXPLAIN VERBOSE, planning only) make the covering candidates.
    const outputs = scanOutputs(await explainer(x.client, x.sql, x.values, true)());
    const candidates = await againstExisting(x, indexCandidates(x.plan, outputs));
    if (candidates.length === 0 || x.stopped()) return null;
    x.searching?.(candidates.length);
    const search = await searchIndexes(x.client, explainer(x.client, x.sql, x.values), candidates, x.stopped);
    x.notes.push(...search.notes);
    const writes = await tableWrites(x.client, [...new Set(candidates.map((c) => c.table))]).catch(() => []);
    return { candidates, search, writes };
  } finally {
    await x.client.query(withInternalMark('ROLLBACK')).catch(() => undefined);
  }
}

async function againstExisting(x: AdviseInput, candidates: IndexCandidate[]): Promise<IndexCandidate[]> {
  try {
    return await againstExistingIndexes(x.client, candidates, x.notes);
  } catch (err) {
    // Unsure what exists, suggest nothing: an index the table already has would be a wrong answer.
    x.notes.push(`No index is suggested: the table's existing indexes could not be read (${errorMessage(err)}).`);
    return [];
  }
}

const cols = (c: IndexCandidate) => `${c.table} (${c.columns.join(', ')})${c.include?.length ? ` INCLUDE (${c.include.join(', ')})` : ''}${c.where ? ` WHERE ${c.where}` : ''}`;
const mb = (bytes: number | undefined) => (bytes === undefined ? 'size not known' : `about ${formatBytesShort(bytes)}`);
const times = (v: IndexVerified) => `${(v.costBefore / Math.max(v.costAfter, 0.01)).toFixed(1)}×`;

function costWords(cs: IndexCandidate[], v: IndexVerified, writes: TableWrites[], sizeWords = 'Size'): string {
  const redundant = cs
    .filter((c) => c.replaces)
    .map((c) => ` ${cs.length > 1 ? `The one on ${c.table} (${c.columns.join(', ')})` : 'It'} would make ${c.replaces} redundant (its columns lead this one's): drop that one once this one is built, so that writes pay for one index, not two.`)
    .join('');
  const tables = [...new Set(cs.map((c) => c.table))];
  return `${sizeWords} ${mb(v.sizeBytes)} (HypoPG's estimate); ${tables.map((t) => writesWords(writes.find((w) => w.table === t))).join('; ')}.${redundant}`;
}

/** Hints from the advice: the best pair (when it beats one index), then up to two other suggestions, one per table and leading column, best first. */
export function indexHints(advice: IndexAdvice): Hint[] {
  if (advice.search === null) {
    return advice.candidates.slice(0, UNCHECKED_SHOWN).map((c) => ({
      id: 'index-suggestion' as const,
      severity: 'info' as const,
      title: `An index on ${cols(c)} may help — not checked`,
      detail: `${c.reason}; not checked — install HypoPG to check: pgload then asks the planner with a hypothetical index, which builds nothing.`,
      node: c.node,
      action: `CREATE EXTENSION hypopg (Debian/Ubuntu: the postgresql-NN-hypopg package; on RDS and Aurora it is available), then run again. ${TRY_WORDS}`,
      sql: `${indexSql(c)};`,
      verified: null,
    }));
  }
  const helping = advice.search.checked.filter((x) => x.helps).sort((a, b) => a.verified!.costAfter - b.verified!.costAfter);
  const seen = new Set<string>();
  const singles = helping.filter((x) => {
    const k = `${x.candidate.table}|${x.candidate.columns[0]}`;
    return !seen.has(k) && seen.add(k);
  });
  const out: Hint[] = [];
  const p = advice.search.pair;
  if (p) {
    const v = p.verified;
    out.push({
      id: 'index-suggestion',
      severity: v.costAfter <= v.costBefore * 0.5 ? 'warning' : 'info',
      title: `Two indexes, ${cols(p.first)} and ${cols(p.second)}, would cut the plan's cost ${times(v)} (checked with HypoPG)`,
      detail:
        `${p.second.reason}. With the first alone the planner's estimate drops from ${v.costBefore.toFixed(0)} to ${(v.costWithFirst ?? v.costBefore).toFixed(0)}; with the second as well, to ${v.costAfter.toFixed(0)}` +
        `${v.change ? `: ${v.change}` : ''}, with the plan ${v.planShape}. ${costWords([p.first, p.second], v, advice.writes, 'Both together')} Costs are the planner's estimates: measure after building them.`,
      node: p.second.node,
      action: `Build both without blocking writes (CONCURRENTLY, outside a transaction), then profile again to measure the gain under load. ${TRY_WORDS}`,
      sql: `${indexSql(p.first)};\n${indexSql(p.second)};`,
      verified: v,
    });
  }
  // One index of the pair is said with the pair; the others are alternatives.
  const inPair = (c: IndexCandidate) => !!p && [p.first, p.second].some((x) => indexSql(x) === indexSql(c));
  for (const { candidate: c, verified: v } of singles.filter((x) => !inPair(x.candidate)).slice(0, 2)) {
    out.push({
      id: 'index-suggestion',
      severity: v!.costAfter <= v!.costBefore * 0.5 ? 'warning' : 'info',
      title: `An index on ${cols(c)} would cut the plan's cost ${times(v!)} (checked with HypoPG)`,
      detail: `${c.reason}. With a hypothetical index the planner's estimate drops from ${v!.costBefore.toFixed(0)} to ${v!.costAfter.toFixed(0)}${v!.change ? `: ${v!.change}` : ''}, with the plan ${v!.planShape}. ${costWords([c], v!, advice.writes)} Costs are the planner's estimates: measure after building it.`,
      node: c.node,
      action: `Build it without blocking writes (CONCURRENTLY, outside a transaction), then profile again to measure the gain under load. ${TRY_WORDS}`,
      sql: `${indexSql(c)};`,
      verified: v,
    });
  }
  return out;
}
