/**
 * Kubernetes releases as `major.minor.patch` (`1.36.4`, no leading `v`: the spec drops it): ValidateSpec's
 * upgrade rule and the kops stand-in's version skew compare them.
 */
export interface Release {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const RELEASE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** `undefined` when the text is not a release. */
export function parseRelease(text: string): Release | undefined {
  const match = RELEASE.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** Negative when `a` is older than `b`, 0 when the same, positive when newer. */
export function compareReleases(a: Release, b: Release): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}
