#!/usr/bin/env bash
# The cluster job: kops writes the cluster's Terraform (HA: one control-plane node in every zone,
# in the network job's existing VPC and subnets), Terraform applies it with its state in the
# fabric's state bucket, and the admin kubeconfig goes to Secrets Manager. Writes the
# ClusterJobResult JSON that buildspecs/cluster.yml exports as FABRIC_RESULT.
#
# Inputs (environment):
#   ACTION (provision|plan|destroy), FABRIC_NAME, CLUSTER_NAME, DOMAIN, FABRIC_REGION, STATE_BUCKET,
#   ZONES_CSV, NETWORK_CIDR, KUBERNETES_VERSION, NETWORKING, CONTROL_PLANE_SIZE, NODE_SIZE,
#   NODE_MIN, NODE_MAX, API_ACCESS (CSV), TAGS_JSON, KUBECONFIG_SECRET_NAME; CLUSTER_STATE_KEY,
#   KOPS_STATE_KEY, CLUSTER_INPUTS_KEY (keys in the state bucket, from lib/domain/naming.ts);
#   VPC_ID, SUBNET_IDS_CSV (zone order), SSH_PUBLIC_KEY: required to provision (plan: empty VPC_ID
#   means the network does not exist yet); SSH_ACCESS (CSV, may be empty: SSH closed);
#   PERMISSIONS_BOUNDARY_ARN: the stack's boundary for the roles kops creates (the project sets it;
#   the build role may create those roles only with it). Empty only in local runs, which run as you.
#   BUILD_COMPUTE (optional, lambda|ec2, set by the project): on lambda (CodeBuild's Lambda compute,
#   15 minutes at most) the job never starts a rolling update, which can take longer.
set -o errexit -o nounset -o pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "${script_dir}/lib.sh"

require_env ACTION FABRIC_NAME CLUSTER_NAME DOMAIN FABRIC_REGION STATE_BUCKET ZONES_CSV NETWORK_CIDR \
  KUBERNETES_VERSION NETWORKING CONTROL_PLANE_SIZE NODE_SIZE NODE_MIN NODE_MAX API_ACCESS TAGS_JSON \
  KUBECONFIG_SECRET_NAME CLUSTER_STATE_KEY KOPS_STATE_KEY CLUSTER_INPUTS_KEY
require_one_of ACTION provision plan destroy
VPC_ID="${VPC_ID:-}"
SUBNET_IDS_CSV="${SUBNET_IDS_CSV:-}"
SSH_ACCESS="${SSH_ACCESS:-}"
SSH_PUBLIC_KEY="${SSH_PUBLIC_KEY:-}"
PERMISSIONS_BOUNDARY_ARN="${PERMISSIONS_BOUNDARY_ARN:-}"
boundary_re='^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$'
if [[ -n "${PERMISSIONS_BOUNDARY_ARN}" && ! "${PERMISSIONS_BOUNDARY_ARN}" =~ ${boundary_re} ]]; then
  die "PERMISSIONS_BOUNDARY_ARN must be an IAM policy ARN such as arn:aws:iam::123456789012:policy/NodeRoleBoundary;" \
    "got '${PERMISSIONS_BOUNDARY_ARN}'"
fi
if [[ "${ACTION}" == provision ]]; then require_env VPC_ID SUBNET_IDS_CSV SSH_PUBLIC_KEY; fi
# A plan of a registered cluster needs no SSH key (kops has it); only a dry-run create does.
if [[ "${ACTION}" == plan && -n "${VPC_ID}" ]]; then require_env SUBNET_IDS_CSV; fi

csv_re='^[a-z0-9-]+(,[a-z0-9-]+)*$'
cidrs_re='^[0-9a-fA-F:./]+(,[0-9a-fA-F:./]+)*$'
[[ "${ZONES_CSV}" =~ ${csv_re} ]] ||
  die "ZONES_CSV must be comma-separated zone names such as us-east-2a,us-east-2b,us-east-2c; got '${ZONES_CSV}'"
IFS=, read -r -a zones <<<"${ZONES_CSV}"
((${#zones[@]} % 2 == 1)) ||
  die "ZONES_CSV must list an odd number of zones (one control-plane node per zone keeps etcd quorum); got ${#zones[@]}"
if [[ -n "${SUBNET_IDS_CSV}" ]]; then
  [[ "${SUBNET_IDS_CSV}" =~ ${csv_re} ]] || die "SUBNET_IDS_CSV must be comma-separated subnet ids; got '${SUBNET_IDS_CSV}'"
  IFS=, read -r -a subnets <<<"${SUBNET_IDS_CSV}"
  ((${#subnets[@]} == ${#zones[@]})) ||
    die "SUBNET_IDS_CSV lists ${#subnets[@]} subnets for ${#zones[@]} zones; one per zone, in zone order"
fi
[[ "${NODE_MIN}" =~ ^[0-9]+$ && "${NODE_MAX}" =~ ^[0-9]+$ ]] ||
  die "NODE_MIN and NODE_MAX must be whole numbers; got '${NODE_MIN}' and '${NODE_MAX}'"
((NODE_MIN >= 1 && NODE_MIN <= NODE_MAX)) || die "need 1 <= NODE_MIN <= NODE_MAX; got ${NODE_MIN} and ${NODE_MAX}"
[[ "${API_ACCESS}" =~ ${cidrs_re} ]] || die "API_ACCESS must be comma-separated CIDRs; got '${API_ACCESS}'"
[[ -z "${SSH_ACCESS}" || "${SSH_ACCESS}" =~ ${cidrs_re} ]] || die "SSH_ACCESS must be empty or comma-separated CIDRs; got '${SSH_ACCESS}'"
require_tags_json TAGS_JSON
# kops reads --cloud-labels as key=value pairs separated by commas (create_args).
if [[ "${ACTION}" != destroy ]]; then require_carried_tags TAGS_JSON; fi
command -v terraform >/dev/null || die "terraform is not on PATH (run buildspecs/scripts/install-tools.sh)"
command -v kops >/dev/null || die "kops is not on PATH (run buildspecs/scripts/install-tools.sh)"
command -v aws >/dev/null || die "the aws CLI is not on PATH"

clear_result
tf_cli_config

kops_state="s3://${STATE_BUCKET}/${KOPS_STATE_KEY}"
kops_config_key="${KOPS_STATE_KEY}/${CLUSTER_NAME}/config"
state_key="${CLUSTER_STATE_KEY}"
api_name="api.${CLUSTER_NAME}"
kops_common=("--name=${CLUSTER_NAME}" "--state=${kops_state}")
aws_r=(aws --region "${FABRIC_REGION}")

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
chmod 700 "${work}"
dir="${work}/terraform"
plan_file="${work}/cluster.tfplan"
apply_events="${work}/cluster-apply.events"
# An upgrade's second apply: the nodes at the new version, once the control plane runs it.
node_apply_events="${work}/cluster-nodes-apply.events"
zero_changes='{"add":0,"change":0,"destroy":0}'

cluster_registered() {
  "${aws_r[@]}" s3api head-object --bucket "${STATE_BUCKET}" --key "${kops_config_key}" >/dev/null 2>&1
}

# kops create takes one node count and has no maximum: Terraform override files set each node
# ASG's min_size and max_size, spreading NODE_MIN and NODE_MAX over the node groups as kops spreads
# --node-count. A later change of either is then a plain Terraform change.
write_node_size_override() {
  local -a groups
  local count i min max
  mapfile -t groups < <(sed -n -E 's/^resource "aws_autoscaling_group" "(nodes[^"]*)".*/\1/p' "${dir}/kubernetes.tf")
  count="${#groups[@]}"
  ((count > 0)) || die "kops output has no node autoscaling group (resource \"aws_autoscaling_group\" \"nodes...\")"
  {
    printf '# Generated by cluster.sh: the node groups'"'"' sizes (NODE_MIN=%s, NODE_MAX=%s).\n' "${NODE_MIN}" "${NODE_MAX}"
    for ((i = 0; i < count; i++)); do
      min=$((NODE_MIN / count + (i < NODE_MIN % count ? 1 : 0)))
      max=$((NODE_MAX / count + (i < NODE_MAX % count ? 1 : 0)))
      printf 'resource "aws_autoscaling_group" "%s" {\n  min_size = %d\n  max_size = %d\n}\n' "${groups[i]}" "${min}" "${max}"
    done
  } >"${dir}/zz_nodes_size_override.tf"
}

# kops 1.36 has no setting for a permissions boundary on the roles it creates: an override file
# puts the stack's boundary on every aws_iam_role of its output, before Terraform creates them.
write_boundary_override() {
  local -a roles
  local role
  if [[ -z "${PERMISSIONS_BOUNDARY_ARN}" ]]; then
    log "no PERMISSIONS_BOUNDARY_ARN (a local run, as you): kops's roles get no permissions boundary"
    return 0
  fi
  mapfile -t roles < <(sed -n -E 's/^resource "aws_iam_role" "([^"]+)".*/\1/p' "${dir}/kubernetes.tf")
  ((${#roles[@]} > 0)) || die "kops output has no IAM role (resource \"aws_iam_role\" ...) to put the permissions boundary on"
  {
    printf '# Generated by cluster.sh: the stack'"'"'s permissions boundary on every role kops creates.\n'
    for role in "${roles[@]}"; do
      printf 'resource "aws_iam_role" "%s" {\n  permissions_boundary = "%s"\n}\n' "${role}" "${PERMISSIONS_BOUNDARY_ARN}"
    done
  } >"${dir}/zz_iam_boundary_override.tf"
}

# What kops was created with (its flags, not the node sizes Terraform owns). kops 1.36's
# create/update/rolling-update cannot change these on an existing cluster (that takes kops edit or
# replace), so a change is refused with the fields named instead of being silently ignored. The
# Kubernetes version alone is the exception: kops set cluster changes it (the upgrade flow below).
inputs_key="${CLUSTER_INPUTS_KEY}"
cluster_inputs() {
  jq -n -c --arg zones "${ZONES_CSV}" --arg cidr "${NETWORK_CIDR}" --arg version "${KUBERNETES_VERSION}" \
    --arg networking "${NETWORKING}" --arg cp "${CONTROL_PLANE_SIZE}" --arg node "${NODE_SIZE}" \
    --arg api "${API_ACCESS}" --arg ssh "${SSH_ACCESS}" --argjson tags "${TAGS_JSON}" \
    '{zones: $zones, networkCidr: $cidr, kubernetesVersion: $version, networking: $networking,
      controlPlaneSize: $cp, nodeSize: $node, apiAccess: $api, sshAccess: $ssh, tags: $tags}'
}
record_cluster_inputs() {
  cluster_inputs >"${work}/inputs.json"
  "${aws_r[@]}" s3api put-object --bucket "${STATE_BUCKET}" --key "${inputs_key}" --body "${work}/inputs.json" \
    --content-type application/json >/dev/null
}
recorded_cluster_inputs() {
  "${aws_r[@]}" s3 cp "s3://${STATE_BUCKET}/${inputs_key}" - 2>/dev/null
}

# kops upgrades Kubernetes one minor at a time (any patch of the next minor) or to a later patch of
# the same minor, and never back down. Prints "minor" or "patch"; dies naming what to do otherwise.
# ValidateSpec refuses the same steps first (lambdas/validate-spec/upgrade.ts); a job started by
# hand, or a record that does not match the cluster, still stops here before kops changes anything.
kubernetes_upgrade_step() {
  local from="$1" to="$2" re='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'
  local -a f t
  [[ "${from}" =~ ${re} ]] || die "the recorded kubernetesVersion '${from}' (${inputs_key}) is not major.minor.patch"
  f=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
  [[ "${to}" =~ ${re} ]] || die "KUBERNETES_VERSION must be major.minor.patch such as 1.36.4; got '${to}'"
  t=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}")
  if ((t[0] == f[0] && t[1] == f[1] && t[2] > f[2])); then
    printf 'patch\n'
  elif ((t[0] == f[0] && t[1] == f[1] + 1)); then
    printf 'minor\n'
  elif ((t[0] < f[0] || (t[0] == f[0] && (t[1] < f[1] || (t[1] == f[1] && t[2] < f[2]))))); then
    die "kubernetesVersion ${from} -> ${to} is a downgrade, which kops does not support;" \
      "keep ${f[0]}.${f[1]}.x (${from} or a later patch), or destroy and provision the fabric again"
  else
    die "kubernetesVersion ${from} -> ${to} skips a minor; kops upgrades one minor at a time: use ${f[0]}.$((f[1] + 1)).x first, then ${to}"
  fi
}

# Sets upgrade_from to the recorded version when the spec upgrades Kubernetes (and nothing else
# kops created the cluster with changes); dies on any other change.
upgrade_from=""
refuse_unappliable_changes() {
  local recorded changed others from step
  if ! recorded="$(recorded_cluster_inputs)"; then
    log "no record of the inputs kops was created with (${inputs_key}); recording the current ones"
    record_cluster_inputs
    return 0
  fi
  changed="$(jq -r -n --argjson old "${recorded}" --argjson new "$(cluster_inputs)" \
    '[$new | keys[] as $k | select($old[$k] != $new[$k]) | "\($k): \($old[$k] | tojson) -> \($new[$k] | tojson)"] | join("; ")')"
  others="$(jq -r -n --argjson old "${recorded}" --argjson new "$(cluster_inputs)" \
    '[$new | keys[] | select(. != "kubernetesVersion") as $k | select($old[$k] != $new[$k])] | join(", ")')"
  [[ -z "${others}" ]] ||
    die "the spec changes what kops created the cluster with (${changed});" \
      "this job applies node counts, drift and Kubernetes upgrades only." \
      "Revert those fields, or destroy and provision the fabric again, or change the cluster with kops edit/replace by hand"
  from="$(jq -r '.kubernetesVersion' <<<"${recorded}")"
  if [[ "${from}" != "${KUBERNETES_VERSION}" ]]; then
    step="$(kubernetes_upgrade_step "${from}" "${KUBERNETES_VERSION}")" || exit 1
    upgrade_from="${from}"
    log "Kubernetes ${step} upgrade: ${from} -> ${KUBERNETES_VERSION}"
  fi
}

# kops's output has no backend: the state goes to the fabric's bucket like the network's.
prepare_terraform() {
  [[ -f "${dir}/kubernetes.tf" ]] || die "kops wrote no ${dir}/kubernetes.tf"
  printf 'terraform {\n  backend "s3" {}\n}\n' >"${dir}/zz_backend.tf"
  # kops asks for hashicorp/aws ">= 5.0.0": the jobs' lock file holds it to the version they are tested with.
  cp "$(tf_provider_lock)" "${dir}/.terraform.lock.hcl"
  write_node_size_override
  write_boundary_override
  tf_emulator_overrides "${dir}" files
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    # Only against the AWS emulator: what it cannot run is left out, and said (emulator-gaps.awk).
    awk -f "${script_dir}/emulator-gaps.awk" "${dir}/kubernetes.tf" >"${dir}/zz_emulator_gaps_override.tf"
  fi
  tf_init "${dir}" "${STATE_BUCKET}" "${state_key}" "${FABRIC_REGION}"
}

kops_update_terraform() {
  # --target=terraform writes the configuration to --out; --yes also lets kops pre-create DNS and,
  # unless told not to, write a kubeconfig to ~/.kube/config, which the job has no use for: it
  # exports its own to a file of its work folder (store_kubeconfig).
  kops update cluster "${kops_common[@]}" --target=terraform "--out=${dir}" --create-kube-config=false "$@" >&2
}

# From the state, or from the events of the apply that just ran ($1).
control_plane_groups() {
  local groups
  groups="$(tf_output "${dir}" master_autoscaling_group_ids "${1:-}")" || exit 1
  jq -c 'if type == "array" then . else [] end' <<<"${groups:-[]}"
}

# kops replaces instances one at a time by default (maxUnavailable 1), validating in between with
# an admin credential it issues from the cluster CA (--admin, 18h by default), through the API of
# the exported kubeconfig: export it first.
rolling_update() {
  local group_roles="$1"
  # ValidateSpec sends only new fabrics to Lambda compute; a cluster found there anyway is rolled by
  # the next run, which runs on EC2 because this one records the fabric FAILED.
  if [[ "${BUILD_COMPUTE:-ec2}" == lambda ]]; then
    die "a rolling update (${group_roles}) can outlast Lambda compute's 15 minutes;" \
      "the cluster is applied: run the provision again, which rolls it on EC2 compute"
  fi
  KUBECONFIG="${kubeconfig_file}" kops rolling-update cluster "${kops_common[@]}" --yes --use-kubeconfig \
    "--instance-group-roles=${group_roles}" --fail-on-validate-error=true --validate-count=2 --validation-timeout=15m >&2
}

finish() {
  local secret_arn="$1" groups="$2" changes="$3" summary="$4" digest="${5:-}" rolls="${6:-[]}" result
  # Assigned first: a jq error inside the argument of write_result would not stop the script.
  result="$(jq -n -c \
    --arg action "${ACTION}" --arg cluster "${CLUSTER_NAME}" --arg api "${api_name}" --arg arn "${secret_arn}" \
    --argjson groups "${groups}" --argjson changes "${changes}" --arg summary "${summary}" \
    --arg digest "${digest}" --argjson rolls "${rolls}" \
    '{action: $action, clusterName: $cluster, apiName: $api, kubeconfigSecretArn: $arn,
      controlPlaneGroups: $groups, changes: $changes, summary: $summary, planDigest: $digest, rolls: $rolls}')"
  write_result "${result}"
  log "${ACTION} done: ${summary} ${changes}"
}

# The instance groups a rolling update would replace: those whose launch template the plan updates
# (kops names them <group>-<cluster> or, for the control plane, <group>-masters-<cluster>).
planned_rolls() {
  local suffix="${CLUSTER_NAME//./-}"
  tf_plan_json "${dir}" "${plan_file}" | jq -c --arg suffix "${suffix}" \
    '[.resource_changes[]? | select(.type == "aws_launch_template" and .change.actions == ["update"])
      | .name | sub("-(masters-)?\($suffix)$"; "")] | unique'
}

# The admin kubeconfig: written to a private file in the work dir (removed on exit), never on a
# command line, never printed. The rolling update's validation reads its endpoint; readiness later
# authenticates with its client certificate from Secrets Manager.
kubeconfig_file="${work}/kubeconfig"
export_admin_kubeconfig() {
  (
    umask 077
    kops export kubeconfig "${kops_common[@]}" --admin "--kubeconfig=${kubeconfig_file}" >&2
  )
  [[ -s "${kubeconfig_file}" ]] || die "kops export kubeconfig wrote nothing"
  log "admin kubeconfig exported for ${CLUSTER_NAME}"
}

store_kubeconfig() {
  local arn put_error="${work}/put-secret-value.err"
  # The secret exists on every provision after the first: one call, PutSecretValue answers with its ARN.
  if ! arn="$("${aws_r[@]}" secretsmanager put-secret-value --secret-id "${KUBECONFIG_SECRET_NAME}" \
    --secret-string "file://${kubeconfig_file}" --query ARN --output text 2>"${put_error}")"; then
    grep -q ResourceNotFoundException "${put_error}" ||
      die "could not store the admin kubeconfig in ${KUBECONFIG_SECRET_NAME}: $(cat "${put_error}")"
    arn="$("${aws_r[@]}" secretsmanager create-secret --name "${KUBECONFIG_SECRET_NAME}" \
      --description "Admin kubeconfig of kops cluster ${CLUSTER_NAME} (fabricctl)" \
      --tags "$(jq -c '[to_entries[] | {Key: .key, Value: .value}] + [{Key: "fabricctl:fabric", Value: $f}]' \
        --arg f "${FABRIC_NAME}" <<<"${TAGS_JSON}")" \
      --secret-string "file://${kubeconfig_file}" --query ARN --output text)"
  fi
  log "admin kubeconfig stored in Secrets Manager: ${KUBECONFIG_SECRET_NAME}"
  printf '%s\n' "${arn}"
}

create_args() {
  local labels
  labels="$(jq -r '[to_entries[] | "\(.key)=\(.value)"] | join(",")' <<<"${TAGS_JSON}")"
  create=(
    kops create cluster "${kops_common[@]}"
    --cloud=aws
    "--zones=${ZONES_CSV}"
    "--control-plane-zones=${ZONES_CSV}"
    "--network-id=${VPC_ID}"
    "--subnets=${SUBNET_IDS_CSV}"
    "--network-cidr=${NETWORK_CIDR}"
    --topology=public
    "--dns-zone=${DOMAIN}"
    "--networking=${NETWORKING}"
    "--kubernetes-version=${KUBERNETES_VERSION}"
    "--control-plane-size=${CONTROL_PLANE_SIZE}"
    "--node-size=${NODE_SIZE}"
    "--node-count=${NODE_MIN}"
    "--admin-access=${API_ACCESS}"
    "--ssh-public-key=${work}/ssh_key.pub"
  )
  if [[ -n "${labels}" ]]; then create+=("--cloud-labels=${labels}"); fi
  if [[ -n "${SSH_ACCESS}" ]]; then
    create+=("--ssh-access=${SSH_ACCESS}")
  else
    # Without --ssh-access kops copies --admin-access; an empty spec.sshAccess opens no port 22.
    create+=(--unset=spec.sshAccess)
  fi
  printf '%s\n' "${SSH_PUBLIC_KEY}" >"${work}/ssh_key.pub"
}

# Load balancers and their security groups that Kubernetes made (Services of type LoadBalancer)
# are not in Terraform's state and keep the subnets and VPC in use: delete them first.
delete_kubernetes_load_balancers() {
  local tag_key="kubernetes.io/cluster/${CLUSTER_NAME}" name arn sg attempt
  local -a names=() arns=() groups=()
  mapfile -t names < <("${aws_r[@]}" elb describe-load-balancers --query 'LoadBalancerDescriptions[].LoadBalancerName' \
    --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
  for name in "${names[@]}"; do
    if "${aws_r[@]}" elb describe-tags --load-balancer-names "${name}" --output json |
      jq -e --arg k "${tag_key}" '[.TagDescriptions[].Tags[]? | select(.Key == $k)] | length > 0' >/dev/null; then
      mapfile -t -O "${#groups[@]}" groups < <("${aws_r[@]}" elb describe-load-balancers --load-balancer-names "${name}" \
        --query 'LoadBalancerDescriptions[].SecurityGroups[]' --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
      log "deleting classic load balancer ${name} (tagged ${tag_key})"
      "${aws_r[@]}" elb delete-load-balancer --load-balancer-name "${name}"
    fi
  done
  mapfile -t arns < <("${aws_r[@]}" elbv2 describe-load-balancers --query 'LoadBalancers[].LoadBalancerArn' \
    --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
  for arn in "${arns[@]}"; do
    if "${aws_r[@]}" elbv2 describe-tags --resource-arns "${arn}" --output json |
      jq -e --arg k "${tag_key}" '[.TagDescriptions[].Tags[]? | select(.Key == $k)] | length > 0' >/dev/null; then
      mapfile -t -O "${#groups[@]}" groups < <("${aws_r[@]}" elbv2 describe-load-balancers --load-balancer-arns "${arn}" \
        --query 'LoadBalancers[].SecurityGroups[]' --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
      log "deleting load balancer ${arn} (tagged ${tag_key})"
      "${aws_r[@]}" elbv2 delete-load-balancer --load-balancer-arn "${arn}"
    fi
  done
  # The in-tree/cloud-controller ELB security groups are named k8s-elb-*; others were attached to the LBs.
  mapfile -t -O "${#groups[@]}" groups < <("${aws_r[@]}" ec2 describe-security-groups \
    --filters "Name=tag-key,Values=${tag_key}" "Name=group-name,Values=k8s-elb-*" \
    --query 'SecurityGroups[].GroupId' --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
  if ((${#groups[@]} == 0)); then
    log "no Kubernetes load balancers or their security groups for ${CLUSTER_NAME}"
    return 0
  fi
  mapfile -t groups < <(printf '%s\n' "${groups[@]}" | sort -u)
  for sg in "${groups[@]}"; do
    # Only groups Kubernetes tagged for this cluster; kops's own groups are Terraform's to destroy.
    if ! "${aws_r[@]}" ec2 describe-security-groups --group-ids "${sg}" --filters "Name=tag-key,Values=${tag_key}" \
      --query 'SecurityGroups[].GroupName' --output text 2>/dev/null | grep -q '^k8s-'; then
      continue
    fi
    log "deleting security group ${sg} (made by Kubernetes for a load balancer)"
    # ENIs of a just-deleted load balancer take a while to go: retry while the group is in use.
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      if "${aws_r[@]}" ec2 delete-security-group --group-id "${sg}" 2>"${work}/sg.err"; then break; fi
      grep -q DependencyViolation "${work}/sg.err" || { cat "${work}/sg.err" >&2; die "could not delete security group ${sg}"; }
      ((attempt < 10)) || die "security group ${sg} is still in use after ${attempt} attempts"
      sleep 15
    done
  done
}

case "${ACTION}" in
  provision)
    existed=false
    if cluster_registered; then
      existed=true
      log "cluster ${CLUSTER_NAME} is registered in ${kops_state}: updating it"
      refuse_unappliable_changes
      if [[ -n "${upgrade_from}" ]]; then
        # kops's own way to change the version without an editor; update renders it below. A re-run
        # after a failure sets it again (no change) and rolls what is left.
        kops set cluster "${kops_common[@]}" "spec.kubernetesVersion=${KUBERNETES_VERSION}" >&2
      fi
    else
      create_args
      log "creating cluster ${CLUSTER_NAME} in ${kops_state}: control plane in ${ZONES_CSV}"
      "${create[@]}" >&2
      record_cluster_inputs
    fi
    kops_update_terraform --yes
    prepare_terraform
    if [[ -n "${upgrade_from}" && -n "${APPROVED_PLAN_DIGEST:-}" ]]; then
      # The approved plan named the upgrade in its summary; its Terraform exists only after kops set
      # cluster, which a plan must not run, so there is no digest of it to hold this plan to.
      log "approved: the Kubernetes upgrade ${upgrade_from} -> ${KUBERNETES_VERSION}," \
        "which the approved plan named but could not contain; its digest is not compared"
      APPROVED_PLAN_DIGEST=""
    fi
    tf_apply_as_approved "${dir}" "${plan_file}" "${apply_events}" -lock-timeout=120s
    changes="$(tf_changes "${apply_events}")"
    # Credentials first: the rolling update validates through the API of the exported kubeconfig.
    export_admin_kubeconfig
    secret_arn="$(store_kubeconfig)"
    summary="cluster ${CLUSTER_NAME} applied"
    if [[ -n "${upgrade_from}" ]]; then
      # Kubernetes's version skew policy: the control plane moves first, then the nodes (a kubelet
      # may be older than its API server, never newer). Rolled even with no Terraform change, so a
      # re-run finishes an upgrade whose roll failed.
      log "upgrading Kubernetes ${upgrade_from} -> ${KUBERNETES_VERSION}: rolling the control plane, then the nodes"
      rolling_update control-plane
      # kops renders the nodes at the version the control plane runs (its kubelet version skew rule,
      # kops_update_cluster.md's --ignore-kubelet-version-skew): the update above left them at the old
      # one. With the control plane rolled, a second update renders them at the new one, applied
      # before they roll (as kops's own reconcile: update, roll, update, roll).
      kops_update_terraform --yes
      prepare_terraform
      tf_apply "${dir}" "${node_apply_events}" -lock-timeout=120s
      changes="$(jq -c -n --argjson a "${changes}" --argjson b "$(tf_changes "${node_apply_events}")" \
        '{add: ($a.add + $b.add), change: ($a.change + $b.change), destroy: ($a.destroy + $b.destroy)}')" || exit 1
      rolling_update node
      record_cluster_inputs
      summary="cluster ${CLUSTER_NAME} applied; Kubernetes upgraded ${upgrade_from} -> ${KUBERNETES_VERSION}"
    elif [[ "${existed}" == true && "${changes}" != "${zero_changes}" ]]; then
      log "the cluster changed (${changes}): rolling update, one instance at a time"
      rolling_update control-plane,node
    fi
    control_plane="$(control_plane_groups "${apply_events}")"
    finish "${secret_arn}" "${control_plane}" "${changes}" "${summary}"
    ;;
  plan)
    # cluster_registered asks S3 (head-object): asked once, and only when there is a VPC.
    if [[ -z "${VPC_ID}" ]]; then
      finish "" '[]' "${zero_changes}" "the cluster waits for the network: no VPC exists yet, so kops and Terraform cannot plan it"
    elif cluster_registered; then
      summary="plan of cluster ${CLUSTER_NAME}"
      if recorded="$(recorded_cluster_inputs)" && from="$(jq -r '.kubernetesVersion' <<<"${recorded}")" &&
        [[ "${from}" != "${KUBERNETES_VERSION}" ]]; then
        step="$(kubernetes_upgrade_step "${from}" "${KUBERNETES_VERSION}")" || exit 1
        # Planning writes nothing, so kops keeps the current version and the plan cannot show the new one.
        summary+="; not in this plan: the Kubernetes ${step} upgrade ${from} -> ${KUBERNETES_VERSION}"
        summary+=" (provision sets it with kops, applies and rolls the control plane, then updates, applies and rolls the nodes)"
      fi
      kops_update_terraform
      prepare_terraform
      # Read-only: no lock object is written to the state bucket.
      tf_plan "${dir}" "${plan_file}" -lock=false
      changes="$(tf_changes "${plan_file}.events")"
      control_plane="$(control_plane_groups)"
      digest="$(tf_plan_digest "${dir}" "${plan_file}")"
      rolls="$(planned_rolls)"
      finish "" "${control_plane}" "${changes}" "${summary}" "${digest}" "${rolls}"
    elif [[ -z "${SSH_PUBLIC_KEY}" ]]; then
      summary="cluster ${CLUSTER_NAME} would be created;"
      summary+=" kops validates the request once the fabric's SSH key exists (the first provision makes it)"
      finish "" '[]' "${zero_changes}" "${summary}"
    else
      create_args
      # --dry-run validates the whole request and writes nothing to the state store.
      "${create[@]}" --dry-run --output=yaml >"${work}/cluster.yaml"
      summary="cluster ${CLUSTER_NAME} would be created (kops validated the request with --dry-run);"
      summary+=" its Terraform plan is known once kops has registered it"
      finish "" '[]' "${zero_changes}" "${summary}"
    fi
    ;;
  destroy)
    delete_kubernetes_load_balancers
    changes="${zero_changes}"
    destroyed_groups='[]'
    if cluster_registered; then
      kops_update_terraform
      prepare_terraform
      destroyed_groups="$(control_plane_groups)"
      tf_apply "${dir}" "${apply_events}" -destroy -lock-timeout=120s
      changes="$(tf_changes "${apply_events}")"
      kops delete cluster "${kops_common[@]}" --yes >&2
      "${aws_r[@]}" s3api delete-object --bucket "${STATE_BUCKET}" --key "${inputs_key}" >/dev/null
    else
      log "cluster ${CLUSTER_NAME} is not registered in ${kops_state}: nothing for Terraform or kops to delete"
    fi
    if "${aws_r[@]}" secretsmanager describe-secret --secret-id "${KUBECONFIG_SECRET_NAME}" >/dev/null 2>&1; then
      "${aws_r[@]}" secretsmanager delete-secret --secret-id "${KUBECONFIG_SECRET_NAME}" --force-delete-without-recovery >/dev/null
      log "deleted secret ${KUBECONFIG_SECRET_NAME}"
    fi
    finish "" "${destroyed_groups}" "${changes}" "cluster ${CLUSTER_NAME} destroyed"
    ;;
esac
