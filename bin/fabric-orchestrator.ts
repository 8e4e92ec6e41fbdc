#!/usr/bin/env node
import { createFabricApp } from '../lib/app';
import { StackOptionInvalid } from '../lib/fabric-orchestrator-stack';
import { KopsChecksumInvalid, KopsChecksumMissing } from '../lib/kops-checksum';

try {
  createFabricApp().app.synth();
} catch (error) {
  // A configuration mistake's message says how to fix it: print that, not a stack trace around it.
  if (!(error instanceof KopsChecksumMissing || error instanceof KopsChecksumInvalid || error instanceof StackOptionInvalid)) throw error;
  process.stderr.write(`${error.name}: ${error.message}\n`);
  process.exitCode = 1;
}
