#!/usr/bin/env bash
# The network job: Terraform of terraform/fabric-network (module terraform/network) with its state
# in the fabric's state bucket. Writes the NetworkJobResult JSON that buildspecs/network.yml exports
# as FABRIC_RESULT.
#
# Inputs (environment): ACTION (provision|plan|destroy), FABRIC_NAME, CLUSTER_NAME, FABRIC_REGION,
# STATE_BUCKET, NETWORK_CIDR, ZONES_CSV, TAGS_JSON, NETWORK_STATE_KEY (the state's key, from
# lib/domain/naming.ts); STATE_BUCKET_EXISTS (true|false) for plan.
set -o errexit -o nounset -o pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "${script_dir}/lib.sh"

require_env ACTION FABRIC_NAME CLUSTER_NAME FABRIC_REGION STATE_BUCKET NETWORK_CIDR ZONES_CSV TAGS_JSON NETWORK_STATE_KEY
require_one_of ACTION provision plan destroy
if [[ "${ACTION}" == plan ]]; then
  require_env STATE_BUCKET_EXISTS
  require_bool STATE_BUCKET_EXISTS
fi
require_tags_json TAGS_JSON
if [[ "${ACTION}" != destroy ]]; then require_carried_tags TAGS_JSON; fi
[[ "${ZONES_CSV}" =~ ^[a-z0-9-]+(,[a-z0-9-]+)*$ ]] ||
  die "ZONES_CSV must be comma-separated zone names such as us-east-2a,us-east-2b; got '${ZONES_CSV}'"
command -v terraform >/dev/null || die "terraform is not on PATH (run buildspecs/scripts/install-tools.sh)"

clear_result
tf_cli_config

work="$(tf_stage_dir "${script_dir}/../../terraform")"
trap 'rm -rf "${work}"' EXIT
dir="${work}/fabric-network"
tf_emulator_overrides "${dir}"

jq -n \
  --arg region "${FABRIC_REGION}" \
  --arg name "${FABRIC_NAME}" \
  --arg cluster_name "${CLUSTER_NAME}" \
  --arg cidr "${NETWORK_CIDR}" \
  --arg zones "${ZONES_CSV}" \
  --argjson tags "${TAGS_JSON}" \
  '{region: $region, name: $name, cluster_name: $cluster_name, cidr: $cidr, zones: ($zones | split(",")), tags: $tags}' \
  >"${dir}/fabric.auto.tfvars.json"

state_key="${NETWORK_STATE_KEY}"
plan_file="${work}/network.tfplan"
apply_events="${work}/network-apply.events"

# What the job reports when no value is known (plan before the first apply, destroy of nothing).
unknown_result="$(jq -n -c --arg cidr "${NETWORK_CIDR}" --arg zones "${ZONES_CSV}" \
  '{vpcId: "", vpcCidr: $cidr, zones: ($zones | split(",")), subnetIds: {}, subnetIdsCsv: "", securityGroupId: ""}')"

# From the state, or from the events of the apply that just ran ($1).
current_outputs() {
  local value
  value="$(tf_output "${dir}" fabric_result "${1:-}")" || exit 1
  printf '%s\n' "${value:-${unknown_result}}"
}

finish() {
  local outputs="$1" changes="$2" digest="${3:-}" result
  # Assigned first: a jq error inside the argument of write_result would not stop the script.
  result="$(jq -n -c --arg action "${ACTION}" --argjson outputs "${outputs}" --argjson changes "${changes}" --arg digest "${digest}" \
    '$outputs + {action: $action, changes: $changes, planDigest: $digest}')"
  write_result "${result}"
  log "${ACTION} done: ${changes}"
}

case "${ACTION}" in
  provision)
    tf_init "${dir}" "${STATE_BUCKET}" "${state_key}" "${FABRIC_REGION}"
    tf_apply_as_approved "${dir}" "${plan_file}" "${apply_events}" -lock-timeout=120s
    changes="$(tf_changes "${apply_events}")"
    outputs="$(current_outputs "${apply_events}")"
    finish "${outputs}" "${changes}"
    ;;
  plan)
    if [[ "${STATE_BUCKET_EXISTS}" == true ]]; then
      tf_init "${dir}" "${STATE_BUCKET}" "${state_key}" "${FABRIC_REGION}"
    else
      tf_init_local "${dir}"
    fi
    # Read-only: no lock, so not even a lock object is written to the state bucket.
    tf_plan "${dir}" "${plan_file}" -lock=false
    changes="$(tf_changes "${plan_file}.events")"
    # fabric_result is a jsonencode()d string, as tf_output reads it: decoded here the same way.
    planned="$(tf_plan_json "${dir}" "${plan_file}" |
      jq -c '.planned_values.outputs.fabric_result.value // empty | if type == "string" then fromjson else . end')"
    digest="$(tf_plan_digest "${dir}" "${plan_file}")"
    finish "${planned:-${unknown_result}}" "${changes}" "${digest}"
    ;;
  destroy)
    tf_init "${dir}" "${STATE_BUCKET}" "${state_key}" "${FABRIC_REGION}"
    before="$(current_outputs)"
    tf_apply "${dir}" "${apply_events}" -destroy -lock-timeout=120s
    changes="$(tf_changes "${apply_events}")"
    finish "${before}" "${changes}"
    ;;
esac
