import { BatchGetBuildsCommand, Build, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { lockKeyOf, releaseStaleStateLocks, runningBuildsOf, StaleLockDeps } from '../../lambdas/ensure-state-bucket/stale-locks';
import { StateLockHeld } from '../../lib/domain/errors';
import { ACCOUNT, asClient, awsError, fabricOf, FakeS3 } from './fixtures/prepare';

/** CodeBuild as BatchGetBuilds shows builds: status and the environment variables the run set. */
class FakeCodeBuild {
  readonly sent: unknown[] = [];
  constructor(readonly builds: Record<string, Build[]>) {}
  send = async (command: unknown): Promise<unknown> => {
    this.sent.push(command);
    if (command instanceof ListBuildsForProjectCommand) {
      const builds = this.builds[command.input.projectName ?? ''];
      if (builds === undefined) throw awsError('ResourceNotFoundException');
      return { ids: builds.map((b) => b.id) };
    }
    if (command instanceof BatchGetBuildsCommand) {
      const ids = command.input.ids ?? [];
      return {
        builds: Object.values(this.builds)
          .flat()
          .filter((b) => ids.includes(b.id ?? '')),
      };
    }
    throw new Error(`FakeCodeBuild: unexpected command ${(command as object).constructor.name}`);
  };
}

function build(id: string, status: Build['buildStatus'], fabric: string): Build {
  return {
    id,
    buildStatus: status,
    environment: {
      type: 'LINUX_CONTAINER',
      image: 'i',
      computeType: 'BUILD_GENERAL1_SMALL',
      environmentVariables: [{ name: 'FABRIC_NAME', value: fabric }],
    },
  };
}

const LOCK = {
  ID: 'b2c3',
  Operation: 'OperationTypeApply',
  Info: '',
  Who: 'root@ip-10-0-1-2',
  Version: '1.11.4',
  Created: '2026-11-30T22:14:03Z',
};

function setUp(builds: Record<string, Build[]>, lockedStates: readonly ('network' | 'cluster')[] = ['cluster']) {
  const fabric = fabricOf();
  const s3 = new FakeS3();
  const bucket = s3.addBucket(fabric.stateBucket, { versioning: 'Enabled' });
  for (const state of lockedStates) bucket.objects.set(lockKeyOf(`fabrics/demo/${state}.tfstate`), JSON.stringify(LOCK));
  const codebuild = new FakeCodeBuild(builds);
  const deps: StaleLockDeps = {
    s3: asClient(s3),
    codebuild: asClient(codebuild),
    accountId: ACCOUNT,
    projects: ['NetworkProject', 'ClusterProject'],
  };
  return { fabric, s3, bucket, codebuild, deps };
}

describe('releaseStaleStateLocks', () => {
  test.each(['STOPPED', 'TIMED_OUT', 'FAILED', 'SUCCEEDED'] as const)(
    'GIVEN the lock of a build that ended %s WHEN released THEN the lock object is deleted and its info returned',
    async (status) => {
      const { fabric, s3, bucket, deps } = setUp({ NetworkProject: [], ClusterProject: [build('ClusterProject:1', status, 'demo')] });
      await expect(releaseStaleStateLocks(fabric, deps)).resolves.toEqual([
        {
          key: 'fabrics/demo/cluster.tfstate.tflock',
          id: 'b2c3',
          operation: 'OperationTypeApply',
          who: 'root@ip-10-0-1-2',
          created: '2026-11-30T22:14:03Z',
        },
      ]);
      expect(bucket.objects.has('fabrics/demo/cluster.tfstate.tflock')).toBe(false);
      expect(s3.writes()).toEqual([expect.any(DeleteObjectCommand)]);
    },
  );

  test('GIVEN a build of this fabric still running WHEN released THEN StateLockHeld names the build and the lock stays', async () => {
    const { fabric, s3, bucket, deps } = setUp({ NetworkProject: [], ClusterProject: [build('ClusterProject:2', 'IN_PROGRESS', 'demo')] }, [
      'network',
      'cluster',
    ]);
    const attempt = releaseStaleStateLocks(fabric, deps);
    await expect(attempt).rejects.toBeInstanceOf(StateLockHeld);
    await expect(attempt).rejects.toThrow(
      'build ClusterProject:2 of this fabric is still running; ' +
        'wait for it to end or stop it (aws codebuild stop-build --id ClusterProject:2)',
    );
    expect(bucket.objects.size).toBe(2);
    expect(s3.writes()).toEqual([]);
  });

  test("GIVEN only another fabric's build running WHEN released THEN this fabric's lock is released", async () => {
    const { fabric, bucket, deps } = setUp({ NetworkProject: [build('NetworkProject:9', 'IN_PROGRESS', 'other')], ClusterProject: [] });
    await expect(releaseStaleStateLocks(fabric, deps)).resolves.toHaveLength(1);
    expect(bucket.objects.size).toBe(0);
  });

  test('GIVEN no lock WHEN released THEN CodeBuild is not asked and nothing is written', async () => {
    const { fabric, s3, codebuild, deps } = setUp({ NetworkProject: [], ClusterProject: [] }, []);
    await expect(releaseStaleStateLocks(fabric, deps)).resolves.toEqual([]);
    expect(codebuild.sent).toEqual([]);
    expect(s3.writes()).toEqual([]);
  });

  test('GIVEN lock info that is not JSON WHEN released THEN it is still a lock: released with empty fields', async () => {
    const { fabric, bucket, deps } = setUp({ NetworkProject: [], ClusterProject: [] }, []);
    bucket.objects.set('fabrics/demo/network.tfstate.tflock', 'not json');
    await expect(releaseStaleStateLocks(fabric, deps)).resolves.toEqual([
      { key: 'fabrics/demo/network.tfstate.tflock', id: '', operation: '', who: '', created: '' },
    ]);
  });
});

describe('runningBuildsOf', () => {
  test('GIVEN a project that does not exist WHEN asked THEN it has no running builds, and the other project is still read', async () => {
    const { deps } = setUp({ ClusterProject: [build('ClusterProject:3', 'IN_PROGRESS', 'demo')] });
    await expect(runningBuildsOf('demo', deps)).resolves.toEqual(['ClusterProject:3']);
  });

  test('GIVEN another CodeBuild error WHEN asked THEN it is not taken for "no builds"', async () => {
    const { deps } = setUp({});
    const failing: StaleLockDeps = {
      ...deps,
      codebuild: asClient({ send: async () => Promise.reject(awsError('AccessDeniedException', 403)) }),
    };
    await expect(runningBuildsOf('demo', failing)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
