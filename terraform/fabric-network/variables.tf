variable "region" {
  description = "AWS region of the fabric."
  type        = string
}

variable "name" {
  description = "Normalised fabric name."
  type        = string
}

variable "cluster_name" {
  description = "kops cluster name (<name>.<domain>)."
  type        = string
}

variable "cidr" {
  description = "VPC IPv4 CIDR block."
  type        = string
}

variable "zones" {
  description = "Availability zones, one public subnet each."
  type        = list(string)
}

variable "tags" {
  description = "Tags for every resource, applied as the provider's default_tags."
  type        = map(string)
  default     = {}
}
