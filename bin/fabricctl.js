#!/usr/bin/env node
'use strict';
// npm bin. In the repository it runs the TypeScript sources through tsx (no build step to forget,
// never a stale dist/); the published package ships no sources, only dist/, which runs as plain
// JavaScript (npm run build).
// The SDK's notice that its 2027 releases need Node 22 is for upgrades, not for this run: the
// lockfile pins versions that run on Node 20 (README, "Requirements").
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { existsSync } = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const sources = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
const fromSources = existsSync(sources);

if (!fromSources && args.includes('--local')) {
  // Local mode loads the handlers and the kops stand-in from their TypeScript sources, which the
  // package does not ship: say so instead of failing on a missing file halfway through a run.
  process.stderr.write(
    'fabricctl: --local runs from a clone of the fabricctl repository (README, "Local mode"); ' +
      'an installed fabricctl runs against AWS only.\n',
  );
  process.exitCode = 2;
} else {
  if (fromSources) require('tsx/cjs');
  const { cli } = require(fromSources ? sources : path.join(__dirname, '..', 'dist', 'lib', 'cli', 'main.js'));
  cli(args).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`fabricctl: ${error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
