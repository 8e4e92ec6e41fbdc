# The network job's root configuration (buildspecs/network.yml runs it through
# buildspecs/scripts/network.sh). Production settings only: settings the AWS emulator needs are
# added at run time, as a generated override file, when AWS_ENDPOINT_URL is set.

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { "fabricctl:fabric" = var.name })
  }
}

module "network" {
  source = "../network"

  name         = var.name
  cluster_name = var.cluster_name
  cidr         = var.cidr
  zones        = var.zones
}
