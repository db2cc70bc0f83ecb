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
