/**
 * The Plan tab: the plan tree alone or under load (toggled), each node with its own time as a bar, estimated vs
 * actual rows, its buffers and temp I/O, and the hints pinned to it. Everything shown comes from the result
 * (insight.plans[].nodes, computed by the engine); nothing is recomputed here. Drawn with the DOM the panel already
 * has: a plan tree is rows of text and bars, and a plan-viewer library (PEV2 is Vue-based, several hundred kB)
 * would not fit the panel's budget.
 */
import { hintCauses } from '../src/shared/report/hintCauses';
import type { PanelResult } from '../src/shared/protocol';
import type { CapturedPlan, Hint, PlanNodeTime } from '../src/shared/result';
import { estimateText, formatCount, formatMs, formatPercent } from '../src/shared/format';
import { h } from './dom';

export interface PlanView {
  when: 'alone' | 'under-load';
  /** The node label to show (from a hint), or null. */
  selected: string | null;
}

/** The plans of a result that have node times, alone first. */
export function timedPlans(r: PanelResult): CapturedPlan[] {
  return (r.insight?.plans ?? []).filter((p) => p.nodes && p.nodes.length > 0).sort((a) => (a.when === 'alone' ? -1 : 1));
}

const label = (when: CapturedPlan['when']) => (when === 'alone' ? 'Alone' : 'Under load');

export function planSection(r: PanelResult, view: PlanView, changed: (v: PlanView) => void): HTMLElement {
  const section = h('section', { id: 'plan' });
  const plans = timedPlans(r);
  if (plans.length === 0) {
    const why = (r.insight?.plans ?? []).map((p) => p.unavailable).find(Boolean);
    section.append(h('p', { class: 'muted' }, why ? `No plan: ${why}` : 'No plan for this run (EXPLAIN was off).'));
    return section;
  }
  const plan = plans.find((p) => p.when === view.when) ?? plans[0];
  const toggle = h(
    'div',
    { class: 'plan-toggle', role: 'group' },
    ...plans.map((p) => {
      const b = h('button', { class: `tab${p === plan ? ' selected' : ''}`, id: `plan-${p.when}`, 'aria-pressed': String(p === plan) }, `${label(p.when)} · ${formatMs(p.executionMs)}`);
      b.addEventListener('click', () => changed({ ...view, when: p.when }));
      return b;
    }),
  );
  section.append(
    h('p', { class: 'muted' }, "Each node's own time (its children's taken out; loops and parallel workers counted), as a share of the execution. Hints sit on their node."),
    toggle,
  );
  const hintsByNode = new Map<string, Hint[]>();
  // One hint per cause on its node (a spill and its temporary files are one), as the Report tab lists them.
  for (const { lead: x } of hintCauses(r.hints)) if (x.node) hintsByNode.set(x.node, [...(hintsByNode.get(x.node) ?? []), x]);
  const maxShare = Math.max(...plan.nodes!.map((n) => n.share), 0.0001);
  const table = h(
    'table',
    { class: 'plan-tree', id: 'plan-tree' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Own time'), h('th', {}, 'Rows (estimated → actual)'), h('th', {}, 'Buffers'))),
    h('tbody', {}, ...plan.nodes!.map((n) => nodeRow(n, hintsByNode.get(n.node) ?? [], maxShare, n.node === view.selected))),
  );
  section.append(h('div', { class: 'plan-scroll' }, table));
  return section;
}

function nodeRow(n: PlanNodeTime, hints: Hint[], maxShare: number, selected: boolean): HTMLElement {
  const bar = h('div', { class: 'plan-bar' }, h('div', { class: `plan-bar-fill${n.share >= 0.25 ? ' hot' : ''}`, style: `width: ${((n.share / maxShare) * 100).toFixed(1)}%` }));
  const misestimate = n.rows.estimated > 0 && n.rows.actual > 0 && (n.rows.actual / n.rows.estimated >= 10 || n.rows.estimated / n.rows.actual >= 10);
  const rows = `${formatCount(n.rows.estimated)} → ${formatCount(n.rows.actual)}${n.rows.loops > 1 ? ` × ${formatCount(n.rows.loops)} loops` : ''}`;
  const blocks = [n.blocks.hit ? `hit ${formatCount(n.blocks.hit)}` : '', n.blocks.read ? `read ${formatCount(n.blocks.read)}` : '', n.blocks.temp ? `temp ${formatCount(n.blocks.temp)}` : ''].filter(Boolean).join(' · ');
  return h(
    'tr',
    { class: `plan-node${selected ? ' selected' : ''}`, 'data-node': n.node, id: `node-${n.node.replace(/[^A-Za-z0-9]+/g, '-')}` },
    h(
      'td',
      { class: 'plan-label', style: `padding-left: ${8 + n.depth * 14}px` },
      h('div', { class: 'plan-name' }, n.node),
      h('div', { class: 'muted small' }, n.what),
      ...hints.map((x) => h('div', { class: `plan-hint sev-${x.severity}`, title: x.detail }, `${x.severity}: ${x.title}${estimateText(x) ? ` — ${estimateText(x)}` : ''}`)),
    ),
    h('td', { class: 'plan-time' }, bar, h('div', { class: 'small' }, `${formatMs(n.exclusiveMs)} · ${formatPercent(n.share * 100)}`)),
    h('td', { class: `small${misestimate ? ' misestimate' : ''}` }, rows),
    h('td', { class: `small${n.blocks.temp ? ' temp' : ''}` }, blocks || '–'),
  );
}
