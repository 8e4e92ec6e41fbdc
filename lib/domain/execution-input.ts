import { FABRIC_ACTIONS, type ExecutionInput } from './contract';
import { DURATION_PATTERN } from './duration';
import { fabricSpecSchema, REGION_PATTERN } from './spec';
import * as z from './zod';

/**
 * The state machine's input (console, CLI, start-execution, EventBridge, git triggers).
 * Strict: an unknown field is an error, not ignored. The spec inside is `fabricSpecSchema`, so its
 * problems come out with paths such as `spec.network.cidr`.
 */
export const specSourceSchema = z.strictObject(
  {
    provider: z.enum(['codecommit', 'github'], { error: 'use codecommit or github' }),
    repository: z
      .string({ error: 'name the repository as text (CodeCommit name or GitHub owner/repo)' })
      .check(z.minLength(1, { error: 'name the repository (CodeCommit name or GitHub owner/repo)' })),
    branch: z
      .string({ error: 'name the branch as text, fabric/<name>' })
      .check(z.minLength(1, { error: 'name the branch, fabric/<name>' })),
    commit: z
      .string({ error: 'give the commit id, e.g. "a1b2c3d4e5f6"' })
      .check(z.regex(/^[0-9a-f]{7,64}$/i, { error: 'give the commit id (7 to 64 hexadecimal digits), e.g. "a1b2c3d4e5f6"' })),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type' ? 'write source as an object: {"provider", "repository", "branch", "commit"}' : undefined,
  },
);

/** Everything but the spec: parsed on its own so its problems and the spec's are all reported together. */
export const executionEnvelopeSchema = z.strictObject({
  action: z._default(z.enum(FABRIC_ACTIONS, { error: 'use provision, plan, destroy or extend' }), 'provision'),
  name: z.optional(
    z
      .string({ error: 'name the fabric to destroy or extend as text, e.g. "demo"' })
      .check(z.minLength(1, { error: 'name the fabric to destroy or extend, e.g. "demo"' })),
  ),
  region: z.optional(
    z
      .string({ error: 'use an AWS region name such as us-east-2' })
      .check(z.regex(REGION_PATTERN, { error: 'use an AWS region name such as us-east-2' })),
  ),
  confirm: z.optional(z.string({ error: 'repeat the fabric\'s name as text, e.g. "confirm": "demo"' })),
  source: z.optional(specSourceSchema),
  /** provision only: stop after the plan for approval even when the spec does not ask for it. */
  approve: z.optional(
    z.literal('required', {
      error: 'use "required" to stop after the plan for approval (the spec\'s approve and protected decide otherwise)',
    }),
  ),
  /** provision only: wait this long for the approval, at most the stack's approval timeout. */
  approvalTimeout: z.optional(
    z
      .string({ error: 'write approvalTimeout as a duration such as "30m"' })
      .check(z.regex(DURATION_PATTERN, { error: 'write a whole number and a unit (s, m, h or d), such as "30m"' })),
  ),
  /** extend only: how much longer the fabric's lease runs, from its current expiry. */
  extendBy: z.optional(
    z
      .string({ error: 'write extendBy as a duration such as "24h"' })
      .check(z.regex(DURATION_PATTERN, { error: 'write a whole number and a unit (m, h or d), such as "24h"' })),
  ),
  /** plan only: `drift` compares the cloud with the recorded spec and reports `Fabric Drifted`. */
  check: z.optional(z.literal('drift', { error: 'use "drift" (plan the recorded spec and report drift)' })),
});

export const executionInputSchema = z.extend(executionEnvelopeSchema, { spec: z.optional(fabricSpecSchema) });

export type ExecutionEnvelope = z.output<typeof executionEnvelopeSchema>;

/** Compile-time proof that the schema and the `ExecutionInput` contract describe the same document. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const EXECUTION_INPUT_MATCHES_CONTRACT: Same<z.input<typeof executionInputSchema>, ExecutionInput> = true;
