/**
 * The four answers of a diagnosis, built from its measurements only: every sentence states the figures printed with
 * it, names the reason, and says when the evidence is weak. Pure: tested on results whose right answer is known.
 */
import type { AbResult, Comparison, DiagnoseAnswers, DiagnosePhase, Hint, MeasuredChange, MeasuredFigure, PoolFigures, ProfileResult, SweepResult } from '../../shared/result';
import { formatBytesShort, formatMs, formatPercent, formatQps } from '../../shared/format';
import { flattenPlan, formatMemoryKB, parseMemoryKB } from '../insight/plan';
import { parseSetLocal, TRIED_SETTINGS } from '../../shared/hintSql';
import { demandAnswer } from './demand';
import { bestFix } from './bestFix';
import { appSessions } from './appDemand';
import { recheckFinding } from '../../shared/report/compare';
import { signedPct, upperFirst } from '../../shared/numbers';
import { measuredFigures } from '../../shared/report/diagnose';

/** plan_cache_mode matters only to prepared statements, which a diagnosis measures in its own phase. */
const DIAGNOSED_SETTINGS = TRIED_SETTINGS.filter((s) => s !== 'plan_cache_mode');

export interface SettingCandidate {
  name: string;
  value: string;
  sql: string;
  /** The hints that suggested it. */
  hints: Hint[];
}


/**
 * The settings the run's hints suggest, once each: for work_mem the largest value suggested (it keeps every spilling
 * node in memory), and only when it is above what the run had.
 */
export function settingCandidates(r: Pick<ProfileResult, 'hints' | 'server' | 'options'>): SettingCandidate[] {
  const out = new Map<string, SettingCandidate>();
  for (const h of r.hints) {
    const s = parseSetLocal(h.sql);
    if (!s || !(DIAGNOSED_SETTINGS as readonly string[]).includes(s.name)) continue;
    const seen = out.get(s.name);
    if (s.name === 'work_mem') {
      const kb = parseMemoryKB(s.value);
      // What the run's sessions had: its own setting, else the server's.
      const now = parseMemoryKB(r.options.settings.work_mem ?? r.server.settings.work_mem);
      if (kb === null || (now !== null && kb <= now)) continue;
      if (seen && (parseMemoryKB(seen.value) ?? 0) >= kb) {
        seen.hints.push(h);
        continue;
      }
      out.set(s.name, { name: s.name, value: formatMemoryKB(kb), sql: `SET LOCAL work_mem = '${formatMemoryKB(kb)}';`, hints: [...(seen?.hints ?? []), h] });
      continue;
    }
    if (seen) seen.hints.push(h);
    else out.set(s.name, { name: s.name, value: s.value, sql: `SET LOCAL ${s.name} = ${/^[a-z0-9.]+$/i.test(s.value) ? s.value : `'${s.value}'`};`, hints: [h] });
  }
  return [...out.values()];
}

/** An A/B's comparison as percentages, B against A. */
export function measuredChange(c: Comparison, a: ProfileResult, b: ProfileResult): MeasuredChange {
  const m = (name: MeasuredFigure) => c.metrics.find((x) => x.name === name)!;
  const pct = (x: number) => Math.round(x * 1000) / 10;
  const significantOn: NonNullable<MeasuredChange['significantOn']> = {};
  for (const x of c.metrics) if (x.significant) significantOn[x.name as MeasuredFigure] = x.better === 'b' ? 'better' : 'worse';
  return {
    p50ChangePct: pct(m('p50').change),
    p95ChangePct: pct(m('p95').change),
    p99ChangePct: pct(m('p99').change),
    throughputChangePct: pct(m('qps').change),
    significant: c.metrics.some((x) => x.significant),
    significantOn,
    requests: { a: a.load.requests.ok, b: b.load.requests.ok },
    summary: c.summary,
  };
}

/** B helped: something changed significantly, all of it for the better. */
export function helped(c: Comparison): boolean {
  const sig = c.metrics.filter((x) => x.significant);
  return sig.length > 0 && sig.every((x) => x.better === 'b');
}

/** The figures of an A/B that moved beyond the noise, then those that did not: "p99 −15 % significantly; p50 −13 % and p95 −24 % within the noise". */
export function significanceWords(m: MeasuredChange): string {
  const all = measuredFigures(m);
  const words = (list: typeof all) => andList(list.map((f) => `${f.figure === 'qps' ? 'throughput' : f.figure} ${signedPct(f.pct)}`));
  const sig = all.filter((f) => f.significant);
  // p99 is named only when it moved beyond the noise: the answers' figures are p50, p95 and throughput.
  const rest = all.filter((f) => !f.significant && f.figure !== 'p99');
  if (sig.length === 0) return `${words(rest)}, within the noise`;
  return `${words(sig)} significantly${rest.length ? `; ${words(rest)} within the noise` : ''}`;
}

const andList = (items: string[]) => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

const queries = (n: number) => `${n} concurrent quer${n === 1 ? 'y' : 'ies'}`;

/** Why an A/B's figures are weak, or '' when they are not. */
function weakness(r: AbResult, phase: DiagnosePhase | undefined): string {
  const why: string[] = [];
  const few = Math.min(r.a.load.requests.ok, r.b.load.requests.ok);
  if (few < 100) why.push(`only ${few} requests on a side`);
  if (phase?.status === 'cut') why.push('the phase was cut short by the budget');
  if (r.a.status === 'cancelled' || r.b.status === 'cancelled') why.push('it was cancelled before all its legs ran');
  return why.length ? ` The evidence is weak: ${why.join('; ')}.` : '';
}

function poolFigures(r: ProfileResult, p: { size: number; maxOverflow: number }): PoolFigures {
  return {
    size: p.size,
    maxOverflow: p.maxOverflow,
    p95Ms: r.load.latency.p95Ms,
    throughputQps: r.load.throughputQps,
    // Users through the pool, or arrivals at a rate waiting for one of its sessions.
    poolWaitP95Ms: r.load.pool?.waitMs.p95Ms ?? r.load.openLoop?.waitMs?.p95Ms ?? 0,
    dbP95Ms: r.load.pool?.dbMs.p95Ms ?? r.load.openLoop?.uncorrected.p95Ms ?? r.load.latency.p95Ms,
  };
}

export interface AnswerInput {
  app: { users: number; poolSize: number; maxOverflow: number; poolTimeoutMs: number; thinkTimeMs?: number; rateQps?: number };
  /** The pool pgload emulated (the application's, capped to the server's free connections). */
  emulated: { size: number; maxOverflow: number };
  load: ProfileResult;
  sweep: SweepResult | null;
  pools: AbResult | null;
  settings: AbResult[];
  candidates: SettingCandidate[];
  orm: AbResult | null;
  sqlB: AbResult | null;
  /** The best index suggestion built for B's legs (a database marked for index trials), or null. */
  index?: AbResult | null;
  /** The concurrency the ORM and SQL A/Bs ran at. */
  abClients: number;
  /** The load the setting A/Bs ran at, in words (the application's users through its pool); absent: abClients. */
  settingsLoad?: string;
  phases: DiagnosePhase[];
}

export function buildAnswers(x: AnswerInput): DiagnoseAnswers {
  const answers = { demand: demandAnswer({ app: x.app, load: x.load, sweep: x.sweep }), pool: poolAnswer(x), settings: settingAnswers(x), query: queryAnswers(x), orm: ormAnswer(x) };
  const best = bestFix({ answers, pools: x.pools, settings: x.settings, orm: x.orm, sqlB: x.sqlB, index: x.index ?? null, demandWords: x.settingsLoad ?? `${x.app.users} users`, abWords: queries(x.abClients), hints: x.load.hints });
  return { best, ...answers };
}

function phaseOf(x: AnswerInput, id: DiagnosePhase['id']): DiagnosePhase | undefined {
  return x.phases.find((p) => p.id === id);
}

function poolAnswer(x: AnswerInput): DiagnoseAnswers['pool'] {
  const { users, rateQps } = x.app;
  const total = x.app.poolSize + x.app.maxOverflow;
  const atOnce = appSessions(x.app, x.emulated);
  const capped = x.emulated.size !== x.app.poolSize || x.emulated.maxOverflow !== x.app.maxOverflow;
  const intro =
    `Your pool lets ${total} queries run at once (pool_size ${x.app.poolSize} + max_overflow ${x.app.maxOverflow})` +
    (!rateQps && users < total ? `; with ${users} users, up to ${users} do` : '') +
    (capped ? `; this server's free connections held ${x.emulated.size} + ${x.emulated.maxOverflow}, so that is what was measured` : '') +
    '.';
  const currentRun = x.pools?.a ?? x.load;
  const current = poolFigures(currentRun, x.emulated);
  const rec = x.sweep?.recommendation ?? null;
  if (x.sweep?.recheck?.verdict === 'drifted') {
    return { current, recommended: null, saturationClients: null, evidence: 'weak', text: `${intro} Where this server stops gaining throughput is not claimed. ${upperFirst(recheckFinding(x.sweep.recheck))}` };
  }
  if (!x.sweep || !rec) {
    const p = phaseOf(x, 'sweep');
    return { current, recommended: null, saturationClients: null, evidence: 'weak', text: `${intro} Where this server stops gaining throughput was not measured: ${p?.note ?? `the sweep ${p?.status ?? 'did not run'}`}.` };
  }
  const weakSweep = rec.evidence === 'weak';
  const saturation = rec.saturated === false ? null : rec.poolSize;
  const top = x.sweep.steps[x.sweep.steps.length - 1];
  if (saturation === null) {
    return {
      current,
      recommended: null,
      saturationClients: null,
      evidence: 'weak',
      text: `${intro} Throughput still rose at ${queries(top.clients)} (${formatQps(top.throughputQps)}), the most the sweep ran: this server has not shown where it stops, so there is no measured reason to shrink the pool. Sweep further (pgload sweep --max-clients ${top.clients * 2}).`,
    };
  }
  const satText = ` This server stops gaining throughput at ${queries(saturation)}: ${rec.reason.split(' More concurrent')[0]}`;
  if (!x.pools) {
    const p = phaseOf(x, 'pools');
    const why = saturation >= atOnce ? `your pool never runs more than ${atOnce} at once, which the server can use` : `${p?.note ?? `the comparison ${p?.status ?? 'did not run'}`}`;
    return { current, recommended: null, saturationClients: saturation, evidence: 'weak', text: `${intro}${satText} The two pools were not measured side by side: ${why}.` };
  }
  const recommended = { ...poolFigures(x.pools.b, { size: saturation, maxOverflow: 0 }), poolSize: saturation };
  const p95 = x.pools.comparison.metrics.find((m) => m.name === 'p95')!;
  const qps = x.pools.comparison.metrics.find((m) => m.name === 'qps')!;
  const same = rateQps ? `the same ${formatQps(rateQps)} requests/s` : `the same ${users} users`;
  let verdict: string;
  const rate = (q: number) => `${formatQps(q)} q/s`;
  // Throughput said as it went: more, less (the smaller pool leaves the server idle part of the time), or the same.
  const throughput =
    qps.significant && qps.better === 'b'
      ? `, and more throughput: ${rate(recommended.throughputQps)} instead of ${rate(current.throughputQps)}`
      : qps.significant
        ? `, but less throughput: ${rate(recommended.throughputQps)} against ${rate(current.throughputQps)} (${signedPct(qps.change * 100)}) — at ${saturation} the server is not kept busy; a pool a step larger may keep both`
        : Math.abs(qps.change) < 0.1
          ? ` at about the same throughput (${rate(recommended.throughputQps)} against ${rate(current.throughputQps)})`
          : // A large change this comparison cannot call real is not "the same": the figures, and that it cannot tell.
            `; throughput ${rate(recommended.throughputQps)} against ${rate(current.throughputQps)} (${signedPct(qps.change * 100)}), which this comparison cannot tell apart from noise`;
  if (p95.significant && p95.better === 'b') {
    verdict =
      ` With pool_size = ${saturation} and max_overflow = 0 ${same} see p95 ${formatMs(recommended.p95Ms)} instead of ${formatMs(current.p95Ms)}${throughput}.` +
      ` They wait in the pool (p95 ${formatMs(recommended.poolWaitP95Ms)}), not inside PostgreSQL, where p95 falls from ${formatMs(current.dbP95Ms)} to ${formatMs(recommended.dbP95Ms)}.`;
  } else if (p95.significant) {
    verdict =
      ` With pool_size = ${saturation} and max_overflow = 0 ${same} saw a worse p95, ${formatMs(recommended.p95Ms)} against ${formatMs(current.p95Ms)}: throughput stops growing at ${saturation}, but for this load a larger pool still shortened the tail. Keep a pool above ${saturation}, below ${atOnce}.`;
  } else {
    verdict =
      ` With pool_size = ${saturation} and max_overflow = 0 ${same} see p95 ${formatMs(recommended.p95Ms)} against ${formatMs(current.p95Ms)} — no significant difference on p95${throughput} — with ${atOnce - saturation} fewer connections held on the server.`;
  }
  const weak = weakness(x.pools, phaseOf(x, 'pools'));
  return {
    current,
    recommended,
    saturationClients: saturation,
    evidence: weakSweep || weak ? 'weak' : 'strong',
    text: `${intro}${satText}${verdict}${weak}${weakSweep && !weak ? ' The sweep\'s evidence is weak (see the Scaling figures).' : ''}`,
  };
}

/** What a memory setting risks: per execution (its sort and hash nodes), at the tested and at the application's concurrency. */
function memoryText(name: string, value: string, x: AnswerInput, recommended: number | null): string | null {
  if (name !== 'work_mem') return null;
  const kb = parseMemoryKB(value);
  const plan = x.load.insight.plans.find((p) => p.when === 'alone' && p.json) ?? x.load.insight.plans.find((p) => p.json);
  if (kb === null || !plan?.json) return null;
  const mult = Number(x.load.server.settings.hash_mem_multiplier ?? '2') || 2;
  const nodes = flattenPlan(plan.json.Plan as Record<string, unknown>);
  let sorts = 0;
  let hashes = 0;
  for (const n of nodes) {
    const strategy = typeof n.raw.Strategy === 'string' ? n.raw.Strategy : '';
    if (n.type === 'Hash' || n.type === 'Memoize' || ((n.type === 'Aggregate' || n.type === 'SetOp') && (strategy === 'Hashed' || strategy === 'Mixed'))) hashes++;
    else if (n.type === 'Sort' || n.type === 'Incremental Sort' || n.type === 'Material' || n.type === 'WindowAgg') sorts++;
  }
  if (sorts + hashes === 0) return null;
  const perQuery = kb * (sorts + hashes * mult);
  const sessions = appSessions(x.app, x.emulated);
  const at = (n: number) => `${formatMemoryKB(perQuery * n)} with ${queries(n)}`;
  return (
    `Up to ${formatMemoryKB(perQuery)} per execution (${sorts ? `${sorts} sort node${sorts === 1 ? '' : 's'}` : ''}${sorts && hashes ? ' and ' : ''}${hashes ? `${hashes} hash node${hashes === 1 ? '' : 's'} × hash_mem_multiplier ${mult}` : ''}), ` +
    `private memory outside shared_buffers: ${recommended ? `${at(recommended)} (the recommended pool), ` : ''}${at(sessions)} (your pool). An upper bound: a node takes only what it needs.`
  );
}

function settingAnswers(x: AnswerInput): DiagnoseAnswers['settings'] {
  const rec = x.sweep?.recommendation?.saturated === false ? null : (x.sweep?.recommendation?.poolSize ?? null);
  return x.candidates.map((c) => {
    const r = x.settings.find((s) => s.b.options.settings[c.name] === c.value);
    const memory = memoryText(c.name, c.value, x, rec);
    const base = { name: c.name, value: c.value, sql: c.sql, scope: 'query' as const, memory };
    const suggestedBy = `suggested by ${c.hints.map((h) => h.node ?? h.title).join(', ')}`;
    if (!r) {
      const p = phaseOf(x, 'settings');
      return { ...base, measured: null, helps: false, text: `${c.name} = ${c.value} (${suggestedBy}) was not measured: ${p?.note ?? p?.status ?? 'the phase did not run'}. A suggestion, not an answer.` };
    }
    const m = measuredChange(r.comparison, r.a, r.b);
    const good = helped(r.comparison);
    const gone = r.comparison.hints.disappeared.filter((h) => c.hints.some((s) => s.id === h.id || s.node === h.node));
    const where = `with ${x.settingsLoad ?? queries(x.abClients)} (${m.requests.a.toLocaleString('en-US')} and ${m.requests.b.toLocaleString('en-US')} requests, A B B A)`;
    const figures = `p50 ${signedPct(m.p50ChangePct)}, p95 ${signedPct(m.p95ChangePct)}, throughput ${signedPct(m.throughputChangePct)} ${where}`;
    const text = good
      ? `${c.name} = ${c.value} helps: ${significanceWords(m)} ${where}${gone.length ? `; with it, these are gone from the plan: ${gone.map((h) => `${h.title}${h.node ? ` (${h.node})` : ''}`).join('; ')}` : ''}. Set it for this query only: ${c.sql}`
      : m.significant
        ? `${c.name} = ${c.value} does not help: ${significanceWords(m)} ${where} — significantly worse on ${r.comparison.metrics.filter((q) => q.significant && q.better === 'a').map((q) => q.name).join(', ')}. Leave it as it is (${suggestedBy}).`
        : `${c.name} = ${c.value} does not help measurably: ${figures} — within the noise of one run against another, so no difference either way can be claimed. ${upperFirst(suggestedBy)}.`;
    return { ...base, measured: m, helps: good, text: text + weakness(r, phaseOf(x, 'settings')) };
  });
}

function queryAnswers(x: AnswerInput): DiagnoseAnswers['query'] {
  const out: DiagnoseAnswers['query'] = [];
  const alone = x.load.insight.plans.find((p) => p.when === 'alone' && p.nodes);
  const under = x.load.insight.plans.find((p) => p.when === 'under-load' && p.nodes);
  if (alone?.nodes && under?.nodes) {
    const before = new Map(alone.nodes.map((n) => [n.node, n]));
    let grew: { node: string; a: number; b: number; what: string } | undefined;
    for (const n of under.nodes) {
      const a = before.get(n.node)?.exclusiveMs ?? 0;
      if (n.exclusiveMs - a > (grew ? grew.b - grew.a : 0)) grew = { node: n.node, a, b: n.exclusiveMs, what: n.what };
    }
    if (grew && grew.b - grew.a >= 1) {
      // What the busy sessions waited on: an idle session (its user pausing, or pgload between requests) is not waiting on the server.
      const top = x.load.insight.waits?.shares.find((s) => !s.event.startsWith('Idle'));
      out.push({
        title: `${grew.node} grew most under load: ${formatMs(grew.a)} alone, ${formatMs(grew.b)} with ${x.settingsLoad ?? queries(x.load.load.clients)}`,
        node: grew.node,
        evidence: `${grew.what}. Its own time (children excluded) in EXPLAIN ANALYZE alone and on an extra session during the load${top ? `; the sessions mostly waited on ${top.event} (${formatPercent(top.share * 100)} of samples)` : ''}.`,
        action: 'Fewer queries at once (the pool answer) shortens the wait it shares with the others; less work in this node (the findings below) shortens it at every concurrency.',
        impactMs: grew.b - grew.a,
      });
    }
  }
  const measuredWorkMem = x.settings.find((s) => s.b.options.settings.work_mem !== undefined);
  const workMemAnswered = x.candidates.some((c) => c.name === 'work_mem');
  for (const h of x.load.hints) {
    // About pgload's own way of measuring, not the statement: not a finding.
    if (['sessions-idle', 'client-bound', 'rollback-round-trips', 'envelope-cost'].includes(h.id)) continue;
    // The work_mem value and what it costs are answer 2's, measured there: not a finding of its own here.
    if (h.id === 'work-mem-advice' && workMemAnswered) continue;
    // One cause, one finding: a spill seen as a spilling node and as its temporary files is one finding, said once.
    const same = h.node && h.estimate ? out.find((q) => q.node === h.node && q.impactMs === h.estimate!.perRequestMs) : undefined;
    if (same) {
      same.evidence += ` (Also seen as: ${h.title.toLowerCase()}.)`;
      continue;
    }
    let evidence = h.detail;
    if (measuredWorkMem && /spill|temp|work-mem|hash-batches/.test(h.id)) {
      const m = measuredChange(measuredWorkMem.comparison, measuredWorkMem.a, measuredWorkMem.b);
      evidence += ` Measured: work_mem = ${measuredWorkMem.b.options.settings.work_mem} gave p95 ${signedPct(m.p95ChangePct)}${m.significant ? '' : ' (not significant)'}.`;
    }
    const measuredPool = x.sweep?.recommendation?.saturated !== false ? x.sweep?.recommendation?.poolSize : undefined;
    const action = h.id === 'cpu-saturation' && measuredPool !== undefined ? `Let at most ${measuredPool} run at once: answer 1 measured where this server stops gaining throughput.` : h.action;
    out.push({ title: h.title, ...(h.node ? { node: h.node } : {}), evidence, action, ...(h.sql ? { sql: h.sql } : {}), impactMs: h.estimate?.perRequestMs ?? null });
  }
  measuredIndex(x, out);
  // A measured change first; then the largest impact; findings without a timed node keep their order after them.
  return out
    .map((q, i) => ({ q, i }))
    .sort((a, b) => Number(b.q.measured ?? false) - Number(a.q.measured ?? false) || (b.q.impactMs ?? -1) - (a.q.impactMs ?? -1) || a.i - b.i)
    .map(({ q }) => q)
    .slice(0, 8);
}

/**
 * The index suggestion the index phase built (a database marked for trials): its finding says what it measured and
 * what it cost, and its impact becomes the p50 it saved, measured — so that a verified change leads the findings.
 */
function measuredIndex(x: AnswerInput, out: DiagnoseAnswers['query']): void {
  const trial = x.index?.indexTrial;
  const tried = x.load.hints.find((h) => h.id === 'index-suggestion' && h.verified && h.sql);
  const q = tried ? out.find((f) => f.sql === tried.sql) : undefined;
  if (!x.index || !trial || !q) return;
  const m = measuredChange(x.index.comparison, x.index.a, x.index.b);
  const built = trial.indexes.map((i) => `${i.name} built in ${i.buildMs.map((b) => formatMs(b)).join(', ')}${i.sizeBytes !== null ? `, ${formatBytesShort(i.sizeBytes)}` : ''}`).join('; ');
  q.evidence +=
    ` Measured on this database (an index trial, A B B A at ${queries(x.abClients)}): p50 ${signedPct(m.p50ChangePct)}, p95 ${signedPct(m.p95ChangePct)}, throughput ${signedPct(m.throughputChangePct)}` +
    `${m.significant ? '' : ' — not significant'}; ${built}; ${trial.indexes.every((i) => i.kept) ? 'kept' : 'dropped after'}.`;
  const saved = x.index.a.load.latency.p50Ms - x.index.b.load.latency.p50Ms;
  q.impactMs = helped(x.index.comparison) && saved > 0 ? Math.round(saved * 1000) / 1000 : 0;
  q.measured = true;
}

const CANNOT_SEE =
  'pgload measures from the database side, over its own connections: the time inside your application — the ORM building the query and turning rows into objects, the driver, the event loop, your pool\'s bookkeeping — is not in these figures. ' +
  "Compare them with your endpoint's own timings: the difference is the application's share.";

function ormAnswer(x: AnswerInput): DiagnoseAnswers['orm'] {
  const parts: string[] = [];
  let prepared: MeasuredChange | null = null;
  if (x.orm) {
    prepared = measuredChange(x.orm.comparison, x.orm.a, x.orm.b);
    const plan = x.load.insight.plans.find((p) => p.when === 'alone');
    const planning = plan?.planningMs != null && plan.executionMs != null ? ` Planning takes ${formatMs(plan.planningMs)} of each ${formatMs(plan.planningMs + plan.executionMs)} execution alone.` : '';
    const at = `at ${queries(x.abClients)}`;
    const figures = `p50 ${signedPct(prepared.p50ChangePct)}, p95 ${signedPct(prepared.p95ChangePct)}, throughput ${signedPct(prepared.throughputChangePct)} ${at}`;
    if (helped(x.orm.comparison)) {
      parts.push(`Prepared statements were significantly faster than unnamed statements with parameters (what most ORMs send): ${significanceWords(prepared)} ${at}.${planning} A driver that prepares saves that (asyncpg prepares and caches statements; psycopg 3 prepares after prepare_threshold executions).`);
    } else if (prepared.significant) {
      parts.push(`Prepared statements were significantly slower than unnamed statements with parameters: ${significanceWords(prepared)} ${at}. A prepared statement may switch to a generic plan after five executions; the way your ORM sends it is the better one here.`);
    } else {
      parts.push(`Sending it unnamed with parameters, as most ORMs do, costs nothing measurable in the database against prepared statements: ${figures}, within the noise.${planning}`);
    }
    parts.push(weakness(x.orm, phaseOf(x, 'orm')).trim());
  } else {
    const p = phaseOf(x, 'orm');
    parts.push(`Prepared against unnamed statements was not measured: ${p?.note ?? p?.status ?? 'the phase did not run'}.`);
  }
  let alternative: MeasuredChange | null = null;
  if (x.sqlB) {
    alternative = measuredChange(x.sqlB.comparison, x.sqlB.a, x.sqlB.b);
    const figures = alternative.significant ? `${significanceWords(alternative)} at ${queries(x.abClients)}` : `p50 ${signedPct(alternative.p50ChangePct)}, p95 ${signedPct(alternative.p95ChangePct)}, throughput ${signedPct(alternative.throughputChangePct)} at ${queries(x.abClients)}`;
    const v = helped(x.sqlB.comparison) ? 'is significantly faster than the statement' : alternative.significant ? 'is not better: significantly worse on some figures' : 'makes no significant difference';
    parts.push(`Your alternative SQL ${v}: ${figures}.${x.sqlB.comparison.plan && !x.sqlB.comparison.plan.sameShape ? ' Its plan differs (see the comparison).' : ''}${weakness(x.sqlB, phaseOf(x, 'sql-b'))}`);
  } else if (phaseOf(x, 'sql-b')) {
    const p = phaseOf(x, 'sql-b')!;
    parts.push(`Your alternative SQL was not measured: ${p.note ?? p.status}.`);
  } else {
    parts.push('Give the hand-written SQL (--sql-b or --file-b) to measure it against this statement: that is the question "would raw SQL beat the ORM" in the database.');
  }
  return { prepared, alternative, text: parts.filter(Boolean).join(' '), cannotSee: CANNOT_SEE };
}
