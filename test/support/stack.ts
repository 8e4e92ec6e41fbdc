import { createHash } from 'node:crypto';
import type { FabricOrchestratorStackProps } from '../../lib/fabric-orchestrator-stack';

/**
 * A well-formed kops checksum for tests that synthesize the deployable stack. It is not kops's real
 * checksum (these machines cannot read the release), and no test downloads kops with it.
 */
export const TEST_KOPS_SHA256 = createHash('sha256').update('fabricctl tests: not the kops binary').digest('hex');

/** Props of the deployable stack in tests: the test kops checksum, then `extra`. */
export function testStackProps(extra: FabricOrchestratorStackProps = {}): FabricOrchestratorStackProps {
  return { kopsSha256: TEST_KOPS_SHA256, ...extra };
}
