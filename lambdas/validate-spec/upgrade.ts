import { compareReleases as compare, parseRelease as parse } from '../../lib/domain/release';
import { KUBERNETES_RELEASES } from '../../lib/domain/spec';

/**
 * Which Kubernetes version changes a running fabric may take. kops upgrades a cluster one minor
 * at a time (1.35.x to 1.36.x; a patch within a minor is fine too) and cannot go back: etcd's data
 * and the API's stored objects move forward with the control plane. The cluster job refuses the
 * same steps (buildspecs/scripts/cluster.sh, kubernetes_upgrade_step); this module lets
 * ValidateSpec refuse them first, before anything changes. Pure.
 */

/** `none`: same version; `patch`: a later patch of the same minor; `minor`: the next minor, any patch. */
export type UpgradeStep = 'none' | 'patch' | 'minor';

export type UpgradeVerdict = { readonly allowed: true; readonly step: UpgradeStep } | { readonly allowed: false; readonly fix: string };

/** `1.35.x (e.g. 1.35.9)`: the newest patch kops 1.36 is known to build, when the minor is listed. */
function minorExample(major: number, minor: number): string {
  const newest = major === 1 ? KUBERNETES_RELEASES[minor] : undefined;
  return newest === undefined ? `${major}.${minor}.x` : `${major}.${minor}.x (e.g. ${major}.${minor}.${newest})`;
}

/**
 * The step from the version a fabric runs to the one its spec asks for, or why it is refused.
 * A version that is not major.minor.patch is not judged here (allowed, step `none`): the spec's
 * own rules report the requested one, and a recorded one came from an earlier run's validation.
 */
export function kubernetesUpgrade(recorded: string, requested: string): UpgradeVerdict {
  const from = parse(recorded);
  const to = parse(requested);
  if (!from || !to) return { allowed: true, step: 'none' };
  const order = compare(to, from);
  if (order === 0) return { allowed: true, step: 'none' };
  if (order < 0) {
    return {
      allowed: false,
      fix:
        `downgrades are not supported (the fabric runs ${recorded}): ` +
        `keep ${from.major}.${from.minor}.x (${recorded} or a later patch) or destroy and provision again`,
    };
  }
  if (to.major === from.major && to.minor === from.minor) return { allowed: true, step: 'patch' };
  if (to.major === from.major && to.minor === from.minor + 1) return { allowed: true, step: 'minor' };
  return {
    allowed: false,
    fix:
      `upgrade one minor at a time (the fabric runs ${recorded}): ` +
      `use ${minorExample(from.major, from.minor + 1)} first, then ${requested}`,
  };
}
