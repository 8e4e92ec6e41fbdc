import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { FabricFunction } from './fabric-function';
import { logicalIdOf } from './logical-id';

/**
 * What an entry point that starts each commit once needs (lambdas/shared/start-execution.ts):
 * `states:StartExecution` on this state machine only, and `states:DescribeExecution` on its
 * executions only, to find the execution named after a commit before starting it.
 */
export function grantStartOnce(fn: FabricFunction, stateMachine: sfn.StateMachine): void {
  const stack = Stack.of(fn);
  stateMachine.grantStartExecution(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution'],
      resources: [`arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${stateMachine.stateMachineName}:*`],
    }),
  );
  Validations.of(fn).acknowledge({
    id:
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:` +
      `execution:<${logicalIdOf(stateMachine)}.Name>:*]`,
    reason: 'Duplicate deliveries are detected by describing the execution named after the commit, which does not exist before.',
  });
}
