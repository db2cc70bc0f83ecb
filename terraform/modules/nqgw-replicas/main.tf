locals {
  active_replica = one([for name, r in var.replicas : name if r.role == "active"])

  # tw.ini's [servers], in the order the gateway walks them, from the same list as the security
  # groups and nftables: one source of truth for where the gateway connects and what may pass.
  tw_servers = [for l in var.main_station_links : { host = l.address, port = l.port, name = l.name }]

  # /etc/nqgw/values.json per replica: the FLAT document `nqgw config render --values` takes
  # (keys: appliance/src/config/templates.ts TEMPLATE_VALUES). time_servers defaults to the
  # module's; the caller's values come next; this replica's station and management address and
  # the servers (main_station_links) last.
  appliance_values = {
    for name, r in var.replicas : name => merge(
      { time_servers = var.time_servers },
      var.appliance_values,
      local.share_values,
      {
        station           = r.station
        management_listen = "${r.fixed_ip}:${var.management_port}"
        servers           = local.tw_servers
      },
    )
  }

  # The counter's share: what host.json carries (nqgw-render-host renders the mount unit from
  # it; keys fixed: protocol, source, mount_point, and credentials_file for cifs only) and where
  # tw.ini then finds the DBF files. The password is never here: credentials_file is a path.
  share = var.counter_share
  counter_share_host = local.share == null ? null : merge(
    {
      protocol    = local.share.protocol
      source      = local.share.protocol == "cifs" ? "//${local.share.address}/${local.share.path}" : "${local.share.address}:${local.share.path}"
      mount_point = local.share.mount_point
    },
    local.share.protocol == "cifs" ? { credentials_file = local.share.credentials_file } : {},
  )
  share_values = local.share == null ? {} : {
    orders            = "${local.share.mount_point}/${local.share.orders_file}"
    returns           = "${local.share.mount_point}/${local.share.returns_file}"
    share_mount_point = local.share.mount_point
  }
  share_port = local.share == null ? null : (local.share.protocol == "cifs" ? 445 : 2049)

  # The state volume as the guest sees it: the by-id link made from the volume's serial (its ID,
  # cut to 20 characters by virtio-blk). Fixed for the volume's life (prevent_destroy).
  state_devices = {
    for name, v in openstack_blockstorage_volume_v3.state : name => "${var.state_volume.device_prefix}${substr(v.id, 0, 20)}"
  }

  # user_data per replica, applied only when the replica is created (ignore_changes below).
  user_data = {
    for name, r in var.replicas : name => templatefile("${path.module}/templates/user-data.yaml.tftpl", {
      hostname    = "${var.name_prefix}-${name}"
      values_json = jsonencode(local.appliance_values[name])
      host_json   = jsonencode(local.host_values[name])
    })
  }

  # /etc/nqgw/host.json per replica: what nqgw-render-host turns into chrony, sshd and nftables.
  # No role here: user_data is ForceNew, so a role flip (active <-> standby) would replace both
  # replicas; the role lives in the instance metadata (nqgw_role), which changes in place.
  host_values = {
    for name, r in var.replicas : name => {
      replica              = { name = name, station = r.station }
      tw_template          = var.tw_template
      bastion_cidr         = var.bastion_cidr
      management_cidr      = var.management_cidr
      management_port      = var.management_port
      ssh_users            = var.ssh_users
      main_station_links   = var.main_station_links
      time_servers         = var.time_servers
      resolvers            = var.resolvers
      object_storage_cidrs = var.object_storage_cidrs
      metadata_service     = var.metadata_service
      usbip                = r.usbip == null ? null : merge(r.usbip, { tunnel_port = var.usbip_tunnel_port }) # TLS tunnel port, not 3240
      management_address   = r.fixed_ip
      counter_share        = local.counter_share_host
      state_volume         = { device = local.state_devices[name] }
    }
  }

  usbip_servers = toset(compact([for r in values(var.replicas) : try(r.usbip.server, null)]))
}

# Ingress: SSH from the bastion, the management API from the management network. Nothing else.
resource "openstack_networking_secgroup_v2" "admin" {
  name                 = "${var.name_prefix}-admin"
  description          = "nqgw replicas: SSH from the bastion, management API from the management network"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "ssh_from_bastion" {
  security_group_id = openstack_networking_secgroup_v2.admin.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = var.bastion_cidr
  description       = "SSH from the bastion (堡垒机) only"
}

# The management API on this port serves HTTPS only (tw.ini [management] tls, on by default for the
# fixed IP; the appliance's own certificate): the bearer token never crosses this CIDR in clear.
# docs/ops.md "The API as deployed".
resource "openstack_networking_secgroup_rule_v2" "management_from_mgmt_net" {
  security_group_id = openstack_networking_secgroup_v2.admin.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.management_port
  port_range_max    = var.management_port
  remote_ip_prefix  = var.management_cidr
  description       = "management API from the management network only"
}

# Host monitoring (docs/ops.md): Debian's prometheus-node-exporter on the replica's address, port
# 9100, scraped from the management (monitoring) network only, as nftables admits it.
resource "openstack_networking_secgroup_rule_v2" "node_exporter_from_mgmt_net" {
  security_group_id = openstack_networking_secgroup_v2.admin.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 9100
  port_range_max    = 9100
  remote_ip_prefix  = var.management_cidr
  description       = "node_exporter (host monitoring) from the management network only"
}

# Egress: the default allow-all egress rules are deleted; only what the appliance needs.
resource "openstack_networking_secgroup_v2" "egress" {
  name                 = "${var.name_prefix}-egress"
  description          = "nqgw replicas: main-station links, NTP, object storage, DNS, metadata"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "main_station" {
  for_each          = { for l in var.main_station_links : "${l.address}:${l.port}" => l }
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_ip_prefix  = "${each.value.address}/32"
  description       = "main station ${each.value.name}"
}

# Ping to each main-station address (the runbook's first check of a link): ICMP echo request
# (for ICMP, port_range_min is the type and port_range_max the code); replies come back through
# the security group's connection tracking, as for TCP.
resource "openstack_networking_secgroup_rule_v2" "main_station_ping" {
  for_each          = toset([for l in var.main_station_links : l.address])
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "icmp"
  port_range_min    = 8
  port_range_max    = 0
  remote_ip_prefix  = "${each.value}/32"
  description       = "ping (ICMP echo) to the main station ${each.value}"
}

resource "openstack_networking_secgroup_rule_v2" "ntp" {
  for_each          = toset(var.time_servers)
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "udp"
  port_range_min    = 123
  port_range_max    = 123
  remote_ip_prefix  = "${each.value}/32"
  description       = "NTP to the cloud's time service"
}

resource "openstack_networking_secgroup_rule_v2" "object_storage" {
  for_each          = toset(var.object_storage_cidrs)
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 443
  port_range_max    = 443
  remote_ip_prefix  = each.value
  description       = "log shipping to object storage (HTTPS)"
}

resource "openstack_networking_secgroup_rule_v2" "dns" {
  for_each = {
    for pair in setproduct(var.resolvers, ["udp", "tcp"]) : "${pair[0]}/${pair[1]}" => { address = pair[0], protocol = pair[1] }
  }
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = each.value.protocol
  port_range_min    = 53
  port_range_max    = 53
  remote_ip_prefix  = "${each.value.address}/32"
  description       = "DNS to the VPC resolver"
}

resource "openstack_networking_secgroup_rule_v2" "metadata" {
  count             = var.metadata_service ? 1 : 0
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 80
  port_range_max    = 80
  remote_ip_prefix  = "169.254.169.254/32"
  description       = "cloud-init metadata service"
}

resource "openstack_networking_secgroup_rule_v2" "usbip" {
  for_each          = local.usbip_servers
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.usbip_tunnel_port
  port_range_max    = var.usbip_tunnel_port
  remote_ip_prefix  = "${each.value}/32"
  description       = "EKey over USB/IP, inside the mutual-TLS tunnel to the USB host (never plain 3240)"
}

# The counter's share: SMB (445) or NFSv4 (2049) to the file server's address only.
resource "openstack_networking_secgroup_rule_v2" "counter_share" {
  count             = var.counter_share == null ? 0 : 1
  security_group_id = openstack_networking_secgroup_v2.egress.id
  direction         = "egress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = local.share_port
  port_range_max    = local.share_port
  remote_ip_prefix  = "${try(var.counter_share.address, "")}/32"
  description       = "the counter's share (NQWT.DBF/NQHB.DBF) over ${try(var.counter_share.protocol, "")}"
}

# Replicas never share a hypervisor.
resource "openstack_compute_servergroup_v2" "replicas" {
  name     = "${var.name_prefix}-replicas"
  policies = ["anti-affinity"]
}

# One port per replica: the fixed IP and the security groups live here, not on the server.
resource "openstack_networking_port_v2" "replica" {
  for_each              = var.replicas
  name                  = "${var.name_prefix}-${each.key}"
  network_id            = var.network_id
  admin_state_up        = true
  port_security_enabled = true
  security_group_ids = concat([
    openstack_networking_secgroup_v2.admin.id,
    openstack_networking_secgroup_v2.egress.id,
  ], var.extra_security_group_ids)

  fixed_ip {
    subnet_id  = var.subnet_id
    ip_address = each.value.fixed_ip
  }
}

resource "openstack_compute_instance_v2" "replica" {
  for_each          = var.replicas
  name              = "${var.name_prefix}-${each.key}"
  image_name        = coalesce(each.value.image_name, var.image_name)
  flavor_name       = var.flavor_name
  key_pair          = var.key_pair
  availability_zone = each.value.availability_zone
  config_drive      = var.config_drive

  network {
    port = openstack_networking_port_v2.replica[each.key].id
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.replicas.id
  }

  # cloud-init writes /etc/nqgw/values.json and /etc/nqgw/host.json; nqgw-firstboot renders
  # tw.ini and the host settings from them, once. user_data is ForceNew in the provider, and a
  # module-wide value is in every replica's user_data: applied as is, one change would replace
  # every replica in one apply (both gateways of the DR site down at once). So user_data is
  # applied when a replica is created and then ignored; replicas[NAME].revision re-creates one
  # replica with the current configuration (output replicas_pending_config lists those whose
  # user_data is behind). The state volume is kept and re-attached.
  user_data = local.user_data[each.key]

  metadata = {
    nqgw_role    = each.value.role
    nqgw_station = each.value.station
  }

  lifecycle {
    ignore_changes       = [user_data]
    replace_triggered_by = [terraform_data.revision[each.key]]
  }
}

# One value per replica whose change re-creates that replica only (replace_triggered_by above).
resource "terraform_data" "revision" {
  for_each = var.replicas
  input    = each.value.revision
}

# The state volume of each replica (/var/lib/nqgw): journal, NQHB.DBF state, calendar, which
# replica is active. It outlives the replica: re-creating a replica (revision, image) attaches the
# same volume to the new server, and nothing here may delete it: prevent_destroy makes any plan
# that would (removing a replica, terraform destroy) fail. Retiring a replica's state is a
# deliberate act: terraform state rm, then delete the volume in the cloud (README.md).
resource "openstack_blockstorage_volume_v3" "state" {
  for_each             = var.replicas
  name                 = "${var.name_prefix}-${each.key}-state"
  description          = "nqgw ${each.key}: /var/lib/nqgw (gateway state); never delete while the replica serves"
  size                 = var.state_volume.size_gb
  volume_type          = var.state_volume.volume_type
  availability_zone    = try(coalesce(each.value.volume_availability_zone, each.value.availability_zone), null)
  enable_online_resize = true

  metadata = {
    nqgw_replica = each.key
    nqgw_mount   = "/var/lib/nqgw"
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "openstack_compute_volume_attach_v2" "state" {
  for_each    = var.replicas
  instance_id = openstack_compute_instance_v2.replica[each.key].id
  volume_id   = openstack_blockstorage_volume_v3.state[each.key].id
}
