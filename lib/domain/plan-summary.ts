import type { ChangeSummary, ClusterJobResult, NetworkJobResult, PlanSummary, StateDocument } from './contract';

const NONE: ChangeSummary = { add: 0, change: 0, destroy: 0 };

function line(job: string, changes: ChangeSummary): string {
  const total = changes.add + changes.change + changes.destroy;
  return total === 0 ? `${job}: no changes` : `${job}: ${changes.add} to add, ${changes.change} to change, ${changes.destroy} to destroy`;
}

/**
 * What the plan jobs of this run found, for a person to approve or a drift check to report: Terraform's
 * counts per job, the instance groups kops will roll, and the digests the apply is held to.
 */
export function planSummaryOf(jobs: StateDocument['jobs']): PlanSummary {
  const network: Partial<NetworkJobResult> = jobs?.network?.result ?? {};
  const cluster: Partial<ClusterJobResult> = jobs?.cluster?.result ?? {};
  const rolls = [...(cluster.rolls ?? [])];
  const lines = [line('network (Terraform)', network.changes ?? NONE), line('cluster (kops Terraform)', cluster.changes ?? NONE)];
  if (rolls.length > 0) lines.push(`kops rolls: ${rolls.join(', ')} (control plane first, one instance at a time)`);
  if (cluster.summary) lines.push(cluster.summary);
  return {
    network: network.changes ?? NONE,
    cluster: cluster.changes ?? NONE,
    rolls,
    digests: { network: network.planDigest ?? '', cluster: cluster.planDigest ?? '' },
    lines,
  };
}

/** Whether a plan changes anything: a drift check reports drift when it does. */
export function isEmptyPlan(summary: PlanSummary): boolean {
  const total = (c: ChangeSummary) => c.add + c.change + c.destroy;
  return total(summary.network) + total(summary.cluster) === 0 && summary.rolls.length === 0;
}
