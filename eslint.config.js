import tseslint from 'typescript-eslint';

// Imports point one way (STYLE.md §1): renderer → core/contract ← electron → core. The folders below say it.
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'url', 'worker_threads'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', '.native/**', 'test-results/**', 'test-output/**', 'playwright-report/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Config files and Playwright's global setup are where tools require a default export.
    files: ['*.config.ts', '*.config.js', 'test/e2e/global-setup.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'core/ is plain Node: it never imports electron.' },
            { name: 'react', message: 'core/ never imports react.' },
            { name: 'react-dom', message: 'core/ never imports react.' },
          ],
          patterns: [{ group: ['**/renderer/**', '**/electron/**'], message: 'core/ never imports renderer/ or electron/.' }],
        },
      ],
    },
  },
  {
    files: ['core/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.filter((n) => !n.includes('*')).map((name) => ({ name, message: 'core/contract runs in the renderer too: no Node imports.' })),
          patterns: [
            { group: ['node:*'], message: 'core/contract runs in the renderer too: no Node imports.' },
            { group: ['../*', '!../contract', '!../contract/**'], message: 'core/contract depends only on zod and itself.' },
            { group: ['electron', 'react', 'react-dom'], message: 'core/contract depends only on zod and itself.' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer reaches the app only through window.api or the web host.' },
            ...nodeBuiltins.filter((n) => !n.includes('*')).map((name) => ({ name, message: 'The renderer has no Node.' })),
          ],
          patterns: [
            { group: ['node:*'], message: 'The renderer has no Node.' },
            {
              group: ['**/core/**', '!**/core/contract', '!**/core/contract/**'],
              message: 'The renderer imports only core/contract.',
            },
            { group: ['**/electron/**'], message: 'The renderer never imports electron/.' },
          ],
        },
      ],
    },
  },
);
