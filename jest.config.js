/** Type checking is done once by `tsc --noEmit` in `npm test`; jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // One TMPDIR per run, removed at its end (test/support/temp-root.ts).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  // The slow suites (Terraform against moto) wait on the emulator and the provider as much as on
  // the CPU: two workers finish the whole run sooner on 2 cores than jest's default of one.
  maxWorkers: 2,
};
