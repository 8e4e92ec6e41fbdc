import { problem } from '../../lib/domain/errors';

describe('problem', () => {
  test('GIVEN a value nested deeper than the stack WHEN described THEN it is summarised instead of throwing a RangeError', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(problem('tags.a', deep, 'remove the nesting')).toEqual({
      field: 'tags.a',
      received: '[...] (too deeply nested to show)',
      fix: 'remove the nesting',
    });
  });

  test('GIVEN a long value WHEN described THEN it is cut to 120 characters', () => {
    expect(problem('name', 'x'.repeat(200), 'shorten it').received).toBe(`"${'x'.repeat(116)}...`);
  });
});
