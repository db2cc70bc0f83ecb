import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits and nobody catches ends the gateway (Node exits on
    // an unhandled rejection). `ignoreVoid: false`: `void p` alone does not count as handled;
    // a promise left to run on its own ends in `.catch(...)` that reports where the failure goes.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The rooms of appliance/src meet only at their doors; tests may open any file they test.
    files: ['appliance/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*/*.js', '!../*/index.js'],
              message: 'Enter another room through its index.ts (ARCHITECTURE.md).',
            },
          ],
        },
      ],
    },
  },
);
