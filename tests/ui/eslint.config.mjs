// ESLint (flat config) for nsqadmin's web UI and these tests. Run from the repository root by
// tests/ui/unit.sh: `eslint -c tests/ui/eslint.config.mjs web tests/ui`.
// eslint:recommended catches the real mistakes (undefined names, unused variables,
// unreachable code); style is left alone.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['tests/ui/node_modules/**', 'build*/**'] },
  js.configs.recommended,
  {
    // The UI: ES modules in the browser.
    files: ['web/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    // The dev server and the tests run under node.
    files: ['web/**/*.mjs', 'tests/ui/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
  },
  {
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
];
