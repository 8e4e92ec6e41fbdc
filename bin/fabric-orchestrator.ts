#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FabricOrchestratorStack } from '../lib/fabric-orchestrator-stack';

const app = new App();
new FabricOrchestratorStack(app, 'FabricOrchestrator', {
  stateBucketPrefix: app.node.tryGetContext('fabricctl:stateBucketPrefix'),
  codeCommitRepositoryName: app.node.tryGetContext('fabricctl:codeCommitRepository'),
  githubWebhook: app.node.tryGetContext('fabricctl:githubWebhook') === true || app.node.tryGetContext('fabricctl:githubWebhook') === 'true',
});
// Every synth is checked against the AWS Solutions rules; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
