#!/usr/bin/env node
'use strict';
// npm bin: the CLI is TypeScript; tsx compiles it on load (no build step to forget).
// The SDK's notice that its 2027 releases need Node 22 is for upgrades, not for this run: the
// lockfile pins versions that support Node 20 (README, "Requirements").
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { cli } = require('../lib/cli/main.ts');

cli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`fabricctl: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
