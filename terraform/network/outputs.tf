output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "zones" {
  description = "Availability zones of the subnets, in input order."
  value       = var.zones
}

output "subnet_ids_by_zone" {
  description = "Map of availability zone to public subnet ID."
  value       = { for zone, subnet in aws_subnet.public : zone => subnet.id }
}

output "subnet_ids" {
  description = "Public subnet IDs in the order of var.zones."
  value       = [for zone in var.zones : aws_subnet.public[zone].id]
}

output "subnet_cidr_blocks" {
  description = "Map of availability zone to subnet CIDR block."
  value       = { for zone, subnet in aws_subnet.public : zone => subnet.cidr_block }
}

output "internet_gateway_id" {
  description = "ID of the internet gateway."
  value       = aws_internet_gateway.this.id
}

output "route_table_id" {
  description = "ID of the public route table."
  value       = aws_route_table.public.id
}

output "security_group_id" {
  description = "ID of the cluster security group."
  value       = aws_security_group.this.id
}
