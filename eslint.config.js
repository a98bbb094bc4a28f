import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importCycles from './eslint-rules/import-cycles.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.scratch*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { cycles: importCycles },
    rules: {
      'cycles/no-file-cycle': ['error', { root: 'src' }],
      'cycles/no-folder-cycle': ['error', { root: 'src' }],
    },
  },
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly' } } },
  { files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'], rules: { 'no-console': 'off' } },
);
