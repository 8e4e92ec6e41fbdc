import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../shared/clients';
import type { FabricEvent, SshKeyResult } from '../../lib/domain/contract';
import { ensureSshKey } from './core';

const secrets = new SecretsManagerClient(clientOptions());

/** `EnsureSshKey`: `{ fabric }` -> `SshKeyResult` (never the private key). */
export async function handler(event: FabricEvent): Promise<SshKeyResult> {
  return ensureSshKey(event.fabric, secrets);
}
