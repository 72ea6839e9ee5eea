// Lint: typescript-eslint's recommended rules, and the architecture rules: the engine (src/core), the CLI and
// src/shared never import 'vscode', not even for types; src/shared depends on nothing else; the webview takes from
// src/shared only; the engine and the CLI never import the panel's messages (src/shared/protocol.ts).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', '.vscode-e2e/**', 'test-results/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/shared/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/core, src/shared and src/cli are pure Node: only src/extension may import vscode.' }],
          patterns: [
            { group: ['**/extension/**'], message: 'The engine must not depend on the VS Code layer.' },
            { group: ['**/shared/protocol'], message: "The panel's messages are the extension's and the webview's: the engine and the CLI use the result types (shared/result, shared/panelState)." },
          ],
        },
      ],
    },
  },
  {
    // What the webview (a browser) and every layer share: result types, the message protocol and the browser-safe
    // formatters. It depends on nothing but itself.
    files: ['src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/shared is browser-safe: no vscode.' }],
          patterns: [
            { group: ['**/core/**', '**/extension/**', '**/cli/**'], message: 'src/shared depends on nothing but itself (the webview bundles it).' },
            { group: ['node:*'], message: 'src/shared is browser-safe: no Node built-ins.' },
          ],
        },
      ],
    },
  },
  {
    // The panel runs in a browser: it takes from src/shared only, never the engine or the VS Code layer.
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The webview cannot import vscode; it talks to the extension by messages (src/shared/protocol.ts).' }],
          patterns: [{ group: ['**/src/core/**', '**/src/extension/**', '**/src/cli/**', 'node:*'], message: 'The webview takes from src/shared only (types, protocol, browser-safe formatters).' }],
        },
      ],
    },
  },
);
