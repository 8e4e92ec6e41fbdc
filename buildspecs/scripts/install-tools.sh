#!/usr/bin/env bash
# Installs the pinned build tools (versions and SHA-256 in buildspecs/tools.env).
# Usage: install-tools.sh [terraform] [kops] [aws-provider]   (no argument: all three)
#   aws-provider: Terraform's AWS provider for linux_amd64, unpacked into the tools folder's provider
#   mirror (providers/), which lib.sh's tf_cli_config then gives Terraform. It is pinned by the jobs'
#   dependency lock file (terraform/fabric-network/.terraform.lock.hcl), and Terraform itself checks
#   every package against it. Needs terraform first; with TF_PLUGIN_MIRROR set, or in a local build
#   (TERRAFORM_ACCEPT_INSTALLED=true), Terraform installs it itself and there is nothing to do.
# A tool already on PATH at the pinned version is used as it is; otherwise it is downloaded and
# verified with sha256sum before it is installed. Without a pinned checksum nothing is downloaded.
# It writes only into its own folder (fabric_tools_dir in lib.sh: FABRICCTL_TOOLS_DIR, else
# $TMPDIR/fabricctl-tools), never over a tool someone else installed (/usr/local/bin/terraform);
# the job scripts find it there because sourcing lib.sh puts its bin/ first on PATH.
# Environment:
#   KOPS_SHA256 (optional): kops's checksum as the stack gives it to the cluster job (context key
#     fabricctl:kopsSha256); it wins over tools.env and must be 64 lowercase hex characters.
#   TERRAFORM_ACCEPT_INSTALLED (optional, true|false): true uses a terraform on PATH at
#     TERRAFORM_MIN_VERSION or newer as it is (local mode: your own terraform, on any platform).
#   TOOLS_CACHE_URI (optional): an S3 folder (s3://bucket/prefix) of downloads named by their pinned
#     SHA-256. A download is taken from there when it is there, else from its release page and then
#     copied there. Either way it is checked against its pin: a cached copy that is not the pinned
#     file is not used. The AWS provider's zip is named by its pinned package hash (h1, in hex).
#   TERRAFORM_LOCK_FILE (optional): the lock file the AWS provider is checked against (default: the
#     jobs' own, see lib.sh tf_provider_lock).
set -o errexit -o nounset -o pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "${script_dir}/lib.sh"
tools_env="${TOOLS_ENV:-${script_dir}/../tools.env}"
# shellcheck source=../tools.env source-path=SCRIPTDIR
source "${tools_env}"

require_env TERRAFORM_VERSION TERRAFORM_MIN_VERSION TERRAFORM_SHA256_LINUX_AMD64 KOPS_VERSION KOPS_SHA256_LINUX_AMD64 \
  TERRAFORM_AWS_PROVIDER_VERSION TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64
TERRAFORM_ACCEPT_INSTALLED="${TERRAFORM_ACCEPT_INSTALLED:-false}"
require_bool TERRAFORM_ACCEPT_INSTALLED

tools_dir="$(fabric_tools_dir)"
bin_dir="${tools_dir}/bin"
# Refuse a folder someone else made (or a link to one), before writing anything: it is not ours.
if [[ -L "${tools_dir}" ]] || [[ -e "${tools_dir}" && ! -O "${tools_dir}" ]]; then
  die "${tools_dir} is a link or belongs to another user; set FABRICCTL_TOOLS_DIR to a folder of your own"
fi
mkdir -p "${bin_dir}"
# Downloads are unpacked in a scratch folder inside the tools folder, removed however the script ends.
scratch=""
remove_scratch() {
  if [[ -n "${scratch}" ]]; then rm -rf "${scratch}"; fi
  scratch=""
}
new_scratch() {
  remove_scratch
  scratch="$(mktemp -d "${tools_dir}/download.XXXXXX")"
}
trap remove_scratch EXIT

# kops's checksum is configuration of the deployed stack, not of this repository: the cluster job
# receives it as KOPS_SHA256. tools.env's value is the fallback for running this script by hand.
kops_sha_url="https://github.com/kubernetes/kops/releases/download/v${KOPS_VERSION}/kops-linux-amd64.sha256"
if [[ -n "${KOPS_SHA256+set}" ]]; then
  [[ "${KOPS_SHA256}" =~ ^[0-9a-f]{64}$ ]] ||
    die "KOPS_SHA256 must be the 64 lowercase hex characters of kops ${KOPS_VERSION}'s SHA-256 (${kops_sha_url}); got '${KOPS_SHA256}'"
  KOPS_SHA256_LINUX_AMD64="${KOPS_SHA256}"
  log "kops checksum from KOPS_SHA256 (the stack's fabricctl:kopsSha256), not ${tools_env}"
fi

tools=("$@")
if ((${#tools[@]} == 0)); then tools=(terraform kops aws-provider); fi
for tool in "${tools[@]}"; do
  case "${tool}" in
    terraform | kops | aws-provider) ;;
    *) die "unknown tool '${tool}'; this script installs: terraform kops aws-provider" ;;
  esac
done

installed_version() {
  local tool="$1"
  command -v "${tool}" >/dev/null || return 0
  case "${tool}" in
    terraform) terraform version -json 2>/dev/null | jq -r '.terraform_version // empty' || true ;;
    kops) kops version --short 2>/dev/null | sed -e 's/^v//' || true ;;
  esac
}

# version_at_least HAVE WANT: true when dotted version HAVE >= WANT (a suffix such as -beta1 is ignored).
version_at_least() {
  local -a have want
  local i h w
  IFS=. read -r -a have <<<"${1%%-*}"
  IFS=. read -r -a want <<<"${2%%-*}"
  for i in 0 1 2; do
    h="${have[i]:-0}"
    w="${want[i]:-0}"
    [[ "${h}" =~ ^[0-9]+$ && "${w}" =~ ^[0-9]+$ ]] || return 1
    if ((10#${h} != 10#${w})); then
      ((10#${h} > 10#${w}))
      return
    fi
  done
}

# verified SHA256 FILE: true when FILE is the pinned download.
verified() {
  printf '%s  %s\n' "$1" "$2" | sha256sum --check --strict --quiet - 2>/dev/null
}

# fetch URL FILE CACHE_NAME CHECK...: FILE is a download that passes `CHECK... FILE`; returns 1, leaving
# no FILE, when the one from URL does not. With TOOLS_CACHE_URI, the cached copy (CACHE_NAME) comes
# first, and a checked download from URL is copied there for the next build (in-region S3 instead of
# the release page). A cached copy that fails CHECK is not used.
fetch() {
  local url="$1" file="$2" name="$3" platform cached=""
  shift 3
  # Only downloads need the platform: a tool already on PATH runs wherever it was built for.
  platform="$(uname -s)-$(uname -m)"
  [[ "${platform}" == Linux-x86_64 ]] || die "only linux amd64 checksums are pinned, this machine is ${platform}:" \
    "put terraform ${TERRAFORM_MIN_VERSION} or newer on PATH and set TERRAFORM_ACCEPT_INSTALLED=true"
  # The cache is in the fabric region's state bucket (FABRIC_REGION), not the stack's region.
  local -a copy=(aws ${FABRIC_REGION:+--region "${FABRIC_REGION}"} s3 cp --only-show-errors)
  if [[ -n "${TOOLS_CACHE_URI:-}" ]]; then
    cached="${TOOLS_CACHE_URI%/}/${name}"
    if "${copy[@]}" "${cached}" "${file}" 2>/dev/null; then
      if "$@" "${file}"; then
        log "${url}: the copy in ${cached} is the pinned file; not downloading"
        return 0
      fi
      log "${cached} is not the pinned file; downloading ${url} instead"
      rm -f "${file}"
    fi
  fi
  log "downloading ${url}"
  # Called as `fetch ... || die`, so errexit does not apply in here: a failed download stops the job itself.
  curl --fail --silent --show-error --location --retry 3 --output "${file}" "${url}" ||
    die "could not download ${url} (curl's error above)"
  if ! "$@" "${file}"; then
    rm -f "${file}"
    return 1
  fi
  if [[ -n "${cached}" ]]; then
    # The cache only saves time: a copy that fails is reported, and the build goes on.
    if "${copy[@]}" "${file}" "${cached}"; then
      log "copied to ${cached} for the next build"
    else
      log "could not copy ${url} to ${cached} (above); the next build downloads it again"
    fi
  fi
}

# download URL SHA256 FILE HOW_TO_PIN: fetch a file pinned by its SHA-256, cached under that SHA-256.
download() {
  local url="$1" sha="$2" file="$3" how_to_pin="$4"
  [[ "${sha}" =~ ^[0-9a-f]{64}$ ]] || die "no SHA-256 pinned for ${url} (got '${sha}'); refusing to download. ${how_to_pin}"
  fetch "${url}" "${file}" "${sha}" verified "${sha}" || die "SHA-256 of ${url} is not the pinned ${sha}"
}

install_terraform() {
  new_scratch
  local work="${scratch}" release="https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}"
  download "${release}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip" \
    "${TERRAFORM_SHA256_LINUX_AMD64}" "${work}/terraform.zip" \
    "Pin TERRAFORM_SHA256_LINUX_AMD64 in ${tools_env} from ${release}/terraform_${TERRAFORM_VERSION}_SHA256SUMS"
  command -v unzip >/dev/null || die "unzip is needed to unpack terraform"
  unzip -q -o "${work}/terraform.zip" terraform -d "${work}"
  install -m 0755 "${work}/terraform" "${bin_dir}/terraform"
  remove_scratch
}

install_kops() {
  new_scratch
  local work="${scratch}"
  download "https://github.com/kubernetes/kops/releases/download/v${KOPS_VERSION}/kops-linux-amd64" \
    "${KOPS_SHA256_LINUX_AMD64}" "${work}/kops" \
    "Give the cluster job kops's checksum: deploy with -c fabricctl:kopsSha256=<the value in ${kops_sha_url}> (it arrives as KOPS_SHA256)"
  install -m 0755 "${work}/kops" "${bin_dir}/kops"
  remove_scratch
}

# The provider's package inside a mirror, in Terraform's unpacked layout.
provider_package="registry.terraform.io/hashicorp/aws/${TERRAFORM_AWS_PROVIDER_VERSION}/linux_amd64"

# provider_mirror_locked MIRROR: true when Terraform installs the AWS provider from MIRROR and finds
# it to be the package the lock file pins (its own checksum verification, in a scratch root).
provider_mirror_locked() {
  local mirror="$1" check status=0
  check="$(mktemp -d "${tools_dir}/check.XXXXXX")"
  cp "${provider_lock}" "${check}/.terraform.lock.hcl"
  printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n' >"${check}/main.tf"
  tf_mirror_rc "${check}/terraform.rc" "${mirror}" registry.terraform.io/hashicorp/aws
  TF_CLI_CONFIG_FILE="${check}/terraform.rc" terraform -chdir="${check}" init -backend=false -input=false -no-color \
    >"${check}/init.log" 2>&1 || status=$?
  if ((status != 0)); then sed -n '/Error/,$p' "${check}/init.log" >&2; fi
  rm -rf "${check}"
  return "${status}"
}

# provider_zip_locked ZIP: unpacks ZIP as the provider's package of a scratch mirror and checks it.
provider_zip_locked() {
  rm -rf "${scratch}/mirror"
  mkdir -p "${scratch}/mirror/${provider_package}"
  unzip -q -o "$1" -d "${scratch}/mirror/${provider_package}" && provider_mirror_locked "${scratch}/mirror"
}

install_aws_provider() {
  local version="${TERRAFORM_AWS_PROVIDER_VERSION}" h1="${TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64}" key
  local zip="terraform-provider-aws_${TERRAFORM_AWS_PROVIDER_VERSION}_linux_amd64.zip"
  local installed="${tools_dir}/providers/${provider_package}"
  provider_lock="${TERRAFORM_LOCK_FILE:-$(tf_provider_lock)}"
  if [[ -n "${TF_PLUGIN_MIRROR:-}" ]]; then
    log "aws-provider: Terraform takes it from TF_PLUGIN_MIRROR=${TF_PLUGIN_MIRROR}; nothing to install"
    return 0
  fi
  # Local builds keep needing neither curl nor unzip: Terraform fetches the provider from its
  # registry as it always did, and checks it against the same lock file.
  if [[ "${TERRAFORM_ACCEPT_INSTALLED}" == true ]]; then
    log "aws-provider: a local build (TERRAFORM_ACCEPT_INSTALLED=true); Terraform installs it from its registry"
    return 0
  fi
  command -v terraform >/dev/null || die "aws-provider: terraform checks it against ${provider_lock}; install terraform first"
  [[ -f "${provider_lock}" ]] || die "aws-provider: no lock file at ${provider_lock}"
  grep -qF "\"${h1}\"" "${provider_lock}" ||
    die "aws-provider: ${provider_lock} does not pin ${h1} (TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64 in ${tools_env})"
  if [[ -d "${installed}" ]] && provider_mirror_locked "${tools_dir}/providers"; then
    log "aws-provider: hashicorp/aws ${version} is already in ${tools_dir}/providers; not downloading"
    return 0
  fi
  # The cache names it by the pinned package hash (base64 in the lock file) written in hex.
  key="$(base64 -d <<<"${h1#h1:}" | od -An -v -tx1 | tr -d ' \n')"
  [[ "${key}" =~ ^[0-9a-f]{64}$ ]] || die "TERRAFORM_AWS_PROVIDER_H1_LINUX_AMD64 is not an h1: SHA-256 (got '${h1}')"
  new_scratch
  fetch "https://releases.hashicorp.com/terraform-provider-aws/${version}/${zip}" "${scratch}/${zip}" "${key}" provider_zip_locked ||
    die "aws-provider: ${zip} from releases.hashicorp.com is not the package ${provider_lock} pins"
  rm -rf "${installed}"
  mkdir -p "$(dirname "${installed}")"
  mv "${scratch}/mirror/${provider_package}" "${installed}"
  remove_scratch
  log "aws-provider: hashicorp/aws ${version} installed in ${tools_dir}/providers, as ${provider_lock} pins it"
}

for tool in "${tools[@]}"; do
  case "${tool}" in
    terraform) pinned="${TERRAFORM_VERSION}" ;;
    kops) pinned="${KOPS_VERSION}" ;;
    aws-provider)
      install_aws_provider
      continue
      ;;
  esac
  found="$(installed_version "${tool}")"
  if [[ "${found}" == "${pinned}" ]]; then
    log "${tool} ${pinned} is already on PATH ($(command -v "${tool}")); not downloading"
    continue
  fi
  if [[ "${tool}" == terraform && "${TERRAFORM_ACCEPT_INSTALLED}" == true && -n "${found}" ]] &&
    version_at_least "${found}" "${TERRAFORM_MIN_VERSION}"; then
    log "terraform ${found} on PATH ($(command -v terraform)) is ${TERRAFORM_MIN_VERSION} or newer" \
      "and TERRAFORM_ACCEPT_INSTALLED=true; using it, not the pinned ${pinned}"
    continue
  fi
  log "${tool}: want ${pinned}, found '${found:-none}'; installing into ${bin_dir}"
  "install_${tool}"
  found="$(installed_version "${tool}")"
  [[ "${found}" == "${pinned}" ]] || die "${tool} on PATH reports '${found}' after installing ${pinned} into ${bin_dir}"
  log "${tool} ${pinned} installed"
done
