import { ConfigurationInvalid, ConfigurationMissing } from '../../lib/domain/errors';

/** Names the stack's lock table for functions that check who holds a fabric's lock. */
export const LOCK_TABLE_ENV = 'LOCK_TABLE_NAME';

/**
 * Reads an environment variable once, at module load. Throws a named error when it is missing,
 * so a misconfigured function fails on its first invocation instead of half-way through a run.
 */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new ConfigurationMissing(name);
  return value;
}

export function optionalEnv(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** A whole number from the environment, at least `min`; a bad value fails at load, naming it. */
export function optionalIntEnv(name: string, fallback: number, min: number, unit: string): number {
  const text = optionalEnv(name, String(fallback));
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new ConfigurationInvalid(name, text, `a whole number of ${unit}, at least ${min}`);
  return value;
}
