#!/usr/bin/env bash
# One terraform init + apply of a configuration against the AWS emulator, for `npm run bench`,
# with the network job's own helpers (buildspecs/scripts/lib.sh). Prints one JSON line:
# {"initMs":n,"applyMs":n,"resources":n}
# Inputs (environment): LIB (lib.sh), SRC (directory to stage), SUB (configuration inside it),
# LOCAL_BACKEND (true: replace the S3 backend with a local one), TFVARS (JSON, optional),
# AWS_ENDPOINT_URL, TF_PLUGIN_MIRROR.
set -o errexit -o nounset -o pipefail
: "${LIB:?LIB must name buildspecs/scripts/lib.sh}"
# shellcheck source=../buildspecs/scripts/lib.sh source-path=SCRIPTDIR
source "${LIB}"
require_env SRC SUB LOCAL_BACKEND
require_bool LOCAL_BACKEND
tf_cli_config
work="$(tf_stage_dir "${SRC}")"
trap 'rm -rf "${work}"' EXIT
dir="${work}/${SUB}"
tf_emulator_overrides "${dir}"
if [[ "${LOCAL_BACKEND}" == true ]]; then tf_local_backend_override "${dir}"; fi
if [[ -n "${TFVARS:-}" ]]; then printf '%s\n' "${TFVARS}" >"${dir}/bench.auto.tfvars.json"; fi
now() { date +%s%N; }
t0="$(now)"
terraform -chdir="${dir}" init -input=false -no-color >&2
t1="$(now)"
terraform -chdir="${dir}" apply -input=false -no-color -auto-approve >&2
t2="$(now)"
count="$(terraform -chdir="${dir}" state list | wc -l)"
printf '{"initMs":%d,"applyMs":%d,"resources":%d}\n' "$(((t1 - t0) / 1000000))" "$(((t2 - t1) / 1000000))" "${count}"
