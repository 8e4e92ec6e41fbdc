/**
 * Named errors. Step Functions Retry/Catch match on `name`, so every class sets it
 * and every message says what was wrong, the value received, and what to do.
 */
export interface Problem {
  /** Dotted path of the field, e.g. `network.cidr`. */
  readonly field: string;
  /** The value received, as JSON text (truncated). */
  readonly received: string;
  /** What to do about it. */
  readonly fix: string;
}

export abstract class FabricError extends Error {
  protected constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // A document nested deeper than the stack (RangeError) must still be reported, not crash the report.
    text = Array.isArray(value) ? '[...] (too deeply nested to show)' : '{...} (too deeply nested to show)';
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function problem(field: string, value: unknown, fix: string): Problem {
  return { field, received: describe(value), fix };
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.field}: received ${p.received}; ${p.fix}`).join('\n');
}

/** The spec is wrong: unknown field, wrong type, bad CIDR, unknown region or zone... */
export class FabricSpecInvalid extends FabricError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super('FabricSpecInvalid', formatProblems(problems));
    this.problems = problems;
  }
}

/** The region has fewer usable availability zones than the spec asks for. */
export class InsufficientZones extends FabricError {
  constructor(region: string, wanted: number, available: readonly string[]) {
    super(
      'InsufficientZones',
      `region ${region} has ${available.length} usable availability zone(s) (${available.join(', ') || 'none'}) ` +
        `but zoneCount is ${wanted}; ` +
        `choose a region with at least ${wanted} zones or set zoneCount to ${available.length >= 3 ? 3 : 'a smaller odd number'}`,
    );
  }
}

/** The state bucket name is owned by another account. */
export class BucketNameTaken extends FabricError {
  constructor(bucket: string) {
    super(
      'BucketNameTaken',
      `state bucket ${bucket} exists but belongs to another AWS account; set STATE_BUCKET_PREFIX on the stack to pick another name`,
    );
  }
}

/** The domain's hosted zone is missing, private, or not delegated to by the public DNS. */
export class DnsNotDelegated extends FabricError {
  readonly expected: readonly string[];
  constructor(message: string, expected: readonly string[] = []) {
    super('DnsNotDelegated', message);
    this.expected = expected;
  }
}

/** Another execution holds the fabric's lock. */
export class FabricBusy extends FabricError {
  constructor(fabric: string, holder: string, expiresAt: string) {
    super(
      'FabricBusy',
      `fabric ${fabric} is locked by execution ${holder} until ${expiresAt}; wait for it to finish or stop it, then retry`,
    );
  }
}

/**
 * This execution does not hold the fabric's lock, so it must not write the fabric's record: another
 * run (the holder) owns the fabric until it releases the lock.
 */
export class LockNotHeld extends FabricError {
  constructor(fabric: string, execution: string, holder: string | undefined) {
    super(
      'LockNotHeld',
      holder === undefined
        ? `fabric ${fabric} is not locked, so execution ${execution} may not write its record; ` +
            `only the run holding the lock records the fabric`
        : `fabric ${fabric} is locked by execution ${holder}, not ${execution}; ` +
            `only the lock holder records the fabric, so this run's outcome is not recorded`,
    );
  }
}

/** The cluster did not become ready before the deadline. */
export class ClusterNotReady extends FabricError {
  constructor(message: string) {
    super('ClusterNotReady', message);
  }
}

/** A required environment variable is missing (configuration fails fast, at load). */
export class ConfigurationMissing extends FabricError {
  constructor(variable: string) {
    super(
      'ConfigurationMissing',
      `environment variable ${variable} is not set; the stack sets it on every function, so redeploy or set it for local runs`,
    );
  }
}

/** An environment variable is set but its value is unusable (fails at load, like a missing one). */
export class ConfigurationInvalid extends FabricError {
  constructor(variable: string, value: string, expected: string) {
    super(
      'ConfigurationInvalid',
      `environment variable ${variable} is ${JSON.stringify(value)} but must be ${expected}; fix it on the stack and redeploy`,
    );
  }
}

/** An existing fabric's recorded zones no longer fit: they cannot change without rebuilding its network. */
export class FabricZonesChanged extends FabricError {
  constructor(message: string) {
    super('FabricZonesChanged', message);
  }
}

/** The state bucket exists and is ours, but lacks a protection it must have; nothing is changed on it. */
export class StateBucketMisconfigured extends FabricError {
  readonly issues: readonly string[];
  constructor(bucket: string, issues: readonly string[]) {
    super('StateBucketMisconfigured', `state bucket ${bucket} exists but is not safe to keep state in: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** The public DNS could not be asked (timeout, SERVFAIL, refused): transient, worth a retry. */
export class DnsLookupFailed extends FabricError {
  /** `nameServers`: the hosted zone's, named when the answer may be a delegation to servers that do not serve the zone. */
  constructor(domain: string, code: string, nameServers: readonly string[] = []) {
    super(
      'DnsLookupFailed',
      `looking up the NS records of ${domain} failed (${code}); this is usually transient: retry, or check the resolvers in DNS_RESOLVERS` +
        (nameServers.length > 0
          ? `. If it lasts, the delegation may point at name servers that do not serve ${domain} (a hosted zone deleted and ` +
            `created again gets new ones): set its NS records at your registrar to ${nameServers.join(', ')}`
          : ''),
    );
  }
}

/** The fabric record in the state bucket is not JSON of the expected shape. */
export class FabricRecordUnreadable extends FabricError {
  constructor(bucket: string, key: string, reason: string) {
    super(
      'FabricRecordUnreadable',
      `fabric record s3://${bucket}/${key} cannot be read (${reason}); ` +
        `restore a previous version of it (the bucket is versioned) or delete it`,
    );
  }
}

/**
 * A Terraform state lock of the fabric is held by a build that is still running (one a stopped or
 * timed-out run left behind): it is not stale, so it is not released, and this run stops before it
 * changes anything instead of waiting for the lock and failing later.
 */
export class StateLockHeld extends FabricError {
  constructor(fabric: string, lockKey: string, builds: readonly string[]) {
    super(
      'StateLockHeld',
      `fabric ${fabric}: ${lockKey} is locked and build ${builds.join(', ')} of this fabric is still running; ` +
        `wait for it to end or stop it (aws codebuild stop-build --id ${builds[0] ?? 'ID'}), then run again`,
    );
  }
}
