import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PACKAGE_ROOT } from './package-root';

/** Repository or package root, where `buildspecs/`, `terraform/` and (in the repository) `lambdas/` live. */
export const PROJECT_ROOT = PACKAGE_ROOT;

/**
 * The folder holding the handler bundle `npm run build` made for `entry`, if this file runs compiled
 * beside it (dist/lib/ next to dist/lambdas/<entry>/index.js, as installed from the package).
 * From the TypeScript sources (lib/ next to lambdas/<entry>/handler.ts) there is none, so the
 * repository always bundles its current sources, never a stale build.
 */
function prebuiltBundle(entry: string): string | undefined {
  const folder = path.resolve(__dirname, '..', 'lambdas', entry);
  return existsSync(path.join(folder, 'index.js')) ? folder : undefined;
}

/** How every handler is bundled, at synth from source and by `npm run build` (scripts/build.ts) alike. */
export const HANDLER_BUNDLING = {
  forceDockerBundling: false,
  minify: true,
  sourceMap: true,
  target: 'node24',
  format: nodejs.OutputFormat.CJS,
  bundleAwsSDK: false,
} as const satisfies nodejs.BundlingOptions;

/** What the asset of a prebuilt bundle holds: the bundle and its source map, not the compiled modules beside them. */
const BUNDLE_FILES = ['*', '!index.js', '!index.js.map'];

export interface FabricFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Environment variables; the handler reads them once at load. @default none */
  readonly environment?: Record<string, string>;
  /**
   * Concurrent executions set aside for this function, which are also its ceiling.
   * @default - none reserved: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Where asynchronous invocations that still fail after Lambda's retries are kept.
   * @default - none: such an event is dropped after the retries (and logged)
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The house Lambda function. Decided once, here:
 * - runtime Node.js 24 (current), arm64 (cheaper per GB-second);
 * - bundled by esbuild (never Docker), minified, with source maps; the AWS SDK v3 stays
 *   external (the runtime provides it, with AWS's fixes): bundles of 3.7-120 KiB, within the
 *   150 KiB limit, where bundling the SDK makes 303-1134 KiB that load 8-44 % faster
 *   (npm run bench -- --only lambdas; README, Speed);
 * - code: the bundle `npm run build` made (scripts/build.ts, same esbuild options) when running
 *   compiled from the package, so an installed copy needs neither esbuild nor a lockfile; else
 *   bundled from `lambdas/<entry>/handler.ts` at synth (the repository);
 * - X-Ray tracing active; a log group of its own kept one month, removed with the stack;
 * - timeout 30 s and 256 MB unless the caller needs more;
 * - no reserved concurrency and no dead-letter queue unless the caller asks for them.
 */
export class FabricFunction extends nodejs.NodejsFunction {
  /** The folder under `lambdas/` this function runs (local mode calls its handler directly). */
  public readonly entryFolder: string;

  constructor(scope: Construct, id: string, props: FabricFunctionProps) {
    if (!/^[a-z][a-z0-9-]*$/.test(props.entry))
      throw new Error(`FabricFunction entry must be a folder name under lambdas/, got ${props.entry}`);
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bundle = prebuiltBundle(props.entry);
    super(scope, id, {
      ...(bundle
        ? { code: lambda.Code.fromAsset(bundle, { exclude: BUNDLE_FILES }), handler: 'index.handler' }
        : {
            entry: path.join(PROJECT_ROOT, 'lambdas', props.entry, 'handler.ts'),
            handler: 'handler',
            projectRoot: PROJECT_ROOT,
            depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
            bundling: HANDLER_BUNDLING,
          }),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
    });
    this.entryFolder = props.entry;
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWSLambdaBasicExecutionRole only lets a function write its own CloudWatch Logs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray trace writes (tracing is on) and the Describe/List calls some functions make ' +
          '(ec2:DescribeRegions, route53:ListHostedZonesByName, ' +
          'autoscaling:DescribeAutoScalingGroups) have no resource-level permissions.',
      },
    );
  }
}
