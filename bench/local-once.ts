import './quiet';
import { writeFileSync } from 'node:fs';
import { runDemoOnce } from './local-run';

/**
 * One demo run in its own process (bench/local-run.ts `runDemoInChild`): the handlers build their
 * SDK clients at module load, pointed at that run's emulator, so each run needs a fresh process,
 * as each `fabricctl up --local` is. Usage: tsx bench/local-once.ts <result.json> [dnsDelayMs pollMs]
 */
const [resultFile, delay, poll] = process.argv.slice(2);
if (!resultFile) throw new Error('usage: tsx bench/local-once.ts <result.json> [dnsControllerDelayMs readinessPollMs]');
runDemoOnce({
  ...(delay ? { dnsControllerDelayMs: Number(delay) } : {}),
  ...(poll ? { readinessPollMs: Number(poll) } : {}),
}).then(
  (figure) => {
    writeFileSync(resultFile, JSON.stringify(figure));
    // Stand-in timers (dns-controller) are unref'd; nothing else should keep the process alive.
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`local run crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
