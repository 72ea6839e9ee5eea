/** Reading a saved result (`pgload run --json`) back, with a specific message for each way a file can be wrong. */
import type { ProfileResult } from '../../shared/result';
import { RESULT_SCHEMA_VERSION } from '../../shared/result';
import { PgloadError } from '../errors';
import { readInputText } from '../inputFile';

export function parseResult(text: string, source: string): ProfileResult {
  const bad = (why: string): never => {
    throw new PgloadError('usage', `${source} ${why}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return bad(`is not JSON (${(err as Error).message}); give a file written by "pgload run --json FILE"`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('is not a pgload result; give a file written by "pgload run --json FILE"');
  const o = v as Record<string, unknown>;
  if (o.kind === 'sweep') bad('is a sweep result; compare takes results of single runs ("pgload run --json FILE")');
  if (o.kind === 'pool-comparison' || o.kind === 'comparison' || o.kind === 'ab') bad(`is a "${String(o.kind)}" file; compare takes results of single runs ("pgload run --json FILE")`);
  if (typeof o.schemaVersion !== 'number') bad('is not a pgload result (no schemaVersion); give a file written by "pgload run --json FILE"');
  if (o.schemaVersion !== RESULT_SCHEMA_VERSION) bad(`has result schema version ${String(o.schemaVersion)}; this pgload reads version ${RESULT_SCHEMA_VERSION}`);
  const load = o.load as Record<string, unknown> | undefined;
  const hdr = o.hdr as Record<string, unknown> | undefined;
  if (!load || typeof load !== 'object' || !load.latency || typeof hdr?.load !== 'string' || typeof o.sql !== 'string') bad('is missing parts of a result (load, hdr, sql): was it edited or cut short?');
  return v as ProfileResult;
}

export function readResultFile(path: string): ProfileResult {
  return parseResult(readInputText(path, 'result', path), path);
}
