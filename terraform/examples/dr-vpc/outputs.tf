output "active_replica" {
  description = "The replica that becomes active at cutover."
  value       = module.nqgw.active_replica
}

output "replica_ips" {
  description = "Fixed IP of each replica (for the bastion's host list)."
  value       = module.nqgw.replica_ips
}
