import type { FabricAction, ValidatedFabric } from '../../lib/domain/contract';
import { stateBucketName } from '../../lib/domain/naming';
import { clusterNameOf, FabricSpecInput, parseFabricSpec } from '../../lib/domain/spec';
import { buildComputeOf, buildEnvironment } from '../../lambdas/validate-spec/core';

export const TEST_ACCOUNT = '123456789012';

/** A validated fabric as ValidateSpec produces it (the same build environment rule), for the later states' tests. */
export function validatedFabric(
  input: Partial<FabricSpecInput> = {},
  options: { readonly action?: FabricAction; readonly execution?: string; readonly expiresAt?: Date } = {},
): ValidatedFabric {
  const spec = parseFabricSpec({ name: 'demo', domain: 'example.com', ...input });
  const expires = options.expiresAt ?? new Date('2100-01-01T00:00:00.000Z');
  return {
    action: options.action ?? 'provision',
    name: spec.name,
    region: spec.region,
    clusterName: clusterNameOf(spec),
    spec,
    execution: options.execution ?? `arn:aws:states:${spec.region}:${TEST_ACCOUNT}:execution:FabricOrchestrator:test`,
    stateBucket: stateBucketName(TEST_ACCOUNT, spec.region),
    lock: { expiresAt: expires.toISOString(), ttl: Math.floor(expires.getTime() / 1000) },
    approval: { required: false, timeoutSeconds: 3600 },
    buildCompute: buildComputeOf(options.action ?? 'provision', false),
    buildEnv: buildEnvironment(spec),
  };
}
