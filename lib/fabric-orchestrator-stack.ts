import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FabricOrchestrator, FabricOrchestratorProps } from './fabric-orchestrator';

export type FabricOrchestratorStackProps = StackProps & FabricOrchestratorProps;

/** The stack a user deploys once per account: `npx cdk deploy FabricOrchestrator`. */
export class FabricOrchestratorStack extends Stack {
  public readonly orchestrator: FabricOrchestrator;

  constructor(scope: Construct, id: string, props: FabricOrchestratorStackProps = {}) {
    super(scope, id, { description: 'fabricctl: provisions one highly available kops Kubernetes fabric per git branch', ...props });
    this.orchestrator = new FabricOrchestrator(this, 'Orchestrator', props);
    // fabricctl finds the state machine through these outputs.
    new CfnOutput(this, 'StateMachineArn', { value: this.orchestrator.stateMachine.stateMachineArn });
    new CfnOutput(this, 'LockTableName', { value: this.orchestrator.lockTable.tableName });
    new CfnOutput(this, 'StateBucketPrefix', { value: this.orchestrator.stateBucketPrefix });
    new CfnOutput(this, 'NetworkProjectName', { value: this.orchestrator.networkProject.projectName });
    new CfnOutput(this, 'ClusterProjectName', { value: this.orchestrator.clusterProject.projectName });
  }
}
