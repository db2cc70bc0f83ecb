output "active_replica" {
  description = "Name (key of var.replicas) of the replica whose role is active."
  value       = local.active_replica
}

output "replica_ips" {
  description = "Fixed IP of each replica, by name."
  value       = { for name, p in openstack_networking_port_v2.replica : name => one(p.all_fixed_ips) }
}

output "replica_port_ids" {
  description = "Port ID of each replica, by name."
  value       = { for name, p in openstack_networking_port_v2.replica : name => p.id }
}

output "replica_instance_ids" {
  description = "Server ID of each replica, by name."
  value       = { for name, s in openstack_compute_instance_v2.replica : name => s.id }
}

output "replica_roles" {
  description = "Role (active or standby) of each replica, by name."
  value       = { for name, r in var.replicas : name => r.role }
}

output "server_group_id" {
  description = "The anti-affinity server group holding the replicas."
  value       = openstack_compute_servergroup_v2.replicas.id
}

output "security_group_ids" {
  description = "The admin (ingress) and egress security groups on every replica's port."
  value = {
    admin  = openstack_networking_secgroup_v2.admin.id
    egress = openstack_networking_secgroup_v2.egress.id
  }
}
