import { BatchGetBuildsCommand, Build, CodeBuildClient, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TerraformLock } from '../../lib/domain/contract';
import { StateLockHeld } from '../../lib/domain/errors';
import { stateKeys } from '../../lib/domain/naming';

/**
 * Terraform's S3 backend with `use_lockfile` (buildspecs/scripts/lib.sh tf_init) keeps the lock of a
 * state as the object `<state key>.tflock`, holding Terraform's lock info as JSON.
 */
export function lockKeyOf(stateKey: string): string {
  return `${stateKey}.tflock`;
}

export interface StaleLockDeps {
  readonly s3: Pick<S3Client, 'send'>;
  readonly codebuild: Pick<CodeBuildClient, 'send'>;
  readonly accountId: string;
  /** The CodeBuild projects whose builds take these locks (the network and cluster jobs). */
  readonly projects: readonly string[];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

async function readLock(deps: StaleLockDeps, bucket: string, key: string): Promise<TerraformLock | undefined> {
  let body: string;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: deps.accountId }));
    body = (await object.Body?.transformToString()) ?? '';
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
  let info: Record<string, unknown> = {};
  try {
    info = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // Unreadable lock info is still a lock: it is released or kept like any other.
  }
  return { key, id: text(info.ID), operation: text(info.Operation), who: text(info.Who), created: text(info.Created) };
}

/** BatchGetBuilds takes at most 100 ids, and ListBuildsForProject's first page is the newest 100. */
const BUILDS_PER_PAGE = 100;

/**
 * Builds of the fabric (environment variable FABRIC_NAME, as the state machine sets it) that are
 * still running. Only the newest page of each project is read: a build still running behind 100
 * newer ones of the same project would outlast CodeBuild's concurrency limits by far.
 */
export async function runningBuildsOf(fabric: string, deps: StaleLockDeps): Promise<string[]> {
  const running: string[] = [];
  for (const projectName of deps.projects) {
    let ids: string[];
    try {
      ids = (await deps.codebuild.send(new ListBuildsForProjectCommand({ projectName, sortOrder: 'DESCENDING' }))).ids ?? [];
    } catch (error) {
      // A project that does not exist has no running builds.
      if ((error as Error).name === 'ResourceNotFoundException') continue;
      throw error;
    }
    if (ids.length === 0) continue;
    const { builds = [] } = await deps.codebuild.send(new BatchGetBuildsCommand({ ids: ids.slice(0, BUILDS_PER_PAGE) }));
    running.push(
      ...builds.filter((build) => build.buildStatus === 'IN_PROGRESS' && fabricOf(build) === fabric).map((build) => build.id ?? '?'),
    );
  }
  return running;
}

function fabricOf(build: Build): string | undefined {
  return build.environment?.environmentVariables?.find((variable) => variable.name === 'FABRIC_NAME')?.value;
}

/**
 * Releases the Terraform locks of a fabric's states that no running build holds. Runs while the
 * execution holds the fabric's lock, so no other run of the fabric can take a Terraform lock
 * meanwhile: a lock found here was left by a build that a stop or a timeout ended before Terraform
 * could unlock, and it would otherwise block every later run. If a build of the fabric is still
 * running (a stopped run's build goes on), its lock is live: StateLockHeld, and nothing is changed.
 * Deleting the object is what `terraform force-unlock` does for this backend; the bucket is
 * versioned, so the lock info stays readable as the previous version.
 */
export async function releaseStaleStateLocks(
  fabric: { readonly name: string; readonly stateBucket: string },
  deps: StaleLockDeps,
): Promise<TerraformLock[]> {
  const keys = [stateKeys.network(fabric.name), stateKeys.cluster(fabric.name)].map(lockKeyOf);
  const locks = (await Promise.all(keys.map((key) => readLock(deps, fabric.stateBucket, key)))).filter(
    (lock): lock is TerraformLock => lock !== undefined,
  );
  if (locks.length === 0) return [];
  const running = await runningBuildsOf(fabric.name, deps);
  if (running.length > 0) throw new StateLockHeld(fabric.name, locks.map((lock) => lock.key).join(', '), running);
  for (const lock of locks) {
    await deps.s3.send(new DeleteObjectCommand({ Bucket: fabric.stateBucket, Key: lock.key, ExpectedBucketOwner: deps.accountId }));
  }
  return locks;
}
