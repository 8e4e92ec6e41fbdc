export { FabricOrchestrator, FabricOrchestratorProps, FabricFunctions, EVENT_SOURCE } from './fabric-orchestrator';
export { FabricOrchestratorStack, FabricOrchestratorStackProps } from './fabric-orchestrator-stack';
export { FabricFunction, FabricFunctionProps } from './fabric-function';
export { fabricSpecSchema, parseFabricSpec, FabricSpec, FabricSpecInput } from '../lambdas/shared/spec';
