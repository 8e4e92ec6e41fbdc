import { z } from 'zod';
import type { ExecutionInput } from './contract';
import { fabricSpecSchema, REGION_PATTERN } from './spec';

/**
 * The state machine's input (console, CLI, start-execution, EventBridge, git triggers).
 * Strict: an unknown field is an error, not ignored. The spec inside is `fabricSpecSchema`, so its
 * problems come out with paths such as `spec.network.cidr`.
 */
export const specSourceSchema = z.strictObject({
  provider: z.enum(['codecommit', 'github'], { message: 'must be codecommit or github' }),
  repository: z.string().min(1, { message: 'name the repository (CodeCommit name or GitHub owner/repo)' }),
  branch: z.string().min(1, { message: 'name the branch, fabric/<name>' }),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/i, { message: 'must be a commit id (hexadecimal)' }),
});

/** Everything but the spec: parsed on its own so its problems and the spec's are all reported together. */
export const executionEnvelopeSchema = z.strictObject({
  action: z.enum(['provision', 'plan', 'destroy'], { message: 'must be provision, plan or destroy' }).default('provision'),
  name: z.string().min(1, { message: 'name the fabric to destroy' }).optional(),
  region: z.string().regex(REGION_PATTERN, { message: 'must be an AWS region such as us-east-2' }).optional(),
  confirm: z.string().optional(),
  source: specSourceSchema.optional(),
});

export const executionInputSchema = executionEnvelopeSchema.extend({ spec: fabricSpecSchema.optional() });

export type ExecutionEnvelope = z.output<typeof executionEnvelopeSchema>;

/** Compile-time proof that the schema and the `ExecutionInput` contract describe the same document. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const EXECUTION_INPUT_MATCHES_CONTRACT: Same<z.input<typeof executionInputSchema>, ExecutionInput> = true;
