// @ts-check
/**
 * Lint for real bugs, not style: ESLint's and typescript-eslint's recommended
 * sets, plus the type-aware rules that catch what tsc does not (a promise
 * nobody awaits, a promise passed where a callback's result is ignored, a
 * thrown non-Error). Formatting is left alone.
 */
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'models/', 'bench-results/', '.eval-data/', 'tests/.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
    },
  },
  {
    rules: {
      // Control characters in patterns are how the sanitisers name what they remove.
      'no-control-regex': 'off',
      // Style, not a bug: `\[` inside a character class reads as clearly as `[`.
      'no-useless-escape': 'off',
      // Untidy rather than wrong: shown as warnings, so several people merging at once do not turn CI red over them.
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' }],
      'no-useless-assignment': 'warn',
      'preserve-caught-error': 'warn',
      // No `any` is left in the tree (tests read responses through the contract); a new one warns.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  { files: ['web/**/*.js'], languageOptions: { globals: globals.browser } },
  { files: ['*.config.js', '*.config.ts'], languageOptions: { globals: globals.node } },
);
