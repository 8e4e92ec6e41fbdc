/**
 * STAND-IN for kops's dns-controller, for local mode and tests only.
 *
 * kops writes `api.<clusterName>` with the placeholder 203.0.113.123; once the control plane runs,
 * its dns-controller replaces it with the real address. Locally no control plane runs, so this
 * does that one UPSERT against Route 53 (moto), pointing the name at the test API server.
 */
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { createLogger, Logger } from '../../../lambdas/shared/logger';

export interface PromoteApiRecordInput {
  readonly hostedZoneId: string;
  readonly clusterName: string;
  /** The address the API answers on; 127.0.0.1 locally. */
  readonly address: string;
  readonly route53?: Route53Client;
  readonly logger?: Logger;
}

export async function promoteApiRecord(input: PromoteApiRecordInput): Promise<void> {
  const logger = input.logger ?? createLogger({ fabric: input.clusterName });
  const route53 = input.route53 ?? new Route53Client({ region: 'us-east-1' });
  const name = `api.${input.clusterName}`;
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: input.hostedZoneId,
      ChangeBatch: {
        Comment: 'fabricctl dns-controller stand-in: placeholder -> API address',
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: input.address }] },
          },
        ],
      },
    }),
  );
  logger.info('dns-controller stand-in set the API record (kops dns-controller is not running here)', {
    standIn: 'dns-controller',
    record: name,
    address: input.address,
  });
}
