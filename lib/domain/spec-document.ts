import type { Problem } from './errors';

/**
 * The spec as a document, before the schema (./spec.ts) reads it: its text and its shape. No zod
 * here, so the webhook can check what it forwards without bundling the schema.
 */

/** No valid spec nests deeper than 3 (`kubernetes.nodes.min`); the bound keeps a hostile document off the stack. */
export const MAX_SPEC_DEPTH = 10;

/** Parses the text of a spec file: a UTF-8 byte order mark (some Windows editors write one) is not part of the JSON. */
export function parseSpecJson(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
}

/**
 * A problem when the document nests deeper than any spec can, else `undefined`. Checked before the
 * schema, without recursion, so a hostile document gets an answer instead of a RangeError.
 */
export function nestingProblem(input: unknown, prefix = ''): Problem | undefined {
  const pending: { readonly value: unknown; readonly path: readonly string[] }[] = [{ value: input, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_SPEC_DEPTH) {
      return {
        field: `${prefix}${path.join('.')}`,
        received: `a value nested more than ${MAX_SPEC_DEPTH} levels deep`,
        fix: `remove the nesting: a fabric spec nests at most 3 levels (kubernetes.nodes.min), see the spec reference in README.md`,
      };
    }
    for (const [key, child] of Object.entries(value)) pending.push({ value: child, path: [...path, key] });
  }
  return undefined;
}
