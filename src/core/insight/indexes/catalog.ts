/**
 * What the catalog says about index candidates: the indexes the tables already have (a candidate one of them serves
 * is not proposed; one the candidate would make redundant is named), and how often each table is written (every
 * insert, and every update of an indexed column, also writes a new index).
 */
import type { Client } from 'pg';
import { withInternalMark } from '../../connection/connection';
import { candidateKey, fmtInt, type IndexCandidate } from './candidates';

interface ExistingIndex {
  tbl: string;
  name: string;
  /** Key columns (or expressions), in order. */
  keys: string[];
  /** Every column it holds, keys and INCLUDE. */
  all: string[];
  partial: boolean;
  /** Unique or a constraint's: never redundant, whatever else exists. */
  constraint: boolean;
}

async function existingIndexes(client: Client, tables: string[]): Promise<ExistingIndex[]> {
  const r = await client.query<{ tbl: string; name: string; cols: string[]; nkey: number; partial: boolean; constraint: boolean }>(
    withInternalMark(`SELECT t.tbl, i.indexrelid::regclass::text AS name,
            array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) AS k ORDER BY k) AS cols,
            i.indnkeyatts AS nkey, i.indpred IS NOT NULL AS partial,
            (i.indisunique OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)) AS constraint
       FROM unnest($1::text[]) AS t(tbl)
       JOIN pg_index i ON i.indrelid = to_regclass(quote_ident(t.tbl))
      WHERE i.indisvalid`),
    [tables],
  );
  const bare = (c: string) => c.replace(/^"(.*)"$/, '$1');
  return r.rows.map((x) => ({ tbl: x.tbl, name: x.name, keys: x.cols.slice(0, x.nkey).map(bare), all: x.cols.map(bare), partial: x.partial, constraint: x.constraint }));
}

const keyName = (c: string) => c.replace(/ DESC$/, '').replace(/^\((.*)\)$/, '$1');

/** An existing index serves a candidate when its leading keys are the candidate's keys and it holds every column the candidate includes. */
function serves(have: ExistingIndex, c: IndexCandidate): boolean {
  const want = c.columns.map(keyName);
  if (have.tbl !== c.table || have.keys.length < want.length || have.partial !== !!c.where) return false;
  const lead = have.keys.slice(0, want.length);
  return want.every((k) => lead.includes(k)) && (c.include ?? []).every((k) => have.all.includes(k));
}

/**
 * Leaves out the candidates an existing index already serves (suggesting one would be wrong — the planner had that
 * index and chose otherwise) and names the existing index each remaining one would make redundant. Says which were
 * left out, in `notes`, once per table and columns.
 */
export async function againstExistingIndexes(client: Client, candidates: IndexCandidate[], notes: string[]): Promise<IndexCandidate[]> {
  if (candidates.length === 0) return candidates;
  const have = await existingIndexes(client, [...new Set(candidates.map((c) => c.table))]);
  const said = new Set<string>();
  const out: IndexCandidate[] = [];
  for (const c of candidates) {
    const served = have.find((h) => serves(h, c));
    if (served) {
      const what = `${c.table} (${c.columns.map(keyName).join(', ')})`;
      if (!said.has(what) && c.kind !== 'covering') notes.push(`${what} is already indexed (${served.name}): ${c.reason}, and the planner chose that with the index there, so no index is suggested for it.`);
      said.add(what);
      continue;
    }
    // A plain index whose keys lead this one's is redundant once this one exists.
    const keys = c.columns.map(keyName);
    const redundant = c.where ? undefined : have.find((h) => h.tbl === c.table && !h.constraint && !h.partial && h.keys.length < keys.length && h.keys.every((k, i) => k === keys[i]) && h.all.length === h.keys.length);
    out.push(redundant ? { ...c, replaces: redundant.name } : c);
  }
  return out.filter((c, i) => out.findIndex((x) => candidateKey(x) === candidateKey(c)) === i);
}

export interface TableWrites {
  table: string;
  /** Rows inserted, updated and deleted since the statistics began. */
  inserted: number;
  updated: number;
  deleted: number;
  /** Seconds the counters cover (since their reset, or the server's start). */
  seconds: number;
}

/** The tables' row writes since the statistics began (pg_stat_user_tables), for an index's write cost. */
export async function tableWrites(client: Client, tables: string[]): Promise<TableWrites[]> {
  if (tables.length === 0) return [];
  const r = await client.query<{ tbl: string; ins: string; upd: string; del: string; secs: number }>(
    withInternalMark(`SELECT t.tbl, s.n_tup_ins::text AS ins, s.n_tup_upd::text AS upd, s.n_tup_del::text AS del,
            extract(epoch FROM now() - coalesce((SELECT d.stats_reset FROM pg_stat_database d WHERE d.datname = current_database()), pg_postmaster_start_time()))::float8 AS secs
       FROM unnest($1::text[]) AS t(tbl)
       JOIN pg_stat_user_tables s ON s.relid = to_regclass(quote_ident(t.tbl))`),
    [tables],
  );
  return r.rows.map((x) => ({ table: x.tbl, inserted: Number(x.ins), updated: Number(x.upd), deleted: Number(x.del), seconds: Math.max(1, x.secs) }));
}

/** A table's writes in words, for an index's cost: a rate when there were writes, else that there were none. */
export function writesWords(w: TableWrites | undefined): string {
  if (!w) return "the table's write rate is not known (no statistics)";
  const writes = w.inserted + w.updated;
  const span = w.seconds >= 86_400 ? `${(w.seconds / 86_400).toFixed(1)} days` : w.seconds >= 3600 ? `${(w.seconds / 3600).toFixed(1)} h` : `${Math.round(w.seconds)} s`;
  if (writes === 0) return `${w.table} had no inserts or updates in the ${span} its statistics cover, so the index would cost little but its space`;
  const rate = writes / w.seconds;
  const perS = rate >= 10 ? fmtInt(rate) : rate >= 0.1 ? rate.toFixed(1) : rate.toPrecision(1);
  return `${w.table} takes about ${perS} row writes/s (${fmtInt(w.inserted)} inserts and ${fmtInt(w.updated)} updates in ${span}, pg_stat_user_tables); each insert, and each update of an indexed column, also writes this index`;
}
