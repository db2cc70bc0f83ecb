variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (servers, ports, groups), e.g. \"nqgw-dr\"."
  default     = "nqgw-dr"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix: lower-case letters, digits and '-', starting with a letter, 2 to 31 characters."
  }
}

variable "replicas" {
  type = map(object({
    role              = string
    station           = string
    fixed_ip          = string
    availability_zone = optional(string)
    # Bump (any new string) to re-create this replica from the current configuration: user_data
    # is applied only when a replica is created (lifecycle ignore_changes), so a module-wide change
    # rolls out one replica per apply, never all at once (README.md, "Rollout").
    revision = optional(string, "1")
    # Cinder availability zone of the state volume when its names differ from Nova's.
    volume_availability_zone = optional(string)
    # This replica's image instead of var.image_name: an image update is a rebuild in place (root
    # disk replaced, state volume kept), so roll it out one replica at a time with this.
    image_name = optional(string)
    usbip = optional(object({
      server = string
      busid  = string
    }))
  }))
  description = <<-EOT
    Gateway replicas keyed by a stable name (the key names the server and port; renaming a key
    replaces that replica only). role: "active" (the one that logs on at cutover) or "standby"
    (never sends); station: 小站号 such as W888888T; fixed_ip: the replica's address in the DR
    subnet; usbip: optional USB/IP server and bus id of the replica's EKey; revision: bump it to
    re-create this replica (and only it) with the current configuration (first boot runs again;
    its state volume is kept and re-attached).
  EOT

  validation {
    condition     = length(var.replicas) >= 1
    error_message = "replicas: give at least one replica."
  }
  validation {
    condition     = alltrue([for r in values(var.replicas) : contains(["active", "standby"], r.role)])
    error_message = "replicas: role must be \"active\" or \"standby\"."
  }
  validation {
    condition     = length([for r in values(var.replicas) : r if r.role == "active"]) == 1
    error_message = "replicas: exactly one replica must have role = \"active\" (the main station admits one session per station)."
  }
  validation {
    condition     = alltrue([for r in values(var.replicas) : can(regex("^[A-Z][0-9]{6}[A-Z]$", r.station))])
    error_message = "replicas: station must be a station id (小站号) like W888888T: a letter, six digits, a letter."
  }
  validation {
    condition     = alltrue([for r in values(var.replicas) : can(cidrhost("${r.fixed_ip}/32", 0)) && !strcontains(r.fixed_ip, "/")])
    error_message = "replicas: fixed_ip must be a single IPv4 address (no prefix length)."
  }
  validation {
    condition     = length(distinct([for r in values(var.replicas) : r.fixed_ip])) == length(var.replicas)
    error_message = "replicas: every replica needs its own fixed_ip."
  }
  validation {
    condition     = alltrue([for k in keys(var.replicas) : can(regex("^[a-z][a-z0-9-]{0,20}$", k))])
    error_message = "replicas: keys must be short lower-case names (letters, digits, '-')."
  }
  validation {
    condition = alltrue([for r in values(var.replicas) : r.usbip == null || (
      can(cidrhost("${try(r.usbip.server, "")}/32", 0)) && can(regex("^[0-9]+-[0-9]+(\\.[0-9]+)*$", try(r.usbip.busid, "")))
    )])
    error_message = "replicas: usbip.server must be an IPv4 address and usbip.busid a bus id such as 1-1."
  }
}

variable "network_id" {
  type        = string
  description = "ID of the DR VPC network the replicas' ports are created on."

  validation {
    condition     = length(trimspace(var.network_id)) > 0
    error_message = "network_id: give the DR network's ID."
  }
}

variable "subnet_id" {
  type        = string
  description = "ID of the subnet the fixed IPs belong to."

  validation {
    condition     = length(trimspace(var.subnet_id)) > 0
    error_message = "subnet_id: give the DR subnet's ID."
  }
}

variable "image_name" {
  type        = string
  description = "Glance image built by image/nqgw.pkr.hcl (nqgw-dr-debian12-<version>)."

  validation {
    condition     = length(trimspace(var.image_name)) > 0
    error_message = "image_name: give the appliance image's name."
  }
}

variable "flavor_name" {
  type        = string
  description = "Flavor of the replicas; the DR practice sizes external interface programs at 4C/8G."
  default     = "4C8G"
}

variable "key_pair" {
  type        = string
  description = "Nova key pair installed for the image's login user (operators reach it through the bastion). null for none."
  default     = null
}

variable "bastion_cidr" {
  type        = string
  description = "The bastion host (堡垒机), as an IPv4 CIDR: the only source admitted on SSH (22)."

  validation {
    condition     = can(cidrhost(var.bastion_cidr, 0)) && !contains(["0.0.0.0/0", "::/0"], var.bastion_cidr) && try(tonumber(split("/", var.bastion_cidr)[1]) >= 8, false)
    error_message = "bastion_cidr: a valid IPv4 CIDR of the bastion, at most /8 wide (never 0.0.0.0/0)."
  }
}

variable "management_cidr" {
  type        = string
  description = "The management network, as an IPv4 CIDR: the only source admitted on the management API port."

  validation {
    condition     = can(cidrhost(var.management_cidr, 0)) && !contains(["0.0.0.0/0", "::/0"], var.management_cidr) && try(tonumber(split("/", var.management_cidr)[1]) >= 8, false)
    error_message = "management_cidr: a valid IPv4 CIDR of the management network, at most /8 wide (never 0.0.0.0/0)."
  }
}

variable "management_port" {
  type        = number
  description = "TCP port of the appliance's management API (tw.ini [management] listen)."
  default     = 9300

  validation {
    condition     = var.management_port >= 1 && var.management_port <= 65535 && floor(var.management_port) == var.management_port
    error_message = "management_port: a TCP port, 1 to 65535."
  }
}

variable "ssh_users" {
  type        = list(string)
  description = "Login names sshd admits (from the bastion only); the image's cloud user is \"debian\"."
  default     = ["debian"]

  validation {
    condition     = length(var.ssh_users) > 0 && alltrue([for u in var.ssh_users : can(regex("^[a-z_][a-z0-9_-]{0,31}$", u)) && u != "root"])
    error_message = "ssh_users: one or more login names; root is never admitted."
  }
}

variable "main_station_links" {
  type = list(object({
    name    = string
    address = string
    port    = number
  }))
  description = <<-EOT
    Main-station links (增值业务网专线), in the order the gateway tries them. The one source of
    truth for them: tw.ini's [servers] (rendered from them at first boot), the egress security
    group rules (TCP to address:port, ICMP echo to address) and the replica's nftables. The
    default is the four production links; with tw_template = "cloud-test" give the test link
    here instead, e.g. [{ name = "测试", address = "172.200.1.98", port = 7043 }].
  EOT
  default = [
    { name = "南方", address = "172.50.101.30", port = 7043 },
    { name = "福田", address = "172.60.101.30", port = 7043 },
    { name = "南方卫星", address = "172.50.102.30", port = 7043 },
    { name = "北京灾备", address = "172.70.101.30", port = 7043 },
  ]

  validation {
    condition     = length(var.main_station_links) > 0 && alltrue([for l in var.main_station_links : can(cidrhost("${l.address}/32", 0)) && l.port >= 1 && l.port <= 65535])
    error_message = "main_station_links: one or more { name, address (IPv4), port }."
  }
}

variable "time_servers" {
  type        = list(string)
  description = "The cloud's network time servers (IPv4); chrony and the drift watchdog use only these (NTP, udp 123)."

  validation {
    condition     = length(var.time_servers) > 0 && alltrue([for s in var.time_servers : can(cidrhost("${s}/32", 0))])
    error_message = "time_servers: one or more IPv4 addresses."
  }
}

variable "resolvers" {
  type        = list(string)
  description = "DNS resolvers of the DR VPC (IPv4), reached on port 53."

  validation {
    condition     = length(var.resolvers) > 0 && alltrue([for s in var.resolvers : can(cidrhost("${s}/32", 0))])
    error_message = "resolvers: one or more IPv4 addresses."
  }
}

variable "object_storage_cidrs" {
  type        = list(string)
  description = "Address ranges of the S3-compatible object storage endpoint the logs are shipped to (HTTPS, 443)."

  validation {
    condition = length(var.object_storage_cidrs) > 0 && alltrue([
      for c in var.object_storage_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c) && try(tonumber(split("/", c)[1]) >= 8, false)
    ])
    error_message = "object_storage_cidrs: one or more IPv4 CIDRs, none wider than /8."
  }
}

variable "metadata_service" {
  type        = bool
  description = "Allow egress to the cloud's metadata service (169.254.169.254:80), which cloud-init reads unless a config drive is used."
  default     = true
}

variable "config_drive" {
  type        = bool
  description = "Give the replicas a config drive (cloud-init then needs no metadata service)."
  default     = false
}

variable "tw_template" {
  type        = string
  description = "tw.ini template rendered at first boot: cloud-production or cloud-test (the 测试 link); its [servers] always come from main_station_links."
  default     = "cloud-production"

  validation {
    condition     = contains(["cloud-production", "cloud-test"], var.tw_template)
    error_message = "tw_template: cloud-production or cloud-test."
  }
}

variable "appliance_values" {
  type        = any
  description = <<-EOT
    The appliance's values document for `nqgw config render --template <tw_template>`, written
    to /etc/nqgw/values.json: a FLAT object whose keys are the template values (units, orders,
    returns, state_dir, tls_mode, tls_ca, tls_cert, tls_key, tls_server_name, no_fills,
    link_down_flag, time_file, auto_exit, management_token_file, time_servers,
    object_storage_endpoint, object_storage_bucket, object_storage_access_key_id_file,
    object_storage_secret_access_key_file; the EKey's [ekey]: ekey_module, ekey_token_label,
    ekey_token_serial, ekey_key_id, ekey_key_label, ekey_pin_file, ekey_pin_credential,
    ekey_usb_ids). Secrets are never values: ekey_pin_file (default /etc/nqgw/ekey.pin, nqgw
    0600) or ekey_pin_credential (a systemd credential name), the key files and tls_ca are PATHS
    on the replica, placed by an operator through the bastion (docs/image.md, "Secrets on the
    replica"). The module sets, per replica, station (replicas[*].station), management_listen
    (fixed_ip:management_port) and servers (from main_station_links, never given here), and
    time_servers (var.time_servers) unless given here; with counter_share, orders, returns and
    share_mount_point come from the share and win over values given here.
  EOT
  default     = {}

  validation {
    condition     = can(keys(var.appliance_values))
    error_message = "appliance_values: a JSON-like object of template values."
  }

  validation {
    condition = alltrue([for k in keys(var.appliance_values) : contains([
      "units", "orders", "returns", "state_dir", "tls_mode", "tls_ca", "tls_cert", "tls_key",
      "tls_server_name", "no_fills", "link_down_flag", "time_file", "auto_exit",
      "management_token_file", "time_servers", "object_storage_endpoint", "object_storage_bucket",
      "object_storage_access_key_id_file", "object_storage_secret_access_key_file",
      "ekey_module", "ekey_token_label", "ekey_token_serial", "ekey_key_id", "ekey_key_label",
      "ekey_pin_file", "ekey_pin_credential", "ekey_usb_ids",
    ], k)])
    error_message = "appliance_values: only the flat template values of nqgw config render (no sections such as station = {...}; station and management_listen come from the replica, servers from main_station_links)."
  }

  validation {
    condition     = !contains(keys(var.appliance_values), "ekey_pin") && !contains(keys(var.appliance_values), "pin")
    error_message = "appliance_values: the EKey PIN is never a value (it would be in Terraform state and user data): give ekey_pin_file or ekey_pin_credential and place the PIN through the bastion."
  }
}

variable "extra_security_group_ids" {
  type        = list(string)
  description = "Further security groups to put on every replica's port (they must not open ingress to 0.0.0.0/0)."
  default     = []
}

variable "state_volume" {
  type = object({
    size_gb     = optional(number, 100)
    volume_type = optional(string)
    # How the guest names a Cinder volume attached over virtio-blk: /dev/disk/by-id/virtio-
    # followed by the first 20 characters of the volume's ID (its serial). virtio-scsi clouds:
    # "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_".
    device_prefix = optional(string, "/dev/disk/by-id/virtio-")
  })
  description = <<-EOT
    The state volume of each replica: one Cinder volume per replica (openstack_blockstorage_volume_v3,
    lifecycle prevent_destroy), attached to it and mounted at /var/lib/nqgw (journal, NQHB.DBF
    state, calendar, the active marker; the DBF files too unless counter_share is set). Formatted
    ext4 at first boot only when it is blank; a volume with data is mounted as it is, never
    formatted. size_gb: at least 100 (the vendor asks for a disk of 100 GB or more); growing it
    later is an in-place resize, shrinking is refused by Cinder.
  EOT
  default     = {}

  validation {
    condition     = var.state_volume.size_gb >= 100 && floor(var.state_volume.size_gb) == var.state_volume.size_gb
    error_message = "state_volume: size_gb must be a whole number of at least 100 (the vendor asks for 100 GB or more)."
  }
  validation {
    condition     = can(regex("^/dev/disk/by-(id|path)/[A-Za-z0-9._:-]*$", var.state_volume.device_prefix))
    error_message = "state_volume: device_prefix must start with /dev/disk/by-id/ or /dev/disk/by-path/ (e.g. /dev/disk/by-id/virtio-)."
  }
}

variable "counter_share" {
  type = object({
    protocol         = string
    address          = string
    path             = string
    mount_point      = optional(string, "/srv/counter")
    credentials_file = optional(string, "/etc/nqgw/secrets/counter-share.cred")
    orders_file      = optional(string, "NQWT.DBF")
    returns_file     = optional(string, "NQHB.DBF")
  })
  description = <<-EOT
    The broker's interface directory (the counter's share) that holds NQWT.DBF and NQHB.DBF,
    mounted on every replica (both must see the same files, and the order file's lock beside
    NQWT.DBF guards two hosts only on one share). null keeps the DBF files on the state volume.
    protocol: "cifs" (SMB 3, as Windows counters publish it) or "nfs" (NFSv4); address: the file
    server's IPv4 address (the egress rule and nftables open tcp 445 or 2049 to it only); path:
    cifs the share name ("counter" or "counter/sub"), nfs the export ("/export/counter");
    mount_point: where the replica mounts it; credentials_file (cifs only): a PATH on the
    replica, root 0600, with username=/password=/domain= lines, placed by an operator through
    the bastion after first boot (the password is never in Terraform state or user data; the
    mount starts when the file appears). tw.ini's orders/returns are set to
    mount_point/orders_file and mount_point/returns_file.
  EOT
  default     = null

  validation {
    condition     = var.counter_share == null || contains(["cifs", "nfs"], try(var.counter_share.protocol, ""))
    error_message = "counter_share: protocol must be \"cifs\" or \"nfs\"."
  }
  validation {
    condition     = var.counter_share == null || (can(cidrhost("${try(var.counter_share.address, "")}/32", 0)) && !strcontains(try(var.counter_share.address, "/"), "/"))
    error_message = "counter_share: address must be the file server's IPv4 address (the firewall opens the share to that address only)."
  }
  validation {
    condition = var.counter_share == null || (
      try(var.counter_share.protocol, "") == "cifs"
      ? can(regex("^[A-Za-z0-9$._-]+(/[A-Za-z0-9$._-]+)*$", try(var.counter_share.path, "")))
      : can(regex("^/[A-Za-z0-9._/-]*$", try(var.counter_share.path, "")))
    )
    error_message = "counter_share: path must be the share name for cifs (\"counter\", \"counter/sub\") or the export for nfs (\"/export/counter\")."
  }
  validation {
    condition     = var.counter_share == null || can(regex("^/(srv|mnt)/[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$", try(var.counter_share.mount_point, "")))
    error_message = "counter_share: mount_point must be a directory under /srv or /mnt (lower-case letters, digits, . _ -), e.g. /srv/counter."
  }
  validation {
    condition     = var.counter_share == null || can(regex("^/etc/nqgw/secrets/[A-Za-z0-9._-]+$", try(var.counter_share.credentials_file, "")))
    error_message = "counter_share: credentials_file must be a file under /etc/nqgw/secrets/ on the replica (a path, never the password)."
  }
  validation {
    condition = var.counter_share == null || alltrue([
      for f in [try(var.counter_share.orders_file, ""), try(var.counter_share.returns_file, "")] : can(regex("^[A-Za-z0-9._-]+$", f))
    ])
    error_message = "counter_share: orders_file and returns_file are file names in the share (NQWT.DBF, NQHB.DBF)."
  }
}

variable "usbip_tunnel_port" {
  type        = number
  description = <<-EOT
    TCP port of the stunnel server on each replica's USB host (scripts/usbip-host): the only way
    USB/IP leaves a replica, inside mutual TLS; plain USB/IP (3240) is never opened. It is part of
    host.json, so changing it replaces the replicas that use USB/IP.
  EOT
  default     = 3241

  validation {
    condition     = var.usbip_tunnel_port > 0 && var.usbip_tunnel_port < 65536 && floor(var.usbip_tunnel_port) == var.usbip_tunnel_port && var.usbip_tunnel_port != 3240
    error_message = "usbip_tunnel_port: a TCP port number, not 3240 (plain USB/IP)."
  }
}
