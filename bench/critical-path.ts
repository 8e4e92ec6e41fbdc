import type { AslMachine, AslState } from '../lib/definition';
/**
 * Walks a state machine definition along one path and prices it with a duration per state.
 * The path is the happy one: Catch and Retry are ignored; a Choice takes its Default (which is how
 * ChooseAction selects `provision`), unless the Default leads back into the path already walked
 * (a polling loop): then the loop body is counted once and the walk leaves by the first Choice rule
 * that goes somewhere new. A Parallel is one step whose duration is its slowest branch.
 */

/** The definition as lib/definition.ts types it. */
export type AslStateLike = AslState;
export type AslMachineLike = AslMachine;

export interface PathStep {
  readonly state: string;
  readonly type: string;
  readonly resource?: string;
  /** Part of a polling loop's body (walked once). */
  readonly inLoop: boolean;
  /** The state as the definition has it (Parameters, Seconds...). */
  readonly definition: AslStateLike;
  /** For a Parallel: the path of each branch. */
  readonly branches?: readonly (readonly PathStep[])[];
}

export class DefinitionWalkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionWalkError';
  }
}

function stateOf(machine: AslMachineLike, name: string): AslStateLike {
  const state = machine.States[name];
  if (!state) throw new DefinitionWalkError(`state ${name} is referenced but not defined`);
  return state;
}

/** Follows Next/Default from `from` without entering loops; the names visited, in order. */
function followDefaults(machine: AslMachineLike, from: string, stopAt: ReadonlySet<string>): { names: string[]; reached?: string } {
  const names: string[] = [];
  const seen = new Set<string>();
  let current: string | undefined = from;
  while (current !== undefined) {
    if (stopAt.has(current)) return { names, reached: current };
    if (seen.has(current)) return { names };
    seen.add(current);
    names.push(current);
    const state = stateOf(machine, current);
    current = state.Type === 'Choice' ? state.Default : state.End ? undefined : state.Next;
  }
  return { names };
}

/** The path from StartAt to a terminal state, as described in the module comment. */
export function walkPath(machine: AslMachineLike): PathStep[] {
  const steps: PathStep[] = [];
  const onPath = new Set<string>();
  let current: string | undefined = machine.StartAt;
  while (current !== undefined) {
    if (onPath.has(current)) throw new DefinitionWalkError(`the walk came back to ${current} outside a Choice loop`);
    const state = stateOf(machine, current);
    onPath.add(current);
    const base = {
      state: current,
      type: state.Type,
      inLoop: false,
      definition: state,
      ...(typeof state.Resource === 'string' ? { resource: state.Resource } : {}),
    };
    if (state.Type === 'Parallel') {
      steps.push({ ...base, branches: (state.Branches ?? []).map((b) => walkPath(b)) });
      current = state.End ? undefined : state.Next;
    } else if (state.Type === 'Choice') {
      steps.push(base);
      if (state.Default === undefined) throw new DefinitionWalkError(`Choice ${current} has no Default to follow`);
      const probe = followDefaults(machine, state.Default, onPath);
      if (probe.reached === undefined) {
        current = state.Default;
      } else {
        // A loop back into the walked path: its body once, then the way out.
        for (const name of probe.names) {
          const s = stateOf(machine, name);
          onPath.add(name);
          steps.push({
            state: name,
            type: s.Type,
            inLoop: true,
            definition: s,
            ...(typeof s.Resource === 'string' ? { resource: s.Resource } : {}),
          });
        }
        const exit = (state.Choices ?? []).map((c) => c.Next).find((n): n is string => n !== undefined && !onPath.has(n));
        if (exit === undefined) throw new DefinitionWalkError(`Choice ${current} loops and has no rule leading out of the loop`);
        current = exit;
      }
    } else {
      steps.push(base);
      current = state.End || state.Type === 'Succeed' || state.Type === 'Fail' ? undefined : state.Next;
    }
  }
  return steps;
}

export interface StepDuration {
  readonly seconds: number;
  /** What the figure stands for (e.g. "Lambda cold start + API calls"). */
  readonly what: string;
  /** Where the figure comes from: a URL or a document name. */
  readonly source: string;
  /** Set when the figure is an estimate, saying what it rests on. */
  readonly estimate?: string;
  /** The figures it adds up, when it is a sum. */
  readonly parts?: readonly { readonly seconds: number; readonly what: string; readonly source: string; readonly estimate?: string }[];
}

export interface PricedStep {
  readonly state: string;
  readonly type: string;
  readonly seconds: number;
  readonly what: string;
  readonly source: string;
  readonly estimate?: string;
  readonly inLoop: boolean;
  readonly parts?: StepDuration['parts'];
  /** For a Parallel: the branch that set its duration (by its first state). */
  readonly slowestBranch?: string;
}

export interface CriticalPath {
  readonly totalSeconds: number;
  readonly steps: readonly PricedStep[];
}

function branchSeconds(branch: readonly PathStep[], durationOf: (step: PathStep) => StepDuration): number {
  return branch.reduce((acc, s) => acc + stepSeconds(s, durationOf).seconds, 0);
}

function stepSeconds(step: PathStep, durationOf: (step: PathStep) => StepDuration): { seconds: number; slowest?: string } {
  if (!step.branches) return { seconds: durationOf(step).seconds };
  let seconds = 0;
  let slowest: string | undefined;
  for (const branch of step.branches) {
    const s = branchSeconds(branch, durationOf);
    if (slowest === undefined || s > seconds) {
      seconds = s;
      slowest = branch[0]?.state;
    }
  }
  return slowest === undefined ? { seconds } : { seconds, slowest };
}

/** Prices a walked path: each step once, a Parallel as its slowest branch. */
export function pricePath(steps: readonly PathStep[], durationOf: (step: PathStep) => StepDuration): CriticalPath {
  const priced: PricedStep[] = steps.map((step) => {
    if (step.branches) {
      const { seconds, slowest } = stepSeconds(step, durationOf);
      const branch = step.branches.find((b) => b[0]?.state === slowest) ?? [];
      return {
        state: step.state,
        type: step.type,
        seconds,
        what: `parallel: slowest branch${slowest ? ` (${slowest})` : ''}`,
        source: "the sum of the slowest branch's figures",
        inLoop: step.inLoop,
        parts: branch.map((b) => {
          const d = durationOf(b);
          return {
            seconds: stepSeconds(b, durationOf).seconds,
            what: `${b.state}: ${d.what}`,
            source: d.source,
            ...(d.estimate ? { estimate: d.estimate } : {}),
          };
        }),
        ...(slowest === undefined ? {} : { slowestBranch: slowest }),
      };
    }
    const d = durationOf(step);
    return {
      state: step.state,
      type: step.type,
      seconds: d.seconds,
      what: d.what,
      source: d.source,
      inLoop: step.inLoop,
      ...(d.estimate ? { estimate: d.estimate } : {}),
      ...(d.parts ? { parts: d.parts } : {}),
    };
  });
  return { totalSeconds: priced.reduce((acc, s) => acc + s.seconds, 0), steps: priced };
}
