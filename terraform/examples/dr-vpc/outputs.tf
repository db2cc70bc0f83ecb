output "active_replica" {
  description = "The replica that becomes active at cutover."
  value       = module.nqgw.active_replica
}

output "replica_ips" {
  description = "Fixed IP of each replica (for the bastion's host list)."
  value       = module.nqgw.replica_ips
}

output "state_volume_ids" {
  description = "Each replica's state volume (prevent_destroy)."
  value       = module.nqgw.state_volume_ids
}

output "replicas_pending_config" {
  description = "Replicas whose user_data is behind the configuration: bump their revision one at a time."
  value       = module.nqgw.replicas_pending_config
}

# `terraform output -json > fleet.json` is the inventory of `nqgw fleet status|check` (docs/ops.md
# "The fleet"): replica_ips, replica_roles, replica_stations.
output "replica_roles" {
  description = "Role (active or standby) of each replica, by name."
  value       = module.nqgw.replica_roles
}

output "replica_stations" {
  description = "Station (小站号) of each replica, by name."
  value       = module.nqgw.replica_stations
}
