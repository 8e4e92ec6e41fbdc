variable "name" {
  description = "Name of the fabric; prefixes every resource's Name tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,31}$", var.name))
    error_message = "The name must be 1 to 32 lowercase letters and digits, starting with a letter."
  }
}

variable "cluster_name" {
  description = <<-EOT
    The kops cluster name (e.g. fabric.example.com); subnets are tagged kubernetes.io/cluster/<cluster_name>=shared
    so kops and Kubernetes may use them.
  EOT
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", var.cluster_name))
    error_message = "The cluster_name must be a DNS name such as fabric.example.com."
  }
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC, /16 to /22. Each zone gets one eighth of it."
  type        = string

  validation {
    condition = can(cidrnetmask(var.cidr)) && try(
      tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 22,
      false,
    )
    error_message = "The cidr must be an IPv4 CIDR block from /16 to /22, such as 10.10.0.0/16."
  }

  validation {
    condition     = try(cidrhost(var.cidr, 0) == split("/", var.cidr)[0], false)
    error_message = "The cidr must not have host bits set (use the network address, e.g. 10.10.0.0/16)."
  }
}

variable "zones" {
  description = <<-EOT
    Availability zones, one public subnet in each, in this order.
    1 to 5 distinct zones (the CIDR is split in 8 slots, leaving room for growth).
  EOT
  type        = list(string)

  validation {
    condition     = length(var.zones) >= 1 && length(var.zones) <= 5
    error_message = "Give 1 to 5 zones."
  }

  validation {
    condition     = length(distinct(var.zones)) == length(var.zones)
    error_message = "The zones must not repeat."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
