import { existsSync, readFileSync } from 'node:fs';
import type { CallRecord } from '../../lib/local/standins/kops/src/main';

/** The calls the kops stand-in logged to `file` (its KOPS_STANDIN_CALL_LOG), in order: none when it was never run. */
export function readKopsCalls(file: string): CallRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CallRecord);
}

/** A call as `command [--instance-group-roles=...]`, enough to tell the rolling updates apart. */
export const kopsCallName = (call: CallRecord): string =>
  [call.command ?? '(unparsed)', ...call.argv.filter((a) => a.startsWith('--instance-group-roles='))].join(' ');

/**
 * What the cluster job asks kops for in a Kubernetes upgrade, in order (buildspecs/scripts/cluster.sh):
 * the second update renders the nodes at the new version, once the control plane runs it.
 */
export const UPGRADE_KOPS_CALLS: readonly string[] = [
  'version',
  'set cluster',
  'update cluster',
  'export kubeconfig',
  'rolling-update cluster --instance-group-roles=control-plane',
  'update cluster',
  'rolling-update cluster --instance-group-roles=node',
];
