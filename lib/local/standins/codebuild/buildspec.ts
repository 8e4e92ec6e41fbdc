/** Buildspec version 0.2 as CodeBuild reads it: the keys it knows, refused otherwise (BuildspecInvalid). */
import { parse as parseYaml } from 'yaml';
import { BuildspecInvalid, PhaseType } from './types';

export type PhaseName = 'install' | 'pre_build' | 'build' | 'post_build';
export const PHASES: readonly { readonly name: PhaseName; readonly type: PhaseType }[] = [
  { name: 'install', type: 'INSTALL' },
  { name: 'pre_build', type: 'PRE_BUILD' },
  { name: 'build', type: 'BUILD' },
  { name: 'post_build', type: 'POST_BUILD' },
];

export interface PhaseSpec {
  readonly commands: readonly string[];
  readonly finally: readonly string[];
  readonly onFailure: 'ABORT' | 'CONTINUE';
}

export interface Buildspec {
  readonly variables: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
  readonly phases: Readonly<Record<PhaseName, PhaseSpec>>;
}

export const ENV_KEYS = new Set(['shell', 'variables', 'exported-variables', 'git-credential-helper']);
export const PHASE_KEYS = new Set(['commands', 'finally', 'on-failure', 'runtime-versions', 'run-as']);
export const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringList(path: string, where: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new BuildspecInvalid(path, `${where} must be a list of strings (quote commands that contain ': ')`);
  }
  return value as string[];
}

/** Parses and checks a version 0.2 buildspec; rejects what this stand-in would not run faithfully. */
export function parseBuildspec(text: string, path = 'buildspec.yml'): Buildspec {
  const doc: unknown = parseYaml(text);
  if (!isRecord(doc)) throw new BuildspecInvalid(path, 'is not a YAML mapping');
  if (String(doc.version) !== '0.2') {
    throw new BuildspecInvalid(path, `version must be 0.2 (one shell session for all commands); got ${JSON.stringify(doc.version)}`);
  }
  const env = doc.env ?? {};
  if (!isRecord(env)) throw new BuildspecInvalid(path, 'env must be a mapping');
  for (const key of Object.keys(env)) {
    if (!ENV_KEYS.has(key)) throw new BuildspecInvalid(path, `env.${key} is not supported by the local stand-in`);
  }
  if (env.shell !== undefined && env.shell !== 'bash')
    throw new BuildspecInvalid(path, `env.shell must be bash; got ${JSON.stringify(env.shell)}`);
  const variables: Record<string, string> = {};
  if (env.variables !== undefined) {
    if (!isRecord(env.variables)) throw new BuildspecInvalid(path, 'env.variables must be a mapping');
    for (const [name, value] of Object.entries(env.variables)) {
      if (!NAME.test(name)) throw new BuildspecInvalid(path, `env.variables: ${name} is not a variable name`);
      variables[name] = String(value);
    }
  }
  const exportedVariables = stringList(path, 'env.exported-variables', env['exported-variables']);
  for (const name of exportedVariables) {
    if (!NAME.test(name)) throw new BuildspecInvalid(path, `env.exported-variables: ${name} is not a variable name`);
  }
  const phasesDoc = doc.phases ?? {};
  if (!isRecord(phasesDoc)) throw new BuildspecInvalid(path, 'phases must be a mapping');
  for (const key of Object.keys(phasesDoc)) {
    if (!PHASES.some((p) => p.name === key)) throw new BuildspecInvalid(path, `unknown phase ${key}`);
  }
  const phases = {} as Record<PhaseName, PhaseSpec>;
  for (const { name } of PHASES) {
    const phase = phasesDoc[name] ?? {};
    if (!isRecord(phase)) throw new BuildspecInvalid(path, `phases.${name} must be a mapping`);
    for (const key of Object.keys(phase)) {
      if (!PHASE_KEYS.has(key)) throw new BuildspecInvalid(path, `phases.${name}.${key} is not a phase setting`);
    }
    const onFailure = phase['on-failure'] ?? 'ABORT';
    if (onFailure !== 'ABORT' && onFailure !== 'CONTINUE') {
      throw new BuildspecInvalid(path, `phases.${name}.on-failure must be ABORT or CONTINUE here; got ${JSON.stringify(onFailure)}`);
    }
    phases[name] = {
      commands: stringList(path, `phases.${name}.commands`, phase.commands),
      finally: stringList(path, `phases.${name}.finally`, phase.finally),
      onFailure,
    };
  }
  return { variables, exportedVariables, phases };
}
