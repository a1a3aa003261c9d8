// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'reports/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a union type instead of an enum' }],
    },
  },
  {
    // Policy, core and tenants are pure: no I/O, no clock, no Kubernetes client.
    files: ['src/core/**/*.ts', 'src/policy/**/*.ts', 'src/tenants/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-helper.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process'], message: 'core/, policy/ and tenants/ are pure: pass effects in instead' },
        { group: ['@kubernetes/client-node', '**/kube/**', '**/sim/**', '**/config/**', '**/controllers/**', '**/cli/**'], message: 'core/, policy/ and tenants/ must not depend on outer layers' },
      ] }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Pass the clock value in' }, { name: 'setTimeout', message: 'Policy does not wait' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Pass a seeded random source in' }],
    },
  },
  {
    // Stand-ins for async API calls in tests often have nothing to await.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
