import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../lib/local/account/home';
import { Moto, SERIAL_SERVER, startMoto } from '../../lib/local/moto';
import { writeFileWhole } from '../../lib/write-file-whole';
import { RUN_TMPDIR } from './temp-root';

/**
 * One moto_server per jest worker, shared by the test files that worker runs one after another and
 * reset between them. A new moto_server spends 2 to 4 CPU-seconds loading moto's services before it
 * answers, and about 20 files ask for one. A worker runs one file at a time, so a file still has the
 * emulator to itself. The run's global teardown stops each of them by its PID (stopWorkerMotos).
 */
const FILE_PREFIX = 'moto-of-worker-';

interface Recorded {
  readonly endpoint: string;
  readonly pid: number;
}

function recordFile(root: string): string {
  return join(root, `${FILE_PREFIX}${process.env.JEST_WORKER_ID ?? '1'}.json`);
}

/** A PID of this run's that is still moto (the system may have given a PID of a stopped one to another program). */
const alive = (pid: number): boolean => processAlive(pid, SERIAL_SERVER);

/** This worker's emulator with nothing in it: reset when an earlier file used it, else started. */
export async function workerMoto(): Promise<Moto> {
  const root = process.env[RUN_TMPDIR];
  if (!root) return startMoto();
  const file = recordFile(root);
  const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Recorded) : undefined;
  if (recorded && alive(recorded.pid)) {
    const emptied = await resetMoto(recorded).then(
      () => true,
      () => false,
    );
    if (emptied) return shared(recorded);
    // Running but not emptied: stopped here, as nothing would stop it once its record is replaced.
    process.kill(recorded.pid, 'SIGKILL');
  }
  const moto = await startMoto();
  // The worker may end before the run does: it must not wait for its emulator (the teardown stops it).
  moto.release();
  // Whole or not at all: the teardown reads every record, and half of one would stop it there.
  writeFileWhole(file, JSON.stringify({ endpoint: moto.endpoint, pid: moto.pid } satisfies Recorded));
  return shared(moto);
}

/** Clears every emulated resource (between tests, and between the files of a worker). */
export async function resetMoto(moto: { readonly endpoint: string }): Promise<void> {
  const response = await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' });
  // A reset that did not happen would let one test's resources leak into the next.
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status} from ${moto.endpoint}/moto-api/reset`);
}

/** A test file does not stop the worker's emulator: the next file resets it, the run stops it. */
function shared({ endpoint, pid }: Recorded): Moto {
  return { endpoint, pid, port: Number(new URL(endpoint).port), stop: async () => undefined, release: () => undefined };
}

/** Stops every worker's emulator of the run (global teardown); the PIDs of those already gone are skipped. */
export function stopWorkerMotos(root: string): number[] {
  const stopped: number[] = [];
  for (const name of existsSync(root) ? readdirSync(root) : []) {
    if (!name.startsWith(FILE_PREFIX)) continue;
    const { pid } = JSON.parse(readFileSync(join(root, name), 'utf8')) as Recorded;
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    stopped.push(pid);
  }
  return stopped;
}
