/** pgload's version: injected by the bundler; read from package.json when running from source (tests). */
import { RESULT_SCHEMA_VERSION } from '../shared/result';

declare const __PGLOAD_VERSION__: string | undefined;

function fromPackageJson(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0-dev';
  }
}

export const VERSION: string = typeof __PGLOAD_VERSION__ === 'string' ? __PGLOAD_VERSION__ : fromPackageJson();

/** The head every result of one statement starts with: its schema, kind, the tool that wrote it, the statement. */
export function resultHead<K extends string>(kind: K, statement: { text: string; fingerprint: string }) {
  return { schemaVersion: RESULT_SCHEMA_VERSION, kind, tool: { name: 'pgload' as const, version: VERSION }, sql: statement.text, fingerprint: statement.fingerprint };
}
