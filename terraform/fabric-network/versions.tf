terraform {
  required_version = ">= 1.10"

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
