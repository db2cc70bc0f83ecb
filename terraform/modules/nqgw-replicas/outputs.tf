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

output "state_volume_ids" {
  description = "Cinder volume (/var/lib/nqgw, prevent_destroy) of each replica, by name."
  value       = { for name, v in openstack_blockstorage_volume_v3.state : name => v.id }
}

output "state_volume_devices" {
  description = "The state volume as each replica sees it (/dev/disk/by-id/...), by name."
  value       = local.state_devices
}

output "replicas_pending_config" {
  description = "Replicas whose user_data is behind the current configuration (applied only at creation): bump replicas[NAME].revision, one replica per apply, to roll it out."
  # The provider keeps the SHA-1 of user_data in the state, not the text.
  value = sort([for name, s in openstack_compute_instance_v2.replica : name if s.user_data != sha1(local.user_data[name])])
}

output "counter_share" {
  description = "The counter's share as the replicas mount it (null when the DBF files stay on the state volume)."
  value       = local.counter_share_host
}

output "replica_stations" {
  description = "Station (小站号) of each replica, by name: nqgw fleet checks it against each replica's tw.ini."
  value       = { for name, r in var.replicas : name => r.station }
}
