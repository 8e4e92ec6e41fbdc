import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { FabricFunction } from '../fabric-function';
import { logicalIdOf } from '../logical-id';
import { FabricOrchestratorStack, FabricOrchestratorStackProps } from '../fabric-orchestrator-stack';
import { resolveDefinition, ResolvedDefinition } from '../definition';

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** The orchestrator as synthesized in process, with what local mode needs to run each Task. */
export interface SynthesizedOrchestrator extends ResolvedDefinition {
  readonly template: Template;
  /** Lambda logical id -> folder under lambdas/ and its environment. */
  readonly functions: Readonly<Record<string, { readonly entry: string; readonly environment: Readonly<Record<string, string>> }>>;
  /** CodeBuild project logical id -> buildspec file inside the job source, compute, plain-text variables. */
  readonly projects: Readonly<Record<string, SynthesizedProject>>;
  /** Logical id of the lock table (its name in local mode). */
  readonly lockTable: string;
}

export interface SynthesizedProject {
  readonly buildspec: string;
  readonly compute: 'ec2' | 'lambda';
  /** The project's environment variables with a literal value (others, e.g. Refs, are left out). */
  readonly environment: Readonly<Record<string, string>>;
}

type ProjectProperties = {
  Source?: { BuildSpec?: string };
  Environment?: { Type?: string; EnvironmentVariables?: { Name: string; Value: unknown }[] };
};

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
  // Only the template is read: the cloud assembly (with a copy of the job source) is removed at once.
  const outdir = mkdtempSync(join(tmpdir(), 'fabricctl-synth-'));
  // Never deployed, so not checked against CloudFormation's rules (1.5 s of a 2 s synthesis): the
  // deployable templates are, by `cdk synth` and test/construct/cloudformation-validate.test.ts.
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new FabricOrchestratorStack(app, 'FabricOrchestrator', { ...props, kopsFromPath: true });
  let template: Template;
  try {
    template = app.synth().getStackByName('FabricOrchestrator').template as Template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const functions: Record<string, { entry: string; environment: Record<string, string> }> = {};
  const projects: Record<string, SynthesizedProject> = {};
  for (const construct of stack.node.findAll()) {
    if (construct instanceof FabricFunction) {
      const id = logicalIdOf(construct);
      const variables =
        (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      functions[id] = { entry: construct.entryFolder, environment: localVariables(id, variables) };
    } else if (construct instanceof codebuild.Project) {
      const id = logicalIdOf(construct);
      const properties = template.Resources[id]?.Properties as ProjectProperties | undefined;
      const buildspec = properties?.Source?.BuildSpec;
      if (!buildspec) throw new Error(`CodeBuild project ${id} has no buildspec file in its source`);
      const variables = properties?.Environment?.EnvironmentVariables ?? [];
      projects[id] = {
        buildspec,
        compute: properties?.Environment?.Type === 'LINUX_LAMBDA_CONTAINER' ? 'lambda' : 'ec2',
        environment: Object.fromEntries(variables.flatMap((v) => (typeof v.Value === 'string' ? [[v.Name, v.Value]] : []))),
      };
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

/**
 * A function's environment as local mode sets it: a `Ref` (e.g. the lock table's name) becomes the
 * resource's logical id, which is its name in local mode, as in definition.ts.
 */
/**
 * Variables whose deployed value CloudFormation computes from other resources (the build roles'
 * ARNs): the local environment sets its own (lib/local/environment.ts).
 */
const SUPPLIED_LOCALLY = new Set(['STATE_BUILD_PRINCIPAL_ARNS']);

function localVariables(functionId: string, variables: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) {
    const local = localValue(value);
    if (local !== undefined) out[key] = local;
    else if (SUPPLIED_LOCALLY.has(key)) continue;
    else
      throw new Error(`${functionId} sets ${key} to ${JSON.stringify(value)}; local mode resolves only strings, Ref and Fn::Join of them`);
  }
  return out;
}

/** A string, a `Ref` (the logical id), or an `Fn::Join` of those; undefined for anything else. */
function localValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const { Ref: ref, 'Fn::Join': join } = value as { Ref?: unknown; 'Fn::Join'?: unknown };
  if (typeof ref === 'string') return ref;
  if (!Array.isArray(join) || typeof join[0] !== 'string' || !Array.isArray(join[1])) return undefined;
  const parts = (join[1] as unknown[]).map(localValue);
  return parts.every((p): p is string => p !== undefined) ? parts.join(join[0]) : undefined;
}
