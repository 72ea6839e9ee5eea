/** One hint per cause: a spill seen as its node, its temporary files and its work_mem advice is shown once. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMarkdownReport } from '../../src/shared/format';
import { hintCauses } from '../../src/shared/report/hintCauses';
import type { ProfileResult } from '../../src/shared/result';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as ProfileResult;

describe('hints as causes', () => {
  it('a recorded spill (its aggregate, its temp files, the work_mem advice) is one cause led by the spilling node, with the advice as the one thing to try', () => {
    const r = fixture('result-demo-50-clients.json');
    const causes = hintCauses(r.hints);
    assert.deepEqual(causes.map((c) => c.lead.id), ['hashagg-spill', 'cpu-saturation']);
    const [spill] = causes;
    assert.deepEqual(spill.also.map((h) => h.id), ['work-mem-advice', 'temp-io']);
    const advice = r.hints.find((h) => h.id === 'work-mem-advice')!;
    assert.equal(spill.sql, advice.sql);
    assert.equal(spill.action, `${advice.title}. ${advice.action}`);
  });

  it('hints of different causes stay apart and in their rank order', () => {
    const r = fixture('result-shop-exists-15.json');
    assert.deepEqual(hintCauses(r.hints).map((c) => c.lead), r.hints);
  });

  it('the Markdown report says the spill once, with one SET LOCAL, and what else it was seen as', () => {
    const md = formatMarkdownReport(fixture('result-demo-50-clients.json'));
    const why = md.slice(md.indexOf('### Why'));
    assert.equal(why.match(/^- \*\*/gm)?.length, 2, why);
    assert.equal(why.match(/SET LOCAL work_mem/g)?.length, 1, why);
    assert.match(why, /^ {2}- also seen as: Temporary files were written and read \(Aggregate \\#3\)/m);
  });
});
