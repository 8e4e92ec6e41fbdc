import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { clientOptions, s3Options } from '../../lambdas/shared/clients';

/** The AWS clients the CLI uses, for one region. Tests pass their own factory. */
export interface AwsClients {
  readonly region: string;
  readonly cfn: Pick<CloudFormationClient, 'send'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  readonly ec2: Pick<EC2Client, 'send'>;
  readonly sts: Pick<STSClient, 'send'>;
  /** The lock table's (approvals); absent: a client from the environment, as the SDK configures it. */
  readonly dynamodb?: Pick<DynamoDBClient, 'send'>;
}

export type AwsClientFactory = (region: string) => AwsClients;

/**
 * The usual AWS environment decides, as for the AWS CLI: `--region` over AWS_REGION over
 * AWS_DEFAULT_REGION; `--profile` over AWS_PROFILE (the SDK's default credential chain reads it).
 */
export function resolveRegion(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
}

export function applyProfile(profile: string | undefined, env: NodeJS.ProcessEnv): void {
  if (profile) env.AWS_PROFILE = profile;
}

export const sdkClients: AwsClientFactory = (region) => ({
  region,
  cfn: new CloudFormationClient(clientOptions(region)),
  sfn: new SFNClient(clientOptions(region)),
  s3: new S3Client(s3Options(region)),
  logs: new CloudWatchLogsClient(clientOptions(region)),
  ec2: new EC2Client(clientOptions(region)),
  sts: new STSClient(clientOptions(region)),
});
