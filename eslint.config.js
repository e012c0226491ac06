import tseslint from 'typescript-eslint';

// Imports point one way (STYLE.md §1): renderer → core/contract ← electron → core. The folders below say it.
// What no file in core/ may import, whatever else its folder forbids (each rule below repeats it: flat config replaces,
// not merges, a rule's options).
const corePaths = [
  { name: 'electron', message: 'core/ is plain Node: it never imports electron.' },
  { name: 'react', message: 'core/ never imports react.' },
  { name: 'react-dom', message: 'core/ never imports react.' },
];
const coreNever = { group: ['**/renderer/**', '**/electron/**'], message: 'core/ never imports renderer/ or electron/.' };
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
            ...corePaths,
          ],
          patterns: [coreNever],
        },
      ],
    },
  },
  {
    // Money and stock have one writer (core/ledger) and the rest of the SQL lives in repositories (core/store and
    // *-repo.ts files): everywhere else in core, no SQL text and no database driver (issue 20).
    files: ['core/**/*.ts'],
    ignores: ['core/store/**', 'core/ledger/**', 'core/sandbox/**', 'core/**/*-repo.ts', 'core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...corePaths,
            { name: 'better-sqlite3', message: 'Only core/store, core/ledger and *-repo.ts files touch the database.' },
          ],
          patterns: [coreNever],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        ...[
          'Literal[value=/\\b(SELECT|INSERT INTO|DELETE FROM)\\b/]',
          'Literal[value=/\\bUPDATE [a-z_]+ SET\\b/]',
          'TemplateElement[value.raw=/\\b(SELECT|INSERT INTO|DELETE FROM)\\b/]',
          'TemplateElement[value.raw=/\\bUPDATE [a-z_]+ SET\\b/]',
        ].map((selector) => ({ selector, message: 'SQL lives in core/store (repositories, *-repo.ts) or core/ledger (money and stock).' })),
        {
          selector: "CallExpression[callee.property.name=/^(prepare|pragma)$/]",
          message: 'Only core/store, core/ledger and *-repo.ts files prepare statements.',
        },
      ],
    },
  },
  // Layers, so sync, reconcile and app never import each other in a circle: ledger and store know none of them,
  // reconcile knows neither sync nor app, sync does not know app (app composes everything).
  // Import paths are relative, so each rule names the depth of the files it covers (core/<layer>/x.ts: '../',
  // core/<layer>/<sub>/x.ts: '../../').
  ...[
    { files: ['core/ledger/*.ts', 'core/store/*.ts'], up: '../', above: ['sync', 'reconcile', 'app', 'cli', 'host'] },
    { files: ['core/store/*/*.ts'], up: '../../', above: ['sync', 'reconcile', 'app', 'cli', 'host'] },
    { files: ['core/reconcile/*.ts'], up: '../', above: ['sync', 'app', 'cli', 'host'] },
    { files: ['core/sync/*.ts'], up: '../', above: ['app', 'cli', 'host', 'reconcile'] },
    { files: ['core/sync/*/*.ts'], up: '../../', above: ['app', 'cli', 'host', 'reconcile'] },
  ].map(({ files, up, above }) => ({
    files,
    ignores: ['core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...corePaths,
            ...(files.some((f) => f.startsWith('core/ledger') || f.startsWith('core/store'))
              ? []
              : [{ name: 'better-sqlite3', message: 'Only core/store, core/ledger and *-repo.ts files touch the database.' }]),
          ],
          patterns: [
            coreNever,
            {
              group: above.flatMap((layer) => [`${up}${layer}`, `${up}${layer}/**`]),
              message: `Layers: ${files.join(', ')} may not import ${above.join(', ')} (app composes them).`,
            },
          ],
        },
      ],
    },
  })),
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
