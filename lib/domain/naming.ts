/**
 * Naming rules, documented in README.md ("Names").
 *
 * State bucket: `<prefix>-<account id>-<region>`, lowercased, every run of characters outside
 * `a-z0-9` turned into one `-`, trimmed of dashes, at most 63 characters. Digits are kept (account
 * ids are digits) and `_` never survives (S3 bucket names refuse it); test/lambdas/naming.test.ts.
 */
export const DEFAULT_BUCKET_PREFIX = 'fabricctl-state';

export function stateBucketName(accountId: string, region: string, prefix: string = DEFAULT_BUCKET_PREFIX): string {
  const raw = `${prefix}-${accountId}-${region}`;
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (cleaned.length <= 63) return cleaned;
  // Keep the account and region (they make the name unique) and shorten the prefix.
  const suffix = `-${accountId}-${region}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${cleaned.slice(0, 63 - suffix.length).replace(/-+$/g, '')}${suffix}`;
}

/** Secrets Manager name of a fabric's SSH private key. */
export function sshKeySecretName(fabric: string): string {
  return `fabricctl/${fabric}/ssh-key`;
}

/** Secrets Manager name of a fabric's admin kubeconfig. */
export function kubeconfigSecretName(fabric: string): string {
  return `fabricctl/${fabric}/kubeconfig`;
}

/** State keys inside the state bucket. */
export const stateKeys = {
  record: (fabric: string) => `fabrics/${fabric}/fabric.json`,
  network: (fabric: string) => `fabrics/${fabric}/network.tfstate`,
  cluster: (fabric: string) => `fabrics/${fabric}/cluster.tfstate`,
  kops: (fabric: string) => `fabrics/${fabric}/kops`,
  /** What kops created the cluster with (buildspecs/scripts/cluster.sh refuses other changes). */
  clusterInputs: (fabric: string) => `fabrics/${fabric}/cluster-inputs.json`,
} as const;
