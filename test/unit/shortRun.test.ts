/** A run too short to trust its waits and timeline says so, in its own figures; a long one does not. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMarkdownReport, formatTextReport, shortRunWarning } from '../../src/shared/format';
import type { ProfileResult } from '../../src/shared/result';

const recorded = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/result-demo-50-clients.json'), 'utf8')) as ProfileResult;

describe('short runs', () => {
  it('a 20-second run has no warning', () => {
    assert.ok(recorded.load.wallMs > 10_000);
    assert.equal(shortRunWarning(recorded), undefined);
    assert.doesNotMatch(formatTextReport(recorded), /too short to trust/);
  });

  it('200 requests of a 2 ms query in 0.3 s: 3 wait samples, 3 intervals — said in the text, the Markdown and what to do', () => {
    const short = structuredClone(recorded);
    short.load.wallMs = 310;
    short.timeline = short.timeline.slice(0, 3);
    short.insight.waits!.samples = 3;
    const w = shortRunWarning(short)!;
    assert.equal(w, 'This run lasted 310 ms (3 timeline intervals, 3 wait samples): too short to trust its waits and its timeline, though its percentiles stand. Run it for 10 s or more (--duration 10s, or the pgload.durationSeconds setting).');
    assert.ok(formatTextReport(short).includes(`NOTE: ${w}`));
    assert.ok(formatMarkdownReport(short).includes(`> ${w}`));
  });

  it('long enough but sampled too rarely: the waits are what is short', () => {
    const sparse = structuredClone(recorded);
    sparse.insight.waits!.samples = 12;
    assert.match(shortRunWarning(sparse)!, /12 wait samples/);
    sparse.status = 'cancelled';
    assert.equal(shortRunWarning(sparse), undefined, 'a cancelled run says it was cancelled instead');
  });
});
