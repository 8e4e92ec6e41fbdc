'use strict';
// Long suites first, also on a fresh clone. jest orders suites by their last durations, which live
// in its cache; without a cache (CI's fresh clone) it orders them by file size, and the suites that
// run Terraform (small files that run for minutes) would start last and keep the run going long
// after the other workers are idle. Without a cached duration a suite gets its seconds from
// EXPECTED_SECONDS (measured 2026-12-02, four workers, 2 cores: every suite of 10 s or more, so
// that none of them starts last), else a guess from its size.
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');

const EXPECTED_SECONDS = {
  'workflow/scenarios.test.ts': 220,
  'workflow/day2.test.ts': 205,
  'jobs/cluster-job.test.ts': 165,
  'package/pack.test.ts': 120,
  'jobs/network-job.test.ts': 72,
  'workflow/five-zones.test.ts': 70,
  'terraform/network-module.test.ts': 45,
  'local/account.test.ts': 45,
  'construct/synth.test.ts': 30,
  'support/moto.test.ts': 28,
  'local/kops-standin.test.ts': 27,
  'cli/local.test.ts': 25,
  'jobs/tag-rules.test.ts': 17,
  'construct/cloudformation-validate.test.ts': 16,
  'jobs/aws-provider.test.ts': 15,
  'jobs/install-tools.test.ts': 15,
  'local/standins.test.ts': 15,
  'local/kubeconfig.test.ts': 12,
  'jobs/terraform-events.test.ts': 11,
  'workflow/concurrency.test.ts': 11,
};

// The slowest suite not listed runs for about 10 s: about 1 s per KiB of test file is a fair guess.
const SECONDS_PER_BYTE = 1 / 1024;

class LongSuitesFirst extends Sequencer {
  sort(tests) {
    const seconds = (test) => {
      const cached = this.time(test);
      if (cached != null) return cached / 1000;
      const relative = path.relative(path.join(test.context.config.rootDir, 'test'), test.path).split(path.sep).join('/');
      return EXPECTED_SECONDS[relative] ?? (test.context.hasteFS.getSize(test.path) ?? 0) * SECONDS_PER_BYTE;
    };
    const keyed = tests.map((test) => ({ test, failed: this.hasFailed(test), seconds: seconds(test) }));
    keyed.sort((a, b) => (a.failed !== b.failed ? (a.failed ? -1 : 1) : b.seconds - a.seconds));
    return keyed.map(({ test }) => test);
  }
}

module.exports = LongSuitesFirst;
