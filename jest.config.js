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
  // Long suites first, also on a fresh clone without jest's cache of durations.
  testSequencer: '<rootDir>/test/support/sequencer.js',
  // The slow suites (Terraform against moto) spend much of their time in the AWS provider's own
  // waits (a VPC 10 s, subnets 11 s, kops's SQS queue 25 s), not on the CPU: four workers ran the
  // whole suite in 574 s on 2 cores, two in 685 s (2026-12-01, quiet machine, all passing).
  maxWorkers: 4,
};
