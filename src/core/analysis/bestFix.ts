/**
 * The diagnosis's first line: the measured change that lowered p95 the most — a pool, a setting, prepared statements
 * or the user's own SQL — with what it bought and where it was measured. Only changes whose A/B called the p95
 * significantly better count; without one, it says so and points at what would move the latency.
 */
import type { AbResult, DiagnoseAnswers, Hint } from '../../shared/result';
import { formatMs } from '../../shared/format';
import { signedPct } from '../../shared/numbers';

interface Candidate {
  what: string;
  where: string;
  answer: number;
  ab: AbResult;
  /** Its answer said its evidence is weak. */
  weak: boolean;
  change: Change;
}

type Change = NonNullable<NonNullable<DiagnoseAnswers['best']>['change']>;

export interface BestFixInput {
  answers: Omit<DiagnoseAnswers, 'best'>;
  pools: AbResult | null;
  settings: AbResult[];
  orm: AbResult | null;
  sqlB: AbResult | null;
  /** The best index suggestion, built for B's legs (an index trial), or null. */
  index?: AbResult | null;
  /** The application's load and the ORM A/B's load, in words. */
  demandWords: string;
  abWords: string;
  /** The plan's hints under the application's load: an index HypoPG checked is an estimated fix. */
  hints?: Hint[];
}

/**
 * Fixes estimated, not measured, ranked by what they would buy: an index the planner's cost says helps (HypoPG's
 * hypothetical index), and more CPUs when the demand uses most of a server whose sessions are on CPU.
 */
function estimatedFixes(x: BestFixInput): string[] {
  const out: Array<{ gain: number; text: string }> = [];
  // The suggestion the index phase built is measured: not an estimate any more.
  const tried = x.index?.indexTrial ? (x.hints ?? []).find((h) => h.id === 'index-suggestion' && h.verified && h.sql) : undefined;
  for (const h of x.hints ?? []) {
    if (h === tried) continue;
    const v = h.verified;
    if (!v || !h.sql || !(v.costBefore > 0) || !(v.costAfter < v.costBefore)) continue;
    const pct = Math.round((100 * (v.costBefore - v.costAfter)) / v.costBefore);
    const statements = h.sql.split(/;\s*/).filter((x) => x.trim());
    const what = statements.length > 1 ? `${statements.join(' and ')} together` : statements[0];
    out.push({ gain: pct / 100, text: `${what} — plan cost −${pct} % (${Math.round(v.costBefore)} → ${Math.round(v.costAfter)}), estimated with ${statements.length > 1 ? 'hypothetical indexes' : 'a hypothetical index'} (answer 3)` });
  }
  const d = x.answers.demand;
  // Only a demand that does not grow with the server (users who pause, a rate): back-to-back users would send
  // twice as much to twice the CPUs and keep them as busy.
  if (d && !d.backToBack && d.utilization !== null && d.utilization >= 0.8 && d.cpuShare !== undefined && d.cpuShare >= 0.5) {
    const u = Math.round(d.utilization * 100);
    out.push({
      gain: 0.5,
      text: `twice the CPUs — the demand would use about ${Math.round(d.utilization * 50)} % of the server instead of ${u} %, estimated on the assumption that this statement's throughput grows with the cores (its sessions were on CPU in ${Math.round(d.cpuShare * 100)} % of the samples)`,
    });
  }
  return out.sort((a, b) => b.gain - a.gain).map((e) => e.text);
}

/** p95 significantly lower with B. */
function p95Better(ab: AbResult): { a: number; b: number } | null {
  const m = ab.comparison.metrics.find((x) => x.name === 'p95');
  return m && m.significant && m.better === 'b' ? { a: m.a, b: m.b } : null;
}

/** What B improved beyond the noise when it is not p95 and nothing got worse ("p99 −15 %"), else null. */
function betterOnOthers(ab: AbResult): string | null {
  const sig = ab.comparison.metrics.filter((m) => m.significant);
  if (sig.length === 0 || sig.some((m) => m.better !== 'b' || m.name === 'p95')) return null;
  return sig.map((m) => `${m.name === 'qps' ? 'throughput' : m.name} ${signedPct(Math.round(m.change * 1000) / 10)}`).join(', ');
}

export function bestFix(x: BestFixInput): NonNullable<DiagnoseAnswers['best']> {
  const found: Candidate[] = [];
  const rec = x.answers.pool?.recommended;
  const weakText = (t: string) => /evidence is weak/.test(t);
  if (x.pools && rec) found.push({ what: `pool_size = ${rec.poolSize}, max_overflow = 0`, where: x.demandWords, answer: 1, ab: x.pools, weak: x.answers.pool?.evidence === 'weak', change: { pool: { size: rec.poolSize, maxOverflow: 0 } } });
  for (const s of x.answers.settings) {
    const r = x.settings.find((ab) => ab.b.options.settings[s.name] === s.value);
    if (r && s.helps) found.push({ what: s.sql.replace(/;\s*$/, ''), where: x.demandWords, answer: 2, ab: r, weak: weakText(s.text), change: { settings: { [s.name]: s.value } } });
  }
  const orm = x.answers.orm?.text ?? '';
  if (x.orm) found.push({ what: 'prepared statements', where: x.abWords, answer: 4, ab: x.orm, weak: weakText(orm), change: { prepared: true } });
  if (x.sqlB) found.push({ what: 'your alternative SQL', where: x.abWords, answer: 4, ab: x.sqlB, weak: weakText(orm), change: { sqlB: true } });
  const trial = x.index?.indexTrial;
  if (x.index && trial) {
    const built = trial.indexes.map((i) => i.sql.replace(/^CREATE INDEX CONCURRENTLY \S+ ON /, 'an index on ')).join(' and ');
    found.push({ what: built, where: x.abWords, answer: 3, ab: x.index, weak: false, change: { indexes: trial.indexes.map((i) => i.sql) } });
  }
  const ranked = found
    .map((c) => ({ c, p: p95Better(c.ab) }))
    .filter((e): e is { c: Candidate; p: { a: number; b: number } } => e.p !== null)
    .sort((e, f) => e.p.b / e.p.a - f.p.b / f.p.a);
  const estimated = estimatedFixes(x);
  const estimatedText = estimated.length ? ` Estimated, not measured: ${estimated.join('; ')}.` : '';
  if (ranked.length === 0) {
    // A change that improved other figures is named, so that the headline and its answer agree.
    const elsewhere = found.flatMap((c) => {
      const w = betterOnOthers(c.ab);
      return w ? [`${c.what} improved ${w}, not p95 (answer ${c.answer})`] : [];
    });
    return {
      text: `No change measured here lowered p95 significantly${elsewhere.length ? `; ${elsewhere.join('; ')}` : ''}. What would move it is in the headline: less work per request (answer 3), or more server capacity when the demand uses most of it.${estimatedText}`,
      p95ChangePct: null,
      answer: null,
    };
  }
  const { c, p } = ranked[0];
  const pct = Math.round((1000 * (p.b - p.a)) / p.a) / 10;
  const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v)} %`;
  const others = ranked.slice(1).map((e) => `${e.c.what} (p95 ${signed(Math.round((100 * (e.p.b - e.p.a)) / e.p.a))})`);
  return {
    text:
      `Best measured fix: ${c.what} — p95 ${formatMs(p.a)} → ${formatMs(p.b)} (${signed(pct)}) with ${c.where} (answer ${c.answer}${c.weak ? ', whose evidence is weak: read why there' : ''}).` +
      (others.length ? ` Also significant: ${others.join(', ')}.` : '') +
      estimatedText,
    p95ChangePct: pct,
    answer: c.answer,
    change: c.change,
  };
}
