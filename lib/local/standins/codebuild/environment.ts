/** The build's environment in CodeBuild's precedence, with Secrets Manager values resolved. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EnvironmentVariable, LOG_PREFIX, RunBuildOptions } from './types';

export function normaliseEnvironment(environment: RunBuildOptions['environment']): EnvironmentVariable[] {
  if (environment === undefined) return [];
  if (Array.isArray(environment)) return [...(environment as readonly EnvironmentVariable[])];
  return Object.entries(environment as Readonly<Record<string, string>>).map(([Name, Value]) => ({ Name, Value, Type: 'PLAINTEXT' }));
}

export async function resolveValue(variable: EnvironmentVariable, region: string): Promise<string> {
  const type = variable.Type ?? 'PLAINTEXT';
  if (type === 'PLAINTEXT') return variable.Value;
  if (type === 'SECRETS_MANAGER') {
    // CodeBuild's reference format: secret-id[:json-key[:version-stage[:version-id]]]; the id may be an ARN.
    const arnParts = variable.Value.startsWith('arn:') ? 7 : 1;
    const parts = variable.Value.split(':');
    const secretId = parts.slice(0, arnParts).join(':');
    const [jsonKey, versionStage, versionId] = parts.slice(arnParts);
    const secret = await new SecretsManagerClient({ region }).send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage || undefined, VersionId: versionId || undefined }),
    );
    const text = secret.SecretString ?? '';
    if (!jsonKey) return text;
    const value: unknown = (JSON.parse(text) as Record<string, unknown>)[jsonKey];
    if (value === undefined) throw new Error(`${LOG_PREFIX} secret ${secretId} has no key ${jsonKey} (variable ${variable.Name})`);
    return String(value);
  }
  throw new Error(
    `${LOG_PREFIX} environment variable ${variable.Name}: type ${type} is not supported locally; use PLAINTEXT or SECRETS_MANAGER`,
  );
}
