# Offline tests: the AWS provider is mocked, so these check the module's own logic.
mock_provider "aws" {}

variables {
  name         = "demo"
  cluster_name = "demo.example.com"
  cidr         = "10.10.0.0/16"
  zones        = ["us-east-2a", "us-east-2b", "us-east-2c"]
  tags         = { Project = "fabricctl", Owner = "tests" }
}

run "one_public_subnet_per_zone" {
  command = apply

  assert {
    condition     = length(aws_subnet.public) == 3 && toset(keys(aws_subnet.public)) == toset(var.zones)
    error_message = "Expected exactly one subnet in each zone."
  }

  assert {
    condition     = tolist([for z in var.zones : aws_subnet.public[z].availability_zone]) == var.zones
    error_message = "Each subnet must be in the zone it is keyed by."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch])
    error_message = "Subnets must be public (map_public_ip_on_launch)."
  }

  assert {
    condition     = length(output.subnet_ids) == 3 && output.subnet_ids[1] == aws_subnet.public["us-east-2b"].id
    error_message = "subnet_ids must list the subnets in zone order."
  }
}

run "subnets_take_one_eighth_of_the_cidr_each" {
  command = plan

  assert {
    condition     = [for z in var.zones : aws_subnet.public[z].cidr_block] == ["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"]
    error_message = "Subnet CIDRs must be the first three /19 slots of 10.10.0.0/16."
  }
}

run "five_zones_fit_in_a_slash_22" {
  command = plan

  variables {
    cidr  = "192.168.4.0/22"
    zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
  }

  assert {
    condition     = [for z in var.zones : aws_subnet.public[z].cidr_block] == ["192.168.4.0/25", "192.168.4.128/25", "192.168.5.0/25", "192.168.5.128/25", "192.168.6.0/25"]
    error_message = "Five /25 subnets expected in a /22."
  }
}

run "vpc_has_dns_support_and_hostnames" {
  command = plan

  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames && aws_vpc.this.cidr_block == "10.10.0.0/16"
    error_message = "The VPC must have DNS support and hostnames and the given CIDR."
  }
}

run "default_route_goes_to_the_internet_gateway_not_a_nat_gateway" {
  command = apply

  assert {
    condition     = aws_route.public_internet_gateway.destination_cidr_block == "0.0.0.0/0" && aws_route.public_internet_gateway.gateway_id == aws_internet_gateway.this.id
    error_message = "The default route must target the internet gateway."
  }

  assert {
    condition     = aws_route.public_internet_gateway.nat_gateway_id == null
    error_message = "No NAT gateway may be used."
  }

  assert {
    condition     = alltrue([for a in aws_route_table_association.public : a.route_table_id == aws_route_table.public.id]) && length(aws_route_table_association.public) == 3
    error_message = "Every subnet must be associated with the public route table."
  }
}

run "subnets_are_tagged_for_kubernetes_and_kops" {
  command = plan

  assert {
    condition = alltrue([for s in aws_subnet.public :
      s.tags["kubernetes.io/role/elb"] == "1" && s.tags["kubernetes.io/cluster/demo.example.com"] == "shared"
    ])
    error_message = "Subnets need the ELB role tag and the shared cluster tag."
  }
}

run "every_resource_carries_the_tags" {
  command = plan

  assert {
    condition = alltrue([for t in concat(
      [aws_vpc.this.tags, aws_internet_gateway.this.tags, aws_route_table.public.tags, aws_security_group.this.tags],
      [for s in aws_subnet.public : s.tags],
    ) : t["Project"] == "fabricctl" && t["Owner"] == "tests"])
    error_message = "Every taggable resource must carry var.tags."
  }
}

run "security_group_allows_members_and_all_egress" {
  command = plan

  assert {
    condition     = length(aws_security_group.this.ingress) == 1 && alltrue([for r in aws_security_group.this.ingress : r.self && r.protocol == "-1" && length(coalesce(r.cidr_blocks, [])) == 0])
    error_message = "Ingress must allow all traffic from the group itself, and nothing else."
  }

  assert {
    condition     = length(aws_security_group.this.egress) == 1 && alltrue([for r in aws_security_group.this.egress : r.protocol == "-1" && r.cidr_blocks == tolist(["0.0.0.0/0"])])
    error_message = "Egress must allow everything."
  }
}

run "fails_when_the_cidr_is_larger_than_a_slash_16" {
  command = plan

  variables {
    cidr = "10.0.0.0/8"
  }

  expect_failures = [var.cidr]
}

run "fails_when_the_cidr_is_smaller_than_a_slash_22" {
  command = plan

  variables {
    cidr = "10.10.0.0/24"
  }

  expect_failures = [var.cidr]
}

run "fails_when_the_cidr_has_host_bits_set" {
  command = plan

  variables {
    cidr = "10.10.1.0/16"
  }

  expect_failures = [var.cidr]
}

run "fails_when_the_cidr_is_not_a_cidr" {
  command = plan

  variables {
    cidr = "not-a-cidr"
  }

  expect_failures = [var.cidr]
}

run "fails_when_zones_repeat" {
  command = plan

  variables {
    zones = ["us-east-2a", "us-east-2a", "us-east-2b"]
  }

  expect_failures = [var.zones]
}

run "fails_when_more_than_five_zones_are_given" {
  command = plan

  variables {
    zones = ["z1a", "z1b", "z1c", "z1d", "z1e", "z1f"]
  }

  expect_failures = [var.zones]
}

run "fails_when_no_zone_is_given" {
  command = plan

  variables {
    zones = []
  }

  expect_failures = [var.zones]
}

run "fails_when_the_name_is_not_normalised" {
  command = plan

  variables {
    name = "Demo_Fabric"
  }

  expect_failures = [var.name]
}
