/**
 * The Answers tab: a diagnosis's four answers with their evidence, the pool side by side as a chart, Try it on every
 * setting, and the phases as planned and as run. Renders the result only.
 */
import type { ChartConfiguration } from 'chart.js';
import type { DiagnoseResult, MeasuredChange } from '../src/shared/result';
import { formatMs, formatQps } from '../src/shared/format';
import { impactWords, measuredFigures } from '../src/shared/report/diagnose';
import { parseSetLocal, tryKind } from '../src/shared/hintSql';
import { appDemandWords } from '../src/shared/report/diagnose';
import { h } from './dom';
import { signedPct } from '../src/shared/numbers';

export interface AnswerDeps {
  chartBox(id: string, title: string, note?: string): { box: HTMLElement; canvas: HTMLCanvasElement };
  chart(canvas: HTMLCanvasElement, config: ChartConfiguration): void;
  colors: { blue: string; orange: string; green: string; red: string };
  /** A button that A/B-tests a hint's setting (shown in VS Code only). */
  tryButton(sql: string): HTMLElement;
  copyButton(text: string, label?: string): HTMLElement;
  /** Opens the Report tab (the application load's run). */
  showReport(): void;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

function card(id: string, n: number, question: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', { class: 'answer', id }, h('h3', {}, h('span', { class: 'answer-n' }, String(n)), ` ${question}`), ...body);
}

export function answersSection(d: DiagnoseResult, deps: AnswerDeps): HTMLElement {
  const a = d.answers;
  const section = h('section', { id: 'answers' });
  const partial = d.phases.filter((p) => p.status !== 'done' && p.status !== 'skipped');
  section.append(
    h(
      'p',
      { class: 'muted', id: 'diagnose-summary' },
      `${appDemandWords(d.app)} on a pool of ${d.app.poolSize} + ${d.app.maxOverflow} · took ${secs(d.elapsedMs)} of a ${secs(d.budgetMs)} budget · ${d.phases.filter((p) => p.status === 'done').length} of ${d.phases.length} phases measured`,
    ),
  );
  if (d.status === 'partial') section.append(h('p', { class: 'status-detail', id: 'diagnose-partial' }, `Partial: ${partial.map((p) => `${p.label} — ${p.status}${p.note ? ` (${p.note})` : ''}`).join('; ')}. The answers say what they stand on.`));
  if (a.best) section.append(h('p', { class: 'recommendation', id: 'answer-best' }, a.best.text));
  const headline = (id: string, title: string, x: { text: string; evidence: 'strong' | 'weak' }) =>
    h(
      'section',
      { class: 'answer headline', id },
      h('h3', {}, title),
      h('p', {}, x.text),
      h('p', { class: `evidence ${x.evidence}` }, x.evidence === 'strong' ? 'Evidence: strong.' : 'Evidence: weak — read the sentence above for why.'),
    );
  if (a.demand) section.append(headline('answer-demand', 'At your demand', a.demand));
  if (a.capacity) section.append(headline('answer-capacity', 'Capacity within the objective', a.capacity));
  section.append(poolCard(d, deps), settingsCard(d, deps), queryCard(d, deps));
  // 4. ORM
  section.append(card('answer-orm', 4, 'Would raw SQL beat the ORM?', h('p', {}, a.orm?.text ?? 'Not answered.'), a.orm ? h('p', { class: 'muted small', id: 'cannot-see' }, `What pgload cannot see: ${a.orm.cannotSee}`) : null));
  section.append(...phasesPart(d, deps));
  return section;
}

/** 1. The pool: the answer, both pools' figures, and the stacked p95 chart. */
function poolCard(d: DiagnoseResult, deps: AnswerDeps): HTMLElement {
  const a = d.answers;
  const pool = card('answer-pool', 1, 'Are my pool settings right?', h('p', {}, a.pool?.text ?? 'Not answered: the application load did not run.'));
  if (a.pool?.recommended) {
    const c = a.pool.current;
    const r = a.pool.recommended;
    pool.append(
      h(
        'table',
        { class: 'steps', id: 'pool-table' },
        h('thead', {}, h('tr', {}, ...['pool', 'p95', 'q/s', 'pool wait p95', 'in database p95'].map((x) => h('th', {}, x)))),
        h(
          'tbody',
          {},
          ...[
            [`yours ${c.size} + ${c.maxOverflow}`, c] as const,
            [`recommended ${r.size} + ${r.maxOverflow}`, r] as const,
          ].map(([label, f]) => h('tr', {}, h('th', {}, label), h('td', {}, formatMs(f.p95Ms)), h('td', {}, formatQps(f.throughputQps)), h('td', {}, formatMs(f.poolWaitP95Ms)), h('td', {}, formatMs(f.dbP95Ms)))),
        ),
      ),
    );
    const grid = h('div', { class: 'charts' });
    pool.append(grid);
    const box = deps.chartBox('chart-answer-pool', `p95 of a request, ${appDemandWords(d.app)}`, 'Each bar: the p95 wait for a pooled connection, and the p95 time inside PostgreSQL once it has one.');
    grid.append(box.box);
    deps.chart(box.canvas, {
      type: 'bar',
      data: {
        labels: [`yours ${c.size} + ${c.maxOverflow}`, `recommended ${r.size} + ${r.maxOverflow}`],
        datasets: [
          { label: 'waiting for a connection (p95)', data: [c.poolWaitP95Ms, r.poolWaitP95Ms], backgroundColor: deps.colors.orange, stack: 'p95' },
          { label: 'in the database (p95)', data: [c.dbP95Ms, r.dbP95Ms], backgroundColor: deps.colors.blue, stack: 'p95' },
        ],
      },
      options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: 'ms' } }, y: { stacked: true } } },
    });
  }
  if (a.pool) pool.append(h('p', { class: `evidence ${a.pool.evidence}` }, a.pool.evidence === 'strong' ? 'Evidence: strong.' : 'Evidence: weak — read the sentence above for why.'));
  return pool;
}

/**
 * A setting's figures beside its verdict: those that moved beyond the noise first, then p95 and q/s marked "within
 * noise" when they did not (results written before significance was kept per figure show p95 and q/s unmarked).
 */
function measuredLine(m: MeasuredChange): string {
  if (!m.significantOn) return ` · p95 ${signedPct(m.p95ChangePct)} · q/s ${signedPct(m.throughputChangePct)}`;
  const all = measuredFigures(m);
  const words = (f: (typeof all)[number]) => `${f.figure === 'qps' ? 'q/s' : f.figure} ${signedPct(f.pct)}`;
  const sig = all.filter((f) => f.significant).map(words);
  const rest = all.filter((f) => !f.significant && (f.figure === 'p95' || f.figure === 'qps')).map((f) => `${words(f)} (within noise)`);
  return [...sig, ...rest].map((x) => ` · ${x}`).join('');
}

/** 2. The settings the hints suggested, each with its measured change and its SQL. */
function settingsCard(d: DiagnoseResult, deps: AnswerDeps): HTMLElement {
  const a = d.answers;
  const settings = card('answer-settings', 2, 'Which server parameters?');
  if (a.settings.length === 0) settings.append(h('p', { class: 'muted' }, 'No hint suggested a setting for this statement: its plan neither spilled nor showed parallel or JIT overhead worth a change.'));
  for (const s of a.settings) {
    settings.append(
      h(
        'div',
        { class: `setting ${s.helps ? 'helps' : 'no-help'}`, 'data-setting': s.name },
        h('div', { class: 'setting-title' }, h('span', { class: 'verdict' }, s.helps ? 'helps' : s.measured ? 'does not help' : 'not measured'), ` ${s.name} = ${s.value}`, s.measured ? h('span', { class: 'muted figures' }, measuredLine(s.measured)) : null),
        h('p', {}, s.text),
        s.memory ? h('p', { class: 'muted small' }, `Memory: ${s.memory}`) : null,
        // Measured as not helping: trying it again at the same load would measure the same. Said, not offered.
        s.measured && !s.helps ? h('p', { class: 'muted small try-why-not' }, 'Measured above at your load: no need to try it again here. It may still matter where this load does not reach — more rows, a larger spill, more users.') : null,
        h('div', { class: 'hint-sql' }, h('pre', { class: 'sql small' }, s.sql), deps.copyButton(s.sql), tryKind(s.sql) && !measuredNoHelp(d, s.sql) ? deps.tryButton(s.sql) : null),
      ),
    );
  }
  return settings;
}

/** 3. The plan's findings, each with its evidence, action and SQL. */
function queryCard(d: DiagnoseResult, deps: AnswerDeps): HTMLElement {
  const a = d.answers;
  const query = card('answer-query', 3, 'How do I make this query hold up under concurrency?');
  if (a.query.length === 0) query.append(h('p', { class: 'muted' }, 'No plan finding: the plan shows no spill, misestimate or wasted work.'));
  else {
    query.append(
      h(
        'ol',
        { class: 'findings' },
        ...a.query.map((q) =>
          h(
            'li',
            {},
            h('div', { class: 'hint-title' }, q.title, q.impactMs !== null ? h('span', { class: 'muted' }, ` — ${impactWords(q)}`) : null),
            h('div', {}, q.evidence),
            h('div', { class: 'hint-action' }, `→ ${q.action}`),
            q.sql ? h('div', { class: 'hint-sql' }, h('pre', { class: 'sql small' }, q.sql), deps.copyButton(q.sql), tryKind(q.sql) && !measuredNoHelp(d, q.sql) ? deps.tryButton(q.sql) : null) : null,
          ),
        ),
      ),
    );
  }
  return query;
}

/** The setting this SQL sets was measured in answer 2 and did not help: no Try it for it anywhere. */
function measuredNoHelp(d: DiagnoseResult, sql: string): boolean {
  const set = parseSetLocal(sql);
  return !!set && d.answers.settings.some((s) => s.name === set.name && s.measured !== null && !s.helps);
}

/** The diagnosis's notes, and its phases as planned and as they ran. */
function phasesPart(d: DiagnoseResult, deps: AnswerDeps): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (d.notes.length) out.push(h('ul', { class: 'facts', id: 'diagnose-notes' }, ...d.notes.map((n) => h('li', {}, n))));
  const report = h('button', { class: 'show-node', id: 'show-app-load' }, "Show the application load's full report");
  report.addEventListener('click', () => deps.showReport());
  out.push(
    h('h3', {}, 'Phases'),
    h(
      'table',
      { class: 'steps', id: 'diagnose-phases' },
      h('thead', {}, h('tr', {}, ...['phase', 'planned', 'took', 'status'].map((x) => h('th', {}, x)))),
      h('tbody', {}, ...d.phases.map((p) => h('tr', { class: `phase-${p.status}` }, h('td', {}, p.label), h('td', {}, secs(p.plannedMs)), h('td', {}, p.actualMs === null ? '–' : secs(p.actualMs)), h('td', {}, p.status, p.note ? h('span', { class: 'muted small' }, ` — ${p.note}`) : null)))),
    ),
    h('p', {}, report),
  );
  return out;
}
