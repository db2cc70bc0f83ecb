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
    usbip = optional(object({
      server = string
      busid  = string
    }))
  }))
  description = <<-EOT
    Gateway replicas keyed by a stable name (the key names the server and port; renaming a key
    replaces that replica only). role: "active" (the one that logs on at cutover) or "standby"
    (never sends); station: 小站号 such as W888888T; fixed_ip: the replica's address in the DR
    subnet; usbip: optional USB/IP server and bus id of the replica's EKey.
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
    object_storage_endpoint, object_storage_bucket). The module sets, per replica, station
    (replicas[*].station), management_listen (fixed_ip:management_port) and servers (from
    main_station_links, never given here), and time_servers (var.time_servers) unless given here.
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
    ], k)])
    error_message = "appliance_values: only the flat template values of nqgw config render (no sections such as station = {...}; station and management_listen come from the replica, servers from main_station_links)."
  }
}

variable "extra_security_group_ids" {
  type        = list(string)
  description = "Further security groups to put on every replica's port (they must not open ingress to 0.0.0.0/0)."
  default     = []
}
