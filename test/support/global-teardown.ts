import { removeRunTempRoot, RUN_TMPDIR } from './temp-root';
import { stopWorkerMotos } from './worker-moto';

export default function globalTeardown(): void {
  const root = process.env[RUN_TMPDIR];
  if (root) stopWorkerMotos(root);
  removeRunTempRoot();
}
