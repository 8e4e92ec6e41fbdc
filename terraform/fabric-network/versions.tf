terraform {
  required_version = ">= 1.10"

  # .terraform.lock.hcl beside this file pins the one version the jobs run, with HashiCorp's
  # checksums; the cluster job gives kops's output the same lock file (buildspecs/scripts/cluster.sh).
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, key, region, use_lockfile and encrypt come from
  # -backend-config arguments written by buildspecs/scripts/lib.sh (tf_init).
  backend "s3" {}
}
