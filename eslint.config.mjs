// One flat config for the repository. Boundaries between packages are enforced here (the
// Temporal technique): the pure core cannot reach I/O, so a reviewer never has to check it by eye.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const nodeBuiltins = [...builtinModules, ...builtinModules.map(m => `node:${m}`)];
const ioPackages = [
  '@kubernetes/client-node',
  'ioredis',
  'bullmq',
  'pino',
  'pino-*',
  '@opentelemetry/*',
  'undici',
  'node-fetch',
  'prom-client',
];

/** Pure packages: no Node built-ins, no I/O libraries, no ambient clock or environment. */
const purePackages = ['packages/policy/src/**/*.ts', 'packages/contracts/src/**/*.ts'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/coverage/**', '**/dist/**', 'artifacts/**', 'go/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      complexity: ['error', 12],
      'max-depth': ['error', 4],
      'max-params': ['error', 4],
      'max-nested-callbacks': ['error', 4],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/*', '../../packages/*', '../../services/*'],
              message: "Import a package by name, never another package's files.",
            },
          ],
        },
      ],
    },
  },
  {
    // @stampede/harness spawns processes, holds CA keys in memory and installs exit hooks: it is
    // test support only, never part of a shipped package or service. (Pure packages are covered
    // by their stricter block below, which wins for their files.)
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    ignores: [
      '**/*.test.ts',
      'packages/harness/**',
      // The one exemption: `stampede demo` runs the real pipeline on the harness's control plane,
      // Redis and kubelets. cli.ts loads it with a dynamic import, only for `demo`; nothing else in
      // the CLI (and no service) may import the harness.
      'services/cli/src/demo-pipeline.ts',
      'services/cli/src/demo-real-kubelets.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@stampede/harness',
              message: 'The test harness is for tests, the demo and load tests only.',
            },
          ],
          patterns: [
            {
              group: ['**/src/*', '../../packages/*', '../../services/*'],
              message: "Import a package by name, never another package's files.",
            },
          ],
        },
      ],
    },
  },
  {
    files: purePackages,
    // Tests of a pure package may use node:test and node:assert; the code under test may not.
    ignores: ['**/*.test.ts', '**/*.bench.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map(name => ({
            name,
            message: 'The policy core is pure: no Node built-ins.',
          })),
          patterns: [
            { group: ioPackages, message: 'The policy core is pure: no I/O libraries.' },
            {
              group: ['**/src/*', '../../packages/*', '../../services/*'],
              message: 'Import a package by name.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'The core reads no environment; pass configuration in.' },
        { name: 'fetch', message: 'The core does no I/O.' },
        { name: 'setTimeout', message: 'The core has no timers.' },
        { name: 'setInterval', message: 'The core has no timers.' },
        { name: 'Date', message: 'The core has no clock; facts.now is injected.' },
        { name: 'Buffer', message: 'Buffer is a Node built-in; use Uint8Array.' },
        { name: 'require', message: 'ES modules only.' },
      ],
    },
  },
  {
    files: ['services/*/src/**/*.ts'],
    ignores: ['services/*/src/main.ts', 'services/*/src/config.ts', 'services/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only main.ts and config.ts read the environment.',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      'max-nested-callbacks': ['error', 8],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
