/**
 * Type checking is done once, by `npm run check` (scripts/check.ts) in `npm test`; jest only
 * transpiles, file by file (tsconfig.json's isolatedModules keeps the code fit for that), with swc:
 * on a fresh clone, whose transform cache is empty, the 78 suites other than the eight
 * Terraform-heavy ones took 185 CPU-s, against 210 with ts-jest's TypeScript transpiler (2 cores,
 * 2026-12-02).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, sourceMaps: 'inline' }],
  },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // One TMPDIR per run, removed at its end (test/support/temp-root.ts).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  // Long suites first, also on a fresh clone without jest's cache of durations.
  testSequencer: '<rootDir>/test/support/sequencer.js',
  // More workers than cores: the slow suites (Terraform against moto) wait in the AWS provider's own
  // polls (a VPC 13 s, subnets 10 s, kops's SQS queue 25 s) while others use the CPU. On 2 cores
  // (2026-12-01, fresh clone, cold cache) four workers ran jest in 387 s with both cores busy for
  // all but about 15 s, six in 399 s; later, on a slower hour, five took 477 s where four took 458 s.
  // Earlier two took 685 s and four 574 s. With swc (2026-12-02): five 331 s, four 346 s, five 361 s,
  // one after the other: no clear gain for more CPU.
  maxWorkers: 4,
};
