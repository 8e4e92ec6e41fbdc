import { App } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { FabricFunction } from '../fabric-function';
import { logicalIdOf } from '../fabric-orchestrator';
import { FabricOrchestratorStack, FabricOrchestratorStackProps } from '../fabric-orchestrator-stack';
import { resolveDefinition, ResolvedDefinition } from '../definition';

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** The orchestrator as synthesized in process, with what local mode needs to run each Task. */
export interface SynthesizedOrchestrator extends ResolvedDefinition {
  readonly template: Template;
  /** Lambda logical id -> folder under lambdas/ and its environment. */
  readonly functions: Readonly<Record<string, { readonly entry: string; readonly environment: Readonly<Record<string, string>> }>>;
  /** CodeBuild project logical id -> buildspec file inside the job source. */
  readonly projects: Readonly<Record<string, { readonly buildspec: string }>>;
  /** Logical id of the lock table (its name in local mode). */
  readonly lockTable: string;
}

/** Stack props local mode may vary: how the cluster job gets kops is not one of them. */
export type LocalStackProps = Omit<FabricOrchestratorStackProps, 'kopsSha256' | 'kopsFromPath'>;

/**
 * Synthesizes the real FabricOrchestrator stack in this process. Lambda bundling is switched off
 * (the local runner calls the TypeScript handlers directly), so no esbuild run is needed.
 * Local builds run on this machine with kops already on PATH (the kops stand-in, or with `--aws`
 * the user's own kops): the stack is told so (`kopsFromPath`), nothing downloads kops, and no
 * checksum is asked for or made up.
 */
export function synthesizeOrchestrator(props: LocalStackProps = {}): SynthesizedOrchestrator {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', { ...props, kopsFromPath: true });
  const template = app.synth().getStackByName('FabricOrchestrator').template as Template;
  const functions: Record<string, { entry: string; environment: Record<string, string> }> = {};
  const projects: Record<string, { buildspec: string }> = {};
  for (const construct of stack.node.findAll()) {
    if (construct instanceof FabricFunction) {
      const id = logicalIdOf(construct);
      const variables = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      // A value CloudFormation resolves at deploy time (a role's ARN) means nothing here: the local
      // environment supplies its own (LocalEnvironment, e.g. STATE_BUILD_PRINCIPAL_ARNS).
      const plain = Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string');
      functions[id] = { entry: construct.entryFolder, environment: Object.fromEntries(plain) };
    } else if (construct instanceof codebuild.Project) {
      const id = logicalIdOf(construct);
      const source = template.Resources[id]?.Properties?.Source as { BuildSpec?: string } | undefined;
      if (!source?.BuildSpec) throw new Error(`CodeBuild project ${id} has no buildspec file in its source`);
      projects[id] = { buildspec: source.BuildSpec };
    }
  }
  return {
    ...resolveDefinition(template),
    template,
    functions,
    projects,
    lockTable: logicalIdOf(stack.orchestrator.lockTable),
  };
}
