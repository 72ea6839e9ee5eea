/** pgload's version: injected by the bundler; read from package.json when running from source (tests). */
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
