// The package's public API: the reusable construct, its stack, the house function and the spec.
export { FabricOrchestrator, EVENT_SOURCE } from './fabric-orchestrator';
export type { FabricOrchestratorProps, FabricFunctions } from './fabric-orchestrator';
export { FabricOrchestratorStack, StackOptionInvalid } from './fabric-orchestrator-stack';
export { addGithubWebhook } from './github-webhook';
export type { GithubWebhook, GithubWebhookProps } from './github-webhook';
export type { FabricOrchestratorStackProps } from './fabric-orchestrator-stack';
export { FabricFunction } from './fabric-function';
export { KopsChecksumInvalid, KopsChecksumMissing, KOPS_SHA256_CONTEXT_KEY } from './kops-checksum';
export type { FabricFunctionProps } from './fabric-function';
export { fabricSpecSchema, parseFabricSpec } from './domain/spec';
export type { FabricSpec, FabricSpecInput } from './domain/spec';
export { addCodeCommitTrigger } from './codecommit-trigger';
