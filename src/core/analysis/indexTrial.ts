/**
 * An index trial: an index suggestion measured for real, on a database its owner marked for it (`--allow-index-trials`,
 * `"allowIndexTrials": true` on a connection; off by default). The same A B B A comparison as a setting's Try it, with
 * the index built (CREATE INDEX CONCURRENTLY, timed) before B's legs and dropped before A's, and dropped at the end
 * unless asked to keep it. The only thing pgload ever writes to a database, and only there: the load itself stays
 * read-only. A server that is not this machine is asked about first.
 */
import type { AbResult, IndexTrialFacts } from '../../shared/result';
import { closeSession, describeTarget, openSession, resolveConnection, withInternalMark, type ConnectionInput, type OpenedSession } from '../connection/connection';
import { isLocalHost } from '../connection/local';
import { PgloadError, errorMessage } from '../errors';
import { ensureParser, parseTree } from '../sql';
import { abTest, type AbContext, type AbOptions } from './ab';

export interface IndexTrialOptions {
  base: AbOptions['base'];
  /** CREATE INDEX statements (one, or a pair the search chose together). */
  indexes: string[];
  /** The owner's opt-in for this database: without it nothing is built and the trial is refused. */
  allowIndexTrials: boolean;
  /** Keep the indexes after the trial (default: dropped). */
  keep?: boolean;
  rounds?: number;
  /** B's label in the comparison (default: `B (+ index on orders)`). */
  label?: string;
}

export interface IndexTrialContext extends AbContext {
  /** Asked before building on a server that is not this machine; no answer (or false) refuses the trial. */
  confirmRemote?: (target: string) => Promise<boolean>;
}

/** How long one index build may take before it is cancelled (and what it left dropped). */
export const INDEX_BUILD_TIMEOUT_MS = 30 * 60_000;

export const INDEX_TRIALS_REFUSED =
  'Building an index changes the database, so pgload builds one only where its owner allowed it: a scratch or development copy. ' +
  'Add --allow-index-trials (in VS Code: "allowIndexTrials": true on the connection in pgload.connections) if this database is one; nothing was run. ' +
  'Elsewhere the suggestion is the planner\'s estimate: build it on a copy and profile again.';

interface PlannedIndex {
  sql: string;
  name: string;
  table: string;
}

/** Checks and names each statement: one CREATE INDEX, not UNIQUE, built CONCURRENTLY under a name pgload can drop. */
export async function planIndexes(statements: string[]): Promise<PlannedIndex[]> {
  if (statements.length === 0) throw new PgloadError('usage', 'An index trial needs an index: give --index "CREATE INDEX … ON table (columns)"');
  await ensureParser();
  return statements.map((text, i) => {
    const trimmed = text.trim().replace(/;\s*$/, '');
    const tree = parseTree(trimmed) as { stmts?: Array<{ stmt?: { IndexStmt?: { idxname?: string; unique?: boolean; concurrent?: boolean; relation?: { relname?: string; schemaname?: string } } } }> } | undefined;
    const stmts = tree?.stmts ?? [];
    const ix = stmts.length === 1 ? stmts[0].stmt?.IndexStmt : undefined;
    if (!ix?.relation?.relname) throw new PgloadError('usage', `"${trimmed.slice(0, 80)}" is not one CREATE INDEX statement: an index trial builds indexes only`);
    if (ix.unique) throw new PgloadError('usage', `${trimmed.slice(0, 80)}: a UNIQUE index is a constraint (its build fails on duplicates, and writes then fail on it), not a speed-up to try; try it without UNIQUE`);
    const table = ix.relation.schemaname ? `${ix.relation.schemaname}.${ix.relation.relname}` : ix.relation.relname;
    const name = ix.idxname ?? `pgload_trial_${i + 1}_${ix.relation.relname.replace(/[^a-z0-9_]/gi, '').slice(0, 30)}`;
    const head = /^\s*CREATE\s+INDEX\s+(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?/i.exec(trimmed);
    if (!head) throw new PgloadError('usage', `"${trimmed.slice(0, 80)}" does not start with CREATE INDEX`);
    const rest = trimmed.slice(head[0].length);
    const sql = ix.idxname ? `CREATE INDEX CONCURRENTLY ${rest}` : `CREATE INDEX CONCURRENTLY ${name} ${rest}`;
    return { sql, name, table };
  });
}

/**
 * The indexes of a trial on their own write session: checked (the opt-in, the server, the names), built and dropped
 * on request, and at `finish` dropped unless kept — whatever happened before (a failed build leaves an invalid index
 * behind); nothing it did not build is touched. Shared by the A/B and a diagnosis's capacity search with the fix.
 */
export class TrialIndexes {
  /** An index may exist (from the first statement of a build until its drop). */
  private built = false;

  private constructor(
    private readonly session: OpenedSession,
    private readonly planned: PlannedIndex[],
    readonly facts: IndexTrialFacts,
    private readonly ctx: IndexTrialContext,
  ) {}

  static async open(connection: ConnectionInput | undefined, indexes: string[], allowIndexTrials: boolean, ctx: IndexTrialContext): Promise<TrialIndexes> {
    if (!allowIndexTrials) throw new PgloadError('usage', INDEX_TRIALS_REFUSED);
    const planned = await planIndexes(indexes);
    const resolved = resolveConnection(connection ?? {}, ctx.environment);
    const target = describeTarget(resolved);
    if (!isLocalHost(resolved.host) && !(await ctx.confirmRemote?.(target))) {
      throw new PgloadError('usage', `${target} is not this machine: pgload builds an index on another server only once you confirm it there (run in a terminal to be asked, or in VS Code). Nothing was run.`);
    }
    const session = await openSession(resolved, { statementTimeoutMs: INDEX_BUILD_TIMEOUT_MS, readOnly: false, applicationName: 'pgload index trial' });
    try {
      for (const p of planned) {
        const there = (await session.client.query<{ r: string | null }>(withInternalMark('SELECT to_regclass($1)::text AS r'), [p.name])).rows[0]?.r;
        if (there) throw new PgloadError('usage', `An index named ${p.name} exists already: an index trial builds and drops its own. Give the index another name, or drop that one if it is a trial's left behind.`);
      }
    } catch (err) {
      await closeSession(session);
      throw err;
    }
    return new TrialIndexes(session, planned, { target, indexes: planned.map((p) => ({ ...p, buildMs: [], sizeBytes: null, kept: false })) }, ctx);
  }

  get isBuilt(): boolean {
    return this.built;
  }

  /** B's label: `+ index on orders`. */
  get label(): string {
    return `+ ${this.planned.length === 1 ? 'index' : 'indexes'} on ${[...new Set(this.planned.map((p) => p.table))].join(', ')}`;
  }

  async build(): Promise<void> {
    this.built = true;
    const c = this.session.client;
    for (const [i, p] of this.planned.entries()) {
      const t = performance.now();
      await c.query(withInternalMark(p.sql));
      this.facts.indexes[i].buildMs.push(Math.round(performance.now() - t));
      this.facts.indexes[i].sizeBytes = Number((await c.query<{ b: string }>(withInternalMark('SELECT pg_relation_size(to_regclass($1))::text AS b'), [p.name])).rows[0].b);
    }
  }

  async drop(): Promise<void> {
    for (const p of this.planned) await this.session.client.query(withInternalMark(`DROP INDEX CONCURRENTLY IF EXISTS ${p.name}`));
    this.built = false;
  }

  /** Keeps the indexes (built once more if they are not there) or drops what may be there; closes the session. */
  async finish(keep: boolean): Promise<void> {
    try {
      if (keep) {
        if (!this.built) await this.build();
        for (const x of this.facts.indexes) x.kept = true;
        return;
      }
      if (!this.built) return;
      for (const p of this.planned) {
        const dropSql = `DROP INDEX CONCURRENTLY IF EXISTS ${p.name}`;
        if (this.session.broken) {
          this.facts.dropFailed = `the session was lost before ${p.name} could be dropped: drop it yourself with ${dropSql}`;
          continue;
        }
        await this.session.client.query(withInternalMark(dropSql)).catch((err: unknown) => {
          this.facts.dropFailed = `${p.name} could not be dropped (${errorMessage(err)}): drop it yourself with ${dropSql}`;
          this.ctx.logger?.warn(`pgload: ${this.facts.dropFailed}`);
        });
      }
    } finally {
      await closeSession(this.session);
    }
  }
}

/** Runs the trial: A B B A with the indexes built for B's legs. */
export async function indexTrial(o: IndexTrialOptions, ctx: IndexTrialContext = {}): Promise<AbResult> {
  const trial = await TrialIndexes.open(o.base.connection, o.indexes, o.allowIndexTrials, ctx);
  let keep = false;
  try {
    const ab = await abTest(
      { base: o.base, b: { outside: trial.label, label: o.label }, rounds: o.rounds },
      {
        ...ctx,
        beforeLeg: async (side) => {
          if (side === 'B' && !trial.isBuilt) await trial.build();
          if (side === 'A' && trial.isBuilt) await trial.drop();
        },
      },
    );
    keep = o.keep === true && ab.a.status === 'completed' && ab.b.status === 'completed';
    return { ...ab, indexTrial: trial.facts };
  } finally {
    await trial.finish(keep);
  }
}
