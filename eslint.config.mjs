// Type-aware lint (typescript-eslint's type-checked rules), as VS Code's extension samples set
// up. Run by `npm run lint` and inside `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'media/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', 'reports/**', '.stryker-tmp/**', '**/*.mjs', '**/*.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './tsconfig.webview.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A `default:` is an explicit choice to handle the rest, so it counts as exhaustive.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A `let` read by a closure before its one assignment cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped wire payloads (JSON bodies, gRPC records, webview messages) on
      // purpose and assert on their shape; typing each one would only restate the assertion.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Emulator handlers and fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // `assert.rejects(emulator.method)` and handler tables pass methods around deliberately.
      '@typescript-eslint/unbound-method': 'off',
      // Harness code strips ANSI escapes from mocha's output.
      'no-control-regex': 'off',
    },
  },
);
