import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FabricOrchestrator, FabricOrchestratorProps } from '../../lib/fabric-orchestrator';
import { synthesizeOrchestrator } from '../../lib/local/synth';
import { TEST_KOPS_SHA256 } from '../support/stack';

/** kops's checksum is construct configuration, checked when the construct is built (so at `cdk synth`). */
const KOPS_VERSION =
  /^KOPS_VERSION=(.+)$/m.exec(readFileSync(path.resolve(__dirname, '../../buildspecs/tools.env'), 'utf8'))?.[1] ?? 'missing';
const URL = `https://github.com/kubernetes/kops/releases/download/v${KOPS_VERSION}/kops-linux-amd64.sha256`;
const HOW_TO_PASS =
  `Read it from ${URL} and pass it: \`npx cdk deploy -c fabricctl:kopsSha256=<64 hex characters>\`, ` +
  'or "fabricctl:kopsSha256": "<64 hex characters>" under "context" in cdk.json (README, Deploy).';

function orchestrator(props: FabricOrchestratorProps): FabricOrchestrator {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  return new FabricOrchestrator(stack, 'Orchestrator', props);
}

/** The error a construction throws, for asserting its name and exact message. */
function errorOf(props: FabricOrchestratorProps): Error {
  try {
    orchestrator(props);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the construct was built without an error');
}

/**
 * Every CodeBuild project's environment variables, by the project's buildspec, without the cluster
 * job's PERMISSIONS_BOUNDARY_ARN (privilege.test.ts checks that one); undefined when none is left.
 */
/** Each project's variables but the boundary and its compute, by `<buildspec> on <compute>`. */
function projectVariables(template: Template): Record<string, unknown> {
  type Variable = { Name: string; Value?: unknown };
  const projects = Object.values(template.findResources('AWS::CodeBuild::Project')) as Array<{
    Properties: { Source: { BuildSpec: string }; Environment: { EnvironmentVariables?: Variable[] } };
  }>;
  return Object.fromEntries(
    projects.map((p) => {
      const all = p.Properties.Environment.EnvironmentVariables ?? [];
      const compute = all.find((v) => v.Name === 'BUILD_COMPUTE')?.Value;
      const variables = all.filter((v) => v.Name !== 'PERMISSIONS_BOUNDARY_ARN' && v.Name !== 'BUILD_COMPUTE');
      return [`${p.Properties.Source.BuildSpec} on ${String(compute)}`, variables.length === 0 ? undefined : variables];
    }),
  );
}

describe('kopsSha256', () => {
  test('fails when kopsSha256 is missing, naming the context key and where to read the value', () => {
    const error = errorOf({});
    expect(error.name).toBe('KopsChecksumMissing');
    expect(error.message).toBe(
      `FabricOrchestrator needs kopsSha256, the SHA-256 of kops ${KOPS_VERSION} (kops-linux-amd64) ` +
        `that the cluster job verifies its download of kops against. ${HOW_TO_PASS}`,
    );
  });

  test('fails when kopsSha256 is empty, as `-c fabricctl:kopsSha256=` gives it', () => {
    expect(errorOf({ kopsSha256: '' }).name).toBe('KopsChecksumMissing');
  });

  test.each([
    ['63 characters', 'a'.repeat(63)],
    ['not hexadecimal', 'g'.repeat(64)],
    ['the whole line of a checksum file', `${'a'.repeat(64)}  kops-linux-amd64`],
    ['a placeholder', 'unknown'],
  ])('fails when kopsSha256 is malformed (%s), showing the value received', (_case, value) => {
    const error = errorOf({ kopsSha256: value });
    expect(error.name).toBe('KopsChecksumInvalid');
    expect(error.message).toBe(
      `kopsSha256 must be the 64 hexadecimal characters of kops ${KOPS_VERSION}'s SHA-256 (kops-linux-amd64); ` +
        `got '${value}'. ${HOW_TO_PASS}`,
    );
  });

  test('fails when kopsSha256 is not a string (a JavaScript caller or a JSON context value)', () => {
    const error = errorOf({ kopsSha256: 1234 as unknown as string });
    expect(error.message).toBe(
      `kopsSha256 must be the 64 hexadecimal characters of kops ${KOPS_VERSION}'s SHA-256 (kops-linux-amd64); ` +
        `got 1234 (a number). ${HOW_TO_PASS}`,
    );
  });

  test('fails when kopsSha256 is given together with kopsFromPath, where it would be ignored', () => {
    const error = errorOf({ kopsSha256: TEST_KOPS_SHA256, kopsFromPath: true });
    expect(error.name).toBe('KopsChecksumInvalid');
    expect(error.message).toBe(
      'kopsSha256 is set but kopsFromPath is true: a cluster job that takes kops from PATH downloads nothing, ' +
        'so the checksum would be ignored. Drop one of the two.',
    );
  });

  test(
    'GIVEN a valid kopsSha256 WHEN synthesized ' +
      'THEN the cluster projects (EC2 and Lambda compute), and only they, get it as KOPS_SHA256',
    () => {
      const template = Template.fromStack(Stack.of(orchestrator({ kopsSha256: TEST_KOPS_SHA256 })));
      const kops = [{ Name: 'KOPS_SHA256', Type: 'PLAINTEXT', Value: TEST_KOPS_SHA256 }];
      expect(projectVariables(template)).toEqual({
        'buildspecs/cluster.yml on ec2': kops,
        'buildspecs/cluster.yml on lambda': kops,
        'buildspecs/network.yml on ec2': undefined,
        'buildspecs/network.yml on lambda': undefined,
      });
    },
  );

  test('GIVEN a checksum in upper case WHEN synthesized THEN the cluster job gets it in lower case, as sha256sum prints it', () => {
    const template = Template.fromStack(Stack.of(orchestrator({ kopsSha256: TEST_KOPS_SHA256.toUpperCase() })));
    expect(projectVariables(template)['buildspecs/cluster.yml on ec2']).toEqual([
      { Name: 'KOPS_SHA256', Type: 'PLAINTEXT', Value: TEST_KOPS_SHA256 },
    ]);
  });

  test('GIVEN kopsFromPath WHEN synthesized without a checksum THEN no project gets KOPS_SHA256', () => {
    const template = Template.fromStack(Stack.of(orchestrator({ kopsFromPath: true })));
    expect(Object.values(projectVariables(template))).toEqual([undefined, undefined, undefined, undefined]);
  });

  test(
    'GIVEN local mode WHEN it synthesizes the stack ' + 'THEN it needs no checksum and its cluster job gets none (kops comes from PATH)',
    () => {
      const { template } = synthesizeOrchestrator();
      const projects = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CodeBuild::Project');
      expect(projects).toHaveLength(4);
      for (const project of projects) expect(JSON.stringify(project)).not.toContain('KOPS_SHA256');
    },
  );
});
