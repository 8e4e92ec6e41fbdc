import { readFileSync } from 'node:fs';
import { costReport, type CostReportJson } from '../lib/cost';
import type { RunCounts } from '../lib/cost/core';
import type { SynthesizedOrchestrator } from '../lib/local/synth';
import { allStates } from '../lib/definition';
import { walkPath, type AslStateLike, type CriticalPath } from './critical-path';
import type { StateTiming } from '../lib/local/run';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

function resourceOf(orchestrator: SynthesizedOrchestrator, id: string | undefined): TemplateResource | undefined {
  return id === undefined ? undefined : (orchestrator.template.Resources[id] as TemplateResource | undefined);
}

/** Memory (MB) and architecture of the Lambda a Task state invokes, from the template. */
function lambdaOf(
  orchestrator: SynthesizedOrchestrator,
  state: AslStateLike | undefined,
): { memoryMb: number; arch: 'arm64' | 'x86_64' } | undefined {
  const arn = typeof state?.Resource === 'string' ? state.Resource : '';
  if (!arn.startsWith('arn:aws:lambda:')) return undefined;
  const props = resourceOf(orchestrator, orchestrator.references[arn])?.Properties;
  const memoryMb = typeof props?.MemorySize === 'number' ? props.MemorySize : 128;
  const arch = Array.isArray(props?.Architectures) && props.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64';
  return { memoryMb, arch };
}

/** Compute type of the CodeBuild project a Task state starts, from the template. */
function computeTypeOf(orchestrator: SynthesizedOrchestrator, state: AslStateLike | undefined): string | undefined {
  if (typeof state?.Resource !== 'string' || !state.Resource.startsWith('arn:aws:states:::codebuild:startBuild')) return undefined;
  const project = (state.Parameters as { ProjectName?: unknown } | undefined)?.ProjectName;
  const env = resourceOf(orchestrator, typeof project === 'string' ? project : undefined)?.Properties?.Environment as
    { ComputeType?: unknown } | undefined;
  return typeof env?.ComputeType === 'string' ? env.ComputeType : 'BUILD_GENERAL1_SMALL';
}

/** CodeBuild bills EC2 compute by the started minute and Lambda compute by the second. */
function billedMinutes(computeType: string, seconds: number): number {
  return computeType.startsWith('BUILD_LAMBDA_') ? seconds / 60 : Math.max(1, Math.ceil(seconds / 60));
}

/**
 * Run counts from one measured local run: transitions as counted from its events, Lambda GB-seconds
 * from the measured duration of each Lambda task x the function's memory, CodeBuild minutes from
 * each build state's duration, rounded up per build on EC2 compute (whole minutes), by the second on Lambda compute.
 */
export function countsFromRun(
  orchestrator: SynthesizedOrchestrator,
  run: { transitions: number; timings: readonly StateTiming[] },
): RunCounts {
  const states = allStates(orchestrator.asl);
  let gbSeconds = 0;
  let requests = 0;
  let arch: 'arm64' | 'x86_64' = 'x86_64';
  const minutes: Record<string, number> = {};
  for (const t of run.timings) {
    const state = states.get(t.state);
    const lambda = lambdaOf(orchestrator, state);
    if (lambda) {
      requests += 1;
      gbSeconds += (t.ms / 1000) * (lambda.memoryMb / 1024);
      arch = lambda.arch;
    }
    const computeType = computeTypeOf(orchestrator, state);
    if (computeType) minutes[computeType] = (minutes[computeType] ?? 0) + billedMinutes(computeType, t.ms / 1000);
  }
  return {
    stateTransitions: run.transitions,
    lambdaGbSeconds: gbSeconds,
    lambdaRequests: requests,
    codebuildMinutesByType: minutes,
    lambdaArchitecture: arch,
  };
}

/**
 * The same counts for a cloud run as the critical-path model sees it: each build's modelled
 * duration rounded up to minutes, each Lambda's modelled work (cold start excluded), and the
 * transitions of the walked path (branch states included, every state once) plus, for each extra
 * poll a cloud readiness wait takes, the measured transitions per poll (or, unmeasured, the loop's
 * states as the definition has them).
 */
export function countsFromModel(
  orchestrator: SynthesizedOrchestrator,
  model: CriticalPath,
  measured: { transitionsPerPoll?: number },
  readiness: { seconds: number; pollSeconds: number; lambdaWorkSeconds: number },
): RunCounts & { readonly cloudPolls: number; readonly transitionsOnePoll: number; readonly transitionsPerPoll: number } {
  const states = allStates(orchestrator.asl);
  let gbSeconds = 0;
  let requests = 0;
  let arch: 'arm64' | 'x86_64' = 'x86_64';
  const minutes: Record<string, number> = {};
  const cloudPolls = Math.max(1, Math.ceil(readiness.seconds / readiness.pollSeconds));
  const visit = (name: string, seconds: number) => {
    const state = states.get(name);
    const lambda = lambdaOf(orchestrator, state);
    if (lambda) {
      const isReadiness = name === 'CheckReadiness';
      const calls = isReadiness ? cloudPolls : 1;
      requests += calls;
      gbSeconds += calls * readiness.lambdaWorkSeconds * (lambda.memoryMb / 1024);
      arch = lambda.arch;
    }
    const computeType = computeTypeOf(orchestrator, state);
    if (computeType) minutes[computeType] = (minutes[computeType] ?? 0) + billedMinutes(computeType, seconds);
  };
  const asl = orchestrator.asl;
  for (const step of model.steps) visit(step.state, step.seconds);
  // Parallel branches (the path's steps are top-level states): every Lambda in them is invoked,
  // whichever branch is slowest.
  for (const step of model.steps) {
    for (const branch of asl.States[step.state]?.Branches ?? []) {
      for (const [name, state] of allStates(branch)) if (lambdaOf(orchestrator, state)) visit(name, 0);
    }
  }
  let transitionsOnePoll = 0;
  for (const step of model.steps) {
    if (step.inLoop) continue;
    transitionsOnePoll += 1;
    for (const branch of asl.States[step.state]?.Branches ?? []) transitionsOnePoll += walkPath(branch).length;
  }
  // One more poll re-enters the loop: its body, then the states from the re-entry point to the Choice.
  const loopBody = model.steps.filter((s) => s.inLoop);
  const reentry = asl.States[loopBody[loopBody.length - 1]?.state ?? '']?.Next;
  const from = model.steps.findIndex((s) => s.state === reentry);
  const firstInLoop = model.steps.findIndex((s) => s.inLoop);
  const perPollFromDefinition = loopBody.length + (from >= 0 && firstInLoop > from ? firstInLoop - from : 0);
  const transitionsPerPoll = measured.transitionsPerPoll ?? perPollFromDefinition;
  const transitions = transitionsOnePoll + (cloudPolls - 1) * transitionsPerPoll;
  return {
    stateTransitions: transitions,
    lambdaGbSeconds: gbSeconds,
    lambdaRequests: requests,
    codebuildMinutesByType: minutes,
    lambdaArchitecture: arch,
    cloudPolls,
    transitionsOnePoll,
    transitionsPerPoll,
  };
}

export interface CostFigures {
  readonly report: CostReportJson;
  readonly text: string;
}

/** `fabricctl cost`'s report for the demo spec, with one run's counts. */
export function costFigures(specPath: string, runCounts: RunCounts | undefined): CostFigures {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as unknown;
  const { text, json } = costReport(spec, runCounts ? { runCounts } : {});
  return { report: json, text };
}
