import * as assert from 'node:assert/strict';
import { formatTopReport } from '../../src/shared/report/top';
import type { ParamSuggestion, TopResult, TopStatement } from '../../src/shared/result';

const none = (index: number): ParamSuggestion => ({ index, spec: null, source: null, why: `pgload could not tell which column $${index} is compared with: write a generator` });

function top(params: ParamSuggestion[]): TopResult {
  const s: TopStatement = {
    queryid: '1', query: 'INSERT INTO t SELECT g, $1 + g % $2 FROM generate_series($3, $4) g WHERE $5 > 0', calls: 1, totalMs: 10, meanMs: 10, stddevMs: 0, rows: 1,
    rowsPerCall: 1, sharedBlksHit: 1, sharedBlksRead: 0, hitRatio: 1, tempBlksRead: 0, tempBlksWritten: 0, shareOfTotal: 1, profile: 'rolled-back', profileNote: '', params,
  };
  return { schemaVersion: 1, kind: 'top', tool: { name: 'pgload', version: '0' }, startedAt: '', target: 'x', database: 'x', serverVersionNum: 180000, order: 'total', limit: 1, statsSince: null, totalExecMs: 10, statements: [s], notes: [] };
}

describe('pgload top text: parameters compared with no column', () => {
  it('many of them share one line ($1 … $4), the ones with a column keep theirs', () => {
    const text = formatTopReport(top([none(1), none(2), none(3), none(4), { index: 5, spec: 'int:1..9', source: 't.a', why: 'its range' }]));
    assert.match(text, /\n {4}\$1 … \$4: \(no suggestion\) — pgload could not tell which column each is compared with/);
    assert.match(text, /\n {4}\$5: int:1\.\.9 — its range/);
    assert.doesNotMatch(text, /\$2: \(no suggestion\)/);
  });

  it('a single one keeps its own reason', () => {
    const text = formatTopReport(top([none(1), { index: 2, spec: 'list:a', source: 't.b', why: 'common values' }]));
    assert.match(text, /\$1: \(no suggestion\) — pgload could not tell which column \$1 is compared with/);
  });
});
