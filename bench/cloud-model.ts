import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { SynthesizedOrchestrator } from '../lib/local/synth';
import { pricePath, walkPath, type CriticalPath, type PathStep, type StepDuration } from './critical-path';

/**
 * Published (or, where none was found, estimated) durations of the external steps of a cloud run.
 * Each figure names its source; `estimate` says what an estimate rests on. Seconds.
 */
export interface Figure {
  readonly seconds: number;
  readonly what: string;
  readonly source: string;
  readonly estimate?: string;
}

const KOPS_OUTPUT_SOURCE =
  'kops update cluster output: "Cluster is starting. It should be ready in a few minutes." ' +
  'and its suggestion "kops validate cluster --wait 10m" ' +
  '(https://github.com/kubernetes/kops/blob/master/docs/cli/kops_validate_cluster.md)';

/** Where the tools cache's download figures come from (install-tools.sh reads it with `aws s3 cp`). */
const TOOLS_CACHE_SOURCE =
  'Amazon S3 user guide, "Performance guidelines": keep S3 and the compute that reads it in the same Region ' +
  '(https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html); ' +
  'the AWS CLI downloads large objects in 8 MB parts, 10 at a time (its s3 configuration defaults)';

export const FIGURES = {
  lambdaColdStart: {
    seconds: 1,
    what: 'Lambda cold start (every run is cold: runs are minutes apart)',
    source:
      'AWS Lambda operator guide, "Lambda execution environments": cold starts vary "from under 100 ms to over 1 second" ' +
      '(https://docs.aws.amazon.com/lambda/latest/operatorguide/execution-environments.html)',
    estimate:
      'the upper end of the published range, to stay on the safe side ' +
      '(the SDK loads from the runtime; measured module loads are 69-280 ms locally)',
  },
  lambdaWork: {
    seconds: 1,
    what: "the handler's AWS API calls",
    source: 'estimate',
    estimate: 'a few SDK calls of tens to hundreds of ms each; the local run measures the same calls against the emulator',
  },
  serviceIntegration: {
    seconds: 0.1,
    what: 'Step Functions service integration (DynamoDB item, EventBridge event)',
    source: 'DynamoDB: "single-digit millisecond performance" (https://aws.amazon.com/dynamodb/); Step Functions dispatch',
    estimate: 'no published per-call figure for the integration itself; 100 ms allowed',
  },
  codebuildProvisioning: {
    seconds: 90,
    what: 'CodeBuild on-demand queue + PROVISIONING + DOWNLOAD_SOURCE',
    source:
      'aws/aws-codebuild-docker-images issue 526: "provisioning times exceed 90 seconds per run" ' +
      '(https://github.com/aws/aws-codebuild-docker-images/issues/526); issue 793 reports 180-190 s for ARM images',
  },
  codebuildLambdaStart: {
    seconds: 10,
    what: 'CodeBuild on Lambda compute: start + DOWNLOAD_SOURCE (no EC2 provisioning, no queue)',
    source:
      'AWS CodeBuild user guide, "Run builds on AWS Lambda compute": "optimized start-up speeds", "a lower start-up latency", ' +
      '"builds aren\'t waiting in queue to run" (https://docs.aws.amazon.com/codebuild/latest/userguide/lambda.html)',
    estimate:
      'AWS gives no figure: a Lambda cold start of a large container image (the operator guide: under 100 ms to over 1 s) ' +
      'plus the source download, with 10 s allowed',
  },
  terraformInstall: {
    seconds: 5,
    what: 'install-tools.sh terraform: download and verify the Terraform zip (about 27 MB)',
    source: 'estimate',
    estimate: 'a 27 MB download from releases.hashicorp.com inside AWS at tens of MB/s',
  },
  kopsInstall: {
    seconds: 10,
    what: 'install-tools.sh kops: download and verify the kops binary (about 200 MB)',
    source: 'estimate',
    estimate: 'a large single binary from GitHub releases at tens of MB/s',
  },
  terraformFromToolsCache: {
    seconds: 1,
    what: "install-tools.sh terraform from the tools cache: the Terraform zip (about 27 MB) from the fabric region's state bucket",
    source: TOOLS_CACHE_SOURCE,
    estimate:
      'no published throughput for one build: about 100 MB/s taken; every fabric after the first in an account and Region ' +
      '(the first one downloads from releases.hashicorp.com and fills the cache)',
  },
  kopsFromToolsCache: {
    seconds: 3,
    what: "install-tools.sh kops from the tools cache: the kops binary (about 200 MB) from the fabric region's state bucket",
    source: TOOLS_CACHE_SOURCE,
    estimate: 'about 100 MB/s taken, and its SHA-256 checked; the first fabric in an account and Region downloads it from GitHub',
  },
  awsProviderInstall: {
    seconds: 13.8,
    what:
      'install-tools.sh aws-provider: download the AWS provider zip (about 148 MB) from releases.hashicorp.com, unpack it and have ' +
      'Terraform check it against the lock file, copy it to the tools cache',
    source:
      'measured: unpacking a 148 MB zip of hashicorp/aws 5.100.0 linux_amd64 (its 707 MB binary deflated, made here as the ' +
      "release's stand-in) and Terraform's check against terraform/fabric-network/.terraform.lock.hcl, 4.7-4.9 s (2 cores, " +
      '2026-12-01)',
    estimate: 'the download at about 20 MB/s (7.5 s, as for kops) and the copy to S3 at about 100 MB/s (1.5 s)',
  },
  awsProviderFromToolsCache: {
    seconds: 6.3,
    what:
      "install-tools.sh aws-provider from the tools cache: the provider zip (about 148 MB) from the fabric region's state bucket, " +
      'unpacked and checked by Terraform against the lock file',
    source: `${TOOLS_CACHE_SOURCE}; measured: unpacking and Terraform's check 4.7-4.9 s (hashicorp/aws 5.100.0, 2 cores, 2026-12-01)`,
    estimate: 'about 100 MB/s from S3 (1.5 s); every fabric after the first in an account and Region',
  },
  terraformInit: {
    seconds: 2,
    what: "terraform init: the S3 backend, and the AWS provider linked from the tools folder's mirror",
    source:
      'measured: terraform init of terraform/fabric-network with its lock file and the provider in a local mirror, 1.2 s (Terraform ' +
      'links the package and checks it against the lock; 2 cores, 2026-12-01)',
    estimate: "the S3 backend's first calls, in-Region, taken as under 1 s",
  },
  terraformSchemaLoad: {
    seconds: 1.6,
    what: "terraform apply starting: Terraform reads the AWS provider's schema (13.6 MB as JSON) before it plans",
    source:
      'measured: `terraform validate` of a one-resource configuration with terraform 1.11.4 and hashicorp/aws 5.100.0, ' +
      'GOGC=400 as the jobs run it (buildspecs/scripts/lib.sh tf_cli_config), 5 runs of 1.57-1.69 s; 1.73-1.75 s at ' +
      "Go's default GOGC=100 (2 cores, load average 1.5, 2026-12-01)",
    estimate:
      'a CodeBuild host taken to be as fast as that machine; each job runs one such Terraform process, ' +
      'as its apply plans in the same process (buildspecs/scripts/lib.sh tf_apply)',
  },
  kopsUpdateTarget: {
    seconds: 10,
    what: 'kops create/update cluster --target=terraform (writes state to S3, renders Terraform)',
    source: 'estimate',
    estimate: 'the kops tasks run in a few seconds each; S3 writes of about 26 objects',
  },
  dnsControllerPublish: {
    seconds: 15,
    what:
      "dns-controller starts on a control-plane node and replaces kops's placeholder API record; CheckReadiness reads the " +
      'record through the Route 53 API, which returns a change at once, before it reaches every name server',
    source:
      'Route 53 API reference, ListResourceRecordSets: "This action returns the most current version of the records. This ' +
      'includes records that are PENDING, and that are not yet available on all Route 53 DNS servers." ' +
      '(https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html)',
    estimate:
      'dns-controller is a pod scheduled once the API server answers; 15 s allowed for it to start and write. ' +
      "Resolvers see the record within Route 53's propagation (generally under 60 s) after READY, not before",
  },
  instanceBoot: {
    seconds: 29,
    what: 'EC2 instance boot: RunInstances to SSH answering',
    source:
      'ec2-boot-bench sample: RunInstances 1.5 s + pending to running 4.9 s + running to port closed 17.2 s + closed to open 5.6 s ' +
      '(https://www.daemonology.net/blog/2021-08-12-EC2-boot-time-benchmarking.html); ' +
      'brevdev/ec2-coldboot-research measured 25.8 s on t3.medium-class instances',
  },
  controlPlaneStart: {
    seconds: 240,
    what:
      'kops nodeup on the control-plane nodes: Kubernetes binaries, etcd-manager with its EBS volumes, ' +
      'kube-apiserver answering /readyz',
    source: KOPS_OUTPUT_SOURCE,
    estimate: '"a few minutes": 4 minutes taken, within the 10 minutes kops itself waits',
  },
} as const satisfies Record<string, Figure>;

/** Seconds per resource in a Terraform apply against AWS (the provider creates up to 10 at once). */
export const TERRAFORM_APPLY = {
  networkSeconds: 20,
  networkWhat: 'terraform apply of the network',
  clusterSecondsPerResource: 1,
  source: 'estimate',
  estimate:
    'VPC resources are created in 1-3 s each, in dependency waves of up to 10 in parallel; ' +
    'IAM instance profiles and ASGs are the slow ones in the cluster apply',
} as const;

/** kops's own golden Terraform for an HA cluster, vendored with the kops stand-in (see its NOTICE.md). */
export const KOPS_HA_GOLDEN = join(__dirname, '..', 'lib', 'local', 'standins', 'kops', 'golden', 'ha', 'kubernetes.tf');

/**
 * Resources in kops's golden Terraform for an HA cluster, minus what the network job already made (shared VPC).
 * The file is part of the repository: a missing one is a broken checkout, so the read error is thrown.
 */
export function kopsClusterResourceCount(fixture = KOPS_HA_GOLDEN): { total: number; cluster: number; source: string } {
  const text = readFileSync(fixture, 'utf8');
  const types = [...text.matchAll(/^resource\s+"([^"]+)"/gm)].map((m) => m[1] ?? '');
  const networkTypes = new Set([
    'aws_vpc',
    'aws_subnet',
    'aws_internet_gateway',
    'aws_route',
    'aws_route_table',
    'aws_route_table_association',
    'aws_vpc_dhcp_options',
    'aws_vpc_dhcp_options_association',
  ]);
  const shown = relative(join(__dirname, '..'), fixture);
  return {
    total: types.length,
    cluster: types.filter((t) => !networkTypes.has(t)).length,
    source: `kops golden output ${shown} (kops tests/integration/update_cluster/ha/kubernetes.tf)`,
  };
}

export interface ModelInput {
  readonly orchestrator: SynthesizedOrchestrator;
  /** Resources the network Terraform creates (measured in the Terraform section). */
  readonly networkResources?: number;
  /**
   * `warm`: the jobs' tools come from the fabric region's tools cache (every fabric after the first
   * in an account and Region); `cold`: from their release pages (the first). @default 'warm'
   */
  readonly toolsCache?: 'warm' | 'cold';
}

function sum(parts: readonly Figure[], what: string): StepDuration {
  const estimates = parts.filter((p) => p.estimate !== undefined).map((p) => p.what);
  return {
    seconds: parts.reduce((acc, p) => acc + p.seconds, 0),
    what,
    source: parts
      .map((p) => p.source)
      .filter((s, i, all) => all.indexOf(s) === i)
      .join('; '),
    ...(estimates.length ? { estimate: `estimated parts: ${estimates.join('; ')}` } : {}),
    parts: parts.map((p) => ({ seconds: p.seconds, what: p.what, source: p.source, ...(p.estimate ? { estimate: p.estimate } : {}) })),
  };
}

const functionOfArn = (orchestrator: SynthesizedOrchestrator, arn: string): string | undefined => {
  const id = orchestrator.references[arn];
  return id === undefined ? undefined : orchestrator.functions[id]?.entry;
};

/** The cloud critical path, push to ready, along the provision path of the real definition. */
export function cloudCriticalPath(
  input: ModelInput,
): CriticalPath & { readonly steps: CriticalPath['steps']; readonly clusterResources: number } {
  const { orchestrator } = input;
  const warm = (input.toolsCache ?? 'warm') === 'warm';
  const terraformTool = warm ? FIGURES.terraformFromToolsCache : FIGURES.terraformInstall;
  const kopsTool = warm ? FIGURES.kopsFromToolsCache : FIGURES.kopsInstall;
  const awsProvider = warm ? FIGURES.awsProviderFromToolsCache : FIGURES.awsProviderInstall;
  // The cluster job runs after the network job, on the same state bucket: even for the first fabric it
  // finds Terraform and the provider in the cache the network job has just filled; only kops is new.
  const clusterTerraformTool = FIGURES.terraformFromToolsCache;
  const clusterAwsProvider = FIGURES.awsProviderFromToolsCache;
  const kops = kopsClusterResourceCount();
  const clusterResources = kops.cluster;
  const durationOf = (step: PathStep): StepDuration => {
    const resource = step.resource ?? '';
    if (step.type === 'Wait') {
      const seconds = typeof step.definition.Seconds === 'number' ? step.definition.Seconds : 0;
      return {
        seconds: step.inLoop ? seconds / 2 : seconds,
        what: step.inLoop
          ? `readiness poll granularity: on average half of the Wait (${seconds} s) passes after the cluster is ready`
          : `Wait ${seconds} s`,
        source: 'the state machine definition (Wait.Seconds)',
      };
    }
    if (step.type !== 'Task') return { seconds: 0, what: `${step.type}: no external call`, source: 'the state machine definition' };
    if (resource.startsWith('arn:aws:lambda:')) {
      const entry = functionOfArn(orchestrator, resource);
      if (entry === 'check-readiness') {
        return sum(
          [FIGURES.instanceBoot, FIGURES.controlPlaneStart, FIGURES.dnsControllerPublish, FIGURES.lambdaColdStart],
          'readiness polling until ready',
        );
      }
      return sum([FIGURES.lambdaColdStart, FIGURES.lambdaWork], `Lambda ${entry ?? resource}`);
    }
    if (resource.startsWith('arn:aws:states:::codebuild:startBuild')) {
      const project = String((step.definition.Parameters as { ProjectName?: unknown } | undefined)?.ProjectName ?? '');
      const buildspec = orchestrator.projects[project]?.buildspec ?? '';
      const start = orchestrator.projects[project]?.compute === 'lambda' ? FIGURES.codebuildLambdaStart : FIGURES.codebuildProvisioning;
      if (buildspec.endsWith('network.yml')) {
        const apply: Figure = {
          seconds: TERRAFORM_APPLY.networkSeconds,
          what:
            input.networkResources === undefined
              ? TERRAFORM_APPLY.networkWhat
              : `${TERRAFORM_APPLY.networkWhat} (${input.networkResources} resources, counted in the Terraform section)`,
          source: TERRAFORM_APPLY.source,
          estimate: TERRAFORM_APPLY.estimate,
        };
        return sum(
          [start, terraformTool, awsProvider, FIGURES.terraformInit, FIGURES.terraformSchemaLoad, apply],
          `CodeBuild ${buildspec}`,
        );
      }
      if (buildspec.endsWith('cluster.yml')) {
        const apply: Figure = {
          seconds: clusterResources * TERRAFORM_APPLY.clusterSecondsPerResource,
          what:
            `terraform apply of the kops output (${clusterResources} resources, counted in the golden output, ` +
            `~${TERRAFORM_APPLY.clusterSecondsPerResource} s each)`,
          source: `${kops.source}; time per resource: ${TERRAFORM_APPLY.source}`,
          estimate: TERRAFORM_APPLY.estimate,
        };
        return sum(
          [
            start,
            clusterTerraformTool,
            clusterAwsProvider,
            kopsTool,
            FIGURES.kopsUpdateTarget,
            FIGURES.terraformInit,
            FIGURES.terraformSchemaLoad,
            apply,
          ],
          `CodeBuild ${buildspec}`,
        );
      }
      return { seconds: start.seconds, what: `CodeBuild ${project} (unknown buildspec)`, source: start.source };
    }
    if (resource.startsWith('arn:aws:states:::')) return FIGURES.serviceIntegration;
    return { seconds: 0, what: `unknown resource ${resource}`, source: 'none', estimate: 'no figure for this resource' };
  };
  const path = pricePath(walkPath(orchestrator.asl), durationOf);
  return { ...path, clusterResources };
}

/** For the README: where the figures are kept. */
export const MODEL_FILE = join('bench', 'cloud-model.ts');
