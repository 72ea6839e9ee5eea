import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { checkRunId, parseShard } from '../../src/core/load/shard/split';
import { parseCommand } from '../../src/cli/flags';
import { RUN_OPTIONS } from '../../src/cli/commands/run';

const MANIFEST = path.join(__dirname, '../../deploy/kubernetes/pgload-job.yaml');
const MODELS: Record<string, new (data: never) => { validate(): void }> = { Job, Secret, ConfigMap, PersistentVolumeClaim };

interface Container {
  args?: string[];
  env?: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
}
interface Doc {
  kind: string;
  metadata: { name: string };
  spec?: { completionMode?: string; completions?: number; parallelism?: number; backoffLimit?: number; template: { spec: { restartPolicy: string; containers: Container[] } } };
}

describe('The Kubernetes manifest (deploy/kubernetes)', () => {
  const docs = parseAllDocuments(fs.readFileSync(MANIFEST, 'utf8')).map((d) => d.toJS() as Doc);
  const shards = docs.find((d) => d.kind === 'Job' && d.spec?.completionMode === 'Indexed')!;

  it('every object is valid against the Kubernetes API schema (checked offline)', () => {
    assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'Job', 'Job', 'PersistentVolumeClaim', 'Secret']);
    for (const d of docs) new MODELS[d.kind](d as never).validate();
    // The check does catch a broken manifest.
    assert.throws(() => new Job({ ...shards, spec: { ...shards.spec, completions: 'four' } } as never).validate(), /completions must be integer/);
  });

  it('an Indexed Job whose pods all run at once, each its own shard of the same count, results to the shared volume', () => {
    const spec = shards.spec!;
    const c = spec.template.spec.containers[0];
    const args = c.args!;
    const shard = args[args.indexOf('--shard') + 1];
    const n = Number(/^auto\/(\d+)$/.exec(shard)![1]);
    assert.equal(spec.completions, n, 'completions = shards');
    assert.equal(spec.parallelism, n, 'every shard runs at the same time, or the others wait for it in vain');
    assert.equal(spec.backoffLimit, 0);
    assert.equal(spec.template.spec.restartPolicy, 'Never');
    // What the Job controller sets in each pod, expanded as Kubernetes expands $(VAR) in args.
    for (let index = 0; index < n; index++) {
      const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index), RUN_ID: 'pgload-shards', SHARD_INDEX: String(index) };
      for (const e of c.env ?? []) assert.ok(e.name in env, `${e.name} is set in the pod`);
      const expanded = args.map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? assert.fail(`$(${v}) is not defined in the container's env`)));
      assert.deepEqual(parseShard(shard, env), { index: index + 1, count: n });
      assert.equal(checkRunId(expanded[expanded.indexOf('--run-id') + 1]), 'pgload-shards');
      assert.equal(expanded[expanded.indexOf('--json') + 1], `/results/shard-${index}.json`);
      // The pgload command accepts the arguments as written.
      const parsed = parseCommand(expanded.slice(1), RUN_OPTIONS, 'run', '', { stdout: () => undefined, stderr: () => undefined } as never);
      assert.equal(parsed?.values.shard, shard);
    }
    assert.equal(c.envFrom?.[0].secretRef?.name, docs.find((d) => d.kind === 'Secret')!.metadata.name, 'the connection comes from the Secret');
    const merge = docs.find((d) => d.kind === 'Job' && d !== shards)!;
    assert.match(merge.spec!.template.spec.containers[0].args![0], /^pgload merge \/results\/shard-\*\.json .*--max-p95/);
  });
});
