output "fabric_result" {
  description = <<-EOT
    The network job's result as JSON: NetworkJobResult (lib/domain/contract.ts) without action and changes,
    which the script adds.
  EOT
  value = jsonencode({
    vpcId           = module.network.vpc_id
    vpcCidr         = module.network.vpc_cidr_block
    zones           = module.network.zones
    subnetIds       = module.network.subnet_ids_by_zone
    subnetIdsCsv    = join(",", module.network.subnet_ids)
    securityGroupId = module.network.security_group_id
  })
}
