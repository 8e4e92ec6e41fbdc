#!/usr/bin/env node
'use strict';
// npm bin: the CLI is TypeScript; tsx compiles it on load (no build step to forget).
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
