#!/usr/bin/env bash
# Shared helpers for the build job scripts. Source it; it defines functions and changes one thing:
# it puts the build's own tools folder (fabric_tools_dir, where install-tools.sh installs) first on
# PATH, so every job script runs the pinned tools and nothing outside that folder is replaced.
#
# Stable API (other scripts depend on these names and arguments):
#   fabric_tools_dir                  print the folder install-tools.sh owns (FABRICCTL_TOOLS_DIR, else $TMPDIR/fabricctl-tools)
#   log MESSAGE...                    one line on stderr, prefixed with the script name
#   die MESSAGE...                    log and exit 1
#   require_env NAME...               fail listing every unset or empty variable
#   require_one_of NAME VALUE...      fail unless $NAME equals one of the VALUEs
#   require_bool NAME                 fail unless $NAME is true or false
#   require_tags_json NAME            fail unless $NAME is a JSON object of string values
#   require_carried_tags NAME         fail, naming each, on tags kops --cloud-labels or AWS cannot carry
#   tf_cli_config                     point TF_CLI_CONFIG_FILE at a usable file (a provider mirror when there is one); GOGC for Go tools
#   tf_mirror_rc FILE MIRROR PROVIDERS  write a CLI config installing PROVIDERS from a filesystem mirror only
#   tf_provider_lock                  print the path of the jobs' dependency lock file (pins the AWS provider)
#   tf_stage_dir SRC                  copy a Terraform directory tree into a fresh work dir; prints its path
#   tf_emulator_overrides DIR [ALIAS...]  write provider settings for the AWS emulator (only when AWS_ENDPOINT_URL is set)
#   tf_local_backend_override DIR     make DIR use a local backend (plan without a state bucket)
#   tf_init DIR BUCKET KEY REGION     terraform init with the S3 backend (lockfile, encryption, emulator args)
#   tf_init_local DIR                 terraform init with the local backend
#   tf_plan DIR PLANFILE [ARG...]     terraform plan -out=PLANFILE; its events in PLANFILE.events, its messages on stderr
#   tf_apply DIR EVENTS [ARG...]      terraform apply -auto-approve; its events in EVENTS, its messages on stderr
#   tf_last_event EVENTS TYPE         print the last event of TYPE in EVENTS (dies when there is none)
#   tf_changes EVENTS                 print {"add":n,"change":n,"destroy":n}: Terraform's change summary in EVENTS
#   tf_plan_json DIR PLANFILE         print `terraform show -json` of a saved plan (run once per plan)
#   tf_plan_digest DIR PLANFILE       print the SHA-256 of what a saved plan would do
#   require_approved_plan DIR PLANFILE  die unless the plan is the one approved (APPROVED_PLAN_DIGEST)
#   tf_apply_as_approved DIR PLANFILE EVENTS [ARG...]  apply; with APPROVED_PLAN_DIGEST set, only the approved plan
#   tf_output DIR NAME [EVENTS]       an output of the current state ('' before it exists; dies if unreadable),
#                                     read from the events of the tf_apply that just ran when given
#   write_result JSON                 write the job's result where the buildspec exports it from
#   result_file                       print that path
#   clear_result                      remove a stale result before a job starts

if [[ -n "${FABRIC_LIB_LOADED:-}" ]]; then return 0; fi
FABRIC_LIB_LOADED=1

# A folder of the build's own: CodeBuild gives each build its own container (and the local CodeBuild
# stand-in its own TMPDIR), so nothing a user installed (e.g. /usr/local/bin/terraform) is touched.
fabric_tools_dir() {
  printf '%s\n' "${FABRICCTL_TOOLS_DIR:-${TMPDIR:-/tmp}/fabricctl-tools}"
}
PATH="$(fabric_tools_dir)/bin:${PATH}"
export PATH

log() {
  printf '[%s] %s\n' "$(basename "${0}")" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

require_env() {
  local name
  local -a missing=()
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then missing+=("${name}"); fi
  done
  if ((${#missing[@]} > 0)); then
    die "missing required environment variable(s): ${missing[*]}"
  fi
}

require_one_of() {
  local name="$1"
  shift
  local value="${!name:-}" allowed
  for allowed in "$@"; do
    if [[ "${value}" == "${allowed}" ]]; then return 0; fi
  done
  die "${name} must be one of: $*; got '${value}'"
}

require_bool() {
  require_one_of "$1" true false
}

require_tags_json() {
  local name="$1"
  jq -e 'type == "object" and all(.[]; type == "string")' >/dev/null 2>&1 <<<"${!name:-}" ||
    die "${name} must be a JSON object of string values; got '${!name:-}'"
}

# The tag rules of lib/domain/spec.ts (TAG_CHARACTER_CLASS, MAX_TAGS, the reserved keys): what
# kops's --cloud-labels key=value,key=value and AWS's tags (IAM, ELB, Secrets Manager) cannot carry.
# ValidateSpec refuses all of it first; this keeps a job started by hand from failing after the
# network exists. Not for destroy: a fabric recorded under older rules must still be destroyable.
FABRIC_TAG_CHARACTERS='\p{L}\p{Z}\p{N}_.:/+@-'
FABRIC_MAX_TAGS=40

require_carried_tags() {
  local name="$1" problems
  problems="$(jq -r --arg chars "${FABRIC_TAG_CHARACTERS}" --argjson max "${FABRIC_MAX_TAGS}" '
    if type != "object" then error("not an object") else . end
    | def lower: ascii_downcase;
    def carried: test("^[" + $chars + "]*$") and (test("^\\p{Z}") | not);
    def reserved:
      lower as $k
      | ($k == "name" or $k == "kubernetescluster"
        or any("aws:", "fabricctl:", "kubernetes.io/", "k8s.io/", "kops.k8s.io/", "aws-node-termination-handler/";
          . as $p | $k | startswith($p)));
    [
      (to_entries[]
        | (select(.key == "__proto__" or (.key | length) < 1 or (.key | length) > 128 or (.key | carried | not) or (.key | reserved))
            | "key \(.key | tojson) (1 to 128 letters, digits, spaces or _ . : / + - @; not reserved)"),
          (select((.value | length) > 256 or (.value | carried | not) or (.value | lower | startswith("aws:")))
            | "value of \(.key | tojson) (0 to 256 letters, digits, spaces or _ . : / + - @; not aws:...)")),
      (keys | group_by(lower)[] | select(length > 1) | "keys \(join(" and ")) (they differ only in case)"),
      (select(length > $max) | "\(length) tags (at most \($max))")
    ] | join("; ")' <<<"${!name}")" || die "${name} must be a JSON object of string values; got '${!name:-}'"
  [[ -z "${problems}" ]] || die "${name} holds tags kops or AWS cannot carry: ${problems}"
}

# The network's root configuration and kops's output both take the AWS provider this lock file pins
# (version and HashiCorp's checksums): the cluster job copies it next to kops's output.
tf_provider_lock() {
  printf '%s/.terraform.lock.hcl\n' "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../terraform/fabric-network" && pwd)"
}

# tf_mirror_rc FILE MIRROR PROVIDERS: write a Terraform CLI config that installs PROVIDERS (an
# address pattern such as registry.terraform.io/*/*) from the filesystem mirror MIRROR only; any
# other provider comes from its registry.
tf_mirror_rc() {
  local file="$1" mirror="$2" providers="$3"
  cat >"${file}" <<RC
provider_installation {
  filesystem_mirror {
    path    = "${mirror}"
    include = ["${providers}"]
  }
  direct {
    exclude = ["${providers}"]
  }
}
RC
}

# The environment may name a CLI config file that does not exist (Terraform then warns on every
# command). With TF_PLUGIN_MIRROR set, providers come from that filesystem mirror only (offline);
# else the AWS provider comes from the tools folder's mirror when install-tools.sh put it there.
tf_cli_config() {
  local dir mirror="" providers="" tools_mirror
  tools_mirror="$(fabric_tools_dir)/providers"
  if [[ -n "${TF_PLUGIN_MIRROR:-}" ]]; then
    [[ -d "${TF_PLUGIN_MIRROR}/registry.terraform.io" ]] ||
      die "TF_PLUGIN_MIRROR=${TF_PLUGIN_MIRROR} holds no registry.terraform.io/ folder"
    mirror="${TF_PLUGIN_MIRROR}" providers='registry.terraform.io/*/*'
  elif [[ -d "${tools_mirror}/registry.terraform.io" ]]; then
    mirror="${tools_mirror}" providers=registry.terraform.io/hashicorp/aws
  fi
  if [[ -n "${mirror}" ]]; then
    dir="$(mktemp -d)"
    tf_mirror_rc "${dir}/terraform.rc" "${mirror}" "${providers}"
    export TF_CLI_CONFIG_FILE="${dir}/terraform.rc"
  elif [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "${TF_CLI_CONFIG_FILE}" ]]; then
    export TF_CLI_CONFIG_FILE=/dev/null
  fi
  export TF_IN_AUTOMATION=1 TF_INPUT=0
  # Terraform and the AWS provider are Go programs that build and decode the provider's 13.6 MB
  # schema in every plan and apply; with Go's default GOGC=100 a quarter of their CPU goes to the
  # garbage collector. At 400 the cluster job's Terraform took 23 % less CPU (63.7 -> 49.2 s, its
  # test suite) and its largest process 535 MB instead of 325 MB: well within a build's 3 GB.
  export GOGC="${GOGC:-400}"
}

# Terraform writes .terraform/ and override files next to the configuration: work on a copy so
# the source tree stays clean and concurrent jobs never share a working directory.
tf_stage_dir() {
  local src="$1" work
  [[ -d "${src}" ]] || die "no Terraform directory at ${src}"
  work="$(mktemp -d)"
  cp -R "${src}/." "${work}/"
  rm -rf "${work}/.terraform" "${work}"/*.tfstate "${work}"/*.tfstate.backup
  printf '%s\n' "${work}"
}

# Settings the AWS emulator needs and real AWS must never get: written only when AWS_ENDPOINT_URL
# is set, as an override file, so the committed configuration stays the production one.
# Extra arguments are provider aliases (e.g. kops's "files") that need the same settings.
tf_emulator_overrides() {
  local dir="$1" alias_name
  shift
  [[ -n "${AWS_ENDPOINT_URL:-}" ]] || return 0
  {
    printf '# Generated for the AWS emulator at %s; never committed.\n' "${AWS_ENDPOINT_URL}"
    emulator_provider_block ""
    for alias_name in "$@"; do emulator_provider_block "${alias_name}"; done
  } >"${dir}/zz_emulator_override.tf"
  log "AWS emulator at ${AWS_ENDPOINT_URL}: provider settings in ${dir}/zz_emulator_override.tf"
}

emulator_provider_block() {
  local alias_name="$1"
  printf 'provider "aws" {\n'
  if [[ -n "${alias_name}" ]]; then printf '  alias                       = "%s"\n' "${alias_name}"; fi
  printf '  s3_use_path_style           = true\n'
  printf '  skip_credentials_validation = true\n'
  printf '  skip_requesting_account_id  = true\n'
  printf '  skip_metadata_api_check     = true\n'
  printf '  skip_region_validation      = true\n'
  printf '}\n'
}

tf_local_backend_override() {
  local dir="$1"
  cat >"${dir}/zz_backend_override.tf" <<'TF'
# Generated: plan without a state bucket keeps its (empty) state on local disk.
terraform {
  backend "local" {}
}
TF
}

tf_init() {
  local dir="$1" bucket="$2" key="$3" region="$4"
  local -a args=(
    -input=false
    -no-color
    -reconfigure
    "-backend-config=bucket=${bucket}"
    "-backend-config=key=${key}"
    "-backend-config=region=${region}"
    "-backend-config=use_lockfile=true"
    "-backend-config=encrypt=true"
  )
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    args+=(
      "-backend-config=use_path_style=true"
      "-backend-config=skip_s3_checksum=true"
      "-backend-config=skip_credentials_validation=true"
      "-backend-config=skip_requesting_account_id=true"
      "-backend-config=skip_metadata_api_check=true"
      "-backend-config=skip_region_validation=true"
      "-backend-config=endpoints={s3=\"${AWS_ENDPOINT_URL}\",sts=\"${AWS_ENDPOINT_URL}\",iam=\"${AWS_ENDPOINT_URL}\"}"
    )
  fi
  log "terraform init: s3://${bucket}/${key} (${region})"
  terraform -chdir="${dir}" init "${args[@]}" >&2
}

tf_init_local() {
  local dir="$1"
  tf_local_backend_override "${dir}"
  log "terraform init: local backend (no state bucket yet)"
  terraform -chdir="${dir}" init -input=false -no-color -reconfigure >&2
}

# Every plan, apply and show loads the AWS provider's schema (about 2 CPU-seconds each): the jobs
# read plans and applies through Terraform's machine-readable UI (-json), which carries the change
# summary and the outputs, instead of running `terraform show` or `output` for them. The log gets
# Terraform's own messages from it: each planned and applied change with its progress, the
# summary, diagnostics with their detail.
tf_json() {
  local dir="$1" events="$2" command="$3"
  shift 3
  # Streamed, so a watched log shows each change while Terraform makes it.
  if ! terraform -chdir="${dir}" "${command}" -json -input=false "$@" | tee "${events}" |
    jq --unbuffered -r 'select(.type | IN("planned_change", "resource_drift", "apply_start", "apply_progress",
        "apply_complete", "apply_errored", "change_summary", "diagnostic"))
      | ."@message", (.diagnostic.detail // empty | "  " + .)' >&2; then
    die "terraform ${command} failed (errors above)"
  fi
}

tf_plan() {
  local dir="$1" plan="$2"
  shift 2
  # The JSON kept beside an earlier plan of this file (tf_plan_json) would describe that plan.
  rm -f "${plan}.json"
  tf_json "${dir}" "${plan}.events" plan "$@" "-out=${plan}"
}

# A plan file as the last argument applies that plan; without one, Terraform plans and applies in
# one process (one schema load), for runs with no approved plan to hold the apply to.
tf_apply() {
  local dir="$1" events="$2"
  shift 2
  tf_json "${dir}" "${events}" apply -auto-approve "$@"
}

# A plan or apply reports its summary and outputs as events; a run that stopped before them has none.
tf_last_event() {
  local events="$1" type="$2"
  jq -s -c -e --arg type "${type}" 'map(select(.type == $type)) | last // error("none")' "${events}" ||
    die "Terraform reported no ${type} event in ${events}"
}

# Terraform's own change summary (its "Plan: X to add, Y to change, Z to destroy" line, or the
# "Apply complete!" one): a replacement counts once to add and once to destroy.
tf_changes() {
  tf_last_event "$1" change_summary | jq -c '.changes | {add, change, destroy: .remove}'
}

# The saved plan as JSON: read once, kept beside the plan for the digest and the planned values.
tf_plan_json() {
  local dir="$1" plan="$2"
  if [[ ! -s "${plan}.json" ]]; then
    terraform -chdir="${dir}" show -json "${plan}" >"${plan}.json.part" || die "terraform show of ${plan} failed"
    mv "${plan}.json.part" "${plan}.json"
  fi
  cat "${plan}.json"
}

# tf_plan_digest DIR PLANFILE: SHA-256 of the plan's actions (address, actions, values after) in
# address order. Two plans of one configuration against one state and cloud give the same digest;
# any change in between (state, cloud, configuration) gives another.
tf_plan_digest() {
  local dir="$1" plan="$2"
  tf_plan_json "${dir}" "${plan}" |
    jq -c -S '[.resource_changes[]? | select(.change.actions != ["no-op"])
      | {address, actions: .change.actions, after: .change.after}] | sort_by(.address)' |
    sha256sum | cut -c1-64
}

# require_approved_plan DIR PLANFILE: with APPROVED_PLAN_DIGEST set (a run that stopped for approval),
# the plan about to be applied must be the plan that was approved.
require_approved_plan() {
  local dir="$1" plan="$2" digest
  [[ -n "${APPROVED_PLAN_DIGEST:-}" ]] || return 0
  digest="$(tf_plan_digest "${dir}" "${plan}")"
  [[ "${digest}" == "${APPROVED_PLAN_DIGEST}" ]] ||
    die "PlanChanged: the plan differs from the approved one (approved ${APPROVED_PLAN_DIGEST}, now ${digest});" \
      "something changed the state or the cloud since the approval." \
      "Nothing was applied: run the provision again and approve the new plan"
  log "the plan is the approved one (${digest})"
}

# With an approval (APPROVED_PLAN_DIGEST) the saved plan is held to its digest before it is applied;
# without one Terraform plans and applies in one process.
tf_apply_as_approved() {
  local dir="$1" plan="$2" events="$3"
  shift 3
  if [[ -n "${APPROVED_PLAN_DIGEST:-}" ]]; then
    tf_plan "${dir}" "${plan}" "$@"
    require_approved_plan "${dir}" "${plan}"
    tf_apply "${dir}" "${events}" "${plan}"
  else
    tf_apply "${dir}" "${events}" "$@"
  fi
}

# tf_output DIR NAME [EVENTS]: output NAME of the state DIR is initialised for, as JSON text (a
# string output raw); nothing when the state has no such output yet. A state that cannot be read
# (access denied, no network) stops the job: an empty value would pass for "not created yet".
# With EVENTS (tf_apply's), the value comes from the apply's last "outputs" event, which holds every
# output's value: no Terraform process is started for it.
tf_output() {
  local dir="$1" name="$2" events="${3:-}" outputs
  if [[ -n "${events}" ]]; then
    outputs="$(tf_last_event "${events}" outputs | jq -c '.outputs')" || exit 1
  else
    outputs="$(terraform -chdir="${dir}" output -no-color -json)" ||
      die "could not read the Terraform state's outputs in ${dir} (see the error above)"
  fi
  jq -r --arg name "${name}" '.[$name].value // empty | if type == "string" then . else tojson end' <<<"${outputs}"
}

result_file() {
  printf '%s/fabric-result.json\n' "${TMPDIR:-/tmp}"
}

write_result() {
  local json="$1" file
  file="$(result_file)"
  printf '%s\n' "${json}" | jq -e -c . >"${file}" || die "result is not JSON: ${json}"
  log "result written to ${file}"
}

clear_result() {
  rm -f "$(result_file)"
}
