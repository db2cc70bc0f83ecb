# Packer template for the nqgw DR appliance image (Debian 12).
#
# Two sources, one build:
#   source.openstack.szcloud  builds on 深证云 (OpenStack) from the cloud's Debian 12 image;
#   source.qemu.local         builds the same image locally from a Debian 12 genericcloud qcow2.
#
# Nothing is fetched from the internet: Node.js and the appliance bundle are uploaded from the
# build host (var.node_dist, var.appliance_bundle); Debian packages come from var.apt_mirror
# (on 深证云 the cloud's own package mirror, 补丁源).
#
# Checked with Debian's packer 1.6.6, where the openstack and qemu builders are built in:
#   packer validate -var appliance_bundle=... -var node_dist=... -var node_sha256=... image/
# The `packer { required_plugins ... }` block that packer >= 1.7 needs lives in
# plugins.pkr.hcl.disabled because 1.6.6 rejects it (see docs/image.md).

variable "image_name" {
  type        = string
  description = "Name of the resulting image (Glance image on 深证云, qcow2 file name locally)."
  default     = "nqgw-dr-debian12"
}

variable "image_version" {
  type        = string
  description = "Version stamp written to /etc/nqgw/image-release."
  default     = "0.1.0"
}

variable "appliance_bundle" {
  type        = string
  description = "Path on the build host of the appliance bundle: nqgw-bundle.tar.gz from scripts/bundle.sh (package.json, bin/, dist/, appliance/templates and data, production node_modules/)."
}

variable "node_dist" {
  type        = string
  description = "Path on the build host of the Node.js linux-x64 tarball: node.tar.xz from scripts/node-dist.sh (the version pinned in image/build/node.env, which 20-node.sh checks)."
}

variable "node_sha256" {
  type        = string
  description = "SHA-256 of var.node_dist (node.sha256 beside it, from scripts/node-dist.sh); 20-node.sh refuses a tarball that does not match, and a build without it."
}

variable "apt_mirror" {
  type        = string
  description = "Debian mirror (the debian archive) the build VM installs packages from (the cloud's 补丁源 on 深证云)."
  default     = "http://deb.debian.org/debian"
}

variable "apt_security_mirror" {
  type        = string
  description = "Mirror of the Debian security archive (bookworm-security) for the build VM; on 深证云 the 补丁源's debian-security."
  default     = "http://deb.debian.org/debian-security"
}

# --- 深证云 (OpenStack) ---------------------------------------------------------------

variable "os_auth_url" {
  type        = string
  description = "Keystone URL of 深证云 (defaults to $OS_AUTH_URL)."
  default     = env("OS_AUTH_URL")
}

variable "os_region" {
  type        = string
  description = "OpenStack region (defaults to $OS_REGION_NAME)."
  default     = env("OS_REGION_NAME")
}

variable "os_source_image_name" {
  type        = string
  description = "Debian 12 base image in the cloud's Glance catalogue."
  default     = "debian-12-genericcloud-amd64"
}

variable "os_flavor" {
  type        = string
  description = "Flavor of the build VM (the practice's 4C/8G for external interface programs)."
  default     = "4C8G"
}

variable "os_networks" {
  type        = list(string)
  description = "Network IDs of the build VM (a build subnet of the DR VPC that reaches the package mirror)."
  default     = []
}

variable "os_security_groups" {
  type        = list(string)
  description = "Security groups of the build VM: SSH from the packer host only."
  default     = []
}

variable "os_ssh_bastion_host" {
  type        = string
  description = "Bastion (堡垒机) packer connects through; empty for a direct connection."
  default     = ""
}

# --- local qemu ---------------------------------------------------------------------

variable "qemu_base_image" {
  type        = string
  description = "Local Debian 12 genericcloud qcow2 the qemu source starts from."
  default     = "debian-12-genericcloud-amd64.qcow2"
}

variable "qemu_base_checksum" {
  type        = string
  description = "Checksum of var.qemu_base_image (sha512:... from the SHA512SUMS file)."
  default     = "none"
}

variable "qemu_accelerator" {
  type        = string
  description = "kvm where /dev/kvm exists, tcg otherwise."
  default     = "kvm"
}

source "openstack" "szcloud" {
  identity_endpoint = var.os_auth_url
  region            = var.os_region
  source_image_name = var.os_source_image_name
  flavor            = var.os_flavor
  networks          = var.os_networks
  security_groups   = var.os_security_groups
  image_name        = "${var.image_name}-${var.image_version}"
  image_visibility  = "private"
  metadata = {
    nqgw_image_version = var.image_version
    os_distro          = "debian"
  }
  ssh_username      = "debian"
  ssh_bastion_host  = var.os_ssh_bastion_host
  ssh_timeout       = "15m"
}

source "qemu" "local" {
  iso_url          = var.qemu_base_image
  iso_checksum     = var.qemu_base_checksum
  disk_image       = true
  disk_size        = "20G"
  format           = "qcow2"
  accelerator      = var.qemu_accelerator
  headless         = true
  output_directory = "output-${var.image_name}"
  vm_name          = "${var.image_name}-${var.image_version}.qcow2"
  memory           = 2048
  cpus             = 2
  # NoCloud seed served by packer's HTTP server: a build-only login that 90-cleanup.sh removes.
  http_directory = "${path.root}/qemu-seed"
  qemuargs = [
    ["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
  ]
  ssh_username     = "debian"
  ssh_password     = "packer-build-only"
  ssh_timeout      = "20m"
  shutdown_command = "sudo shutdown -P now"
}

build {
  sources = ["source.openstack.szcloud", "source.qemu.local"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/nqgw-image"]
  }

  provisioner "file" {
    source      = var.appliance_bundle
    destination = "/tmp/nqgw-image/nqgw-bundle.tar.gz"
  }

  provisioner "file" {
    source      = var.node_dist
    destination = "/tmp/nqgw-image/node.tar.xz"
  }

  # Units, udev rules, templates, first-boot scripts and the default ruleset; build/ holds
  # build-only helpers (the apt sources rewrite of 10-base.sh), not installed in the image.
  provisioner "file" {
    sources = [
      "${path.root}/build",
      "${path.root}/systemd",
      "${path.root}/udev",
      "${path.root}/files",
      "${path.root}/templates",
      "${path.root}/nftables",
    ]
    destination = "/tmp/nqgw-image/"
  }

  provisioner "shell" {
    # {{ .Vars }} is how environment_vars reach the script: packer renders them as
    # KEY='value' words, and `env` (run by sudo, so sudoers' env_reset does not drop them) puts
    # them in the script's environment. Without it the scripts get none of them, and they stop.
    execute_command = "chmod +x '{{ .Path }}'; sudo env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "NQGW_STAGE=/tmp/nqgw-image",
      "NQGW_APT_MIRROR=${var.apt_mirror}",
      "NQGW_APT_SECURITY_MIRROR=${var.apt_security_mirror}",
      "NQGW_NODE_SHA256=${var.node_sha256}",
      "NQGW_IMAGE_VERSION=${var.image_version}",
    ]
    scripts = [
      "${path.root}/scripts/10-base.sh",
      "${path.root}/scripts/20-node.sh",
      "${path.root}/scripts/30-appliance.sh",
      "${path.root}/scripts/40-system.sh",
      "${path.root}/scripts/90-cleanup.sh",
    ]
  }
}
