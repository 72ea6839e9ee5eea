/**
 * A module loaded on first use rather than with the code that imports it: libraries the extension's activation should
 * not pay for before they are needed. `load` must call `require('name')` with the name written out, so that the
 * bundler still finds and bundles the module.
 */
export function onFirstUse<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
